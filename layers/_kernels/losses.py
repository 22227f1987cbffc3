"""Softmax cross-entropy kernels: one pass over memory per direction.

The forward computes each row's maximum and softmax (vectorised exponentials
in the data's dtype, a float64 sum; ``activations.exp_normalise_row``) and
its loss while the row sits in cache; the backward writes
``scale * (p - target)`` with no one-hot array. NumPy's max, subtract and exp
passes before the kernel took 0.80 of its 1.41 ms on 1024 rows of 1000
float32 logits. Serial on purpose: see ``layers._kernels.norm``.
"""
import math

import numpy as np
from numba import njit, uintp

from ._fastmath import JIT_OPTIONS
from ._reductions import row_max, row_sum
from .activations import exp_normalise_row


@njit(**JIT_OPTIONS)
def _forward(x, y, ignore_index, smoothing, probs, loss):
    n, n_classes = x.shape
    for i in range(n):
        m = row_max(x, i)
        total = exp_normalise_row(x, i, m, probs)
        if y[i] == ignore_index:
            loss[i] = 0.0
            continue
        lse = m + math.log(total)
        # -log p_y, and the mean of -log p_c over classes for the smoothed target.
        # Without smoothing that mean is left out rather than weighted by 0:
        # a -inf logit (a masked class) makes it inf, and 0 * inf is NaN.
        nll = lse - x[i, y[i]]
        if smoothing == 0.0:
            loss[i] = nll
        else:
            loss[i] = (1.0 - smoothing) * nll + smoothing * (lse - row_sum(x, i) / n_classes)


@njit(**JIT_OPTIONS)
def _backward(p, y, scale, ignore_index, smoothing, tiny, dx):
    # In p's dtype: float32 gradients in float32 lanes (float64 products halved
    # the lanes and took 0.21 ms instead of 0.10 on 1024 rows of 1000 classes).
    n, n_classes = p.shape
    uniform = p.dtype.type(smoothing / n_classes)
    zero = p.dtype.type(0)
    for i in range(n):
        if y[i] == ignore_index:
            dx[i, :] = zero
            continue
        g = p.dtype.type(scale[i])
        for c in range(n_classes):
            v = g * (p[i, uintp(c)] - uniform)
            dx[i, uintp(c)] = v if abs(v) >= tiny else zero
        dx[i, y[i]] -= g * p.dtype.type(1.0 - smoothing)


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
    probs = np.empty_like(x)
    loss = np.empty(x.shape[0])
    _forward(x, y, ignore_index, smoothing, probs, loss)
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
    _backward(probs, y, scale, ignore_index, smoothing, probs.dtype.type(np.finfo(probs.dtype).tiny), dx)
    return dx
