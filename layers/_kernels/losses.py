"""Softmax cross-entropy kernels.

The exponentials come from NumPy's SIMD ``exp`` (a scalar ``math.exp`` loop
in Numba ran 2x slower than PyTorch's whole forward+backward); the Numba
kernels fuse everything around it into one pass each: row sums (float64 for
float32 input too), log-sum-exp, the smoothed loss and the normalisation to
probabilities in the forward; ``scale * (p - target)`` in the backward, with
no one-hot array. Serial on purpose: see ``layers._kernels.norm``.
"""
import math

import numpy as np
from numba import njit

from .activations import exp_shifted_rows

_REASSOC = {"reassoc", "contract"}


@njit(cache=True, error_model="numpy", fastmath=_REASSOC)
def _finish_forward(x, row_max, e, y, ignore_index, smoothing, loss):
    """Turn ``e = exp(x - row_max)`` into probabilities in place; write each row's loss."""
    n, n_classes = x.shape
    for i in range(n):
        s = 0.0
        total = 0.0
        for c in range(n_classes):
            s += e[i, c]
            total += x[i, c]
        lse = row_max[i] + math.log(s)
        inv = 1.0 / s
        for c in range(n_classes):
            e[i, c] *= inv
        if y[i] == ignore_index:
            loss[i] = 0.0
        else:
            # -log p_y, and the mean of -log p_c over classes for the smoothed target.
            # Without smoothing that mean is left out rather than weighted by 0:
            # a -inf logit (a masked class) makes it inf, and 0 * inf is NaN.
            nll = lse - x[i, y[i]]
            if smoothing == 0.0:
                loss[i] = nll
            else:
                loss[i] = (1.0 - smoothing) * nll + smoothing * (lse - total / n_classes)


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _backward(p, y, scale, ignore_index, smoothing, tiny, dx):
    n, n_classes = p.shape
    uniform = smoothing / n_classes
    for i in range(n):
        if y[i] == ignore_index:
            dx[i, :] = 0.0
            continue
        g = scale[i]
        for c in range(n_classes):
            v = g * (p[i, c] - uniform)
            dx[i, c] = v if abs(v) >= tiny else 0.0
        dx[i, y[i]] -= g * (1.0 - smoothing)


def cross_entropy_forward(x, y, ignore_index, smoothing):
    """Per-row smoothed cross-entropy of logits.

    Parameters
    ----------
    x : (N, C) contiguous float32/float64 logits
    y : (N,) int64 labels in [0, C) or ``ignore_index``
    smoothing : float in [0, 1]
        The target is ``(1 - smoothing) * onehot(y) + smoothing / C``.

    Returns
    -------
    loss : (N,) float64, 0 on ignored rows
    probs : (N, C) softmax of each row, x's dtype (the backward's input)
    """
    probs, row_max = exp_shifted_rows(x)
    loss = np.empty(x.shape[0])
    _finish_forward(x, row_max, probs, y, ignore_index, smoothing, loss)
    return loss, probs


def cross_entropy_backward(probs, y, scale, ignore_index, smoothing):
    """dx (N, C), probs' dtype: ``scale[i] * (probs_i - target_i)``, 0 on ignored rows.

    ``scale`` (N,) float64 is the upstream gradient of each row's loss. Values
    below the dtype's smallest normal number are 0: the probabilities of
    classes 88 to 103 logits below the top one are subnormal in float32, and
    subnormals slow down the GEMMs the gradient goes through next ~40x (see
    ``minigrad.activations._flush_subnormals``).
    """
    dx = np.empty_like(probs)
    _backward(probs, y, scale, ignore_index, smoothing, np.finfo(probs.dtype).tiny, dx)
    return dx
