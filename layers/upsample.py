"""Nearest and bilinear upsampling by an integer factor (2x in U-Net decoders).

Contents: functional pairs ``upsample_nearest2d_forward/backward`` and
``upsample_bilinear2d_forward/backward`` (trusting their arguments), one
``Function`` per mode, the Tensor-level ``upsample2d`` and the ``Upsample`` module. Bilinear uses
PyTorch's ``align_corners=False`` convention: output pixel ``o`` samples the
input at ``(o + 0.5) / scale - 0.5``, clamped to the image.
"""
import numpy as np

import minigrad as mg
from minigrad.validation import check_choice, check_int

from ._geometry import check_image
from ._kernels import upsample as K

MODES = ("nearest", "bilinear")


# ------------------------------------------------------------------------- nearest
def upsample_nearest2d_forward(x, scale_factor=2):
    """Repeat every pixel ``scale_factor`` times along H and W.

    x : (N, C, H, W) -> out : (N, C, H*s, W*s); cache = (x shape, s)
    """
    x, s = np.ascontiguousarray(x), scale_factor
    n_img, n_ch, height, width = x.shape
    out = np.empty((n_img, n_ch, height * s, width * s), x.dtype)
    K.nearest_forward(x, out, s)
    return out, (x.shape, s)


def upsample_nearest2d_backward(dout, cache):
    """dout : (N, C, H*s, W*s) -> dx : (N, C, H, W), the sum over each s x s block."""
    shape, s = cache
    dx = np.empty(shape, dout.dtype)
    K.nearest_backward(np.ascontiguousarray(dout), dx, s)
    return dx


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
    x, s = np.ascontiguousarray(x), scale_factor
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


_FUNCTIONS = {
    "nearest": mg.Function.from_pair(upsample_nearest2d_forward, upsample_nearest2d_backward),
    "bilinear": mg.Function.from_pair(upsample_bilinear2d_forward, upsample_bilinear2d_backward),
}


def _check_options(func, scale_factor, mode):
    """The checked ``(scale_factor, mode)``."""
    return check_int(func, "scale_factor", scale_factor, low=1), check_choice(func, "mode", mode, MODES)


def upsample2d(x, scale_factor=2, mode="nearest"):
    """Upsample a Tensor (N, C, H, W) -> (N, C, H*s, W*s), like ``torch.nn.functional.interpolate``
    with an integer ``scale_factor`` and ``mode`` "nearest" or "bilinear" (``align_corners=False``)."""
    scale_factor, mode = _check_options("upsample2d", scale_factor, mode)
    check_image("upsample2d", "x", x)
    return _FUNCTIONS[mode].apply(x, scale_factor=scale_factor)


class Upsample(mg.Module):
    """Upsampling layer, like ``torch.nn.Upsample`` with an integer ``scale_factor``.

    Parameters
    ----------
    scale_factor : int
    mode : "nearest" or "bilinear" (``align_corners=False``)
    """

    def __init__(self, scale_factor=2, mode="nearest"):
        super().__init__()
        self.scale_factor, self.mode = _check_options("Upsample", scale_factor, mode)

    def forward(self, x):
        """x : (N, C, H, W) -> (N, C, H*scale_factor, W*scale_factor)."""
        check_image("Upsample", "x", x)
        return _FUNCTIONS[self.mode].apply(x, scale_factor=self.scale_factor)

    def extra_repr(self):
        return f"scale_factor={self.scale_factor}, mode={self.mode!r}"
