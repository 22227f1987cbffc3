"""Differentiable operations on Tensors, each a small ``Function``.

Every binary op broadcasts like NumPy and reduces its gradients back to each
input's shape with ``unbroadcast``. The lower-case functions at the bottom of
each section are the public API (also reachable as Tensor methods/operators).
"""
import builtins

import numpy as np

from ._dtype import get_default_dtype
from .function import Function
from .tensor import Tensor
from .validation import check_int

# ----------------------------------------------------------------- helpers


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched.

    Parameters
    ----------
    grad : ndarray
        Gradient with the broadcast (output) shape.
    shape : tuple of int
        The shape of the input the gradient belongs to.
    """
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _broadcast_shape(op, a, b):
    try:
        return np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together"
        ) from None


def normalize_axes(op, axis, ndim):
    """Return ``axis`` as a sorted tuple of non-negative ints (all axes for None)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    normalized = []
    for a in axes:
        a = check_int(op, "axis", a)
        if not -ndim <= a < ndim:
            raise ValueError(
                f"{op}: axis must be in [{-ndim}, {ndim - 1}] for a tensor of {ndim} dimensions, got {a}"
            )
        normalized.append(a % ndim)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op}: axis must not repeat an axis, got {axis}")
    return tuple(sorted(normalized))


def _as_operand(value, like):
    """Turn a Python scalar/list into an array whose dtype suits ``like``."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (np.ndarray, np.generic)):
        return Tensor(value)
    like_dtype = like.dtype if isinstance(like, Tensor) else None
    if like_dtype is not None and like_dtype.kind == "f":
        dtype = like_dtype  # ``x32 * 2.0`` stays float32, as in PyTorch
    elif like_dtype is not None and like_dtype.kind in "iu" and isinstance(value, (int, bool)):
        dtype = like_dtype
    else:
        dtype = get_default_dtype()
    return Tensor(np.asarray(value, dtype=dtype))


def _operands(a, b):
    a2 = _as_operand(a, b)
    b2 = _as_operand(b, a2)
    return a2, b2


def _expand_reduced(grad, shape, axes, keepdims):
    """Reshape a reduction's gradient so it broadcasts against the input."""
    if not keepdims:
        grad = np.expand_dims(grad, axes)
    return np.broadcast_to(grad, shape)


# -------------------------------------------------------------- binary ops


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a + b

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        return unbroadcast(grad, sa), unbroadcast(grad, sb)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = (a.shape, b.shape)
        return a - b

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        return unbroadcast(grad, sa), unbroadcast(-grad, sb)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        ga = unbroadcast(grad * b, a.shape) if ctx.needs_grad[0] else None
        gb = unbroadcast(grad * a, b.shape) if ctx.needs_grad[1] else None
        return ga, gb


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        ga = unbroadcast(grad / b, a.shape) if ctx.needs_grad[0] else None
        gb = unbroadcast(-grad * a / (b * b), b.shape) if ctx.needs_grad[1] else None
        return ga, gb


class Pow(Function):
    """``a ** b`` for a tensor exponent; d/db = a**b * log(a) needs a > 0."""

    @staticmethod
    def forward(ctx, a, b):
        out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved
        ga = gb = None
        if ctx.needs_grad[0]:
            ga = unbroadcast(grad * b * a ** (b - 1), a.shape)
        if ctx.needs_grad[1]:
            gb = unbroadcast(grad * out * np.log(a), b.shape)
        return ga, gb


class PowScalar(Function):
    """``a ** p`` for a constant Python/NumPy scalar ``p``."""

    @staticmethod
    def forward(ctx, a, exponent):
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        return a**exponent

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        p = ctx.exponent
        return (grad * p * a ** (p - 1),)


