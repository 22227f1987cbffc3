"""A small vision transformer (ViT) on 7x7 patches.

A 28x28 digit becomes 16 tokens, one per 7x7 patch, each embedded to
``EMBED_DIM`` features plus a learned position embedding; ``DEPTH`` pre-norm
encoder layers with ``NUM_HEADS`` attention heads mix them, and the mean
token is classified. Trained with Adam under a cosine learning-rate decay.
Plots the training history and the similarity of the learned position
embeddings (each patch position against all others, as in the ViT paper).
"""
import numpy as np

from optim import Adam, CosineAnnealingLR

from . import plots
from .cli import load_data, save_checkpoint, single_threaded_blas
from .models import VisionTransformer, fit, report
from .settings import OptionError, declare, integer, training

DESCRIPTION = "vision transformer on 7x7 patches, embed 64, 2 layers, 4 heads, Adam + cosine decay"
DEFAULTS = training(epochs=30, batch_size=128, lr=2e-3)
# Patch side in pixels; it must divide the image size (``--set patch=4`` for 32x32 CIFAR-10).
OPTIONS = declare(patch=integer(7, low=1))
EMBED_DIM = 64
DEPTH = 2
NUM_HEADS = 4


def build_model(data, args):
    """The ViT for ``data`` (a SplitData) configured by ``args`` (seed and ``OPTIONS``)."""
    return VisionTransformer(data.image_shape, data.num_classes, args.patch, EMBED_DIM, DEPTH, NUM_HEADS,
                             rng=args.seed)


def position_similarity(model):
    """Cosine similarity of every position embedding with every other: (P, gh, gw) for P patches."""
    pos = model.position.data[0].astype(np.float64)
    pos /= np.linalg.norm(pos, axis=1, keepdims=True)
    return (pos @ pos.T).reshape(-1, *model.grid)


def main(args):
    data = load_data(args)
    try:  # whether --set patch fits is known only now that the images are
        model = build_model(data, args)
    except ValueError as exc:
        raise OptionError(str(exc)) from None
    # One BLAS thread: the products are (batch * 16 tokens, 64) by (64, 128) at most.
    with single_threaded_blas():
        optimizer = Adam(model.parameters(), lr=args.lr)
        solver = fit(model, optimizer, data.X_train, data.y_train, data.X_val, data.y_val, args,
                     schedule=CosineAnnealingLR(optimizer, T_max=args.epochs))
        metrics = report(solver, data.X_test, data.y_test, args.out)
    plots.image_grid(f"{args.out}/position_similarity.png", position_similarity(model), ncols=model.grid[1],
                     title="position embedding similarity")
    save_checkpoint(args, **{f"model.{k}": v for k, v in model.state_dict().items()})
    return metrics
