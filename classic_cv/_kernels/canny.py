"""Numba kernels for Canny: Sobel gradient, interpolated non-maximum suppression
and double threshold streamed over rows, hysteresis by flood fill."""
import numpy as np
from numba import njit


@njit(cache=True)
def _pad_row(row, buf):
    """buf[1:-1] = row with the edge samples repeated once on each side."""
    w = row.shape[0]
    buf[1 : w + 1] = row
    buf[0] = row[0]
    buf[w + 1] = row[w - 1]


@njit(cache=True, error_model="numpy")
def _nms_row(up, mid, dn, row_gy, row_gx, row_mask, use_mask, low, high, one, row_out):
    """Non-maximum suppression and double threshold of one interior row, given
    the magnitude rows above/at/below it: ``row_out[j]`` is 0 (no edge), 1
    (weak: local maximum along the gradient, magnitude >= low and > 0, inside
    the mask) or 2 (strong: weak and >= high). Returns the number of weak or
    strong pixels.

    The magnitude one step ahead and one step behind along the gradient is
    interpolated between the two ring pixels bracketing the direction: the
    one on the nearer axis and the diagonal one, weighted by
    ``w = min(|gy|, |gx|) / max(|gy|, |gx|)``. When |gy| == |gx|, w = 1 and
    only the diagonal counts, so how such ties pick an octant does not matter.
    Every candidate neighbour is loaded from contiguous rows and the octant is
    chosen with selects, not branches: edge directions are unpredictable and
    the select form vectorises. ``one`` is 1 in the rows' dtype (a literal 1.0
    would promote float32 arithmetic to float64).
    """
    w = mid.shape[0]
    row_out[0] = 0
    row_out[w - 1] = 0
    count = 0
    for j in range(1, w - 1):
        m = mid[j]
        a = row_gy[j]
        b = row_gx[j]
        ay = abs(a)
        ax = abs(b)
        same = a * b >= 0.0  # gradient points down-right or up-left
        steep = ay >= ax  # nearer to the row axis than to the column axis
        wt = min(ay, ax) / max(ay, ax)
        diag_ahead = dn[j + 1] if same else up[j + 1]
        diag_behind = up[j - 1] if same else dn[j - 1]
        axis_ahead = (dn[j] if same else up[j]) if steep else mid[j + 1]
        axis_behind = (up[j] if same else dn[j]) if steep else mid[j - 1]
        rest = one - wt
        ahead = diag_ahead * wt + axis_ahead * rest
        behind = diag_behind * wt + axis_behind * rest
        inside = row_mask[j] if use_mask else True
        keep = inside & (m > 0.0) & (m >= low) & (ahead <= m) & (behind <= m)
        label = np.uint8(keep) + np.uint8(keep & (m >= high))
        row_out[j] = label
        count += keep
    return count


@njit(cache=True)
def _gradient_row(smoothed, i, up, mid, dn, gy, gx, mag):
    """Sobel gradients and magnitude of row ``i`` ('reflect' border) into (W,) rows."""
    h, w = smoothed.shape
    _pad_row(smoothed[i - 1 if i > 0 else 0], up)
    _pad_row(smoothed[i], mid)
    _pad_row(smoothed[i + 1 if i < h - 1 else h - 1], dn)
    for j in range(w):
        # Doubling by addition keeps float32 rows in float32 (an integer 2 would
        # promote the arithmetic to float64 and halve the vector width).
        centre_r = dn[j + 1] - up[j + 1]
        centre_c = mid[j + 2] - mid[j]
        dy = (dn[j] - up[j]) + (centre_r + centre_r) + (dn[j + 2] - up[j + 2])
        dx = (up[j + 2] - up[j]) + (centre_c + centre_c) + (dn[j + 2] - dn[j])
        gy[j] = dy
        gx[j] = dx
        mag[j] = np.sqrt(dy * dy + dx * dx)