class Maximum(Function):
    """Elementwise maximum; on ties the gradient is split evenly (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return np.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        share_a = (a > b) + 0.5 * (a == b)
        ga = unbroadcast(grad * share_a, a.shape)
        gb = unbroadcast(grad * (1.0 - share_a), b.shape)
        return ga, gb


class MatMul(Function):
    """Matrix product for 1-D, 2-D and batched (broadcast leading dims) inputs."""

    @staticmethod
    def forward(ctx, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(
                f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}"
            )
        k_a = a.shape[-1]
        k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            raise ValueError(
                f"matmul: shapes {a.shape} and {b.shape} are not aligned "
                f"(last dim of a is {k_a}, contraction dim of b is {k_b})"
            )
        try:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
        except ValueError:
            raise ValueError(
                f"matmul: batch dimensions of shapes {a.shape} and {b.shape} cannot be broadcast"
            ) from None
        ctx.save_for_backward(a, b)
        return a @ b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved
        # Promote 1-D operands to matrices so one formula serves every case.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if b.ndim == 1:  # restore the column axis the product dropped
            g = g[..., None]
        if a.ndim == 1:  # and the row axis
            g = g[..., None, :]
        ga = gb = None
        if ctx.needs_grad[0]:
            ga = unbroadcast(g @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if ctx.needs_grad[1]:
            gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb


class Where(Function):
    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.condition = condition
        ctx.shapes = (a.shape, b.shape)
        return np.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        zero = np.zeros((), dtype=grad.dtype)
        ga = unbroadcast(np.where(ctx.condition, grad, zero), sa)
        gb = unbroadcast(np.where(ctx.condition, zero, grad), sb)
        return None, ga, gb


def _binary(function, name, a, b):
    a, b = _operands(a, b)
    _broadcast_shape(name, a, b)
    return function.apply(a, b)


def add(a, b):
    """Elementwise ``a + b`` with broadcasting."""
    return _binary(Add, "add", a, b)


def sub(a, b):
    """Elementwise ``a - b`` with broadcasting."""
    return _binary(Sub, "sub", a, b)


def mul(a, b):
    """Elementwise ``a * b`` with broadcasting."""
    return _binary(Mul, "mul", a, b)


def div(a, b):
    """Elementwise ``a / b`` with broadcasting."""
    return _binary(Div, "div", a, b)


def pow(a, b):
    """Elementwise ``a ** b``; a scalar exponent is treated as a constant."""
    if isinstance(a, Tensor) and not isinstance(b, Tensor) and np.ndim(b) == 0:
        return PowScalar.apply(a, exponent=b)
    return _binary(Pow, "pow", a, b)


def maximum(a, b):
    """Elementwise maximum with broadcasting; ties split the gradient evenly."""
    return _binary(Maximum, "maximum", a, b)


def matmul(a, b):
    """Matrix product following ``np.matmul`` rules (1-D, 2-D, batched)."""
    a, b = _operands(a, b)
    return MatMul.apply(a, b)


def where(condition, a, b):
    """Pick ``a`` where ``condition`` is true, else ``b`` (all broadcast together).

    ``condition`` is a boolean array or Tensor and receives no gradient.
    """
    condition = np.asarray(condition.data if isinstance(condition, Tensor) else condition)
    if condition.dtype != np.bool_:
        raise TypeError(f"where: condition must be boolean, got dtype {condition.dtype}")
    a, b = _operands(a, b)
    try:
        np.broadcast_shapes(condition.shape, a.shape, b.shape)
    except ValueError:
        raise ValueError(
            f"where: shapes {condition.shape} (condition), {a.shape} and {b.shape} "
            "cannot be broadcast together"
        ) from None
    return Where.apply(condition, a, b)


# --------------------------------------------------------------- unary ops


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return (-grad,)


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return (grad * out,)


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.log(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return (grad / a,)


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        out = np.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved
        return (grad / (2 * out),)


class Abs(Function):
    """|a|; the gradient at exactly 0 is 0 (sign(0) = 0), as in PyTorch."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.abs(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved
        return (grad * np.sign(a),)


class Clip(Function):
    """Clamp into [low, high]; gradient flows where low <= a <= high (PyTorch's rule)."""

    @staticmethod
    def forward(ctx, a, low=None, high=None):
        mask = np.ones(a.shape, dtype=bool)
        if low is not None:
            mask &= a >= low
        if high is not None:
            mask &= a <= high
        ctx.save_for_backward(mask)
        out = a
        if low is not None:
            out = np.maximum(out, np.asarray(low, a.dtype))
        if high is not None:
            out = np.minimum(out, np.asarray(high, a.dtype))
        return out

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved
        return (grad * mask,)


class AsType(Function):
    @staticmethod
    def forward(ctx, a, dtype=None):
        ctx.source_dtype = a.dtype
        return a.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        return (grad.astype(ctx.source_dtype),)


def neg(a):
    return Neg.apply(a)


def exp(a):
    """Elementwise e**a."""
    return Exp.apply(a)


def log(a):
    """Elementwise natural logarithm."""
    return Log.apply(a)


