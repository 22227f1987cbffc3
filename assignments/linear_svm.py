"""Multiclass linear SVM (Weston-Watkins hinge loss) trained with SGD.

For scores ``s = x @ W`` and the correct class ``y``, the loss of one example is
``sum_{j != y} max(0, s_j - s_y + 1)``; the data loss is its mean over the batch,
plus ``reg * sum(W * W)``.
"""
import numpy as np

from .linear_classifier import check_loss_inputs, run
from .settings import declare, number, training

DESCRIPTION = "linear SVM: naive and vectorised hinge loss, SGD, learned-weight images"
DEFAULTS = training(epochs=10, batch_size=200, lr=0.3)
REG = 1e-3
OPTIONS = declare(reg=number(REG, low=0))  # L2 strength
LR_DECAY = 0.9
MARGIN = 1.0


def svm_loss_naive(W, X, y, reg):
    """Hinge loss and its gradient with explicit loops over examples and classes.

    Parameters
    ----------
    W : (D, C); X : (N, D); y : (N,) int in 0..C-1; reg : float >= 0

    Returns
    -------
    loss : float; dW : (D, C)
    """
    W, X, y = check_loss_inputs(W, X, y, reg, "svm_loss_naive")
    N, C = len(X), W.shape[1]
    loss, dW = 0.0, np.zeros_like(W)
    for i in range(N):
        scores = X[i] @ W
        for j in range(C):
            if j == y[i]:
                continue
            margin = scores[j] - scores[y[i]] + MARGIN
            if margin > 0:
                loss += margin
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
    return loss / N + reg * np.sum(W * W), dW / N + 2 * reg * W


def svm_loss_vectorized(W, X, y, reg):
    """Same as ``svm_loss_naive`` without Python loops. Shapes as there."""
    W, X, y = check_loss_inputs(W, X, y, reg, "svm_loss_vectorized")
    N = len(X)
    rows = np.arange(N)
    scores = X @ W
    margins = np.maximum(0, scores - scores[rows, y][:, None] + MARGIN)
    margins[rows, y] = 0
    # d loss / d scores: +1 for every violating class, minus their count for the correct one.
    dscores = (margins > 0).astype(W.dtype)
    dscores[rows, y] = -dscores.sum(axis=1)
    return margins.sum() / N + reg * np.sum(W * W), X.T @ dscores / N + 2 * reg * W


def main(args):
    return run(args, svm_loss_vectorized, "linear SVM", args.reg, LR_DECAY)
