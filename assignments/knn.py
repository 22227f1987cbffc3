"""k-nearest neighbours with L2 distances, k chosen by 5-fold cross-validation.

Three ways to compute the (num_test, num_train) distance matrix, as in CS231n:
two loops, one loop, and none. The loop-free version expands
``|x - t|^2 = |x|^2 + |t|^2 - 2 x.t`` so the work is one matrix product.
"""
import time

import numpy as np

from . import plots
from .cli import load_data, progress, save_checkpoint
from .data import flatten
from .settings import declare

DESCRIPTION = "k-nearest neighbours (vectorised L2), k by 5-fold cross-validation"
DEFAULTS = declare()  # no training loop: epochs, batch size and learning rate do not apply
K_CHOICES = (1, 3, 5, 8, 10, 12, 15, 20, 50, 100)
NUM_FOLDS = 5
MAX_TRAIN = 5000


def compute_distances_two_loops(X_train, X):
    """L2 distances, one pair at a time.

    Parameters
    ----------
    X_train : (M, D); X : (N, D)

    Returns
    -------
    (N, M) float64, ``dists[i, j] = ||X[i] - X_train[j]||``
    """
    X_train, X = _pair(X_train, X, "compute_distances_two_loops")
    dists = np.zeros((len(X), len(X_train)))
    for i in range(len(X)):
        for j in range(len(X_train)):
            dists[i, j] = np.sqrt(np.sum((X[i] - X_train[j]) ** 2))
    return dists


def compute_distances_one_loop(X_train, X):
    """L2 distances, one test row against all training rows at a time. Shapes as two-loop."""
    X_train, X = _pair(X_train, X, "compute_distances_one_loop")
    dists = np.zeros((len(X), len(X_train)))
    for i in range(len(X)):
        dists[i] = np.sqrt(np.sum((X_train - X[i]) ** 2, axis=1))
    return dists


def compute_distances_no_loops(X_train, X):
    """L2 distances by ``|x|^2 + |t|^2 - 2 x.t`` (one GEMM). Shapes as two-loop.

    The expansion cancels catastrophically for near-identical rows and can go
    slightly negative; clamping at zero keeps the square root real.
    """
    X_train, X = _pair(X_train, X, "compute_distances_no_loops")
    squared = (np.sum(X * X, axis=1)[:, None] + np.sum(X_train * X_train, axis=1)[None, :]
               - 2.0 * (X @ X_train.T))
    return np.sqrt(np.maximum(squared, 0.0))


