"""Nearest and bilinear upsampling by an integer factor (2x in U-Net decoders).

Contents: functional pairs ``upsample_nearest2d_forward/backward`` and
``upsample_bilinear2d_forward/backward``, the ``Upsample2dFunction`` wrapper,
the Tensor-level ``upsample2d`` and the ``Upsample`` module. Bilinear uses
PyTorch's ``align_corners=False`` convention: output pixel ``o`` samples the
input at ``(o + 0.5) / scale - 0.5``, clamped to the image.
"""
import numpy as np

import minigrad as mg

from ._kernels import upsample as K
from .conv import check_image

MODES = ("nearest", "bilinear")


def _check(fn, x, scale_factor):
    x = check_image(fn, "x", x)
    if not isinstance(scale_factor, (int, np.integer)) or scale_factor < 1:
        raise ValueError(f"{fn}: scale_factor must be a positive int, got {scale_factor!r}")
    return x, int(scale_factor)


# ------------------------------------------------------------------------- nearest
def upsample_nearest2d_forward(x, scale_factor=2):
    """Repeat every pixel ``scale_factor`` times along H and W.

    x : (N, C, H, W) -> out : (N, C, H*s, W*s); cache = (x shape, s)
    """
    x, s = _check("upsample_nearest2d", x, scale_factor)
    n_img, n_ch, height, width = x.shape
    out = np.empty((n_img, n_ch, height * s, width * s), x.dtype)
    out.reshape(n_img, n_ch, height, s, width, s)[...] = x[:, :, :, None, :, None]
    return out, (x.shape, s)


def upsample_nearest2d_backward(dout, cache):
    """dout : (N, C, H*s, W*s) -> dx : (N, C, H, W), the sum over each s x s block."""
    (n_img, n_ch, height, width), s = cache
    return dout.reshape(n_img, n_ch, height, s, width, s).sum(axis=(3, 5))


# ------------------------------------------------------------------------ bilinear
def _source_table(size, scale, dtype):
    """For each output index along one axis: (first source, second source, weight of the second)."""
    src = np.maximum((np.arange(size * scale) + 0.5) / scale - 0.5, 0.0)
    first = np.minimum(np.floor(src).astype(np.int64), size - 1)
    second = np.minimum(first + 1, size - 1)
    return first, second, (src - first).astype(dtype)


def upsample_bilinear2d_forward(x, scale_factor=2):
    """Bilinear upsampling (``align_corners=False``).

    x : (N, C, H, W) -> out : (N, C, H*s, W*s); cache = (x shape, row and column tables)
    """
    x, s = _check("upsample_bilinear2d", x, scale_factor)
    n_img, n_ch, height, width = x.shape
    tables = (*_source_table(height, s, x.dtype), *_source_table(width, s, x.dtype))
    out = np.empty((n_img, n_ch, height * s, width * s), x.dtype)
    K.bilinear_forward(x, out, *tables)
    return out, (x.shape, tables)


def upsample_bilinear2d_backward(dout, cache):
    """dout : (N, C, H*s, W*s) -> dx : (N, C, H, W), each value scattered to its 4 sources."""
    x_shape, tables = cache
    dout = np.ascontiguousarray(dout)
    dx = np.empty(x_shape, dout.dtype)
    K.bilinear_backward(dout, dx, *tables)
    return dx


_PAIRS = {
    "nearest": (upsample_nearest2d_forward, upsample_nearest2d_backward),
    "bilinear": (upsample_bilinear2d_forward, upsample_bilinear2d_backward),
}


class Upsample2dFunction(mg.Function):
    """Autograd wrapper of the upsampling pairs; ``mode`` picks the pair."""

    @staticmethod
    def forward(ctx, x, scale_factor=2, mode="nearest"):
        forward, ctx.backward_pair = _PAIRS[mode]
        out, ctx.cache = forward(x, scale_factor)
        return out

    @staticmethod
    def backward(ctx, dout):
        return (ctx.backward_pair(dout, ctx.cache),)


def upsample2d(x, scale_factor=2, mode="nearest"):
    """Upsample a Tensor (N, C, H, W) -> (N, C, H*s, W*s), like ``torch.nn.functional.interpolate``
    with an integer ``scale_factor`` and ``mode`` "nearest" or "bilinear" (``align_corners=False``)."""
    if mode not in MODES:
        raise ValueError(f"upsample2d: mode must be one of {MODES}, got {mode!r}")
    return Upsample2dFunction.apply(x, scale_factor=scale_factor, mode=mode)


class Upsample(mg.Module):
    """Upsampling layer, like ``torch.nn.Upsample`` with an integer ``scale_factor``.

    Parameters
    ----------
    scale_factor : int
    mode : "nearest" or "bilinear" (``align_corners=False``)
    """

    def __init__(self, scale_factor=2, mode="nearest"):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"Upsample: mode must be one of {MODES}, got {mode!r}")
        if not isinstance(scale_factor, (int, np.integer)) or scale_factor < 1:
            raise ValueError(f"Upsample: scale_factor must be a positive int, got {scale_factor!r}")
        self.scale_factor, self.mode = int(scale_factor), mode

    def forward(self, x):
        """x : (N, C, H, W) -> (N, C, H*scale_factor, W*scale_factor)."""
        return upsample2d(x, self.scale_factor, self.mode)

    def extra_repr(self):
        return f"scale_factor={self.scale_factor}, mode={self.mode!r}"
