"""Affine (fully connected) layer: ``out = x @ w.T + b`` over any leading dims.

The weight is stored ``(out_features, in_features)`` like PyTorch, so state
dicts map one-to-one onto ``torch.nn.Linear``.
"""
import numpy as np

from minigrad import Function, Module, Parameter

from ._validation import as_generator, require_float


def affine_forward(x, w, b):
    """Compute ``x @ w.T + b`` over the last axis of ``x``.

    Parameters
    ----------
    x : (..., D)
    w : (M, D)
    b : (M,) or None

    Returns
    -------
    out : (..., M), x's dtype
    cache : tuple
        ``(x, w, has_bias)`` for ``affine_backward``.
    """
    # Compute in x's dtype (a float32 input never gets a float64 output).
    w = w.astype(x.dtype, copy=False)
    x2 = x.reshape(-1, x.shape[-1])
    out = x2 @ w.T
    if b is not None:
        out += b.astype(x.dtype, copy=False)  # in place: saves a second (rows, M) temporary
    return out.reshape(x.shape[:-1] + (w.shape[0],)), (x, w, b is not None)


def affine_backward(dout, cache, need=(True, True, True)):
    """Gradients of ``affine_forward``.

    Parameters
    ----------
    dout : (..., M)
    cache : from ``affine_forward``
    need : 3 bools
        Which of ``(dx, dw, db)`` to compute; the others come back as None.

    Returns
    -------
    dx : (..., D)
    dw : (M, D)
    db : (M,) or None (also None without a bias)
    """
    x, w, has_bias = cache
    d2 = dout.reshape(-1, w.shape[0])
    dx = (d2 @ w).reshape(x.shape) if need[0] else None
    dw = d2.T @ x.reshape(-1, x.shape[-1]) if need[1] else None
    db = d2.sum(axis=0) if has_bias and need[2] else None
    return dx, dw, db


class AffineFunction(Function):
    """Autograd wrapper of ``affine_forward`` / ``affine_backward``."""

    @staticmethod
    def forward(ctx, x, w, b):
        out, ctx.cache = affine_forward(x, w, b)
        return out

    @staticmethod
    def backward(ctx, grad):
        return affine_backward(grad, ctx.cache, ctx.needs_input_grad)


def linear(x, w, b=None):
    """Affine map ``x @ w.T + b`` of a Tensor (like ``torch.nn.functional.linear``).

    Parameters
    ----------
    x : Tensor (..., D)
    w : Tensor (M, D)
    b : Tensor (M,) or None

    Returns
    -------
    Tensor (..., M), the dtype of ``x``.
    """
    xa = require_float("linear", "x", x)
    wa = require_float("linear", "w", w)
    if wa.ndim != 2:
        raise ValueError(f"linear: w must be 2-D (out_features, in_features), got shape {wa.shape}")
    if xa.ndim < 1 or xa.shape[-1] != wa.shape[1]:
        raise ValueError(
            f"linear: x must have in_features={wa.shape[1]} in its last axis (w has shape "
            f"{wa.shape}), got shape {xa.shape}"
        )
    if b is not None:
        ba = require_float("linear", "b", b)
        if ba.shape != (wa.shape[0],):
            raise ValueError(f"linear: b must have shape ({wa.shape[0]},), got shape {ba.shape}")
    return AffineFunction.apply(x, w, b)


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
        dtype of the parameters.

    Attributes
    ----------
    weight : Parameter (out_features, in_features)
    bias : Parameter (out_features,) or None
        Both initialised U(-1/sqrt(in_features), 1/sqrt(in_features)), PyTorch's default.
    """

    def __init__(self, in_features, out_features, bias=True, rng=None, dtype=np.float32):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"Linear: {name} must be a positive int, got {value!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        gen = as_generator(rng)
        bound = 1.0 / np.sqrt(in_features)
        self.weight = Parameter(gen.uniform(-bound, bound, (out_features, in_features)).astype(dtype))
        self.bias = Parameter(gen.uniform(-bound, bound, out_features).astype(dtype)) if bias else None

    def forward(self, x):
        return linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