def _pair(X_train, X, caller):
    X_train = np.asarray(X_train, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    if X_train.ndim != 2 or X.ndim != 2 or X_train.shape[1] != X.shape[1]:
        raise ValueError(f"{caller}: X_train (M, D) and X (N, D) must be 2-D with equal D, "
                         f"got {X_train.shape} and {X.shape}")
    if not (np.all(np.isfinite(X_train)) and np.all(np.isfinite(X))):
        raise ValueError(f"{caller}: X_train and X must be finite, got NaN or inf")
    return X_train, X


def predict_labels(dists, y_train, ks, num_classes):
    """Majority vote among the k nearest training points, for several k at once.

    Ties between classes go to the smallest label (CS231n's rule).

    Parameters
    ----------
    dists : (N, M) distances; y_train : (M,) int; ks : int or sequence of int

    Returns
    -------
    (N,) predictions for an int ``ks``; (len(ks), N) for a sequence.
    """
    dists, y_train = np.asarray(dists), np.asarray(y_train)
    if dists.ndim != 2 or y_train.shape != (dists.shape[1],):
        raise ValueError(f"predict_labels: dists must be (N, M) and y_train (M,), "
                         f"got {dists.shape} and {y_train.shape}")
    if np.isnan(dists).any():
        raise ValueError("predict_labels: dists contains NaN")
    single = np.isscalar(ks)
    ks = np.atleast_1d(ks)
    if ks.min() < 1 or ks.max() > dists.shape[1]:
        raise ValueError(f"predict_labels: every k must be in 1..{dists.shape[1]}, got {ks.tolist()}")
    nearest = _nearest(dists, int(ks.max()))
    labels = y_train[nearest]                                                  # (N, kmax)
    votes = np.cumsum(labels[:, :, None] == np.arange(num_classes), axis=1)    # (N, kmax, C)
    predictions = votes[:, ks - 1].argmax(axis=2).T                            # (K, N)
    return predictions[0] if single else predictions


def _nearest(dists, kmax):
    """Indices of the ``kmax`` nearest training points of each row, nearest first.

    Equal to ``argsort(dists, kind="stable")[:, :kmax]`` (ties keep index
    order), and 5x cheaper on cross-validation folds: a partial partition finds
    each row's kmax-th distance ``t``; the row's candidates are every point
    nearer than ``t`` plus the first points (by index) at exactly ``t``; only
    those kmax candidates are then sorted.
    """
    N, M = dists.shape
    if kmax == M:
        return np.argsort(dists, axis=1, kind="stable")
    threshold = np.take_along_axis(dists, np.argpartition(dists, kmax - 1, axis=1)[:, kmax - 1:kmax], axis=1)
    nearer = dists < threshold
    at_threshold = dists == threshold
    room = kmax - nearer.sum(axis=1, keepdims=True)
    chosen = nearer | (at_threshold & (np.cumsum(at_threshold, axis=1) <= room))
    candidates = np.nonzero(chosen)[1].reshape(N, kmax)  # row-major: ascending index within a row
    order = np.argsort(np.take_along_axis(dists, candidates, axis=1), axis=1, kind="stable")
    return np.take_along_axis(candidates, order, axis=1)


def cross_validate(X, y, ks, num_classes, num_folds=NUM_FOLDS):
    """Accuracy of each k on each of ``num_folds`` contiguous folds.

    Returns
    -------
    (len(ks), num_folds) accuracies
    """
    folds_X, folds_y = np.array_split(X, num_folds), np.array_split(y, num_folds)
    scores = np.zeros((len(ks), num_folds))
    for f in progress(range(num_folds), desc="cross-validation"):
        train_X = np.concatenate(folds_X[:f] + folds_X[f + 1:])
        train_y = np.concatenate(folds_y[:f] + folds_y[f + 1:])
        dists = compute_distances_no_loops(train_X, folds_X[f])
        predictions = predict_labels(dists, train_y, ks, num_classes)
        scores[:, f] = (predictions == folds_y[f]).mean(axis=1)
    return scores


def predict(X_train, y_train, X, k, num_classes, chunk=1000):
    """Labels of the rows of ``X`` (N, D) by a k-NN vote over ``X_train`` (M, D), ``y_train`` (M,).

    Works through ``X`` ``chunk`` rows at a time so the distance matrix stays
    at most ``chunk`` x M.
    """
    return np.concatenate([predict_labels(compute_distances_no_loops(X_train, X[i:i + chunk]),
                                          y_train, k, num_classes)
                           for i in range(0, len(X), chunk)])


def main(args):
    data = load_data(args)
    # CS231n's k-NN keeps at most 5,000 training images (CIFAR-10 has 49,000): distances
    # to all of them would cost gigabytes and minutes for little gain in a teaching script.
    data = data.subset(MAX_TRAIN, len(data.y_val), len(data.y_test))
    X_train, X_val, X_test = (flatten(X) for X in (data.X_train, data.X_val, data.X_test))
    start = time.perf_counter()
    ks = [k for k in K_CHOICES if k <= len(X_train) * (NUM_FOLDS - 1) // NUM_FOLDS]
    scores = cross_validate(X_train, data.y_train, ks, data.num_classes)
    best_k = ks[int(np.argmax(scores.mean(axis=1)))]  # argmax: the smallest k among equals
    val_accuracy, test_accuracy = (
        float(np.mean(predict(X_train, data.y_train, X, best_k, data.num_classes) == y))
        for X, y in ((X_val, data.y_val), (X_test, data.y_test)))
    seconds = time.perf_counter() - start
    plots.cross_validation(f"{args.out}/accuracy_vs_k.png", ks, scores, "k",
                           title=f"{NUM_FOLDS}-fold cross-validation on {data.name} (best k = {best_k})")
    save_checkpoint(args, X_train=X_train, y_train=data.y_train, k=best_k)
    return {
        "k": best_k,
        "cv_k": ks,
        "cv_accuracy_mean": scores.mean(axis=1),
        "cv_accuracy_folds": scores,
        "val_accuracy": val_accuracy,
        "test_accuracy": test_accuracy,
        "train_seconds": seconds,
    }
