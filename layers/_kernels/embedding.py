"""Scatter-add kernel of the embedding backward.

``np.add.at`` handles repeated indices but is slow; one sequential pass in
index order is simple and fast (a parallel version would need per-thread
tables or atomics for the repeats).
"""
import numpy as np
from numba import njit


@njit(cache=True)
def _scatter_add_rows(idx, rows, out):
    for i in range(idx.size):
        out[idx[i]] += rows[i]


def scatter_add_rows(idx, rows, num_rows):
    """``out[idx[i]] += rows[i]`` into a zeroed (num_rows, D) array of rows' dtype.

    idx : (K,) int64 in [0, num_rows); rows : (K, D) contiguous.
    """
    out = np.zeros((num_rows, rows.shape[1]), dtype=rows.dtype)
    _scatter_add_rows(idx, rows, out)
    return out
