"""Obviously-correct loop versions of the embedding gather and scatter-add."""
import numpy as np


def scatter_add_rows(idx, rows, num_rows):
    """``out[idx[i]] += rows[i]`` one index at a time."""
    out = np.zeros((num_rows, rows.shape[1]), dtype=rows.dtype)
    for i, row in zip(idx, rows):
        out[i] += row
    return out


def gather_rows(idx, weight):
    """``weight[idx]`` one row at a time, for (K,) indices into a (V, D) weight."""
    return np.stack([weight[i] for i in idx]) if len(idx) else np.empty((0, weight.shape[1]), weight.dtype)
