"""Two-layer MLP on CS231n's synthetic spiral, built from minigrad ops alone.

Run ``python -m assignments.spiral [--epochs N]``. The three interleaved arms
are not linearly separable, so a linear classifier tops out near 50 %; a
hidden ReLU layer of 100 units separates them almost perfectly.
"""
import sys
import time

import numpy as np

import minigrad as mg
from minigrad.validation import check_int, check_number, check_positive
from optim import NonFiniteError, check_step

from .cli import ArgumentParser, argument_type


def make_spiral(points_per_class=100, num_classes=3, noise=0.2, seed=0):
    """Sample ``num_classes`` interleaved spiral arms in 2-D.

    Returns
    -------
    X : (points_per_class * num_classes, 2) float32
    y : (points_per_class * num_classes,) int64
    """
    rng = np.random.default_rng(seed)
    radius = np.linspace(0.0, 1.0, points_per_class)
    X, y = [], []
    for k in range(num_classes):
        # Each arm sweeps 4 radians, offset by a third of the turn per class.
        theta = np.linspace(4.0 * k, 4.0 * (k + 1), points_per_class)
        theta = theta + rng.standard_normal(points_per_class) * noise
        X.append(np.c_[radius * np.sin(theta), radius * np.cos(theta)])
        y.append(np.full(points_per_class, k))
    return np.concatenate(X).astype(np.float32), np.concatenate(y)


class TwoLayerNet(mg.Module):
    """``x -> relu(x @ W1 + b1) @ W2 + b2``: scores of shape (N, num_classes)."""

    def __init__(self, in_dim=2, hidden=100, num_classes=3, seed=0):
        super().__init__()
        rng = np.random.default_rng(seed)
        # He initialisation keeps the ReLU layer's activations at unit scale.
        self.W1 = mg.Parameter(rng.standard_normal((in_dim, hidden)) * np.sqrt(2.0 / in_dim), dtype=np.float32)
        self.b1 = mg.Parameter(np.zeros(hidden, dtype=np.float32))
        self.W2 = mg.Parameter(rng.standard_normal((hidden, num_classes)) * np.sqrt(2.0 / hidden), dtype=np.float32)
        self.b2 = mg.Parameter(np.zeros(num_classes, dtype=np.float32))

    def forward(self, x):
        return (x @ self.W1 + self.b1).relu() @ self.W2 + self.b2


def cross_entropy(scores, labels):
    """Mean softmax cross-entropy: ``-mean(log_softmax(scores)[i, labels[i]])``."""
    log_probs = scores.log_softmax(axis=1)
    return -log_probs[np.arange(len(labels)), labels].mean()


def train(epochs=150, batch_size=16, lr=0.5, reg=1e-4, seed=0, log=print):
    """Train ``TwoLayerNet`` with plain minibatch SGD; return (model, train accuracy).

    A diverging run (too large an ``lr``) stops with optim's ``NonFiniteError``.
    """
    epochs = check_int("train", "epochs", epochs, low=1)
    batch_size = check_int("train", "batch_size", batch_size, low=1)
    lr = check_positive("train", "lr", lr)
    reg = check_number("train", "reg", reg, low=0)
    seed = check_int("train", "seed", seed, low=0)
    X, y = make_spiral(seed=seed)
    model = TwoLayerNet(seed=seed)
    rng = np.random.default_rng(seed)
    step = 0
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(X))
        losses = []
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            data_loss = cross_entropy(model(mg.Tensor(X[batch])), y[batch])
            loss = data_loss + reg * ((model.W1 * model.W1).sum() + (model.W2 * model.W2).sum())
            step += 1
            losses.append(check_step("spiral", loss.item(), step, epoch, lr))
            model.zero_grad()
            loss.backward()
            with mg.no_grad():
                for p in model.parameters():
                    p.data -= lr * p.grad
        log(f"epoch {epoch:3d}  loss {np.mean(losses):.4f}")
    with mg.no_grad():
        accuracy = float(np.mean(model(mg.Tensor(X)).data.argmax(axis=1) == y))
    return model, accuracy


def main(argv=None):
    """The demo's command line; returns the exit code (1 if the run diverged, 2 for a bad argument)."""
    parser = ArgumentParser(prog="python -m assignments.spiral", description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=argument_type("epochs"), default=150)
    parser.add_argument("--lr", type=argument_type("lr"), default=0.5)
    parser.add_argument("--seed", type=argument_type("seed"), default=0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        # The NaN guard reports a divergence in one line; NumPy's overflow warnings would repeat it.
        with np.errstate(over="ignore", invalid="ignore"):
            _, accuracy = train(epochs=args.epochs, lr=args.lr, seed=args.seed)
    except NonFiniteError as exc:
        print(f"error: spiral diverged, {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"final training accuracy: {accuracy:.1%}  ({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
