"""2-D pooling: max, average (zero padding counted, PyTorch's default), global and adaptive average.

Contents: the functional pairs ``max_pool2d_forward/backward``,
``avg_pool2d_forward/backward``, ``global_avg_pool2d_forward/backward`` and
``adaptive_avg_pool2d_forward/backward``, their ``Function`` wrappers, Tensor-level
``max_pool2d``, ``avg_pool2d``, ``global_avg_pool2d`` and ``adaptive_avg_pool2d``,
and the ``MaxPool2d``, ``AvgPool2d``, ``GlobalAvgPool2d`` and ``AdaptiveAvgPool2d`` modules.
"""
import numpy as np

import minigrad as mg

from ._geometry import check_image, check_pair, check_window_fits, conv_out_size, pair
from ._kernels import pooling as K


def _geometry(x_shape, kernel_size, stride, padding):
    """``(kernel, stride, padding, out_hw)`` as pairs, for arguments already checked."""
    kernel, padding = pair(kernel_size), pair(padding)
    stride = kernel if stride is None else pair(stride)
    out_hw = tuple(conv_out_size(s, k, st, p) for s, k, st, p in zip(x_shape[2:], kernel, stride, padding))
    return kernel, stride, padding, out_hw


# ----------------------------------------------------------------------- max pooling
def max_pool2d_forward(x, kernel_size, stride=None, padding=0):
    """Forward pass of 2-D max pooling.

    Parameters
    ----------
    x : (N, C, H, W) float32 or float64 ndarray
    kernel_size : int or (int, int)
    stride : int, (int, int) or None (defaults to ``kernel_size``)
    padding : int or (int, int)
        Implicit -inf padding, at most half the kernel size.

    The arguments are trusted (``max_pool2d`` and ``MaxPool2d`` check them).

    Returns
    -------
    out : (N, C, OH, OW), OH = (H + 2*ph - kh) // sh + 1
    cache : (x shape, argmax, is_2x2) with argmax (N, C, OH, OW) int32, each
        window's flat index into its (H, W) plane, and is_2x2 whether the
        2x2 / stride 2 / no padding kernels ran
    """
    x = np.ascontiguousarray(x)
    kernel, stride, padding, out_hw = _geometry(x.shape, kernel_size, stride, padding)
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
    x = np.ascontiguousarray(x)
    kernel, stride, padding, out_hw = _geometry(x.shape, kernel_size, stride, padding)
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
    return x.mean(axis=(2, 3), keepdims=True), x.shape


def global_avg_pool2d_backward(dout, cache):
    """dout : (N, C, 1, 1) -> dx : (N, C, H, W), every pixel gets dout / (H * W)."""
    height, width = cache[2:]
    return np.broadcast_to(dout / (height * width), cache).copy()


def _adaptive_weights(size, out_size, dtype):
    """(out_size, size) averaging matrix of PyTorch's adaptive pooling along one axis: output i
    is the mean of inputs ``floor(i size / out) .. ceil((i + 1) size / out) - 1``."""
    i = np.arange(out_size)
    start, stop = (i * size) // out_size, -((-(i + 1) * size) // out_size)
    index = np.arange(size)
    inside = (index >= start[:, None]) & (index < stop[:, None])
    return (inside / (stop - start)[:, None]).astype(dtype)


def adaptive_avg_pool2d_forward(x, output_size):
    """Average pooling to a fixed output size, as ``torch.nn.functional.adaptive_avg_pool2d``.

    The window of output (i, j) is a rectangle of rows and columns, so the mean over it is a
    row mean of column means: two small matrix products, ``A_h x A_w^T``.

    Parameters
    ----------
    x : (N, C, H, W)
    output_size : (OH, OW)

    Returns
    -------
    out : (N, C, OH, OW)
    cache : the two averaging matrices (OH, H) and (OW, W)
    """
    rows = _adaptive_weights(x.shape[2], output_size[0], x.dtype)
    cols = _adaptive_weights(x.shape[3], output_size[1], x.dtype)
    return np.matmul(np.matmul(rows, x), cols.T), (rows, cols)


def adaptive_avg_pool2d_backward(dout, cache):
    """dout : (N, C, OH, OW) -> dx : (N, C, H, W) = ``A_h^T dout A_w``."""
    rows, cols = cache
    return np.matmul(np.matmul(rows.T, dout), cols)


