"""Plain NumPy twins of ``classic_cv._kernels.hog`` and of the block normalisation of ``classic_cv.hog``."""
import numpy as np


def cell_histograms(g_row, g_col, angle, cell_rows, cell_cols, n_bins):
    """Every cell, every bin, one boolean mask at a time; returns (n_rows, n_cols, n_bins).

    ``angle`` in radians; the unsigned orientation in degrees as skimage computes it.
    """
    magnitude = np.hypot(g_row, g_col)
    theta = np.rad2deg(angle) % 180.0
    step = 180.0 / n_bins
    n_rows, n_cols = magnitude.shape[0] // cell_rows, magnitude.shape[1] // cell_cols
    out = np.zeros((n_rows, n_cols, n_bins))
    for i in range(n_rows):
        for j in range(n_cols):
            cell = np.s_[i * cell_rows:(i + 1) * cell_rows, j * cell_cols:(j + 1) * cell_cols]
            for b in range(n_bins):
                in_bin = (theta[cell] >= step * b) & (theta[cell] < step * (b + 1))
                out[i, j, b] = magnitude[cell][in_bin].sum() / (cell_rows * cell_cols)
    return out


def normalize_blocks(hist, block_rows, block_cols, method, eps=1e-5):
    """One block at a time; returns (n_blocks_rows, n_blocks_cols, block_rows, block_cols, n_bins)."""
    n_rows, n_cols = hist.shape[0] - block_rows + 1, hist.shape[1] - block_cols + 1
    out = np.empty((n_rows, n_cols, block_rows, block_cols, hist.shape[2]))
    for i in range(n_rows):
        for j in range(n_cols):
            block = hist[i:i + block_rows, j:j + block_cols]
            if method in ("L1", "L1-sqrt"):
                block = block / (np.abs(block).sum() + eps)
                out[i, j] = np.sqrt(block) if method == "L1-sqrt" else block
            else:
                block = block / np.sqrt((block**2).sum() + eps**2)
                if method == "L2-Hys":
                    block = np.minimum(block, 0.2)
                    block = block / np.sqrt((block**2).sum() + eps**2)
                out[i, j] = block
    return out
