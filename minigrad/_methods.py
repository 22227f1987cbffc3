"""Operators and method forms of the ops, installed on ``Tensor``.

``tensor.py`` cannot import the ops (they import ``Tensor``), so this module,
which comes after both, makes ``a + b``, ``a @ b``, ``a[i]``, ``x.sum()`` or
``x.relu()`` call the functions of ``ops`` and ``activations``. Every method
is exactly the function of the same name with the tensor as first argument.
"""
from . import activations, ops
from .tensor import Tensor


def _reflected(function):
    def method(self, other):
        return function(other, self)
    return method


_OPERATORS = {
    "__add__": ops.add, "__radd__": _reflected(ops.add),
    "__sub__": ops.sub, "__rsub__": _reflected(ops.sub),
    "__mul__": ops.mul, "__rmul__": _reflected(ops.mul),
    "__truediv__": ops.div, "__rtruediv__": _reflected(ops.div),
    "__pow__": ops.pow, "__rpow__": _reflected(ops.pow),
    "__matmul__": ops.matmul, "__rmatmul__": _reflected(ops.matmul),
    "__neg__": ops.neg, "__getitem__": ops.getitem,
}

_METHODS = {
    "sum": ops.sum, "mean": ops.mean, "max": ops.max, "min": ops.min, "var": ops.var,
    "reshape": ops.reshape, "transpose": ops.transpose, "permute": ops.transpose,
    "astype": ops.astype, "exp": ops.exp, "log": ops.log, "sqrt": ops.sqrt, "abs": ops.abs,
    "clip": ops.clip, "relu": activations.relu, "sigmoid": activations.sigmoid,
    "tanh": activations.tanh, "softmax": activations.softmax,
    "log_softmax": activations.log_softmax,
}

for _name, _function in {**_OPERATORS, **_METHODS}.items():
    setattr(Tensor, _name, _function)
Tensor.T = property(ops.transpose, doc="The tensor with its axes reversed.")
