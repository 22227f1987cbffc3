"""What the linear SVM and softmax scripts share: bias trick, SGD, evaluation, plots.

A linear classifier scores ``X @ W`` with ``W : (D + 1, C)``; the last row is
the bias, matched by a column of ones appended to ``X`` (CS231n's bias trick).
A loss function has the signature ``loss_fn(W, X, y, reg) -> (loss, dW)``.
"""
import time

import numpy as np

from optim import check_step

from . import plots, reporting
from .cli import load_data, progress, save_checkpoint, single_threaded_blas
from .data import flatten, subtract_mean_image


def append_bias(X):
    """(N, D) -> (N, D + 1) with a trailing column of ones."""
    return np.hstack([X, np.ones((len(X), 1), dtype=X.dtype)])


def check_loss_inputs(W, X, y, reg, caller):
    """Validate the shared loss signature: W (D, C), X (N, D), y (N,) ints in 0..C-1, reg >= 0.

    Returns ``W, X, y`` as ndarrays. Non-finite weights are refused: they are
    what a diverging learning rate produces, and every later step would be NaN.
    """
    W, X, y = np.asarray(W), np.asarray(X), np.asarray(y)
    if W.ndim != 2 or X.ndim != 2 or X.shape[1] != W.shape[0]:
        raise ValueError(f"{caller}: W must be (D, C) and X (N, D), got {W.shape} and {X.shape}")
    if y.shape != (len(X),) or y.dtype.kind not in "iu":
        raise ValueError(f"{caller}: y must be ({len(X)},) integers, got {y.dtype} shape {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= W.shape[1]):
        raise ValueError(f"{caller}: labels must lie in 0..{W.shape[1] - 1}, got {y.min()}..{y.max()}")
    if reg < 0:
        raise ValueError(f"{caller}: reg must be >= 0, got {reg}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{caller}: X contains NaN or inf")
    if not np.all(np.isfinite(W)):
        raise ValueError(f"{caller}: W contains NaN or inf (SGD diverges when the learning rate is too large)")
    return W, X, y


def predict(W, X):
    """(N, D) -> (N,) class of the highest score."""
    return np.argmax(X @ W, axis=1)


def train_sgd(loss_fn, X, y, num_classes, lr, reg, epochs, batch_size, rng, lr_decay=1.0, on_epoch=None):
    """Minibatch SGD on ``loss_fn``, one pass over a fresh permutation per epoch.

    Parameters
    ----------
    X : (N, D) float32, bias column included; y : (N,) int
    lr_decay : factor applied to the learning rate after every epoch
    on_epoch : callable, optional
        ``on_epoch(epoch, W)`` after every epoch (e.g. to report to a sweep).

    Returns
    -------
    W : (D, num_classes); losses : list of float, one per step
    """
    W = (0.001 * rng.standard_normal((X.shape[1], num_classes))).astype(X.dtype)
    losses = []
    for epoch in progress(range(1, epochs + 1), desc="epochs"):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            # Overflow is what a too-large rate produces; the guard below reports it.
            with np.errstate(over="ignore", invalid="ignore"):
                loss, dW = loss_fn(W, X[batch], y[batch], reg)
                W -= lr * dW
            losses.append(check_step("train_sgd", loss, len(losses) + 1, epoch, lr, W=W))
        lr *= lr_decay
        if on_epoch is not None:
            on_epoch(epoch, W)
    return W, losses


def run(args, loss_fn, title, reg, lr_decay):
    """The body of the linear SVM and softmax scripts: train, evaluate, plot, checkpoint.

    Preprocessing as in CS231n: flatten, subtract the training mean image,
    append the bias column.
    """
    data = load_data(args)
    X_train, X_val, X_test, mean_image = subtract_mean_image(
        *(flatten(X) for X in (data.X_train, data.X_val, data.X_test)))
    X_train, X_val, X_test = (append_bias(X) for X in (X_train, X_val, X_test))
    rng = np.random.default_rng(args.seed)

    def report(epoch, W):  # to a listening sweep
        reporting.report_epoch(epoch, val_accuracy=float(np.mean(predict(W, X_val) == data.y_val)))

    start = time.perf_counter()
    with single_threaded_blas():
        W, losses = train_sgd(loss_fn, X_train, data.y_train, data.num_classes, args.lr, reg,
                              args.epochs, args.batch_size, rng, lr_decay,
                              on_epoch=report if reporting.listening() else None)
    seconds = time.perf_counter() - start
    accuracy = {split: float(np.mean(predict(W, X) == y)) for split, X, y in
                (("train", X_train, data.y_train), ("val", X_val, data.y_val), ("test", X_test, data.y_test))}

    plots.curves(f"{args.out}/loss.png", {"minibatch loss": losses}, "SGD step", "loss", title)
    templates = W[:-1].T.reshape(data.num_classes, *data.image_shape)
    plots.image_grid(f"{args.out}/weights.png", templates, data.class_names,
                     title=f"{title}: learned weights")
    save_checkpoint(args, W=W, mean_image=mean_image)
    return {
        "reg": reg,
        "train_accuracy": accuracy["train"],
        "val_accuracy": accuracy["val"],
        "test_accuracy": accuracy["test"],
        "final_loss": float(np.mean(losses[-10:])),
        "losses": losses,
        "train_seconds": seconds,
    }
