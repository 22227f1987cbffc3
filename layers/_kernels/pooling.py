"""Numba kernels for 2-D max and average pooling over (N, C, H, W) arrays.

Windows are clipped to the image instead of padding it: max pooling then
never sees a padded value (PyTorch pads with -inf, which is never chosen)
and average pooling divides by the full ``kh * kw`` (PyTorch's default
``count_include_pad=True``). Every kernel runs in parallel over the batch:
each image is a large independent unit and the backward scatters stay
inside their own image.
"""
import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def _window(o, stride, pad, kernel, size):
    """Clipped window ``[lo, hi)`` of output index ``o`` along one axis."""
    start = o * stride - pad
    return max(start, 0), min(start + kernel, size)


@njit(cache=True, parallel=True)
def max_pool_forward(x, out, argmax, kh, kw, sh, sw, ph, pw):
    """out[n, c, y, x] = max of the window; argmax holds its flat index into the (H, W) plane.

    x (N, C, H, W); out (N, C, OH, OW) and argmax (same shape, int32) are filled.
    As in PyTorch, a NaN in the window wins, so NaNs propagate.
    """
    n_img, n_ch, height, width = x.shape
    oh, ow = out.shape[2], out.shape[3]
    for n in prange(n_img):
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
                            if v > best or np.isnan(v):
                                best = v
                                best_idx = iy * width + ix
                    out[n, c, y, xo] = best
                    argmax[n, c, y, xo] = best_idx


@njit(cache=True, parallel=True)
def max_pool_backward(dout, argmax, dx):
    """Overwrite ``dx`` (N, C, H, W) with ``dout`` (N, C, OH, OW) routed to each window's argmax."""
    n_img, n_ch, height, width = dx.shape
    oh, ow = dout.shape[2], dout.shape[3]
    for n in prange(n_img):
        dx[n] = 0
        for c in range(n_ch):
            for y in range(oh):
                for xo in range(ow):
                    idx = argmax[n, c, y, xo]
                    dx[n, c, idx // width, idx % width] += dout[n, c, y, xo]


@njit(cache=True, parallel=True)
def avg_pool_forward(x, out, kh, kw, sh, sw, ph, pw):
    """out[n, c, y, x] = sum of the (clipped) window / (kh * kw)."""
    n_img, n_ch, height, width = x.shape
    oh, ow = out.shape[2], out.shape[3]
    scale = 1.0 / (kh * kw)
    for n in prange(n_img):
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


@njit(cache=True, parallel=True)
def avg_pool_backward(dout, dx, kh, kw, sh, sw, ph, pw):
    """Overwrite ``dx`` with ``dout / (kh * kw)`` spread over each (clipped) window."""
    n_img, n_ch, height, width = dx.shape
    oh, ow = dout.shape[2], dout.shape[3]
    scale = 1.0 / (kh * kw)
    for n in prange(n_img):
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
