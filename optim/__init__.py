"""Update rules, optimizers, learning-rate schedules and the training loop."""
from .clipping import clip_grad_norm_, clip_grad_value_
from .optimizers import SGD, AdaGrad, Adam, AdamW, Optimizer, RMSProp

__all__ = [
    "SGD", "AdaGrad", "Adam", "AdamW", "Optimizer", "RMSProp", "clip_grad_norm_", "clip_grad_value_",
]
