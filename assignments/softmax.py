"""Softmax (multinomial logistic regression) classifier trained with SGD.

For scores ``s = x @ W`` the loss of one example is ``-log(e^{s_y} / sum_j e^{s_j})``;
the data loss is its mean over the batch, plus ``reg * sum(W * W)``.
"""
import numpy as np

from .linear_classifier import check_loss_inputs, run
from .settings import declare, number, training

DESCRIPTION = "softmax classifier: naive and vectorised cross-entropy, SGD, learned-weight images"
DEFAULTS = training(epochs=10, batch_size=100, lr=0.5)
REG = 1e-3
OPTIONS = declare(reg=number(REG, low=0))  # L2 strength
LR_DECAY = 0.9


def softmax_loss_naive(W, X, y, reg):
    """Cross-entropy loss and its gradient with explicit loops over examples and classes.

    Parameters
    ----------
    W : (D, C); X : (N, D); y : (N,) int in 0..C-1; reg : float >= 0

    Returns
    -------
    loss : float; dW : (D, C)
    """
    W, X, y = check_loss_inputs(W, X, y, reg, "softmax_loss_naive")
    N, C = len(X), W.shape[1]
    loss, dW = 0.0, np.zeros_like(W)
    for i in range(N):
        scores = X[i] @ W
        scores = scores - scores.max()  # shifting by the max keeps exp from overflowing
        total = np.sum(np.exp(scores))
        loss += np.log(total) - scores[y[i]]
        for j in range(C):
            dW[:, j] += (np.exp(scores[j]) / total - (j == y[i])) * X[i]
    return loss / N + reg * np.sum(W * W), dW / N + 2 * reg * W


def softmax_loss_vectorized(W, X, y, reg):
    """Same as ``softmax_loss_naive`` without Python loops. Shapes as there."""
    W, X, y = check_loss_inputs(W, X, y, reg, "softmax_loss_vectorized")
    N = len(X)
    rows = np.arange(N)
    scores = X @ W
    scores = scores - scores.max(axis=1, keepdims=True)
    log_probs = scores - np.log(np.sum(np.exp(scores), axis=1, keepdims=True))
    # d loss / d scores = softmax - one_hot(y)
    dscores = np.exp(log_probs)
    dscores[rows, y] -= 1
    return -log_probs[rows, y].sum() / N + reg * np.sum(W * W), X.T @ dscores / N + 2 * reg * W


def main(args):
    return run(args, softmax_loss_vectorized, "softmax", args.reg, LR_DECAY)
