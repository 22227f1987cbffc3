"""Element-wise activations: functional pairs, Functions, Tensor functions, Modules.

ReLU, sigmoid, tanh and softmax have one implementation, in
``minigrad.activations`` (also behind ``x.relu()``); this module re-exports
their pairs, Functions and Tensor functions and wraps them in Modules. Leaky
ReLU and GELU live here, on Numba kernels. Every pair keeps the input's dtype.
"""
import numpy as np

from minigrad import Function, Module
from minigrad.activations import (  # noqa: F401  (re-exported: the layers' names for them)
    relu,
    relu_backward,
    relu_forward,
    sigmoid,
    sigmoid_backward,
    sigmoid_forward,
    softmax,
    softmax_backward,
    softmax_forward,
    tanh,
    tanh_backward,
    tanh_forward,
)
from minigrad.activations import ReLU as ReLUFunction
from minigrad.activations import Sigmoid as SigmoidFunction
from minigrad.activations import Softmax as SoftmaxFunction
from minigrad.activations import Tanh as TanhFunction
from minigrad.validation import check_choice, check_float_array, check_int, check_number

from ._kernels import activations as _k

GELU_APPROXIMATIONS = ("none", "tanh")


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


LeakyReLUFunction = Function.from_pair(leaky_relu_forward, leaky_relu_backward, name="LeakyReLU")
GELUFunction = Function.from_pair(gelu_forward, gelu_backward, name="GELU")


# ------------------------------------------------------ Tensor functions
def _check_slope(func, negative_slope):
    return check_number(func, "negative_slope", negative_slope)


def leaky_relu(x, negative_slope=0.01):
    """Leaky ReLU of a float Tensor: slope ``negative_slope`` (a finite number) below zero."""
    check_float_array("leaky_relu", "x", x)
    return LeakyReLUFunction.apply(x, negative_slope=_check_slope("leaky_relu", negative_slope))


def gelu(x, approximate="none"):
    """GELU of a float Tensor; ``approximate`` is 'none' (exact erf) or 'tanh'."""
    check_float_array("gelu", "x", x)
    approximate = check_choice("gelu", "approximate", approximate, GELU_APPROXIMATIONS)
    return GELUFunction.apply(x, approximate=approximate)


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
