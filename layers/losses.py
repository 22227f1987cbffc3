"""Losses: softmax cross-entropy, multiclass SVM hinge, binary cross-entropy
with logits, MSE, L1 and the CS231n temporal softmax loss.

Every loss takes ``(x, target, ...)``: the prediction, then what it is
compared with, then options. Element-wise losses take ``reduction`` in
``'mean' | 'sum' | 'none'`` like ``torch.nn.functional``. Each functional
pair returns the loss (a 0-d array unless ``reduction='none'``) and a cache;
the backward takes the upstream gradient of that loss and returns one
gradient per input (None for integer targets and masks).

Inputs are not scanned for NaN/inf: a NaN logit gives a NaN loss, as in
PyTorch, which the training loop's non-finite guard then reports. ``-inf``
logits are legitimate (masked classes).
"""
import numpy as np

from minigrad import Function
from minigrad.activations import sigmoid_forward
from minigrad.validation import (
    array_of, check_choice, check_float_array, check_int, check_int_array, check_number,
    check_same_dtype,
)

from ._kernels import losses as _k

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
def cross_entropy_forward(x, target, label_smoothing=0.0, ignore_index=-100, reduction="mean"):
    """Softmax cross-entropy of logits against integer labels.

    Parameters
    ----------
    x : (N, C) logits (``-inf`` masks a class)
    target : (N,) int labels in [0, C), or ``ignore_index`` (no loss, no gradient)
    label_smoothing : float in [0, 1]
        The target distribution is ``(1 - s) * onehot(target) + s / C``.
    reduction : 'mean' (over non-ignored rows) | 'sum' | 'none'

    Returns
    -------
    loss : () or (N,), x's dtype
    cache : for ``cross_entropy_backward``
    """
    x = np.ascontiguousarray(x)
    target = np.ascontiguousarray(target, dtype=np.int64)
    per_row, probs = _k.cross_entropy_forward(x, target, ignore_index, label_smoothing)
    count = int(np.count_nonzero(target != ignore_index))
    loss = _reduce(per_row, reduction, count).astype(x.dtype)
    return loss, (probs, target, label_smoothing, ignore_index, reduction, count)


def cross_entropy_backward(dout, cache):
    """``(dx (N, C), None)`` of ``cross_entropy_forward`` (labels get no gradient)."""
    probs, target, smoothing, ignore_index, reduction, count = cache
    scale = np.ascontiguousarray(_item_scale(np.asarray(dout, np.float64), reduction, target.shape, count))
    return _k.cross_entropy_backward(probs, target, scale, ignore_index, smoothing), None


CrossEntropyFunction = Function.from_pair(cross_entropy_forward, cross_entropy_backward)


def _check_labels(func, x, target, ignore_index=None):
    """Validate logits ``x`` (N, C) and labels ``target`` (N,); returns their arrays."""
    xa, ta = check_float_array(func, "x", x, ndim=2, layout="(N, C)"), check_int_array(func, "target", target)
    if ta.shape != xa.shape[:1]:
        raise ValueError(f"{func}: target must have shape ({xa.shape[0]},) for x of shape {xa.shape}, "
                         f"got {ta.shape}")
    valid = ta if ignore_index is None else ta[ta != ignore_index]
    if valid.size and (valid.min() < 0 or valid.max() >= xa.shape[1]):
        raise ValueError(f"{func}: target labels must be in [0, {xa.shape[1]}), "
                         f"got range [{valid.min()}, {valid.max()}]")
    return xa, ta


def cross_entropy(x, target, label_smoothing=0.0, ignore_index=-100, reduction="mean"):
    """Softmax cross-entropy like ``torch.nn.functional.cross_entropy`` (no class weights).

    Parameters
    ----------
    x : Tensor (N, C) logits, float32 or float64
        ``-inf`` masks a class; NaN gives a NaN loss.
    target : int array or Tensor (N,)
        Class labels in [0, C), or ``ignore_index``.
    label_smoothing : float in [0, 1]
    ignore_index : int
        Rows with this label add nothing; 'mean' divides by the other rows.
    reduction : 'mean' | 'sum' | 'none'
    """
    func = "cross_entropy"
    ignore_index = check_int(func, "ignore_index", ignore_index)
    _, ta = _check_labels(func, x, target, ignore_index)
    check_choice(func, "reduction", reduction, _REDUCTIONS)
    label_smoothing = check_number(func, "label_smoothing", label_smoothing, low=0, high=1)
    return CrossEntropyFunction.apply(x, ta, label_smoothing=label_smoothing, ignore_index=ignore_index,
                                      reduction=reduction)


