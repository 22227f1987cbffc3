"""Loop versions of upsampling, one output pixel at a time from the definitions."""
import math

import numpy as np


def nearest(x, scale):
    """out[n, c, oy, ox] = x[n, c, oy // scale, ox // scale]."""
    n_img, n_ch, height, width = x.shape
    out = np.empty((n_img, n_ch, height * scale, width * scale), x.dtype)
    for oy in range(height * scale):
        for ox in range(width * scale):
            out[:, :, oy, ox] = x[:, :, oy // scale, ox // scale]
    return out


def nearest_backward(dout, shape, scale):
    """dx[n, c, y, x] = the sum of dout over the scale x scale block of output pixels of (y, x)."""
    dx = np.zeros(shape, dout.dtype)
    for oy in range(dout.shape[2]):
        for ox in range(dout.shape[3]):
            dx[:, :, oy // scale, ox // scale] += dout[:, :, oy, ox]
    return dx


def _source(o, scale, size):
    """Input position of output index ``o`` (half-pixel centres, clamped at 0)."""
    src = max((o + 0.5) / scale - 0.5, 0.0)
    i0 = min(math.floor(src), size - 1)
    return i0, min(i0 + 1, size - 1), src - i0


def bilinear(x, scale):
    """Bilinear interpolation with ``align_corners=False`` semantics."""
    n_img, n_ch, height, width = x.shape
    out = np.empty((n_img, n_ch, height * scale, width * scale), x.dtype)
    for oy in range(height * scale):
        a, b, ly = _source(oy, scale, height)
        for ox in range(width * scale):
            p, q, lx = _source(ox, scale, width)
            out[:, :, oy, ox] = ((1 - ly) * ((1 - lx) * x[:, :, a, p] + lx * x[:, :, a, q])
                                 + ly * ((1 - lx) * x[:, :, b, p] + lx * x[:, :, b, q]))
    return out


def bilinear_backward(dout, x_shape, scale):
    """Adjoint of ``bilinear``: scatter each upstream value to its four source pixels."""
    height, width = x_shape[2:]
    dx = np.zeros(x_shape, dout.dtype)
    for oy in range(dout.shape[2]):
        a, b, ly = _source(oy, scale, height)
        for ox in range(dout.shape[3]):
            p, q, lx = _source(ox, scale, width)
            g = dout[:, :, oy, ox]
            dx[:, :, a, p] += (1 - ly) * (1 - lx) * g
            dx[:, :, a, q] += (1 - ly) * lx * g
            dx[:, :, b, p] += ly * (1 - lx) * g
            dx[:, :, b, q] += ly * lx * g
    return dx
