"""Update rules, optimizers, learning-rate schedules and the training loop."""
from . import rules, schedules
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .clipping import clip_grad_norm_, clip_grad_value_
from .ema import ExponentialMovingAverage
from .optimizers import SGD, AdaGrad, Adam, AdamW, Optimizer, RMSProp
from .plotting import plot_history
from .schedules import (
    ChainedScheduler,
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    SequentialLR,
    StepLR,
)
from .guard import NonFiniteError, check_step
from .solver import Solver, overfit_small

__all__ = [
    "SGD", "AdaGrad", "Adam", "AdamW", "ChainedScheduler", "CheckpointError", "CosineAnnealingLR",
    "ExponentialMovingAverage",
    "ExponentialLR", "LRScheduler", "LinearLR", "MultiStepLR", "NonFiniteError", "Optimizer", "RMSProp",
    "SequentialLR", "Solver", "StepLR", "check_step", "clip_grad_norm_", "clip_grad_value_", "load_checkpoint",
    "overfit_small", "plot_history", "rules", "save_checkpoint", "schedules",
]
