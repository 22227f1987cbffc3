"""Numba kernels for HOG: cell orientation histograms in one pass, block normalisation,
and the HOG picture."""
import math

import numpy as np
from numba import njit

# Block normalisations, in the order of ``classic_cv.hog.BLOCK_NORMS``.
L1, L1_SQRT, L2, L2_HYS = 0, 1, 2, 3


@njit(cache=True)
def _orientation_bin(theta, step, n_bins):
    """The bin b with ``step * b <= theta < step * (b + 1)``, or -1 when none holds.

    The bounds are the products themselves, not a division of ``theta``, so a
    gradient exactly on a bound lands where a comparison with the bounds puts it.
    """
    b = min(int(theta * (1.0 / step)), n_bins - 1)  # a first guess, corrected below
    while b > 0 and theta < step * b:
        b -= 1
    while b < n_bins - 1 and theta >= step * (b + 1):
        b += 1
    if step * b <= theta < step * (b + 1):
        return b
    return -1


@njit(cache=True)
def _unsigned_degrees(angle):
    """An angle in radians, [-pi, pi], as degrees modulo 180 with NumPy's rounding of
    ``np.rad2deg(angle) % 180``: one product, then 180 added to negatives (``fmod``
    is exact there), and 180 itself wrapped to 0."""
    theta = angle * (180.0 / np.pi)
    if theta < 0.0:
        return theta + 180.0
    if theta >= 180.0:
        return theta - 180.0
    return theta


@njit(cache=True)
def cell_histograms(g_row, g_col, angle, cell_rows, cell_cols, out):
    """Orientation histograms of the cells of a gradient field, into ``out``.

    ``g_row``, ``g_col`` and ``angle`` (H, W) float64 are each pixel's gradient
    (down the rows, along the columns) and its direction ``atan2(g_row, g_col)``
    in radians. ``out`` is
    (n_cells_rows, n_cells_cols, n_bins) float64, the cells tiling the top-left
    ``n_cells_rows * cell_rows`` x ``n_cells_cols * cell_cols`` pixels. Each
    pixel votes its gradient magnitude into the bin of its unsigned orientation in
    degrees (the bins split [0, 180) evenly), and each histogram is divided by
    the cell area (a mean over the cell's pixels). One pass over the pixels,
    every bin at once.
    """
    n_rows, n_cols, n_bins = out.shape
    step = 180.0 / n_bins
    out[:] = 0.0
    for r in range(n_rows * cell_rows):
        hist_row = out[r // cell_rows]
        c = 0
        for j in range(n_cols):
            hist = hist_row[j]
            for _ in range(cell_cols):
                b = _orientation_bin(_unsigned_degrees(angle[r, c]), step, n_bins)
                if b >= 0:
                    hist[b] += math.sqrt(g_row[r, c] ** 2 + g_col[r, c] ** 2)
                c += 1
    out /= cell_rows * cell_cols


@njit(cache=True)
def normalize_blocks(hist, method, eps, clip, out):
    """Normalise every block of cells of ``hist`` (n_rows, n_cols, n_bins) into ``out``.

    ``out`` is (n_blocks_rows, n_blocks_cols, block_rows, block_cols, n_bins),
    blocks overlapping with a stride of one cell. ``method``: L1 divides a block
    by its sum + ``eps`` (histograms are >= 0, so that is its L1 norm), L1_SQRT
    takes the square root of that, L2 divides by ``sqrt(sum of squares + eps^2)``,
    L2_HYS clips the L2 result at ``clip`` and applies L2 again. A kernel rather
    than array expressions because HOG is often taken of many small images,
    where NumPy's per-call overhead would cost more than the arithmetic.
    """
    n_rows, n_cols, block_rows, block_cols, n_bins = out.shape
    blocks = out.reshape(n_rows, n_cols, block_rows * block_cols * n_bins)  # a view: out is contiguous
    for i in range(n_rows):
        for j in range(n_cols):
            v = blocks[i, j]
            t = 0
            for a in range(block_rows):
                for b in range(block_cols):
                    for k in range(n_bins):
                        v[t] = hist[i + a, j + b, k]
                        t += 1
            if method == L1 or method == L1_SQRT:
                _divide(v, v.sum() + eps)
                if method == L1_SQRT:
                    for t in range(v.size):
                        v[t] = math.sqrt(v[t])
                continue
            _divide(v, math.sqrt(_sum_of_squares(v) + eps * eps))
            if method == L2_HYS:
                for t in range(v.size):
                    v[t] = min(v[t], clip)
                _divide(v, math.sqrt(_sum_of_squares(v) + eps * eps))


@njit(cache=True)
def _divide(v, by):
    for t in range(v.size):
        v[t] /= by


@njit(cache=True)
def _sum_of_squares(v):
    total = 0.0
    for t in range(v.size):
        total += v[t] * v[t]
    return total


@njit(cache=True)
def _add_line(picture, r0, c0, r1, c1, value):
    """Add ``value`` to the pixels of the Bresenham segment (r0, c0)-(r1, c1), ends included."""
    dr, dc = abs(r1 - r0), abs(c1 - c0)
    sr = 1 if r1 > r0 else -1
    sc = 1 if c1 > c0 else -1
    # Walk along the longer axis; the error term decides when to step along the other.
    steep = dr > dc
    if steep:
        r0, c0, dr, dc, sr, sc = c0, r0, dc, dr, sc, sr
    err = 2 * dr - dc
    r, c = r0, c0
    for _ in range(dc):
        if steep:
            picture[c, r] += value
        else:
            picture[r, c] += value
        while err >= 0:
            r += sr
            err -= 2 * dc
        c += sc
        err += 2 * dr
    picture[r1, c1] += value


@njit(cache=True)
def hog_picture(hist, cell_rows, cell_cols, radius, out):
    """Draw every cell's histogram ``hist`` (n_rows, n_cols, n_bins) into ``out`` (H, W).

    Bin b is a segment of half-length ``radius`` through the cell centre,
    perpendicular to the bin's middle gradient orientation (so along the edge
    that gradient crosses), whose pixels get the bin's value added. End points
    are truncated to integers; cells are drawn in raster order, bins in order.
    """
    n_rows, n_cols, n_bins = hist.shape
    for i in range(n_rows):
        centre_r = i * cell_rows + cell_rows // 2
        for j in range(n_cols):
            centre_c = j * cell_cols + cell_cols // 2
            for b in range(n_bins):
                angle = np.pi * (b + 0.5) / n_bins
                along_r = radius * math.cos(angle)
                along_c = radius * math.sin(angle)
                _add_line(out, int(centre_r - along_r), int(centre_c + along_c),
                          int(centre_r + along_r), int(centre_c - along_c), hist[i, j, b])