def sqrt(a):
    """Elementwise square root."""
    return Sqrt.apply(a)


def abs(a):
    """Elementwise absolute value."""
    return Abs.apply(a)


def clip(a, min=None, max=None):
    """Clamp ``a`` into ``[min, max]`` (either bound may be None)."""
    if min is None and max is None:
        raise ValueError("clip: at least one of min and max must be given")
    if min is not None and max is not None and min > max:
        raise ValueError(f"clip: min must be <= max, got min={min}, max={max}")
    return Clip.apply(a, low=min, high=max)


def astype(a, dtype):
    """Cast to ``dtype``; the gradient is cast back to the source dtype."""
    return AsType.apply(a, dtype=np.dtype(dtype))


# -------------------------------------------------------------- reductions


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axes=(), keepdims=False):
        ctx.shape, ctx.axes, ctx.keepdims = a.shape, axes, keepdims
        return np.sum(a, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return (_expand_reduced(grad, ctx.shape, ctx.axes, ctx.keepdims).copy(),)


class Mean(Function):
    @staticmethod
    def forward(ctx, a, axes=(), keepdims=False):
        ctx.shape, ctx.axes, ctx.keepdims = a.shape, axes, keepdims
        ctx.count = int(np.prod([a.shape[i] for i in axes]))
        return np.mean(a, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, grad):
        return (_expand_reduced(grad / ctx.count, ctx.shape, ctx.axes, ctx.keepdims).copy(),)


class Var(Function):
    """Variance with ``ddof`` (0: population, NumPy's default; 1: unbiased)."""

    @staticmethod
    def forward(ctx, a, axes=(), keepdims=False, ddof=0):
        ctx.shape, ctx.axes, ctx.keepdims = a.shape, axes, keepdims
        ctx.denominator = int(np.prod([a.shape[i] for i in axes])) - ddof
        centered = a - a.mean(axis=axes, keepdims=True)
        ctx.save_for_backward(centered)
        return np.var(a, axis=axes, keepdims=keepdims, ddof=ddof)

    @staticmethod
    def backward(ctx, grad):
        (centered,) = ctx.saved
        g = _expand_reduced(grad, ctx.shape, ctx.axes, ctx.keepdims)
        return (g * centered * (2.0 / ctx.denominator),)


class Extreme(Function):
    """max or min over axes; tied extremes share the gradient evenly (like ``amax``)."""

    @staticmethod
    def forward(ctx, a, axes=(), keepdims=False, reducer=np.max):
        out = reducer(a, axis=axes, keepdims=True)
        ties = a == out
        ctx.save_for_backward(ties / ties.sum(axis=axes, keepdims=True))
        ctx.shape, ctx.axes, ctx.keepdims = a.shape, axes, keepdims
        return out if keepdims else np.squeeze(out, axis=axes)

    @staticmethod
    def backward(ctx, grad):
        (share,) = ctx.saved
        return (_expand_reduced(grad, ctx.shape, ctx.axes, ctx.keepdims) * share,)


def _reduction(op, a, axis):
    a = a if isinstance(a, Tensor) else Tensor(a)
    return a, normalize_axes(op, axis, a.ndim)


def sum(a, axis=None, keepdims=False):
    """Sum over ``axis`` (int, tuple, or None for all)."""
    a, axes = _reduction("sum", a, axis)
    return Sum.apply(a, axes=axes, keepdims=keepdims)


def mean(a, axis=None, keepdims=False):
    """Mean over ``axis`` (int, tuple, or None for all)."""
    a, axes = _reduction("mean", a, axis)
    if any(a.shape[i] == 0 for i in axes):
        raise ValueError(f"mean: cannot average over an empty axis of shape {a.shape}")
    return Mean.apply(a, axes=axes, keepdims=keepdims)


def var(a, axis=None, keepdims=False, ddof=0):
    """Variance over ``axis``; ``ddof=0`` divides by N, ``ddof=1`` by N - 1."""
    a, axes = _reduction("var", a, axis)
    count = int(np.prod([a.shape[i] for i in axes]))
    if count - ddof <= 0:
        raise ValueError(
            f"var: need more than ddof={ddof} elements along axis {axis}, got shape {a.shape}"
        )
    return Var.apply(a, axes=axes, keepdims=keepdims, ddof=ddof)


def max(a, axis=None, keepdims=False):
    """Maximum over ``axis``; the gradient is shared evenly among tied maxima."""
    a, axes = _reduction("max", a, axis)
    if any(a.shape[i] == 0 for i in axes):
        raise ValueError(f"max: cannot reduce an empty axis of shape {a.shape}")
    return Extreme.apply(a, axes=axes, keepdims=keepdims, reducer=np.max)


def min(a, axis=None, keepdims=False):
    """Minimum over ``axis``; the gradient is shared evenly among tied minima."""
    a, axes = _reduction("min", a, axis)
    if any(a.shape[i] == 0 for i in axes):
        raise ValueError(f"min: cannot reduce an empty axis of shape {a.shape}")
    return Extreme.apply(a, axes=axes, keepdims=keepdims, reducer=np.min)


# -------------------------------------------------------------- shape ops


class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape=()):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return (grad.reshape(ctx.shape),)