# ------------------------------------------------- temporal softmax loss
def temporal_softmax_loss_forward(x, target, mask):
    """CS231n's temporal softmax loss: cross-entropy summed over the steps where
    ``mask`` is true, divided by the batch size N.

    Parameters
    ----------
    x : (N, T, V) scores
    target : (N, T) int labels in [0, V)
    mask : (N, T) bool (or 0/1)

    Returns
    -------
    loss : (), x's dtype
    cache : for ``temporal_softmax_loss_backward``
    """
    n, t, v = x.shape
    x2 = np.ascontiguousarray(x).reshape(n * t, v)
    y2 = np.ascontiguousarray(target, dtype=np.int64).reshape(-1)
    weights = np.asarray(mask, dtype=np.float64).reshape(-1) / max(n, 1)
    per_row, probs = _k.cross_entropy_forward(x2, y2, -1, 0.0)
    loss = np.asarray(per_row @ weights, dtype=x.dtype)
    return loss, (probs, y2, weights, x.shape)


def temporal_softmax_loss_backward(dout, cache):
    """``(dx (N, T, V), None, None)`` of ``temporal_softmax_loss_forward``."""
    probs, y2, weights, shape = cache
    dx = _k.cross_entropy_backward(probs, y2, weights * float(dout), -1, 0.0).reshape(shape)
    return dx, None, None


TemporalSoftmaxLossFunction = Function.from_pair(temporal_softmax_loss_forward, temporal_softmax_loss_backward)


def temporal_softmax_loss(x, target, mask):
    """CS231n temporal softmax loss of a Tensor ``x`` (N, T, V) with labels
    ``target`` (N, T) in [0, V) and ``mask`` (N, T), bool or 0/1: summed over
    the valid steps, divided by N."""
    func = "temporal_softmax_loss"
    xa = check_float_array(func, "x", x, ndim=3, layout="(N, T, V)")
    ta, ma = check_int_array(func, "target", target), array_of(mask)
    for name, a in (("target", ta), ("mask", ma)):
        if a.shape != xa.shape[:2]:
            raise ValueError(f"{func}: {name} must have shape {xa.shape[:2]} for x of shape {xa.shape}, "
                             f"got {a.shape}")
    if ma.dtype.kind not in "biuf":
        raise TypeError(f"{func}: mask must be bool or numbers 0/1, got dtype {ma.dtype}")
    if ma.dtype != bool and not np.isin(ma, (0, 1)).all():
        bad = ma[~np.isin(ma, (0, 1))].flat[0].item()
        raise ValueError(f"{func}: mask must hold only 0 and 1 (or bools), got {bad!r}")
    if ta.size and (ta.min() < 0 or ta.max() >= xa.shape[2]):
        raise ValueError(f"{func}: target labels must be in [0, {xa.shape[2]}), got range [{ta.min()}, {ta.max()}]")
    return TemporalSoftmaxLossFunction.apply(x, ta, ma)


# ------------------------------------------------------ multiclass SVM
def svm_loss_forward(x, target, margin=1.0, reduction="mean"):
    """Multiclass SVM (hinge) loss, CS231n's form:
    ``loss_i = sum_{j != y_i} max(0, x_ij - x_iy + margin)`` with ``y = target``.

    ``torch.nn.functional.multi_margin_loss`` is this divided by C.

    Parameters
    ----------
    x : (N, C) scores
    target : (N,) int labels in [0, C)
    margin : float
    reduction : 'mean' | 'sum' | 'none'

    Returns
    -------
    loss : () or (N,)
    cache : for ``svm_loss_backward``
    """
    rows = np.arange(x.shape[0])
    margins = x - x[rows, target][:, None] + x.dtype.type(margin)
    np.maximum(margins, 0, out=margins)
    margins[rows, target] = 0
    return _reduce(margins.sum(axis=1), reduction), (margins > 0, target, reduction, x.dtype)


def svm_loss_backward(dout, cache):
    """``(dx (N, C), None)``: ``+scale`` on every positive margin, ``-count * scale`` on the label."""
    active, target, reduction, dtype = cache
    scale = _item_scale(np.asarray(dout), reduction, target.shape)[:, None]
    dx = (active * scale).astype(dtype)
    dx[np.arange(target.size), target] -= active.sum(axis=1) * scale[:, 0]
    return dx, None


