"""Row-wise softmax of attention scores, fused with scaling and masking, and its backward.

NumPy would make five full-array passes (scale, add mask, max, exp,
normalise), each allocating a temporary the size of the (N, heads, T, S)
scores. Here each row is scaled, masked, and turned into probabilities by
the softmax kernels' row functions (``activations.exp_normalise_row``) while
it sits in cache, in the scores' dtype, and the probabilities overwrite the
scores in place. The rows are split over our threads (``layers._parallel``)
as the softmax kernels' are (``activations.split_values``).
"""
import numpy as np
from numba import njit, uintp

from ._fastmath import JIT_OPTIONS
from ._reductions import row_max
from .activations import exp_normalise_row_in_place, softmax_rows_backward_in_place, split_values


@njit(nogil=True, **JIT_OPTIONS)
def _masked_softmax_rows(scores, scale, mask, mask_dims, heads, queries, start, stop):
    """Rows ``start`` to ``stop`` of ``scores`` (R, S), whose rows are (sample, head, query)
    in C order; ``mask`` (M, S) holds the distinct mask rows, ``mask_dims`` their (samples,
    heads, queries), each either 1 (shared) or full size."""
    mb, mh, mt = mask_dims
    for r in range(start, stop):
        b, h, t = r // (heads * queries), (r // queries) % heads, r % queries
        mask_row = ((b if mb > 1 else 0) * mh + (h if mh > 1 else 0)) * mt + (t if mt > 1 else 0)
        for s in range(scores.shape[1]):
            scores[r, uintp(s)] = scores[r, uintp(s)] * scale + mask[mask_row, uintp(s)]
        m = row_max(scores, r)
        if m == -np.inf:
            # Every key masked: no weights rather than 0/0.
            scores[r, :] = 0
        else:
            exp_normalise_row_in_place(scores, r, m)


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
    # Each row of scores reads one contiguous mask row, so the loop vectorises
    # (a stride-0 broadcast view would keep it scalar).
    mask = np.ascontiguousarray(mask, dtype=scores.dtype)
    if scores.size:
        n, heads, queries, keys = scores.shape
        rows, scale, mask_rows = scores.reshape(-1, keys), scores.dtype.type(scale), mask.reshape(-1, keys)
        split_values(lambda a, b: _masked_softmax_rows(rows, scale, mask_rows, mask.shape[:3], heads, queries, a, b),
                     len(rows), scores.size)
    return scores


def softmax_backward(probs, dprobs, scale):
    """Gradient of the scores from that of the probabilities, in place in ``dprobs``.

    ``dscores = scale * p * (dp - sum(dp * p))`` per row; masked keys have
    ``p = 0`` and so get exactly zero gradient.

    Parameters
    ----------
    probs, dprobs : (N, heads, T, S), C-contiguous, one dtype

    Returns
    -------
    dprobs, now ``d scores``.
    """
    if probs.size:
        keys = probs.shape[-1]
        grads, rows, scale = dprobs.reshape(-1, keys), probs.reshape(-1, keys), probs.dtype.type(scale)
        split_values(lambda a, b: softmax_rows_backward_in_place(grads[a:b], rows[a:b], scale), len(rows),
                     probs.size)
    return dprobs
