"""Losses: softmax cross-entropy, multiclass SVM hinge, binary cross-entropy
with logits, MSE, L1 and the CS231n temporal softmax loss.

Element-wise losses take ``reduction`` in ``'mean' | 'sum' | 'none'`` like
``torch.nn.functional``. Each functional pair returns the loss (a 0-d array
unless ``reduction='none'``) and a cache; the backward takes the upstream
gradient of that loss.
"""
import numpy as np

from minigrad import Function

from ._kernels import losses as _k
from ._validation import array_of, require_finite, require_float, require_int

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(per_item, reduction, count=None):
    """Reduce per-item losses; ``count`` overrides the divisor of 'mean'."""
    if reduction == "none":
        return per_item
    total = per_item.sum()
    if reduction == "sum":
        return np.asarray(total)
    count = per_item.size if count is None else count
    # PyTorch gives NaN for a mean over nothing (e.g. every label ignored).
    return np.asarray(total / count if count else np.nan, dtype=per_item.dtype)


def _item_scale(dout, reduction, shape, count=None):
    """d(reduced loss)/d(each item's loss) times ``dout``, broadcast to ``shape``."""
    if reduction == "none":
        return dout
    if reduction == "sum":
        return np.broadcast_to(dout, shape)
    count = int(np.prod(shape)) if count is None else count
    return np.broadcast_to(dout / max(count, 1), shape)


# ------------------------------------------------- softmax cross-entropy
def _require_finite_loss(fn, per_row):
    """NaN or +inf logits make a row's loss non-finite; checking the N losses
    costs nothing, unlike a pass over x, and still admits -inf logits (masks)."""
    if not np.isfinite(per_row).all():
        raise ValueError(f"{fn}: x contains NaN or inf (a row's loss is not finite)")


def cross_entropy_forward(x, y, label_smoothing=0.0, ignore_index=-100, reduction="mean"):
    """Softmax cross-entropy of logits against integer labels.

    Parameters
    ----------
    x : (N, C) logits
    y : (N,) int labels in [0, C), or ``ignore_index`` (no loss, no gradient)
    label_smoothing : float in [0, 1]
        The target is ``(1 - s) * onehot(y) + s / C``.
    reduction : 'mean' (over non-ignored rows) | 'sum' | 'none'

    Returns
    -------
    loss : () or (N,), x's dtype
    cache : for ``cross_entropy_backward``
    """
    x = np.ascontiguousarray(x)
    y = np.ascontiguousarray(y, dtype=np.int64)
    per_row, probs = _k.cross_entropy_forward(x, y, ignore_index, label_smoothing)
    _require_finite_loss("cross_entropy", per_row)
    count = int(np.count_nonzero(y != ignore_index))
    loss = _reduce(per_row, reduction, count).astype(x.dtype)
    return loss, (probs, y, label_smoothing, ignore_index, reduction, count)


def cross_entropy_backward(dout, cache):
    """dx (N, C) of ``cross_entropy_forward``."""
    probs, y, smoothing, ignore_index, reduction, count = cache
    scale = np.ascontiguousarray(_item_scale(np.asarray(dout, np.float64), reduction, y.shape, count))
    return _k.cross_entropy_backward(probs, y, scale, ignore_index, smoothing)


class CrossEntropyFunction(Function):
    @staticmethod
    def forward(ctx, x, y, label_smoothing, ignore_index, reduction):
        loss, ctx.cache = cross_entropy_forward(x, y, label_smoothing, ignore_index, reduction)
        return loss

    @staticmethod
    def backward(ctx, grad):
        return cross_entropy_backward(grad, ctx.cache), None


