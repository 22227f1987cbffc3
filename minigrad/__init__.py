"""minigrad: a tiny reverse-mode autograd core on NumPy arrays.

``Tensor`` wraps an ndarray and records the ops that made it; ``Function`` is
how hand-written forward/backward pairs join the graph; ``gradcheck`` checks
them numerically. See ``minigrad.function`` for writing a new op.
"""
import os

# Before NumPy loads OpenBLAS: its idle threads spin for 2**28 cycles (~0.1 s) after every
# call, and the Numba kernels that run next in threads of their own (layers._parallel) then
# share the 2 cores with them: a direct convolution right after a GEMM took 3.5 ms instead of
# 1.7 ms. 2**4 cycles puts them to sleep at once. Has no effect if NumPy is already loaded;
# a value set by the user is kept.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")

from . import _allocator  # noqa: E402  (after the line above: NumPy must not load first)

_allocator.configure()

from . import _methods  # noqa: F401  (installs the operators and op methods on Tensor)
from . import validation
from ._dtype import get_default_dtype, set_default_dtype
from ._grad_mode import enable_grad, is_grad_enabled, no_grad
from .activations import log_softmax, relu, sigmoid, softmax, tanh
from .function import Context, Function
from .gradcheck import GradcheckError, gradcheck, numerical_gradient, rel_error
from .graph_drawing import draw_graph
from .module import Module, Parameter
from .ops import (
    abs, clip, concatenate, exp, log, matmul, max, maximum, mean, min, sqrt, stack, sum,
    unbroadcast, var, where,
)
from .tensor import Tensor


def tensor(data, requires_grad=False, dtype=None):
    """Create a Tensor (shorthand for ``Tensor(data, requires_grad, dtype)``)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


__all__ = [
    "Context", "Function", "GradcheckError", "Module", "Parameter", "Tensor",
    "abs", "clip", "concatenate", "draw_graph", "enable_grad", "exp", "get_default_dtype", "gradcheck",
    "is_grad_enabled", "log", "log_softmax", "matmul", "max", "maximum", "mean", "min",
    "no_grad", "numerical_gradient", "rel_error", "relu", "set_default_dtype", "sigmoid",
    "softmax", "sqrt", "stack", "sum", "tanh", "tensor", "unbroadcast", "validation", "var", "where",
]
