"""Element-wise activations and softmax: functional pairs, Functions, Modules.

Every pair keeps the input's dtype. The caches hold what keeps the backward
accurate: sigmoid and tanh derive their slopes from ``exp(-|x|)`` rather than
from an output that rounds to 1 in the tails.
"""
import numpy as np

from minigrad import Function, Module

from ._kernels import activations as _k
from ._validation import require_float


# ------------------------------------------------------------------ ReLU
def relu_forward(x):
    """``max(x, 0)``. x : any shape. Returns ``(out, cache)``."""
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    """dx = dout where x > 0, else 0 (the subgradient at 0 is 0, as in PyTorch)."""
    x = np.ascontiguousarray(cache)
    return _k.leaky_relu_backward(dout, x, 0.0)


# ------------------------------------------------------------ Leaky ReLU
def leaky_relu_forward(x, negative_slope=0.01):
    """``x`` where x > 0, else ``negative_slope * x``. Returns ``(out, cache)``."""
    x = np.ascontiguousarray(x)
    return _k.leaky_relu_forward(x, negative_slope), (x, negative_slope)


def leaky_relu_backward(dout, cache):
    """dx = dout where x > 0, else ``negative_slope * dout``."""
    x, slope = cache
    return _k.leaky_relu_backward(dout, x, slope)


# --------------------------------------------------------------- Sigmoid
def sigmoid_forward(x):
    """Logistic sigmoid, overflow-free: ``e = exp(-|x|)`` never exceeds 1.

    The cache is ``e``: the backward's ``s (1 - s) = e / (1 + e)**2`` then
    stays accurate where ``1 - s`` would round to 0 (large x in float32).
    """
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1, e) / (1 + e)
    return out.astype(x.dtype, copy=False), e


def sigmoid_backward(dout, cache):
    """dx = dout * s * (1 - s), computed as ``dout * e / (1 + e)**2``."""
    e = cache
    return dout * e / np.square(1 + e)


# ------------------------------------------------------------------ Tanh
def tanh_forward(x):
    """Hyperbolic tangent. Returns ``(out, cache)``; the cache is ``x``."""
    return np.tanh(x), x


def tanh_backward(dout, cache):
    """dx = dout * (1 - tanh(x)**2), computed as ``4e / (1 + e)**2`` with
    ``e = exp(-2|x|)``: accurate where tanh(x) rounds to +-1."""
    e = np.exp(-2 * np.abs(cache))
    return dout * (4 * e / np.square(1 + e))


# ------------------------------------------------------------------ GELU
def gelu_forward(x, approximate="none"):
    """GELU ``x * Phi(x)`` (``approximate='none'``, exact erf form) or its tanh
    approximation (``approximate='tanh'``), like PyTorch. x : any shape."""
    x = np.ascontiguousarray(x)
    tanh = approximate == "tanh"
    out, aux = _k.gelu_forward(x, tanh)
    return out, (x, aux, tanh)


def gelu_backward(dout, cache):
    """dx = dout * GELU'(x)."""
    x, aux, tanh = cache
    return _k.gelu_backward(x, aux, dout, tanh)


# --------------------------------------------------------------- Softmax
def softmax_forward(x, axis=-1):
    """Numerically stable softmax along ``axis``. Returns ``(out, cache)``.

    The kernels work on rows of the last axis; another axis is moved there
    (one copy) and back.
    """
    rows = np.ascontiguousarray(np.moveaxis(x, axis, -1))
    y = _k.softmax_rows(rows.reshape(-1, rows.shape[-1])).reshape(rows.shape)
    return np.moveaxis(y, -1, axis), (y, axis)


def softmax_backward(dout, cache):
    """dx = y * (dout - sum(dout * y, axis)), with y the forward output."""
    y, axis = cache
    d = np.ascontiguousarray(np.moveaxis(dout, axis, -1)).reshape(-1, y.shape[-1])
    dx = _k.softmax_rows_backward(y.reshape(-1, y.shape[-1]), d).reshape(y.shape)
    return np.moveaxis(dx, -1, axis)