def _check_reduction(fn, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{fn}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_labels(fn, x, y, ignore_index=None):
    """Validate logits ``x`` (N, C) and labels ``y`` (N,); returns their arrays."""
    xa, ya = require_float(fn, "x", x), require_int(fn, "y", y)
    if xa.ndim != 2:
        raise ValueError(f"{fn}: x must be 2-D (N, C), got shape {xa.shape}")
    if ya.shape != xa.shape[:1]:
        raise ValueError(f"{fn}: y must have shape ({xa.shape[0]},) for x of shape {xa.shape}, got {ya.shape}")
    valid = ya if ignore_index is None else ya[ya != ignore_index]
    if valid.size and (valid.min() < 0 or valid.max() >= xa.shape[1]):
        raise ValueError(f"{fn}: labels must be in [0, {xa.shape[1]}), got range [{valid.min()}, {valid.max()}]")
    return xa, ya


def cross_entropy(x, y, label_smoothing=0.0, ignore_index=-100, reduction="mean"):
    """Softmax cross-entropy like ``torch.nn.functional.cross_entropy`` (no class weights).

    Parameters
    ----------
    x : Tensor (N, C) logits
    y : int array or Tensor (N,)
    label_smoothing : float in [0, 1]
    ignore_index : int
        Rows with this label add nothing; 'mean' divides by the other rows.
    reduction : 'mean' | 'sum' | 'none'
    """
    _check_labels("cross_entropy", x, y, ignore_index)
    _check_reduction("cross_entropy", reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    return CrossEntropyFunction.apply(
        x, array_of(y), label_smoothing=float(label_smoothing),
        ignore_index=int(ignore_index), reduction=reduction,
    )


# ------------------------------------------------- temporal softmax loss
def temporal_softmax_loss_forward(x, y, mask):
    """CS231n's temporal softmax loss: cross-entropy summed over the steps where
    ``mask`` is true, divided by the batch size N.

    Parameters
    ----------
    x : (N, T, V) scores
    y : (N, T) int labels in [0, V)
    mask : (N, T) bool (or 0/1)

    Returns
    -------
    loss : (), x's dtype
    cache : for ``temporal_softmax_loss_backward``
    """
    n, t, v = x.shape
    x2 = np.ascontiguousarray(x).reshape(n * t, v)
    y2 = np.ascontiguousarray(y, dtype=np.int64).reshape(-1)
    weights = np.asarray(mask, dtype=np.float64).reshape(-1) / n
    per_row, probs = _k.cross_entropy_forward(x2, y2, -1, 0.0)
    _require_finite_loss("temporal_softmax_loss", per_row)
    loss = np.asarray(per_row @ weights, dtype=x.dtype)
    return loss, (probs, y2, weights, x.shape)


def temporal_softmax_loss_backward(dout, cache):
    """dx (N, T, V) of ``temporal_softmax_loss_forward``."""
    probs, y2, weights, shape = cache
    return _k.cross_entropy_backward(probs, y2, weights * float(dout), -1, 0.0).reshape(shape)


class TemporalSoftmaxLossFunction(Function):
    @staticmethod
    def forward(ctx, x, y, mask):
        loss, ctx.cache = temporal_softmax_loss_forward(x, y, mask)
        return loss

    @staticmethod
    def backward(ctx, grad):
        return temporal_softmax_loss_backward(grad, ctx.cache), None, None


def temporal_softmax_loss(x, y, mask):
    """CS231n temporal softmax loss of a Tensor ``x`` (N, T, V) with labels
    ``y`` (N, T) and ``mask`` (N, T): summed over valid steps, divided by N."""
    xa, ya = require_float("temporal_softmax_loss", "x", x), require_int("temporal_softmax_loss", "y", y)
    ma = array_of(mask)
    if xa.ndim != 3:
        raise ValueError(f"temporal_softmax_loss: x must be 3-D (N, T, V), got shape {xa.shape}")
    for name, a in (("y", ya), ("mask", ma)):
        if a.shape != xa.shape[:2]:
            raise ValueError(
                f"temporal_softmax_loss: {name} must have shape {xa.shape[:2]} for x of shape "
                f"{xa.shape}, got {a.shape}"
            )
    if ma.dtype != bool and not np.isin(ma, (0, 1)).all():
        raise ValueError("temporal_softmax_loss: mask must be boolean or 0/1")
    if ya.size and (ya.min() < 0 or ya.max() >= xa.shape[2]):
        raise ValueError(
            f"temporal_softmax_loss: labels must be in [0, {xa.shape[2]}), got range [{ya.min()}, {ya.max()}]"
        )
    return TemporalSoftmaxLossFunction.apply(x, ya, ma)


# ------------------------------------------------------ multiclass SVM
def svm_loss_forward(x, y, margin=1.0, reduction="mean"):
    """Multiclass SVM (hinge) loss, CS231n's form:
    ``loss_i = sum_{j != y_i} max(0, x_ij - x_iy + margin)``.

    ``torch.nn.functional.multi_margin_loss`` is this divided by C.

    Parameters
    ----------
    x : (N, C) scores
    y : (N,) int labels in [0, C)

    Returns
    -------
    loss : () or (N,)
    cache : for ``svm_loss_backward``
    """
    rows = np.arange(x.shape[0])
    margins = x - x[rows, y][:, None] + x.dtype.type(margin)
    np.maximum(margins, 0, out=margins)
    margins[rows, y] = 0
    return _reduce(margins.sum(axis=1), reduction), (margins > 0, y, reduction, x.dtype)


def svm_loss_backward(dout, cache):
    """dx (N, C): ``+scale`` on every positive margin, ``-count * scale`` on the label."""
    active, y, reduction, dtype = cache
    scale = _item_scale(np.asarray(dout), reduction, y.shape)[:, None]
    dx = (active * scale).astype(dtype)
    dx[np.arange(y.size), y] -= active.sum(axis=1) * scale[:, 0]
    return dx


class SVMLossFunction(Function):
    @staticmethod
    def forward(ctx, x, y, margin, reduction):
        loss, ctx.cache = svm_loss_forward(x, y, margin, reduction)
        return loss

    @staticmethod
    def backward(ctx, grad):
        return svm_loss_backward(grad, ctx.cache), None


def svm_loss(x, y, margin=1.0, reduction="mean"):
    """Multiclass SVM hinge loss (CS231n) of Tensor scores ``x`` (N, C), labels ``y`` (N,)."""
    _, ya = _check_labels("svm_loss", x, y)
    _check_reduction("svm_loss", reduction)
    return SVMLossFunction.apply(x, ya.astype(np.int64), margin=float(margin), reduction=reduction)


# ------------------------------------------ element-wise (x, target) losses
def _check_pair(fn, x, target, reduction):
    xa, ta = require_float(fn, "x", x), require_float(fn, "target", target)
    if xa.shape != ta.shape:
        raise ValueError(f"{fn}: target must have x's shape {xa.shape}, got {ta.shape}")
    _check_reduction(fn, reduction)
    require_finite(fn, "x", xa)
    require_finite(fn, "target", ta)


def bce_with_logits_forward(x, z, reduction="mean"):
    """Binary cross-entropy of logits ``x`` against targets ``z`` in [0, 1]:
    ``max(x, 0) - x * z + log(1 + exp(-|x|))``, which never overflows.

    x, z : same shape. Returns ``(loss, cache)``.
    """
    z = z.astype(x.dtype, copy=False)  # the loss keeps x's dtype
    per_item = np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))
    return _reduce(per_item, reduction), (x, z, reduction)


