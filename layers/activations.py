"""Element-wise activations: functional pairs, Functions, Tensor functions, Modules.

Sigmoid and tanh have one implementation, in ``minigrad.activations`` (also
behind ``x.tanh()``); this module re-exports their pairs, Functions and Tensor
functions and wraps them in Modules. ReLU and softmax (over the last axis)
run here on Numba kernels, one pass over memory each way, tested against
``minigrad.activations``' NumPy pairs, which stay their definitions (and
serve ``x.relu()``, and softmax over other axes). Leaky ReLU and GELU live
here, on Numba kernels; SiLU here too: a float32 kernel, and in float64 NumPy on
top of the one overflow-safe sigmoid. Every pair keeps the input's dtype.
"""
import numpy as np

from minigrad import Function, Module
from minigrad import activations as _reference
from minigrad.activations import (  # noqa: F401  (re-exported: the layers' names for them)
    sigmoid,
    sigmoid_backward,
    sigmoid_forward,
    tanh,
    tanh_backward,
    tanh_forward,
)
from minigrad.activations import Sigmoid as SigmoidFunction
from minigrad.activations import Tanh as TanhFunction
from minigrad.ops import normalize_axes
from minigrad.validation import check_choice, check_float_array, check_int, check_number

from ._kernels import activations as _k

GELU_APPROXIMATIONS = ("none", "tanh")


# ------------------------------------------------------------------ ReLU
def relu_forward(x):
    """``max(x, 0)``, NaN kept: ``minigrad.activations.relu_forward``'s values in
    one Numba pass. x : any shape.

    Returns ``(out, cache)``; the cache is x itself. (NumPy's pair writes a
    mask and multiplies by it: three passes over memory and two more arrays.)
    """
    x = np.ascontiguousarray(x)
    return _k.relu_forward(x), x


def relu_backward(dout, cache):
    """dx = dout where x > 0, else exactly 0 (as PyTorch, even for a NaN dout): the
    leaky ReLU kernel with slope 0."""
    return _k.leaky_relu_backward(dout, cache, 0.0)


# ------------------------------------------------------------ Leaky ReLU
def leaky_relu_forward(x, negative_slope=0.01):
    """``x`` where x > 0, else ``negative_slope * x``. Returns ``(out, cache)``."""
    x = np.ascontiguousarray(x)
    return _k.leaky_relu_forward(x, negative_slope), (x, negative_slope)


def leaky_relu_backward(dout, cache):
    """dx = dout where x > 0, else ``negative_slope * dout``."""
    x, slope = cache
    return _k.leaky_relu_backward(dout, x, slope)


# ------------------------------------------------------------------ GELU
def gelu_forward(x, approximate="none"):
    """GELU ``x * Phi(x)`` (``approximate='none'``, exact erf form) or its tanh
    approximation (``approximate='tanh'``), like PyTorch. x : any shape."""
    x = np.ascontiguousarray(x)
    use_tanh = approximate == "tanh"
    out, aux = _k.gelu_forward(x, use_tanh)
    return out, (x, aux, use_tanh)


def gelu_backward(dout, cache):
    """dx = dout * GELU'(x)."""
    x, aux, use_tanh = cache
    return _k.gelu_backward(x, aux, dout, use_tanh)


# ------------------------------------------------------------------ SiLU
def silu_forward(x):
    """SiLU (swish) ``x * sigmoid(x)``, as ``torch.nn.functional.silu``. x : any shape.

    float32: one Numba pass (``_kernels.activations``), the cache is ``(x, None)``
    and the backward recomputes the sigmoid. float64: NumPy on
    ``sigmoid_forward`` (no overflow), the definition the kernel is tested
    against; the cache is ``(x, (sigmoid(x), exp(-|x|)))``.
    """
    x = np.ascontiguousarray(x)
    if x.dtype == np.float32:
        return _k.silu_forward32(x), (x, None)
    s, e = sigmoid_forward(x)
    return x * s, (x, (s, e))


def silu_backward(dout, cache):
    """dx = dout * (s + x s (1 - s)), with ``s (1 - s) = e / (1 + e)**2`` (``e = exp(-|x|)``),
    accurate where ``1 - s`` would round to 0."""
    x, saved = cache
    if saved is None:
        return _k.silu_backward32(x, dout)
    s, e = saved
    return dout * (s + x * e / np.square(1 + e))


# --------------------------------------------------------------- Softmax
def _on_last_axis(shape, axis):
    return axis in (-1, len(shape) - 1) and shape[-1] > 0


def softmax_forward(x, axis=-1):
    """Softmax along ``axis``, max-shifted so that exp cannot overflow; the
    values of ``minigrad.activations.softmax_forward``. x : any shape.

    Over the last axis one Numba pass per row (``_kernels.activations``);
    other axes use the NumPy pair. Returns ``(y, cache)``; the cache is ``(y, axis)``.
    """
    if not _on_last_axis(x.shape, axis):
        return _reference.softmax_forward(x, axis)
    d = x.shape[-1]
    y = _k.softmax_rows(np.ascontiguousarray(x).reshape(-1, d)).reshape(x.shape)
    return y, (y, axis)