SVMLossFunction = Function.from_pair(svm_loss_forward, svm_loss_backward)


def svm_loss(x, target, margin=1.0, reduction="mean"):
    """Multiclass SVM hinge loss (CS231n) of Tensor scores ``x`` (N, C) and labels ``target`` (N,).

    ``margin`` is a finite float; ``reduction`` 'mean' | 'sum' | 'none'.
    """
    _, ta = _check_labels("svm_loss", x, target)
    check_choice("svm_loss", "reduction", reduction, _REDUCTIONS)
    margin = check_number("svm_loss", "margin", margin)
    return SVMLossFunction.apply(x, ta.astype(np.int64), margin=margin, reduction=reduction)


# ------------------------------------------ element-wise (x, target) losses
def bce_with_logits_forward(x, target, reduction="mean"):
    """Binary cross-entropy of logits ``x`` against targets ``z`` in [0, 1]:
    ``max(x, 0) - x * z + log(1 + exp(-|x|))``, which never overflows.

    x, target : same shape and dtype. Returns ``(loss, cache)``.
    """
    per_item = np.maximum(x, 0) - x * target + np.log1p(np.exp(-np.abs(x)))
    return _reduce(per_item, reduction), (x, target, reduction)


def bce_with_logits_backward(dout, cache):
    """``(dx, dtarget)``: dx = (sigmoid(x) - z) * g, dtarget = -x * g."""
    x, z, reduction = cache
    g = _item_scale(np.asarray(dout, x.dtype), reduction, x.shape)
    sig, _ = sigmoid_forward(x)  # the overflow-safe sigmoid
    return ((sig - z) * g).astype(x.dtype, copy=False), (-x * g).astype(x.dtype, copy=False)


def mse_forward(x, target, reduction="mean"):
    """Squared error ``(x - target)**2``. Returns ``(loss, cache)``."""
    diff = x - target
    return _reduce(diff * diff, reduction), (diff, reduction)


def mse_backward(dout, cache):
    """``(dx, dtarget)`` = ``(2 (x - target) g, -2 (x - target) g)``."""
    diff, reduction = cache
    dx = 2 * diff * _item_scale(np.asarray(dout, diff.dtype), reduction, diff.shape)
    return dx, -dx


def l1_forward(x, target, reduction="mean"):
    """Absolute error ``|x - target|``. Returns ``(loss, cache)``."""
    diff = x - target
    return _reduce(np.abs(diff), reduction), (diff, reduction)


def l1_backward(dout, cache):
    """``(dx, dtarget)`` = ``(sign(x - target) g, -sign(x - target) g)``; the subgradient at 0 is 0."""
    diff, reduction = cache
    dx = np.sign(diff) * _item_scale(np.asarray(dout, diff.dtype), reduction, diff.shape)
    return dx, -dx


BCEWithLogitsFunction = Function.from_pair(bce_with_logits_forward, bce_with_logits_backward)
MSEFunction = Function.from_pair(mse_forward, mse_backward)
L1Function = Function.from_pair(l1_forward, l1_backward)


def _check_pair(func, x, target, reduction):
    """x and target: float arrays of one shape and one dtype; a known reduction."""
    xa, ta = check_float_array(func, "x", x), check_float_array(func, "target", target)
    if xa.shape != ta.shape:
        raise ValueError(f"{func}: target must have x's shape {xa.shape}, got {ta.shape}")
    check_same_dtype(func, x=xa, target=ta)
    check_choice(func, "reduction", reduction, _REDUCTIONS)


def binary_cross_entropy_with_logits(x, target, reduction="mean"):
    """Like ``torch.nn.functional.binary_cross_entropy_with_logits`` (no weights).

    x, target : Tensors of one shape and dtype (float32 or float64); target in [0, 1].
    """
    _check_pair("binary_cross_entropy_with_logits", x, target, reduction)
    return BCEWithLogitsFunction.apply(x, target, reduction=reduction)


def mse_loss(x, target, reduction="mean"):
    """Mean squared error like ``torch.nn.functional.mse_loss``; x, target as in BCE."""
    _check_pair("mse_loss", x, target, reduction)
    return MSEFunction.apply(x, target, reduction=reduction)


def l1_loss(x, target, reduction="mean"):
    """Mean absolute error like ``torch.nn.functional.l1_loss``; x, target as in BCE."""
    _check_pair("l1_loss", x, target, reduction)
    return L1Function.apply(x, target, reduction=reduction)