def bce_with_logits_backward(dout, cache):
    """``(dx, dz)``: dx = (sigmoid(x) - z) * g, dz = -x * g."""
    x, z, reduction = cache
    g = _item_scale(np.asarray(dout, x.dtype), reduction, x.shape)
    e = np.exp(-np.abs(x))  # sigmoid without overflow
    sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return ((sig - z) * g).astype(x.dtype, copy=False), (-x * g).astype(x.dtype, copy=False)


def mse_forward(x, y, reduction="mean"):
    """Squared error ``(x - y)**2`` in x's dtype. Returns ``(loss, cache)``."""
    diff = x - y.astype(x.dtype, copy=False)
    return _reduce(diff * diff, reduction), (diff, reduction)


def mse_backward(dout, cache):
    """``(dx, dy)`` = ``(2 (x - y) g, -2 (x - y) g)``."""
    diff, reduction = cache
    dx = 2 * diff * _item_scale(np.asarray(dout, diff.dtype), reduction, diff.shape)
    return dx, -dx


def l1_forward(x, y, reduction="mean"):
    """Absolute error ``|x - y|`` in x's dtype. Returns ``(loss, cache)``."""
    diff = x - y.astype(x.dtype, copy=False)
    return _reduce(np.abs(diff), reduction), (diff, reduction)


def l1_backward(dout, cache):
    """``(dx, dy)`` = ``(sign(x - y) g, -sign(x - y) g)``; the subgradient at 0 is 0."""
    diff, reduction = cache
    dx = np.sign(diff) * _item_scale(np.asarray(dout, diff.dtype), reduction, diff.shape)
    return dx, -dx


class BCEWithLogitsFunction(Function):
    @staticmethod
    def forward(ctx, x, z, reduction):
        loss, ctx.cache = bce_with_logits_forward(x, z, reduction)
        return loss

    @staticmethod
    def backward(ctx, grad):
        return bce_with_logits_backward(grad, ctx.cache)


class MSEFunction(Function):
    @staticmethod
    def forward(ctx, x, y, reduction):
        loss, ctx.cache = mse_forward(x, y, reduction)
        return loss

    @staticmethod
    def backward(ctx, grad):
        return mse_backward(grad, ctx.cache)


class L1Function(Function):
    @staticmethod
    def forward(ctx, x, y, reduction):
        loss, ctx.cache = l1_forward(x, y, reduction)
        return loss

    @staticmethod
    def backward(ctx, grad):
        return l1_backward(grad, ctx.cache)


def binary_cross_entropy_with_logits(x, target, reduction="mean"):
    """Like ``torch.nn.functional.binary_cross_entropy_with_logits`` (no weights)."""
    _check_pair("binary_cross_entropy_with_logits", x, target, reduction)
    return BCEWithLogitsFunction.apply(x, target, reduction=reduction)


def mse_loss(x, target, reduction="mean"):
    """Mean squared error like ``torch.nn.functional.mse_loss``."""
    _check_pair("mse_loss", x, target, reduction)
    return MSEFunction.apply(x, target, reduction=reduction)


def l1_loss(x, target, reduction="mean"):
    """Mean absolute error like ``torch.nn.functional.l1_loss``."""
    _check_pair("l1_loss", x, target, reduction)
    return L1Function.apply(x, target, reduction=reduction)