# ------------------------------------------------------------- Functions
class ReLUFunction(Function):
    @staticmethod
    def forward(ctx, x):
        out, ctx.cache = relu_forward(x)
        return out

    @staticmethod
    def backward(ctx, grad):
        return (relu_backward(grad, ctx.cache),)


class LeakyReLUFunction(Function):
    @staticmethod
    def forward(ctx, x, negative_slope):
        out, ctx.cache = leaky_relu_forward(x, negative_slope)
        return out

    @staticmethod
    def backward(ctx, grad):
        return (leaky_relu_backward(grad, ctx.cache),)


class SigmoidFunction(Function):
    @staticmethod
    def forward(ctx, x):
        out, ctx.cache = sigmoid_forward(x)
        return out

    @staticmethod
    def backward(ctx, grad):
        return (sigmoid_backward(grad, ctx.cache),)


class TanhFunction(Function):
    @staticmethod
    def forward(ctx, x):
        out, ctx.cache = tanh_forward(x)
        return out

    @staticmethod
    def backward(ctx, grad):
        return (tanh_backward(grad, ctx.cache),)


class GELUFunction(Function):
    @staticmethod
    def forward(ctx, x, approximate):
        out, ctx.cache = gelu_forward(x, approximate)
        return out

    @staticmethod
    def backward(ctx, grad):
        return (gelu_backward(grad, ctx.cache),)


class SoftmaxFunction(Function):
    @staticmethod
    def forward(ctx, x, axis):
        out, ctx.cache = softmax_forward(x, axis)
        return out

    @staticmethod
    def backward(ctx, grad):
        return (softmax_backward(grad, ctx.cache),)


# ------------------------------------------------------ Tensor functions
def relu(x):
    """ReLU of a float Tensor (any shape)."""
    require_float("relu", "x", x)
    return ReLUFunction.apply(x)


def leaky_relu(x, negative_slope=0.01):
    """Leaky ReLU of a float Tensor: slope ``negative_slope`` below zero."""
    require_float("leaky_relu", "x", x)
    return LeakyReLUFunction.apply(x, negative_slope=float(negative_slope))


def sigmoid(x):
    """Logistic sigmoid of a float Tensor."""
    require_float("sigmoid", "x", x)
    return SigmoidFunction.apply(x)


def tanh(x):
    """Hyperbolic tangent of a float Tensor."""
    require_float("tanh", "x", x)
    return TanhFunction.apply(x)


def gelu(x, approximate="none"):
    """GELU of a float Tensor; ``approximate`` is 'none' (exact erf) or 'tanh'."""
    require_float("gelu", "x", x)
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return GELUFunction.apply(x, approximate=approximate)


def softmax(x, axis=-1):
    """Softmax of a float Tensor along ``axis``."""
    xa = require_float("softmax", "x", x)
    if not -xa.ndim <= axis < max(xa.ndim, 1):
        raise ValueError(f"softmax: axis {axis} out of range for x of shape {xa.shape}")
    return SoftmaxFunction.apply(x, axis=axis)


# --------------------------------------------------------------- Modules
class ReLU(Module):
    """``ReLU()(x) == relu(x)``."""

    def forward(self, x):
        return relu(x)


class LeakyReLU(Module):
    """``LeakyReLU(negative_slope=0.01)``, as in PyTorch."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        return leaky_relu(x, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """``Sigmoid()(x) == sigmoid(x)``."""

    def forward(self, x):
        return sigmoid(x)


class Tanh(Module):
    """``Tanh()(x) == tanh(x)``."""

    def forward(self, x):
        return tanh(x)


class GELU(Module):
    """``GELU(approximate='none')``: exact erf form (PyTorch's default) or 'tanh'."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """``Softmax(dim=-1)``: softmax along axis ``dim`` (PyTorch's argument name)."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return softmax(x, axis=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"
