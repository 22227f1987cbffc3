"""A residual network beside a plain network of the same depth: what the shortcut does.

Both networks have a 3x3 stem and three stages of ``depth`` ``BasicBlock``s (16, 32 and 64
channels; each later stage halves the image), global average pooling and a linear layer:
``1 + 6 * depth`` convolutions deep, 13 with the default ``depth`` of 2. The plain network is
the same stack with every shortcut removed (``ResNet(shortcuts=False)``). Both train with Adam,
its rate following a cosine to zero over the run (stepped every batch), on images shifted at
random by up to 2 pixels; the validation curves and training losses of the two on one plot show
what the shortcuts, which pass gradients through each block unchanged, do. Without the cosine
the last epochs' validation accuracy jumped by up to 14 points from one epoch to the next, and
so did the test accuracy of the epoch kept.

With batch norm, 13 convolutions still train without shortcuts (both curves rise alike);
``--set depth=N`` stacks N blocks per stage, for the deeper comparisons where He et al. saw
plain networks degrade.
"""
import os

from layers import ResNet, Sequential
from optim import Adam, CosineAnnealingLR

from . import plots
from .cli import load_data, save_checkpoint
from .models import RandomShift, fit, report
from .settings import declare, integer, training

DESCRIPTION = ("ResNet (3 stages x depth basic blocks, 16/32/64) vs the same depth without shortcuts, "
               "Adam with a cosine schedule, +-2 px shifts")
DEFAULTS = training(epochs=10, batch_size=64, lr=1e-3)
WIDTHS = (16, 32, 64)
VARIANTS = {"resnet": True, "plain": False}  # name -> shortcuts
OPTIONS = declare(shift=integer(2, low=0), depth=integer(2, low=1))  # depth: basic blocks per stage


def convolutions(depth):
    """The number of convolutions on the path through the network: the stem and two per block."""
    return 1 + 2 * depth * len(WIDTHS)


def build_model(data, shortcuts, args):
    """The network for ``data`` (a SplitData), with or without ``shortcuts``, behind the shift augmentation."""
    network = ResNet(data.image_shape[0], data.num_classes, WIDTHS, (args.depth,) * len(WIDTHS),
                     shortcuts=shortcuts, rng=args.seed)
    return Sequential(RandomShift(args.shift, rng=args.seed), network)


def main(args):
    data = load_data(args)
    metrics, models = {}, {}
    for name, shortcuts in VARIANTS.items():
        model = build_model(data, shortcuts, args)
        optimizer = Adam(model.parameters(), lr=args.lr)
        steps = args.epochs * -(-len(data.X_train) // args.batch_size)
        solver = fit(model, optimizer, data.X_train, data.y_train, data.X_val, data.y_val, args,
                     schedule=CosineAnnealingLR(optimizer, steps), schedule_every="iteration")
        metrics[name] = report(solver, data.X_test, data.y_test, os.path.join(args.out, name))
        metrics[name]["train_loss_history"] = solver.history["loss"]
        models[name] = model
    title = f"{convolutions(args.depth)} convolutions deep, with and without shortcuts"
    plots.curves(f"{args.out}/val_accuracy.png", {n: metrics[n]["val_acc_history"] for n in VARIANTS},
                 "epoch", "validation accuracy", title)
    plots.curves(f"{args.out}/train_loss.png", {n: metrics[n]["train_loss_history"] for n in VARIANTS},
                 "iteration", "training loss", title)
    save_checkpoint(args, **{f"{name}.{k}": v for name, model in models.items()
                             for k, v in model.state_dict().items()})
    return {**{f"test_accuracy_{n}": metrics[n]["test_accuracy"] for n in VARIANTS},
            **{f"train_seconds_{n}": metrics[n]["train_seconds"] for n in VARIANTS}, **metrics}
