"""Numba kernels for nearest and bilinear upsampling of (N, C, H, W) arrays.

Nearest: serial loops over rows, each input row written out once and copied
``s - 1`` times. NumPy's versions, a broadcast into a six-axis view and a sum
over two of its axes, took 0.87 and 4.6 ms for the detector's (32, 64, 8, 8)
-> (32, 64, 16, 16) (float32); these take 0.28 and 0.50 ms.

Bilinear interpolation is separable: each output row ``oy`` reads input rows
``y0[oy]`` and ``y1[oy]`` with weight ``wy[oy]`` on the second (columns
likewise), tables computed once per call. Parallel over the batch.
"""
from numba import njit, prange, uintp

from ._fastmath import JIT_OPTIONS


@njit(**JIT_OPTIONS)
def nearest_forward(x, out, s):
    """out (N, C, H*s, W*s) = every pixel of x (N, C, H, W) repeated s x s times."""
    n_img, n_ch, height, width = x.shape
    for n in range(n_img):
        for c in range(n_ch):
            for y in range(height):
                src, first = x[n, c, y], out[n, c, y * s]
                for ix in range(width):
                    v = src[ix]
                    for j in range(s):
                        first[uintp(ix * s + j)] = v
                for i in range(1, s):
                    out[n, c, y * s + i] = first


@njit(**JIT_OPTIONS)
def nearest_backward(dout, dx, s):
    """dx (N, C, H, W) = the sum of each s x s block of dout (N, C, H*s, W*s), row by row."""
    n_img, n_ch, height, width = dx.shape
    for n in range(n_img):
        for c in range(n_ch):
            for y in range(height):
                target = dx[n, c, y]
                target[:] = 0
                for i in range(s):
                    src = dout[n, c, y * s + i]
                    for ix in range(width):
                        total = target[ix]
                        for j in range(s):
                            total += src[uintp(ix * s + j)]
                        target[ix] = total


@njit(cache=True, parallel=True)
def bilinear_forward(x, out, y0, y1, wy, x0, x1, wx):
    """out (N, C, OH, OW) = the table-driven bilinear interpolation of x (N, C, H, W)."""
    n_img, n_ch = x.shape[0], x.shape[1]
    oh, ow = out.shape[2], out.shape[3]
    for n in prange(n_img):
        for c in range(n_ch):
            for oy in range(oh):
                top, bottom, ly = x[n, c, y0[oy]], x[n, c, y1[oy]], wy[oy]
                for ox in range(ow):
                    p, q, lx = x0[ox], x1[ox], wx[ox]
                    out[n, c, oy, ox] = (1 - ly) * ((1 - lx) * top[p] + lx * top[q]) + ly * (
                        (1 - lx) * bottom[p] + lx * bottom[q]
                    )


@njit(cache=True, parallel=True)
def bilinear_backward(dout, dx, y0, y1, wy, x0, x1, wx):
    """Overwrite dx (N, C, H, W) with the adjoint of ``bilinear_forward`` applied to dout."""
    n_img, n_ch = dx.shape[0], dx.shape[1]
    oh, ow = dout.shape[2], dout.shape[3]
    for n in prange(n_img):
        dx[n] = 0
        for c in range(n_ch):
            for oy in range(oh):
                top, bottom, ly = dx[n, c, y0[oy]], dx[n, c, y1[oy]], wy[oy]
                for ox in range(ow):
                    p, q, lx = x0[ox], x1[ox], wx[ox]
                    g = dout[n, c, oy, ox]
                    top[p] += (1 - ly) * (1 - lx) * g
                    top[q] += (1 - ly) * lx * g
                    bottom[p] += ly * (1 - lx) * g
                    bottom[q] += ly * lx * g