class Transpose(Function):
    @staticmethod
    def forward(ctx, a, axes=()):
        ctx.inverse = tuple(np.argsort(axes))
        return np.transpose(a, axes)

    @staticmethod
    def backward(ctx, grad):
        return (np.transpose(grad, ctx.inverse),)


class GetItem(Function):
    """Basic and integer-array indexing; backward scatter-adds (repeats accumulate)."""

    @staticmethod
    def forward(ctx, a, index=None):
        ctx.shape, ctx.dtype, ctx.index = a.shape, a.dtype, index
        return a[index]

    @staticmethod
    def backward(ctx, grad):
        full = np.zeros(ctx.shape, dtype=grad.dtype)
        np.add.at(full, ctx.index, grad)
        return (full,)


class Concatenate(Function):
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        ctx.splits = np.cumsum([x.shape[axis] for x in arrays])[:-1]
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.split(grad, ctx.splits, axis=ctx.axis))


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis = axis
        return np.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        return tuple(np.moveaxis(grad, ctx.axis, 0))


def reshape(a, *shape):
    """Return the same data with a new shape (one entry may be -1)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    a = a if isinstance(a, Tensor) else Tensor(a)
    try:
        np.empty(a.shape, dtype=np.bool_).reshape(shape)  # validate without copying data
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {a.shape} into {shape}") from None
    return Reshape.apply(a, shape=shape)


def transpose(a, *axes):
    """Permute axes (reverse them when none are given), like ``np.transpose``."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    a = a if isinstance(a, Tensor) else Tensor(a)
    if not axes:
        axes = tuple(reversed(range(a.ndim)))
    if sorted(int(x) % builtins.max(a.ndim, 1) for x in axes) != list(range(a.ndim)):
        raise ValueError(
            f"transpose: axes {axes} are not a permutation of the {a.ndim} axes of shape {a.shape}"
        )
    return Transpose.apply(a, axes=tuple(int(x) % a.ndim for x in axes))


def _raw_index(index):
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(_raw_index(i) for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def getitem(a, index):
    """``a[index]`` with NumPy semantics (slices, ints, None, integer/boolean arrays)."""
    index = _raw_index(index)
    try:
        np.empty(a.shape, dtype=np.bool_)[index]  # validate the index cheaply
    except IndexError as error:
        raise IndexError(f"getitem: {error} (tensor shape {a.shape})") from None
    return GetItem.apply(a, index=index)


def _check_joinable(op, tensors, axis, same_shape):
    if not tensors:
        raise ValueError(f"{op}: need at least one tensor")
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    ref = tensors[0].shape
    for k, t in enumerate(tensors[1:], start=1):
        bad = t.shape != ref if same_shape else (
            t.ndim != len(ref) or any(
                t.shape[i] != ref[i] for i in range(len(ref)) if i != axis % builtins.max(len(ref), 1)
            )
        )
        if bad:
            raise ValueError(
                f"{op}: tensor {k} has shape {t.shape}, incompatible with tensor 0 of shape {ref}"
                f" along axis {axis}"
            )
    return tensors


def concatenate(tensors, axis=0):
    """Join tensors along an existing axis."""
    tensors = _check_joinable("concatenate", list(tensors), axis, same_shape=False)
    (axis,) = normalize_axes("concatenate", axis, tensors[0].ndim)
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Join same-shaped tensors along a new axis."""
    tensors = _check_joinable("stack", list(tensors), axis, same_shape=True)
    (axis,) = normalize_axes("stack", axis, tensors[0].ndim + 1)
    return Stack.apply(*tensors, axis=axis)
