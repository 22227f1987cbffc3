"""Obviously-correct loop version of the embedding scatter-add."""
import numpy as np


def scatter_add_rows(idx, rows, num_rows):
    """``out[idx[i]] += rows[i]`` one index at a time."""
    out = np.zeros((num_rows, rows.shape[1]), dtype=rows.dtype)
    for i, row in zip(idx, rows):
        out[i] += row
    return out
