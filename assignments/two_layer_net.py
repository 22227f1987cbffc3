"""A two-layer fully connected network (784-100-10) tuned by random search.

``x -> Linear -> ReLU -> Linear -> softmax cross-entropy``, trained with SGD
with momentum and L2 weight decay. As in CS231n, the learning rate and the
regularisation strength are drawn at random (log-uniformly), one network is
trained per draw, and the network with the best validation accuracy is kept.
The draws come from :func:`search_space` (an :mod:`assignments.search_space`
space), which is also what ``python -m assignments sweep two_layer_net``
searches by default; each sweep trial sets ``reg`` and trains one network.
"""
import time

import numpy as np

import minigrad as mg
from layers.affine import Linear
from layers.losses import cross_entropy
from optim import check_step
from optim.optimizers import SGD

from . import plots, reporting
from . import search_space as spaces
from .cli import load_data, progress, save_checkpoint, single_threaded_blas
from .data import flatten, subtract_mean_image
from .settings import declare, number, optional, training

DESCRIPTION = "two-layer net 784-100-10, SGD + momentum, learning-rate x regularisation random search"
DEFAULTS = training(epochs=8, batch_size=200, lr=0.3)
HIDDEN = 100
MOMENTUM = 0.9
LR_DECAY = 0.8       # per epoch
TRIALS = 5           # random-search draws (2 with --quick)
LR_SPAN = 0.5        # lr ~ args.lr * 10**U(-LR_SPAN, LR_SPAN)
REG_RANGE = (-5, -2)  # reg ~ 10**U(*REG_RANGE)
# reg given (as a sweep's trials give it): one network with --lr and reg, no search.
OPTIONS = declare(reg=optional(number(0.0, low=0)))


def search_space(lr):
    """The random search's space around the learning rate ``lr`` (an ``assignments.search_space`` dict)."""
    return spaces.parse([f"lr=loguniform:{lr * 10 ** -LR_SPAN!r}:{lr * 10 ** LR_SPAN!r}",
                         f"reg=loguniform:{10.0 ** REG_RANGE[0]!r}:{10.0 ** REG_RANGE[1]!r}"])


SEARCH_SPACE = search_space(DEFAULTS["lr"])  # what a sweep searches unless given --space


class TwoLayerNet(mg.Module):
    """Scores ``fc2(relu(fc1(x)))``.

    Parameters
    ----------
    in_features, hidden, num_classes : int
    rng : numpy Generator for the initial weights
    """

    def __init__(self, in_features, hidden, num_classes, rng):
        super().__init__()
        self.fc1 = Linear(in_features, hidden, rng=rng)
        self.fc2 = Linear(hidden, num_classes, rng=rng)

    def forward(self, x):
        """x : (N, in_features) -> scores (N, num_classes)."""
        return self.fc2(self.fc1(x).relu())


def accuracy(model, X, y, batch_size=1000):
    """Fraction of rows of ``X`` (N, D) whose highest score is the label ``y`` (N,)."""
    with mg.no_grad():
        predictions = np.concatenate([model(mg.Tensor(X[i:i + batch_size])).data.argmax(axis=1)
                                      for i in range(0, len(X), batch_size)])
    return float(np.mean(predictions == y))


def train(model, X, y, lr, reg, epochs, batch_size, rng, bar=None, on_epoch=None):
    """SGD with momentum; the learning rate decays by ``LR_DECAY`` after every epoch.

    ``on_epoch(epoch)`` is called after every epoch. Returns the loss of every step.
    """
    optimizer = SGD(model.parameters(), lr=lr, momentum=MOMENTUM, weight_decay=reg)
    losses = []
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            loss = cross_entropy(model(mg.Tensor(X[batch])), y[batch])
            losses.append(check_step("two_layer_net", loss.item(), len(losses) + 1, epoch,
                                      optimizer.param_groups[0]["lr"]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        for group in optimizer.param_groups:
            group["lr"] *= LR_DECAY
        if bar is not None:
            bar.update()
        if on_epoch is not None:
            on_epoch(epoch)
    return losses


def random_search(X_train, y_train, X_val, y_val, num_classes, args, trials):
    """Train one network per random (lr, reg) draw; return every trial, the best first.

    With ``args.reg`` set (not None) there is no draw: one network is trained
    with ``args.lr`` and ``args.reg``, reporting its validation accuracy after
    every epoch to a listening sweep.
    """
    rng = np.random.default_rng(args.seed)
    space = search_space(args.lr)
    fixed = getattr(args, "reg", None) is not None
    results = []
    with progress(None, desc="random search", total=trials * args.epochs) as bar:
        for _ in range(trials):
            draw = {"lr": args.lr, "reg": args.reg} if fixed else spaces.sample(space, rng)
            lr, reg = draw["lr"], draw["reg"]
            model = TwoLayerNet(X_train.shape[1], HIDDEN, num_classes, rng)

            def report(epoch, model=model):
                reporting.report_epoch(epoch, val_accuracy=accuracy(model, X_val, y_val))

            losses = train(model, X_train, y_train, lr, reg, args.epochs, args.batch_size, rng, bar,
                           on_epoch=report if fixed and reporting.listening() else None)
            results.append({"lr": lr, "reg": reg, "model": model, "losses": losses,
                            "train_accuracy": accuracy(model, X_train, y_train),
                            "val_accuracy": accuracy(model, X_val, y_val)})
    return sorted(results, key=lambda r: -r["val_accuracy"])


def main(args):
    data = load_data(args)
    X_train, X_val, X_test, mean_image = subtract_mean_image(
        *(flatten(X) for X in (data.X_train, data.X_val, data.X_test)))
    start = time.perf_counter()
    with single_threaded_blas():
        results = random_search(X_train, data.y_train, X_val, data.y_val, data.num_classes, args,
                                trials=1 if args.reg is not None else 2 if args.quick else TRIALS)
        best = results[0]
        test_accuracy = accuracy(best["model"], X_test, data.y_test)
    seconds = time.perf_counter() - start

    plots.curves(f"{args.out}/loss.png", {"minibatch loss": best["losses"]}, "SGD step", "loss",
                 f"best of {len(results)}: lr {best['lr']:.3g}, reg {best['reg']:.2g}")
    plots.search(f"{args.out}/search.png", [r["lr"] for r in results], [r["reg"] for r in results],
                 [r["val_accuracy"] for r in results], "learning rate", "regularisation",
                 "validation accuracy")
    hidden_weights = best["model"].fc1.weight.data.reshape(HIDDEN, *data.image_shape)
    plots.image_grid(f"{args.out}/hidden_weights.png", hidden_weights, title="first-layer weights")
    save_checkpoint(args, mean_image=mean_image, lr=best["lr"], reg=best["reg"],
                    **{f"model.{k}": v for k, v in best["model"].state_dict().items()})
    return {
        "lr": best["lr"],
        "reg": best["reg"],
        "search": [{k: r[k] for k in ("lr", "reg", "train_accuracy", "val_accuracy")} for r in results],
        "train_accuracy": best["train_accuracy"],
        "val_accuracy": best["val_accuracy"],
        "test_accuracy": test_accuracy,
        "losses": best["losses"],
        "train_seconds": seconds,
    }