def softmax_backward(dout, cache):
    """dx = y * (dout - sum(dout * y, axis))."""
    y, axis = cache
    if not _on_last_axis(y.shape, axis):
        return _reference.softmax_backward(dout, cache)
    d = y.shape[-1]
    return _k.softmax_rows_backward(dout.reshape(-1, d), y.reshape(-1, d)).reshape(y.shape)


ReLUFunction = Function.from_pair(relu_forward, relu_backward, name="ReLU")
LeakyReLUFunction = Function.from_pair(leaky_relu_forward, leaky_relu_backward, name="LeakyReLU")
GELUFunction = Function.from_pair(gelu_forward, gelu_backward, name="GELU")
SoftmaxFunction = Function.from_pair(softmax_forward, softmax_backward, name="Softmax")
SiLUFunction = Function.from_pair(silu_forward, silu_backward, name="SiLU")


# ------------------------------------------------------ Tensor functions
def _check_slope(func, negative_slope):
    return check_number(func, "negative_slope", negative_slope)


def leaky_relu(x, negative_slope=0.01):
    """Leaky ReLU of a float Tensor: slope ``negative_slope`` (a finite number) below zero."""
    check_float_array("leaky_relu", "x", x)
    return LeakyReLUFunction.apply(x, negative_slope=_check_slope("leaky_relu", negative_slope))


def relu(x):
    """Element-wise ``max(x, 0)`` of a float Tensor (NaN stays NaN); ``x.relu()``'s values."""
    check_float_array("relu", "x", x)
    return ReLUFunction.apply(x)


def softmax(x, axis=-1):
    """Numerically stable softmax of a float Tensor along ``axis`` (``x.softmax(axis)``'s values)."""
    array = check_float_array("softmax", "x", x)
    (axis,) = normalize_axes("softmax", check_int("softmax", "axis", axis), array.ndim)
    return SoftmaxFunction.apply(x, axis=axis)


def gelu(x, approximate="none"):
    """GELU of a float Tensor; ``approximate`` is 'none' (exact erf) or 'tanh'."""
    check_float_array("gelu", "x", x)
    approximate = check_choice("gelu", "approximate", approximate, GELU_APPROXIMATIONS)
    return GELUFunction.apply(x, approximate=approximate)


def silu(x):
    """SiLU (swish) ``x * sigmoid(x)`` of a float Tensor."""
    check_float_array("silu", "x", x)
    return SiLUFunction.apply(x)


# --------------------------------------------------------------- Modules
class _Elementwise(Module):
    """A parameter-free Module: ``forward`` checks x and applies ``function``."""

    function = None

    def forward(self, x):
        check_float_array(type(self).__name__, "x", x)
        return self.function.apply(x, **self._options())

    def _options(self):
        return {}


class ReLU(_Elementwise):
    """``ReLU()(x) == relu(x)``."""

    function = ReLUFunction


class Sigmoid(_Elementwise):
    """``Sigmoid()(x) == sigmoid(x)``."""

    function = SigmoidFunction


class Tanh(_Elementwise):
    """``Tanh()(x) == tanh(x)``."""

    function = TanhFunction


class SiLU(_Elementwise):
    """``SiLU()(x) == silu(x)``, as ``torch.nn.SiLU``."""

    function = SiLUFunction


class LeakyReLU(_Elementwise):
    """``LeakyReLU(negative_slope=0.01)``, as in PyTorch."""

    function = LeakyReLUFunction

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = _check_slope("LeakyReLU", negative_slope)

    def _options(self):
        return {"negative_slope": self.negative_slope}

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class GELU(_Elementwise):
    """``GELU(approximate='none')``: exact erf form (PyTorch's default) or 'tanh'."""

    function = GELUFunction

    def __init__(self, approximate="none"):
        super().__init__()
        self.approximate = check_choice("GELU", "approximate", approximate, GELU_APPROXIMATIONS)

    def _options(self):
        return {"approximate": self.approximate}

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softmax(Module):
    """``Softmax(dim=-1)``: softmax along axis ``dim`` (PyTorch's argument name).

    ``dim`` is checked to be an int here and against x's dimensions in
    ``forward``; messages name ``dim``, the Module's own argument.
    """

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = check_int("Softmax", "dim", dim)

    def forward(self, x):
        ndim = check_float_array("Softmax", "x", x).ndim
        if not -ndim <= self.dim < ndim:
            raise ValueError(f"Softmax: dim must be in [{-ndim}, {ndim - 1}] for x with {ndim} dimensions, "
                             f"got {self.dim}")
        return SoftmaxFunction.apply(x, axis=self.dim % ndim)

    def extra_repr(self):
        return f"dim={self.dim}"
