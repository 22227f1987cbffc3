"""Row-wise softmax of attention scores, fused with scaling and masking, and its backward.

NumPy would make five full-array passes (scale, add mask, max, exp,
normalise), each allocating a temporary the size of the (N, heads, T, S)
scores. Here each row is processed while it sits in cache and the
probabilities overwrite the scores in place. The exp is the vectorisable
one of ``_fastmath`` (C library calls would keep the loops scalar).
"""
import numpy as np
from numba import njit

from ._fastmath import JIT_OPTIONS, exp_neg_parts


# Sums may be taken in any order (as NumPy's pairwise sums are): with
# "reassoc" LLVM splits a row's sum over vector lanes, 7x faster than one
# serial chain of additions.
_SUM_OPTIONS = dict(JIT_OPTIONS, fastmath={"contract", "reassoc"})


@njit(**_SUM_OPTIONS)
def _row_dot(a, b):
    total = 0.0
    for s in range(a.size):
        total += a[s] * b[s]
    return total


@njit(**_SUM_OPTIONS)
def _row_sum(a):
    total = 0.0
    for s in range(a.size):
        total += a[s]
    return total


@njit(**JIT_OPTIONS)
def _scale_and_mask(scores, scale, mask):
    # mask is C-contiguous (mb, mh, mt, S) with each of mb, mh, mt either 1
    # (shared) or full size: each row reads one contiguous mask row, so the
    # loop vectorises (a stride-0 broadcast view would keep it scalar).
    n_b, n_h, n_t, n_s = scores.shape
    mb, mh, mt = mask.shape[0], mask.shape[1], mask.shape[2]
    for b in range(n_b):
        for h in range(n_h):
            for t in range(n_t):
                row = scores[b, h, t]
                mrow = mask[b if mb > 1 else 0, h if mh > 1 else 0, t if mt > 1 else 0]
                for s in range(n_s):
                    row[s] = row[s] * scale + mrow[s]


@njit(**JIT_OPTIONS)
def _exp_normalise(scores, top):
    n_b, n_h, n_t, n_s = scores.shape
    for b in range(n_b):
        for h in range(n_h):
            for t in range(n_t):
                row = scores[b, h, t]
                m = top[b, h, t]
                if m == -np.inf:
                    # Every key masked: no weights rather than 0/0.
                    row[:] = 0.0
                    continue
                for s in range(n_s):
                    scale_k, q = exp_neg_parts(m - row[s])
                    row[s] = scale_k + scale_k * q
                inv = 1.0 / _row_sum(row)
                for s in range(n_s):
                    row[s] *= inv


def masked_softmax(scores, scale, mask):
    """``softmax(scores * scale + mask)`` over the last axis, in place.

    Parameters
    ----------
    scores : (N, heads, T, S), C-contiguous, overwritten with the result
    scale : float
    mask : array broadcastable to (N, heads, T, S), or None
        Additive; ``-inf`` removes a key. Rows with every key removed become 0.

    Returns
    -------
    scores, now the probabilities.
    """
    if mask is None:
        mask = np.zeros((1, 1, 1, scores.shape[3]), scores.dtype)
    try:
        fits = np.broadcast_shapes(mask.shape, scores.shape) == scores.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"masked_softmax: mask of shape {mask.shape} does not broadcast to {scores.shape}")
    mask = mask.reshape((1,) * (4 - mask.ndim) + mask.shape)
    if mask.shape[3] != scores.shape[3]:
        mask = np.broadcast_to(mask, mask.shape[:3] + scores.shape[3:])
    mask = np.ascontiguousarray(mask, dtype=scores.dtype)
    _scale_and_mask(scores, scores.dtype.type(scale), mask)
    # NumPy's max reduction is SIMD; a max loop in Numba stays scalar. The
    # -inf start makes a row without keys (S = 0) an all-masked row.
    _exp_normalise(scores, scores.max(axis=-1, initial=-np.inf))
    return scores


@njit(**JIT_OPTIONS)
def softmax_backward(probs, dprobs, scale):
    """Gradient of the scores from that of the probabilities, in place in ``dprobs``.

    ``dscores = scale * p * (dp - sum(dp * p))`` per row; masked keys have
    ``p = 0`` and so get exactly zero gradient.

    Parameters
    ----------
    probs, dprobs : (N, heads, T, S), C-contiguous

    Returns
    -------
    dprobs, now ``d scores``.
    """
    n_b, n_h, n_t, n_s = probs.shape
    for b in range(n_b):
        for h in range(n_h):
            for t in range(n_t):
                p = probs[b, h, t]
                dp = dprobs[b, h, t]
                dot = _row_dot(dp, p)
                for s in range(n_s):
                    dp[s] = scale * p[s] * (dp[s] - dot)
    return dprobs
