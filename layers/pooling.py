"""2-D pooling: max, average (zero padding counted, PyTorch's default) and global average.

Contents: the functional pairs ``max_pool2d_forward/backward``,
``avg_pool2d_forward/backward`` and ``global_avg_pool2d_forward/backward``,
their ``Function`` wrappers, Tensor-level ``max_pool2d``, ``avg_pool2d`` and
``global_avg_pool2d``, and the ``MaxPool2d``, ``AvgPool2d`` and
``GlobalAvgPool2d`` modules.
"""
import numpy as np

import minigrad as mg

from ._kernels import pooling as K
from .conv import as_pair, check_image


def _pool_geometry(fn, x, kernel_size, stride, padding):
    """Validate the arguments; return ``(x, kernel, stride, padding, out_hw)`` with pairs."""
    x = check_image(fn, "x", x)
    kernel = as_pair(fn, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else as_pair(fn, "stride", stride, 1)
    padding = as_pair(fn, "padding", padding, 0)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(
            f"{fn}: padding {padding} must be at most half of kernel_size {kernel}"
        )
    padded = tuple(s + 2 * p for s, p in zip(x.shape[2:], padding))
    if any(k > s for k, s in zip(kernel, padded)):
        raise ValueError(
            f"{fn}: kernel {kernel[0]}x{kernel[1]} is larger than the padded input "
            f"{padded[0]}x{padded[1]} (x shape {x.shape}, padding {padding})"
        )
    out_hw = tuple((s - k) // st + 1 for s, k, st in zip(padded, kernel, stride))
    return x, kernel, stride, padding, out_hw


# ----------------------------------------------------------------------- max pooling
def max_pool2d_forward(x, kernel_size, stride=None, padding=0):
    """Forward pass of 2-D max pooling.

    Parameters
    ----------
    x : (N, C, H, W) floating ndarray
    kernel_size : int or (int, int)
    stride : int, (int, int) or None (defaults to ``kernel_size``)
    padding : int or (int, int)
        Implicit -inf padding, at most half the kernel size.

    Returns
    -------
    out : (N, C, OH, OW), OH = (H + 2*ph - kh) // sh + 1
    cache : (x shape, argmax, is_2x2) with argmax (N, C, OH, OW) int32, each
        window's flat index into its (H, W) plane, and is_2x2 whether the
        2x2 / stride 2 / no padding kernels ran
    """
    x, kernel, stride, padding, out_hw = _pool_geometry("max_pool2d", x, kernel_size, stride, padding)
    out = np.empty((*x.shape[:2], *out_hw), x.dtype)
    argmax = np.empty(out.shape, np.int32)
    # The common 2x2 / stride 2 pool has kernels of its own, ~7x faster (fwd + bwd).
    is_2x2 = kernel == stride == (2, 2) and padding == (0, 0)
    if is_2x2:
        K.max_pool_2x2_forward(x, out, argmax)
    else:
        K.max_pool_forward(x, out, argmax, *kernel, *stride, *padding)
    return out, (x.shape, argmax, is_2x2)


def max_pool2d_backward(dout, cache):
    """dout : (N, C, OH, OW) -> dx : (N, C, H, W), each value routed to its window's argmax."""
    x_shape, argmax, is_2x2 = cache
    dout = np.ascontiguousarray(dout)
    dx = np.empty(x_shape, dout.dtype)
    (K.max_pool_2x2_backward if is_2x2 else K.max_pool_backward)(dout, argmax, dx)
    return dx


# ------------------------------------------------------------------- average pooling
def avg_pool2d_forward(x, kernel_size, stride=None, padding=0):
    """Forward pass of 2-D average pooling with zero padding counted in every window.

    Parameters and output shape as ``max_pool2d_forward``; each output is the
    window's sum divided by ``kh * kw`` (PyTorch's ``count_include_pad=True``).

    Returns
    -------
    out : (N, C, OH, OW)
    cache : (x shape, kernel, stride, padding)
    """
    x, kernel, stride, padding, out_hw = _pool_geometry("avg_pool2d", x, kernel_size, stride, padding)
    out = np.empty((*x.shape[:2], *out_hw), x.dtype)
    K.avg_pool_forward(x, out, *kernel, *stride, *padding)
    return out, (x.shape, kernel, stride, padding)


def avg_pool2d_backward(dout, cache):
    """dout : (N, C, OH, OW) -> dx : (N, C, H, W), each value spread evenly over its window."""
    x_shape, kernel, stride, padding = cache
    dout = np.ascontiguousarray(dout)
    dx = np.empty(x_shape, dout.dtype)
    K.avg_pool_backward(dout, dx, *kernel, *stride, *padding)
    return dx


# ------------------------------------------------------------ global average pooling
def global_avg_pool2d_forward(x):
    """Mean over the spatial axes: x (N, C, H, W) -> out (N, C, 1, 1), cache = x shape.

    Same result as ``torch.nn.AdaptiveAvgPool2d(1)``.
    """
    x = check_image("global_avg_pool2d", "x", x)
    return x.mean(axis=(2, 3), keepdims=True), x.shape


def global_avg_pool2d_backward(dout, cache):
    """dout : (N, C, 1, 1) -> dx : (N, C, H, W), every pixel gets dout / (H * W)."""
    height, width = cache[2:]
    return np.broadcast_to(dout / (height * width), cache).copy()


# ------------------------------------------------------------------ autograd wrappers
class MaxPool2dFunction(mg.Function):
    """Autograd wrapper of ``max_pool2d_forward``/``max_pool2d_backward``."""

    @staticmethod
    def forward(ctx, x, kernel_size=2, stride=None, padding=0):
        out, ctx.cache = max_pool2d_forward(x, kernel_size, stride, padding)
        return out

    @staticmethod
    def backward(ctx, dout):
        return (max_pool2d_backward(dout, ctx.cache),)


class AvgPool2dFunction(mg.Function):
    """Autograd wrapper of ``avg_pool2d_forward``/``avg_pool2d_backward``."""

    @staticmethod
    def forward(ctx, x, kernel_size=2, stride=None, padding=0):
        out, ctx.cache = avg_pool2d_forward(x, kernel_size, stride, padding)
        return out

    @staticmethod
    def backward(ctx, dout):
        return (avg_pool2d_backward(dout, ctx.cache),)


class GlobalAvgPool2dFunction(mg.Function):
    """Autograd wrapper of ``global_avg_pool2d_forward``/``_backward``."""

    @staticmethod
    def forward(ctx, x):
        out, ctx.cache = global_avg_pool2d_forward(x)
        return out

    @staticmethod
    def backward(ctx, dout):
        return (global_avg_pool2d_backward(dout, ctx.cache),)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max pooling of a Tensor, like ``torch.nn.functional.max_pool2d``: (N, C, H, W) -> (N, C, OH, OW)."""
    return MaxPool2dFunction.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Average pooling of a Tensor, like ``torch.nn.functional.avg_pool2d``: (N, C, H, W) -> (N, C, OH, OW)."""
    return AvgPool2dFunction.apply(x, kernel_size=kernel_size, stride=stride, padding=padding)


def global_avg_pool2d(x):
    """Spatial mean of a Tensor: (N, C, H, W) -> (N, C, 1, 1)."""
    return GlobalAvgPool2dFunction.apply(x)


# --------------------------------------------------------------------------- modules
class _Pool2d(mg.Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        name = type(self).__name__
        self.kernel_size = as_pair(name, "kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else as_pair(name, "stride", stride, 1)
        self.padding = as_pair(name, "padding", padding, 0)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max pooling layer, like ``torch.nn.MaxPool2d`` (no parameters).

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int, (int, int) or None (``kernel_size``)
    padding : int or (int, int), at most half the kernel size
    """

    def forward(self, x):
        """x : (N, C, H, W) -> (N, C, OH, OW)."""
        return max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """Average pooling layer, like ``torch.nn.AvgPool2d`` with ``count_include_pad=True``.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int, (int, int) or None (``kernel_size``)
    padding : int or (int, int), at most half the kernel size
    """

    def forward(self, x):
        """x : (N, C, H, W) -> (N, C, OH, OW)."""
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class GlobalAvgPool2d(mg.Module):
    """Global average pooling, like ``torch.nn.AdaptiveAvgPool2d(1)``: (N, C, H, W) -> (N, C, 1, 1)."""

    def forward(self, x):
        return global_avg_pool2d(x)
