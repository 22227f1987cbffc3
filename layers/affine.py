"""Affine (fully connected) layer: ``out = x @ weight.T + bias`` over any leading dims.

The weight is stored ``(out_features, in_features)`` like PyTorch, so state
dicts map one-to-one onto ``torch.nn.Linear``.
"""
import numpy as np

from minigrad import Function, Module, Parameter
from minigrad.validation import (
    as_generator,
    check_bool,
    check_float_array,
    check_float_dtype,
    check_int,
    check_same_dtype,
)


def affine_forward(x, weight, bias):
    """Compute ``x @ weight.T + bias`` over the last axis of ``x``.

    Parameters
    ----------
    x : (..., D)
    weight : (M, D), x's dtype
    bias : (M,) or None, x's dtype

    Returns
    -------
    out : (..., M)
    cache : tuple
        ``(x, weight, has_bias)`` for ``affine_backward``.
    """
    out = x.reshape(-1, x.shape[-1]) @ weight.T
    if bias is not None:
        out += bias  # in place: saves a second (rows, M) temporary
    return out.reshape(x.shape[:-1] + (weight.shape[0],)), (x, weight, bias is not None)


def affine_backward(dout, cache, needs_grad=(True, True, True)):
    """Gradients of ``affine_forward``.

    Parameters
    ----------
    dout : (..., M)
    cache : from ``affine_forward``
    needs_grad : 3 bools
        Which of ``(dx, dweight, dbias)`` to compute; the others come back as None.

    Returns
    -------
    dx : (..., D)
    dweight : (M, D)
    dbias : (M,) or None (also None without a bias)
    """
    x, w, has_bias = cache
    d2 = dout.reshape(-1, w.shape[0])
    dx = (d2 @ w).reshape(x.shape) if needs_grad[0] else None
    dw = d2.T @ x.reshape(-1, x.shape[-1]) if needs_grad[1] else None
    db = d2.sum(axis=0) if has_bias and needs_grad[2] else None
    return dx, dw, db


AffineFunction = Function.from_pair(affine_forward, affine_backward)


def _check_features(func, xa, wa):
    """Raise unless x's last axis has the in_features of weight (M, D)."""
    if xa.ndim < 1 or xa.shape[-1] != wa.shape[1]:
        raise ValueError(
            f"{func}: x must have in_features={wa.shape[1]} in its last axis (weight has shape "
            f"{wa.shape}), got shape {xa.shape}"
        )


def _check_inputs(func, x, weight, bias, ndim=None, layout=""):
    """Raise unless x (..., D), weight (M, D) and bias (M,) or None fit and share a float dtype.

    ``ndim`` and ``layout`` restrict x further (e.g. ``3, "(N, T, D)"`` for sequences).
    The weight is checked against x: in a functional call x sets the dtype.
    """
    xa = check_float_array(func, "x", x, ndim=ndim, layout=layout)
    wa = check_float_array(func, "weight", weight, ndim=2, layout="(out_features, in_features)")
    ba = None if bias is None else check_float_array(func, "bias", bias)
    check_same_dtype(func, x=xa, weight=wa, bias=ba)
    _check_features(func, xa, wa)
    if ba is not None and ba.shape != (wa.shape[0],):
        raise ValueError(f"{func}: bias must have shape ({wa.shape[0]},), got shape {ba.shape}")


def _check_module_input(module, x, ndim=None, layout=""):
    """Raise unless x fits the (already valid) parameters of a ``Linear``-like module.

    The parameters set the dtype, so a mismatch is reported against x.
    """
    func = type(module).__name__
    xa = check_float_array(func, "x", x, ndim=ndim, layout=layout)
    check_same_dtype(func, weight=module.weight, x=xa)
    _check_features(func, xa, module.weight.data)


def linear(x, weight, bias=None):
    """Affine map ``x @ weight.T + bias`` of a Tensor (like ``torch.nn.functional.linear``).

    Parameters
    ----------
    x : Tensor (..., D), float32 or float64
    weight : Tensor (M, D), x's dtype
    bias : Tensor (M,), x's dtype, or None

    Returns
    -------
    Tensor (..., M). An empty batch gives an empty output and zero weight gradients.
    """
    _check_inputs("linear", x, weight, bias)
    return AffineFunction.apply(x, weight, bias)


class Linear(Module):
    """Fully connected layer ``y = x @ weight.T + bias``.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
        Whether to learn an additive bias.
    rng : np.random.Generator, int or None
        Source of the initial values (None: a fresh generator).
    dtype : float32 or float64
        dtype of the parameters; inputs must have it too.

    Attributes
    ----------
    weight : Parameter (out_features, in_features)
    bias : Parameter (out_features,) or None
        Both initialised U(-1/sqrt(in_features), 1/sqrt(in_features)), PyTorch's default.
    """

    def __init__(self, in_features, out_features, bias=True, rng=None, dtype=np.float32):
        super().__init__()
        func = type(self).__name__
        dtype = check_float_dtype(func, "dtype", dtype)
        self.in_features = check_int(func, "in_features", in_features, low=1)
        self.out_features = check_int(func, "out_features", out_features, low=1)
        gen = as_generator(func, "rng", rng)
        bound = 1.0 / np.sqrt(in_features)
        self.weight = Parameter(gen.uniform(-bound, bound, (out_features, in_features)).astype(dtype))
        self.bias = None
        if check_bool(func, "bias", bias):
            self.bias = Parameter(gen.uniform(-bound, bound, out_features).astype(dtype))

    def forward(self, x):
        _check_module_input(self, x)
        return AffineFunction.apply(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
