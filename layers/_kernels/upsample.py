"""Numba kernels for bilinear upsampling of (N, C, H, W) arrays.

Interpolation is separable: each output row ``oy`` reads input rows
``y0[oy]`` and ``y1[oy]`` with weight ``wy[oy]`` on the second (columns
likewise), tables computed once per call. Parallel over the batch.
"""
from numba import njit, prange


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