@njit(cache=True)
def sobel_magnitude(image, gy, gx, mag):
    """Sobel gradients (``reflect`` border, like ``scipy.ndimage.sobel``) and their norm.

    ``gy`` is the derivative along rows (axis 0), ``gx`` along columns;
    ``mag = sqrt(gy^2 + gx^2)``. All arrays (H, W), written in place.
    """
    h, w = image.shape
    pad = np.empty((3, w + 2), dtype=image.dtype)
    for i in range(h):
        _gradient_row(image, i, pad[0], pad[1], pad[2], gy[i], gx[i], mag[i])


@njit(cache=True)
def gradient_nms(smoothed, mask, use_mask, low, high, labels):
    """Sobel gradient, non-maximum suppression and double threshold, streamed
    over rows: ``labels`` (H, W) uint8 gets 0 / 1 (weak) / 2 (strong) as in
    ``_nms_row``, and 0 on the image border. Returns the weak + strong count.

    Gradient rows live in a 3-slot ring, so no full-size gy/gx/magnitude
    arrays exist. ``mask`` (H, W) is read only when ``use_mask``.
    """
    h, w = smoothed.shape
    one = np.ones(1, dtype=smoothed.dtype)[0]  # 1 in the rows' dtype
    pad = np.empty((3, w + 2), dtype=smoothed.dtype)
    gy = np.empty((3, w), dtype=smoothed.dtype)
    gx = np.empty((3, w), dtype=smoothed.dtype)
    mag = np.empty((3, w), dtype=smoothed.dtype)
    _gradient_row(smoothed, 0, pad[0], pad[1], pad[2], gy[0], gx[0], mag[0])
    _gradient_row(smoothed, 1, pad[0], pad[1], pad[2], gy[1], gx[1], mag[1])
    labels[0, :] = 0
    labels[h - 1, :] = 0
    count = 0
    for i in range(1, h - 1):
        nxt = (i + 1) % 3
        _gradient_row(smoothed, i + 1, pad[0], pad[1], pad[2], gy[nxt], gx[nxt], mag[nxt])
        c = i % 3
        count += _nms_row(mag[(i - 1) % 3], mag[c], mag[nxt], gy[c], gx[c], mask[i] if use_mask else mask[0],
                          use_mask, low, high, one, labels[i])
    return count


@njit(cache=True)
def divide_outer(image, rows, cols, eps):
    """image[i, j] /= rows[i] * cols[j] + eps, in place (renormalising a blur
    by the blurred all-ones image, which is separable)."""
    h, w = image.shape
    for i in range(h):
        r = rows[i]
        for j in range(w):
            image[i, j] /= r * cols[j] + eps


@njit(cache=True)
def hysteresis(labels, n_candidates, edges):
    """Edges: strong pixels (label 2) and every weak pixel (label 1)
    8-connected to one through weak pixels.

    ``labels`` (H, W) uint8 must be 0 on the image border (as ``gradient_nms``
    leaves it), so a neighbour of a candidate is always inside the image and
    the fill needs no bounds tests; it is modified (visited pixels become 3).
    Iterative flood fill with an explicit stack, no recursion: a pixel is
    marked before it is pushed, so the stack never holds more than
    ``n_candidates`` (weak + strong count) entries. ``edges`` (H, W) bool is
    written in place.
    """
    h, w = labels.shape
    flat = labels.reshape(h * w)
    neighbours = np.array([-w - 1, -w, -w + 1, -1, 1, w - 1, w, w + 1])
    stack = np.empty(max(n_candidates, 1), dtype=np.int64)
    for seed in range(h * w):
        if flat[seed] != 2:
            continue
        flat[seed] = 3
        stack[0] = seed
        top = 1
        while top > 0:
            top -= 1
            p = stack[top]
            for k in range(8):
                q = p + neighbours[k]
                if flat[q] == 1 or flat[q] == 2:
                    flat[q] = 3
                    stack[top] = q
                    top += 1
    out = edges.reshape(h * w)
    for p in range(h * w):
        out[p] = flat[p] == 3
