"""Numba kernels for 2-D max and average pooling over (N, C, H, W) arrays.

Windows are clipped to the image instead of padding it: max pooling then
never sees a padded value (PyTorch pads with -inf, which is never chosen)
and average pooling divides by the full ``kh * kw`` (PyTorch's default
``count_include_pad=True``).

The kernels are serial on purpose. At the CNN's shape (64, 32, 28, 28)
float32 the 2x2 max-pool forward took 0.8 ms serial and 0.4 ms with
``prange`` over 2 threads on a quiet machine, but 8 ms against 0.6 ms
serial once two other processes kept both cores busy: an OpenMP region
waits for its descheduled thread. A serial kernel never loses more than 2x.
"""
import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _window(o, stride, pad, kernel, size):
    """Clipped window ``[lo, hi)`` of output index ``o`` along one axis."""
    start = o * stride - pad
    return max(start, 0), min(start + kernel, size)


@njit(cache=True, inline="always")
def _take(v, best):
    """Does ``v`` replace ``best``? A larger value or any NaN does (later NaNs too)."""
    return (v > best) | (v != v)


@njit(cache=True)
def max_pool_forward(x, out, argmax, kh, kw, sh, sw, ph, pw):
    """out[n, c, y, x] = max of the window; argmax holds its flat index into the (H, W) plane.

    x (N, C, H, W); out (N, C, OH, OW) and argmax (same shape, int32) are filled.
    As in PyTorch, a NaN in the window wins, so NaNs propagate.
    """
    n_img, n_ch, height, width = x.shape
    oh, ow = out.shape[2], out.shape[3]
    for n in range(n_img):
        for c in range(n_ch):
            for y in range(oh):
                y_lo, y_hi = _window(y, sh, ph, kh, height)
                for xo in range(ow):
                    x_lo, x_hi = _window(xo, sw, pw, kw, width)
                    best = -np.inf
                    best_idx = y_lo * width + x_lo
                    for iy in range(y_lo, y_hi):
                        for ix in range(x_lo, x_hi):
                            v = x[n, c, iy, ix]
                            if _take(v, best):
                                best = v
                                best_idx = iy * width + ix
                    out[n, c, y, xo] = best
                    argmax[n, c, y, xo] = best_idx


@njit(cache=True)
def max_pool_2x2_forward(x, out, argmax):
    """``max_pool_forward`` for kernel 2x2, stride 2, no padding: the CNN's pool.

    Same results, bit for bit: the window is scanned in the same order with the
    same tie and NaN rule. With the window unrolled and no clipping the loop
    over a row's outputs is branch-free, about 10x faster than the general kernel.
    """
    n_img, n_ch, _, width = x.shape
    oh, ow = out.shape[2], out.shape[3]
    for n in range(n_img):
        for c in range(n_ch):
            plane = x[n, c]
            for y in range(oh):
                top, bottom = plane[2 * y], plane[2 * y + 1]
                row_out, row_arg = out[n, c, y], argmax[n, c, y]
                base = 2 * y * width
                for xo in range(ow):
                    i = 2 * xo
                    best, idx = top[i], base + i
                    v = top[i + 1]
                    t = _take(v, best)
                    best, idx = (v, base + i + 1) if t else (best, idx)
                    v = bottom[i]
                    t = _take(v, best)
                    best, idx = (v, base + width + i) if t else (best, idx)
                    v = bottom[i + 1]
                    t = _take(v, best)
                    best, idx = (v, base + width + i + 1) if t else (best, idx)
                    row_out[xo], row_arg[xo] = best, idx


@njit(cache=True)
def max_pool_backward(dout, argmax, dx):
    """Overwrite ``dx`` (N, C, H, W) with ``dout`` (N, C, OH, OW) routed to each window's argmax."""
    n_img, n_ch, height, width = dx.shape
    oh, ow = dout.shape[2], dout.shape[3]
    for n in range(n_img):
        dx[n] = 0
        for c in range(n_ch):
            for y in range(oh):
                for xo in range(ow):
                    idx = argmax[n, c, y, xo]
                    dx[n, c, idx // width, idx % width] += dout[n, c, y, xo]


@njit(cache=True, inline="always")
def _unpool_row(g_row, a_row, base, row):
    """Fill image ``row`` (flat offset ``base``) from a row of 2x2 windows."""
    ow = g_row.shape[0]
    for xo in range(ow):
        g = g_row[xo] + 0.0
        k = np.int64(a_row[xo]) - base - 2 * xo  # 0 or 1 if the argmax is on this row
        row[2 * xo] = g if k == 0 else 0.0
        row[2 * xo + 1] = g if k == 1 else 0.0
    if row.shape[0] > 2 * ow:
        row[row.shape[0] - 1] = 0.0


@njit(cache=True)
def max_pool_2x2_backward(dout, argmax, dx):
    """``max_pool_backward`` after ``max_pool_2x2_forward``: same ``dx``, bit for bit.

    The windows do not overlap, so every ``dx`` element is written once (no
    zero-fill pass, no scatter): ``dout + 0`` at the argmax (as ``0 + dout`` in
    the general kernel, turning -0 into +0), zero elsewhere and in the odd
    last row or column that no window covers.
    """
    n_img, n_ch, height, width = dx.shape
    oh = dout.shape[2]
    for n in range(n_img):
        for c in range(n_ch):
            plane = dx[n, c]
            for y in range(oh):
                g_row, a_row = dout[n, c, y], argmax[n, c, y]
                # One image row per loop: both window rows in one loop ran 3x slower.
                _unpool_row(g_row, a_row, 2 * y * width, plane[2 * y])
                _unpool_row(g_row, a_row, (2 * y + 1) * width, plane[2 * y + 1])
            if height > 2 * oh:
                plane[height - 1] = 0.0


@njit(cache=True)
def avg_pool_forward(x, out, kh, kw, sh, sw, ph, pw):
    """out[n, c, y, x] = sum of the (clipped) window / (kh * kw)."""
    n_img, n_ch, height, width = x.shape
    oh, ow = out.shape[2], out.shape[3]
    scale = 1.0 / (kh * kw)
    for n in range(n_img):
        for c in range(n_ch):
            for y in range(oh):
                y_lo, y_hi = _window(y, sh, ph, kh, height)
                for xo in range(ow):
                    x_lo, x_hi = _window(xo, sw, pw, kw, width)
                    total = 0.0  # float64 accumulator, cast once on store
                    for iy in range(y_lo, y_hi):
                        for ix in range(x_lo, x_hi):
                            total += x[n, c, iy, ix]
                    out[n, c, y, xo] = total * scale


@njit(cache=True)
def avg_pool_backward(dout, dx, kh, kw, sh, sw, ph, pw):
    """Overwrite ``dx`` with ``dout / (kh * kw)`` spread over each (clipped) window."""
    n_img, n_ch, height, width = dx.shape
    oh, ow = dout.shape[2], dout.shape[3]
    scale = 1.0 / (kh * kw)
    for n in range(n_img):
        dx[n] = 0
        for c in range(n_ch):
            for y in range(oh):
                y_lo, y_hi = _window(y, sh, ph, kh, height)
                for xo in range(ow):
                    x_lo, x_hi = _window(xo, sw, pw, kw, width)
                    g = dout[n, c, y, xo] * scale
                    for iy in range(y_lo, y_hi):
                        for ix in range(x_lo, x_hi):
                            dx[n, c, iy, ix] += g