MaxPool2dFunction = mg.Function.from_pair(max_pool2d_forward, max_pool2d_backward)
AdaptiveAvgPool2dFunction = mg.Function.from_pair(adaptive_avg_pool2d_forward, adaptive_avg_pool2d_backward)
AvgPool2dFunction = mg.Function.from_pair(avg_pool2d_forward, avg_pool2d_backward)
GlobalAvgPool2dFunction = mg.Function.from_pair(global_avg_pool2d_forward, global_avg_pool2d_backward)


# ------------------------------------------------------------------------- checks
def _pool_options(func, kernel_size, stride, padding):
    """Check the hyper-parameters once; return them as pairs, keyword arguments of the pairs."""
    kernel = check_pair(func, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else check_pair(func, "stride", stride, 1)
    padding = check_pair(func, "padding", padding, 0)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise ValueError(f"{func}: padding must be at most half of kernel_size {kernel}, got {padding}")
    return dict(kernel_size=kernel, stride=stride, padding=padding)


def _check_input(func, x, kernel_size, padding, **_):
    """Raise unless ``x`` is a float (N, C, H, W) array the (checked) window fits in.

    ``**_`` takes the options the check does not need (the stride).
    """
    check_window_fits(func, check_image(func, "x", x).shape, kernel_size, padding)


def _output_size(func, output_size):
    """``output_size`` as a pair of ints >= 1 (an int means a square)."""
    return check_pair(func, "output_size", output_size, 1)


# ---------------------------------------------------------------- Tensor functions
def max_pool2d(x, kernel_size, stride=None, padding=0):
    """Max pooling of a Tensor, like ``torch.nn.functional.max_pool2d``: (N, C, H, W) -> (N, C, OH, OW)."""
    options = _pool_options("max_pool2d", kernel_size, stride, padding)
    _check_input("max_pool2d", x, **options)
    return MaxPool2dFunction.apply(x, **options)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """Average pooling of a Tensor, like ``torch.nn.functional.avg_pool2d``: (N, C, H, W) -> (N, C, OH, OW)."""
    options = _pool_options("avg_pool2d", kernel_size, stride, padding)
    _check_input("avg_pool2d", x, **options)
    return AvgPool2dFunction.apply(x, **options)


def global_avg_pool2d(x):
    """Spatial mean of a Tensor: (N, C, H, W) -> (N, C, 1, 1)."""
    check_image("global_avg_pool2d", "x", x)
    return GlobalAvgPool2dFunction.apply(x)


def adaptive_avg_pool2d(x, output_size):
    """Adaptive average pooling of a Tensor, like ``torch.nn.functional.adaptive_avg_pool2d``:
    (N, C, H, W) -> (N, C, OH, OW) for any H, W (an output larger than the input repeats pixels)."""
    output_size = _output_size("adaptive_avg_pool2d", output_size)
    check_image("adaptive_avg_pool2d", "x", x)
    return AdaptiveAvgPool2dFunction.apply(x, output_size=output_size)


# --------------------------------------------------------------------------- modules
class _Pool2d(mg.Module):
    """Checks the window once in the constructor; ``forward`` checks only ``x``."""

    function = None  # the Function of the subclass

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self._options = _pool_options(type(self).__name__, kernel_size, stride, padding)
        self.kernel_size, self.stride, self.padding = self._options.values()

    def forward(self, x):
        """x : (N, C, H, W) -> (N, C, OH, OW)."""
        _check_input(type(self).__name__, x, **self._options)
        return self.function.apply(x, **self._options)

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

    function = MaxPool2dFunction


class AvgPool2d(_Pool2d):
    """Average pooling layer, like ``torch.nn.AvgPool2d`` with ``count_include_pad=True``.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int, (int, int) or None (``kernel_size``)
    padding : int or (int, int), at most half the kernel size
    """

    function = AvgPool2dFunction


class GlobalAvgPool2d(mg.Module):
    """Global average pooling, like ``torch.nn.AdaptiveAvgPool2d(1)``: (N, C, H, W) -> (N, C, 1, 1)."""

    def forward(self, x):
        check_image("GlobalAvgPool2d", "x", x)
        return GlobalAvgPool2dFunction.apply(x)


class AdaptiveAvgPool2d(mg.Module):
    """Adaptive average pooling, like ``torch.nn.AdaptiveAvgPool2d``: (N, C, H, W) -> (N, C, OH, OW).

    Parameters
    ----------
    output_size : int or (int, int), each >= 1
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = _output_size("AdaptiveAvgPool2d", output_size)

    def forward(self, x):
        check_image("AdaptiveAvgPool2d", "x", x)
        return AdaptiveAvgPool2dFunction.apply(x, output_size=self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"
