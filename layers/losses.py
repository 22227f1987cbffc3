"""Losses: softmax cross-entropy (per sample or per pixel), multiclass SVM
hinge, binary cross-entropy with logits, focal, MSE, L1, smooth L1, soft Dice
and soft IoU, and the CS231n temporal softmax loss.

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
    # Nothing counted (every item ignored, or zero weights): the loss is NaN and no item
    # gets a gradient.
    return np.broadcast_to(dout / count if count else np.zeros_like(dout), shape)


# ------------------------------------------------- softmax cross-entropy
def _classes_last(x, target):
    """(N, C, d1, ..., dk) logits and (N, d1, ..., dk) labels as (M, C) rows and (M,) labels."""
    if x.ndim == 2:
        return np.ascontiguousarray(x), np.ascontiguousarray(target, dtype=np.int64)
    rows = np.ascontiguousarray(np.moveaxis(x, 1, -1)).reshape(-1, x.shape[1])
    return rows, np.ascontiguousarray(target, dtype=np.int64).reshape(-1)


def _classes_back(rows, shape):
    """Inverse of ``_classes_last`` for an (M, C) gradient of logits of ``shape``."""
    if len(shape) == 2:
        return rows
    return np.moveaxis(rows.reshape(shape[:1] + shape[2:] + shape[1:2]), -1, 1)


def cross_entropy_forward(x, target, weight=None, label_smoothing=0.0, ignore_index=-100, reduction="mean"):
    """Softmax cross-entropy of logits against integer labels, per sample or per pixel.

    Parameters
    ----------
    x : (N, C) or (N, C, d1, ..., dk) logits (``-inf`` masks a class)
        Classes on axis 1, as in PyTorch: (N, C, H, W) scores a segmentation.
    target : (N,) or (N, d1, ..., dk) int labels in [0, C), or ``ignore_index``
        (no loss, no gradient)
    weight : (C,) class weights or None, x's dtype
        Item i's loss is scaled by ``weight[target_i]``, and 'mean' divides by
        the sum of those weights (PyTorch's weighted mean), not by the count.
    label_smoothing : float in [0, 1]
        The target distribution is ``(1 - s) * onehot(target) + s / C``; with
        ``weight``, the term of class c is scaled by ``weight[c]``, as in PyTorch.
    reduction : 'mean' (over non-ignored items) | 'sum' | 'none'

    Returns
    -------
    loss : () or the shape of ``target``, x's dtype
    cache : for ``cross_entropy_backward``
    """
    rows, labels = _classes_last(x, target)
    ignored = labels == ignore_index
    if weight is None:
        per_item, probs = _k.cross_entropy_forward(rows, labels, ignore_index, label_smoothing)
        item_weight, total = None, int(np.count_nonzero(~ignored))
    else:
        nll, probs = _k.cross_entropy_forward(rows, labels, ignore_index, 0.0)
        item_weight = np.where(ignored, 0.0, weight[np.where(ignored, 0, labels)])
        per_item = (1.0 - label_smoothing) * item_weight * nll
        if label_smoothing:
            # sum_c weight_c * -log p_c = sum(weight) * logsumexp(x) - x . weight
            row_max = rows.max(axis=1, keepdims=True)
            lse = (row_max + np.log(np.exp(rows - row_max).sum(axis=1, keepdims=True)))[:, 0]
            smooth = weight.sum() * lse - rows @ weight
            per_item += np.where(ignored, 0.0, label_smoothing / rows.shape[1] * smooth)
        total = item_weight.sum()
    loss = _reduce(per_item.reshape(x.shape[:1] + x.shape[2:]), reduction, total)
    return loss.astype(x.dtype), (probs, labels, weight, item_weight, label_smoothing, ignore_index, reduction,
                                  total, x.shape)


def cross_entropy_backward(dout, cache):
    """``(dx, None, None)`` of ``cross_entropy_forward``: dx has x's shape; labels and
    class weights get no gradient."""
    probs, labels, weight, item_weight, smoothing, ignore_index, reduction, total, shape = cache
    scale = _item_scale(np.asarray(dout, np.float64), reduction, shape[:1] + shape[2:], total)
    scale = np.ascontiguousarray(np.reshape(scale, -1))
    if weight is None:
        return _classes_back(_k.cross_entropy_backward(probs, labels, scale, ignore_index, smoothing),
                             shape), None, None
    # d/dx of (1-s) w_y (lse - x_y) + (s/C) sum_c w_c (lse - x_c)
    n_classes = probs.shape[1]
    uniform = smoothing / n_classes
    drow = probs * ((1.0 - smoothing) * item_weight + uniform * weight.sum())[:, None] - uniform * weight
    drow[np.arange(len(labels)), np.where(labels == ignore_index, 0, labels)] -= (1.0 - smoothing) * item_weight
    drow[labels == ignore_index] = 0.0
    return _classes_back((drow * scale[:, None]).astype(probs.dtype), shape), None, None


CrossEntropyFunction = Function.from_pair(cross_entropy_forward, cross_entropy_backward)


def _check_labels(func, x, target, ignore_index=None):
    """Validate logits ``x`` (N, C, ...) and labels ``target`` (N, ...); returns their arrays."""
    xa = check_float_array(func, "x", x, layout="(N, C) or (N, C, d1, ..., dk)")
    ta = check_int_array(func, "target", target)
    if xa.ndim < 2:
        raise ValueError(f"{func}: x must be (N, C) or (N, C, d1, ..., dk), got shape {xa.shape}")
    if ta.shape != xa.shape[:1] + xa.shape[2:]:
        raise ValueError(f"{func}: target must have shape {xa.shape[:1] + xa.shape[2:]} for x of shape "
                         f"{xa.shape}, got {ta.shape}")
    valid = ta if ignore_index is None else ta[ta != ignore_index]
    if valid.size and (valid.min() < 0 or valid.max() >= xa.shape[1]):
        raise ValueError(f"{func}: target labels must be in [0, {xa.shape[1]}), "
                         f"got range [{valid.min()}, {valid.max()}]")
    return xa, ta


def _check_class_weight(func, weight, x):
    """``weight`` as a (C,) array of x's dtype with no negative or non-finite entry, or None."""
    if weight is None:
        return None
    wa = check_float_array(func, "weight", weight, ndim=1, layout="(C,)")
    check_same_dtype(func, x=x, weight=wa)
    if wa.shape[0] != x.shape[1]:
        raise ValueError(f"{func}: weight must have shape ({x.shape[1]},), one per class of x, got {wa.shape}")
    if not np.all(np.isfinite(wa)) or np.any(wa < 0):
        raise ValueError(f"{func}: weight must be finite and >= 0, got {wa}")
    return wa


def cross_entropy(x, target, weight=None, label_smoothing=0.0, ignore_index=-100, reduction="mean"):
    """Softmax cross-entropy like ``torch.nn.functional.cross_entropy``.

    Parameters
    ----------
    x : Tensor (N, C) or (N, C, d1, ..., dk) logits, float32 or float64
        Classes on axis 1: (N, C, H, W) scores give a per-pixel loss
        (segmentation). ``-inf`` masks a class; NaN gives a NaN loss.
    target : int array or Tensor (N,) or (N, d1, ..., dk)
        Class labels in [0, C), or ``ignore_index``.
    weight : array (C,) or None
        Non-negative class weights (x's dtype), e.g. inverse class frequencies
        against a dominant background; 'mean' then divides by the summed
        weights of the targets, as PyTorch does.
    label_smoothing : float in [0, 1]
    ignore_index : int
        Items with this label add nothing; 'mean' divides by the others.
    reduction : 'mean' | 'sum' | 'none'
    """
    func = "cross_entropy"
    ignore_index = check_int(func, "ignore_index", ignore_index)
    xa, ta = _check_labels(func, x, target, ignore_index)
    weight = _check_class_weight(func, weight, xa)
    check_choice(func, "reduction", reduction, _REDUCTIONS)
    label_smoothing = check_number(func, "label_smoothing", label_smoothing, low=0, high=1)
    return CrossEntropyFunction.apply(x, ta, weight, label_smoothing=label_smoothing, ignore_index=ignore_index,
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
def _softplus(x):
    """``log(1 + exp(x))`` without overflow."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def bce_with_logits_forward(x, target, weight=None, pos_weight=None, reduction="mean"):
    """Binary cross-entropy of logits ``x`` against targets ``z`` in [0, 1].

    Per item ``(1 - z) x + (1 + (pos_weight - 1) z) softplus(-x)`` (equal to
    ``-[pos_weight z log s(x) + (1 - z) log(1 - s(x))]``, s the sigmoid, but it
    never overflows), times ``weight``.

    x, target : same shape and dtype
    weight, pos_weight : None or arrays broadcastable to x (pos_weight usually
        (C,), one per class on the last axis); they get no gradient.
    Returns ``(loss, cache)``.
    """
    log_weight = 1.0 if pos_weight is None else 1.0 + (pos_weight - 1.0) * target
    soft_neg = _softplus(-x)
    per_item = (1.0 - target) * x + log_weight * soft_neg
    if weight is not None:
        per_item = per_item * weight
    return _reduce(per_item.astype(x.dtype, copy=False), reduction), (x, target, weight, pos_weight, log_weight,
                                                                      soft_neg, reduction)


def bce_with_logits_backward(dout, cache):
    """``(dx, dtarget)``: ``dx = ((1 - z) - lw (1 - s(x))) g``, ``dtarget = (-x + (pos_weight - 1)
    softplus(-x)) g``, with ``lw = 1 + (pos_weight - 1) z`` and ``g`` the upstream gradient times ``weight``."""
    x, z, weight, pos_weight, log_weight, soft_neg, reduction = cache
    g = _item_scale(np.asarray(dout, x.dtype), reduction, x.shape)
    if weight is not None:
        g = g * weight
    sig, _ = sigmoid_forward(x)  # the overflow-safe sigmoid
    dx = ((1.0 - z) - log_weight * (1.0 - sig)) * g
    dz = -x if pos_weight is None else -x + (pos_weight - 1.0) * soft_neg
    return dx.astype(x.dtype, copy=False), (dz * g).astype(x.dtype, copy=False)


def smooth_l1_forward(x, target, beta=1.0, reduction="mean"):
    """Huber-like box-regression loss: ``0.5 d**2 / beta`` where ``|d| < beta``, else
    ``|d| - 0.5 beta`` (``d = x - target``; ``beta = 0`` is the L1 loss).
    Returns ``(loss, cache)``."""
    diff = x - target
    small = np.abs(diff) < beta
    per_item = np.where(small, 0.5 * diff * diff / (beta if beta else 1.0), np.abs(diff) - 0.5 * beta)
    return _reduce(per_item.astype(x.dtype, copy=False), reduction), (diff, small, beta, reduction)


def smooth_l1_backward(dout, cache):
    """``(dx, dtarget)`` = ``(g d / beta or g sign(d), -dx)``."""
    diff, small, beta, reduction = cache
    slope = np.where(small, diff / (beta if beta else 1.0), np.sign(diff))
    dx = (slope * _item_scale(np.asarray(dout, diff.dtype), reduction, diff.shape)).astype(diff.dtype, copy=False)
    return dx, -dx


def sigmoid_focal_forward(x, target, alpha=0.25, gamma=2.0, reduction="none"):
    """Focal loss of RetinaNet on logits: ``alpha_t (1 - p_t)**gamma * bce(x, z)``.

    ``p = sigmoid(x)``, ``p_t = p z + (1 - p)(1 - z)`` (the probability of the
    true outcome) and ``alpha_t = alpha z + (1 - alpha)(1 - z)``; ``alpha < 0``
    turns the class balance off. ``gamma = 0`` is the (alpha-weighted) BCE.
    Returns ``(loss, cache)``; ``reduction`` defaults to 'none' as in torchvision.
    """
    p, _ = sigmoid_forward(x)
    ce = _softplus(x) - x * target
    one_minus_pt = 1.0 - (p * target + (1.0 - p) * (1.0 - target))
    modulating = one_minus_pt ** gamma if gamma else np.ones_like(x)
    alpha_t = 1.0 if alpha < 0 else alpha * target + (1.0 - alpha) * (1.0 - target)
    per_item = alpha_t * ce * modulating
    return _reduce(per_item.astype(x.dtype, copy=False), reduction), (x, target, p, ce, one_minus_pt, modulating,
                                                                      alpha_t, gamma, reduction)


def sigmoid_focal_backward(dout, cache):
    """``(dx, None)``: ``alpha_t [(p - z) m + ce dm/dx]`` with ``m = (1 - p_t)**gamma`` and
    ``dm/dx = -gamma (1 - p_t)**(gamma - 1) p (1 - p) (2z - 1)``; targets get no gradient."""
    x, z, p, ce, one_minus_pt, modulating, alpha_t, gamma, reduction = cache
    g = _item_scale(np.asarray(dout, x.dtype), reduction, x.shape)
    dx = (p - z) * modulating
    if gamma:
        # (1 - p_t)**(gamma - 1) is inf where p_t == 1 and gamma < 1, but there p (1 - p) is 0:
        # the product's limit is 0.
        with np.errstate(divide="ignore", invalid="ignore"):
            power = np.where(one_minus_pt > 0, one_minus_pt ** (gamma - 1.0), 0.0)
        dx = dx - ce * gamma * power * p * (1.0 - p) * (2.0 * z - 1.0)
    return (alpha_t * dx * g).astype(x.dtype, copy=False), None


def overlap_forward(probs, target, kind="dice", smooth=1.0, ignore_index=-100, reduction="mean"):
    """Soft Dice or soft IoU (Jaccard) loss of class probabilities against labels.

    With ``t`` the one-hot labels, per sample n and class c over the pixels:
    ``I = sum p t``, ``P = sum p``, ``T = sum t``; Dice scores ``(2I + s) / (P + T + s)``,
    IoU scores ``(I + s) / (P + T - I + s)`` (the segmentation notes' I / U made
    differentiable), and the loss is ``1 - score``. ``smooth`` (s) keeps a class
    absent from both prediction and truth at score 1 rather than 0/0.

    Parameters
    ----------
    probs : (N, C, d1, ..., dk) probabilities (a softmax over axis 1)
    target : (N, d1, ..., dk) int labels in [0, C) or ``ignore_index`` (pixel left out)

    Returns
    -------
    loss : () or (N, C) with ``reduction='none'``
    cache : for ``overlap_backward``
    """
    valid = (target != ignore_index)[:, None]
    onehot = (np.arange(probs.shape[1]).reshape((1, -1) + (1,) * (probs.ndim - 2)) == target[:, None]) & valid
    onehot = onehot.astype(probs.dtype)
    masked = probs * valid
    axes = tuple(range(2, probs.ndim))
    inter, total = (masked * onehot).sum(axis=axes), masked.sum(axis=axes) + onehot.sum(axis=axes)
    denom = total + smooth if kind == "dice" else total - inter + smooth
    score = ((2.0 * inter if kind == "dice" else inter) + smooth) / denom
    return _reduce(1.0 - score, reduction), (onehot, valid, score, denom, kind, reduction)


def overlap_backward(dout, cache):
    """``(dprobs, None)``: Dice ``d score / d p = (2t - score) / (P + T + s)``, IoU
    ``(t - score (1 - t)) / (P + T - I + s)``; left-out pixels get 0."""
    onehot, valid, score, denom, kind, reduction = cache
    g = _item_scale(np.asarray(dout, score.dtype), reduction, score.shape)
    expand = (slice(None), slice(None)) + (None,) * (onehot.ndim - 2)
    if kind == "dice":
        dscore = (2.0 * onehot - score[expand]) / denom[expand]
    else:
        dscore = (onehot - score[expand] * (1.0 - onehot)) / denom[expand]
    return (-g[expand] * dscore * valid).astype(onehot.dtype, copy=False), None


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
SmoothL1Function = Function.from_pair(smooth_l1_forward, smooth_l1_backward)
SigmoidFocalFunction = Function.from_pair(sigmoid_focal_forward, sigmoid_focal_backward)
OverlapFunction = Function.from_pair(overlap_forward, overlap_backward)
MSEFunction = Function.from_pair(mse_forward, mse_backward)
L1Function = Function.from_pair(l1_forward, l1_backward)


def _check_pair(func, x, target, reduction):
    """x and target: float arrays of one shape and one dtype; a known reduction."""
    xa, ta = check_float_array(func, "x", x), check_float_array(func, "target", target)
    if xa.shape != ta.shape:
        raise ValueError(f"{func}: target must have x's shape {xa.shape}, got {ta.shape}")
    check_same_dtype(func, x=xa, target=ta)
    check_choice(func, "reduction", reduction, _REDUCTIONS)
    return xa, ta


def _check_broadcast_weight(func, name, weight, x):
    """An optional weight array: x's dtype, broadcastable to x's shape, finite and >= 0."""
    if weight is None:
        return None
    wa = check_float_array(func, name, weight)
    check_same_dtype(func, x=x, **{name: wa})
    try:
        np.broadcast_shapes(wa.shape, x.shape)
    except ValueError:
        raise ValueError(f"{func}: {name} must broadcast to x's shape {x.shape}, got {wa.shape}") from None
    if not np.all(np.isfinite(wa)) or np.any(wa < 0):
        raise ValueError(f"{func}: {name} must be finite and >= 0")
    return wa


def binary_cross_entropy_with_logits(x, target, weight=None, reduction="mean", pos_weight=None):
    """Like ``torch.nn.functional.binary_cross_entropy_with_logits``.

    Parameters
    ----------
    x, target : Tensors of one shape and dtype (float32 or float64); target in [0, 1]
    weight : array broadcastable to x, or None
        Rescales each item's loss.
    reduction : 'mean' | 'sum' | 'none'
    pos_weight : array broadcastable to x, or None
        Weight of the positive term, usually (C,) for the classes on the last
        axis: ``n_negative / n_positive`` of a class balances its rare positives.
    """
    func = "binary_cross_entropy_with_logits"
    xa, _ = _check_pair(func, x, target, reduction)
    return BCEWithLogitsFunction.apply(x, target, weight=_check_broadcast_weight(func, "weight", weight, xa),
                                       pos_weight=_check_broadcast_weight(func, "pos_weight", pos_weight, xa),
                                       reduction=reduction)


def smooth_l1_loss(x, target, reduction="mean", beta=1.0):
    """Smooth L1 (Huber-like) loss like ``torch.nn.functional.smooth_l1_loss``, the box
    regression loss of Fast R-CNN; x, target as in BCE, ``beta >= 0``."""
    func = "smooth_l1_loss"
    _check_pair(func, x, target, reduction)
    beta = check_number(func, "beta", beta, low=0)
    return SmoothL1Function.apply(x, target, beta=beta, reduction=reduction)


def sigmoid_focal_loss(x, target, alpha=0.25, gamma=2.0, reduction="none"):
    """Focal loss of RetinaNet, as ``torchvision.ops.sigmoid_focal_loss`` defines it.

    Parameters
    ----------
    x, target : Tensors of one shape and dtype; target in [0, 1] (no gradient)
    alpha : float in [0, 1], or negative to disable the class balance
    gamma : float >= 0, how much easy examples are down-weighted
    reduction : 'none' (default, as torchvision) | 'mean' | 'sum'
    """
    func = "sigmoid_focal_loss"
    _check_pair(func, x, target, reduction)
    alpha = check_number(func, "alpha", alpha, high=1)
    gamma = check_number(func, "gamma", gamma, low=0)
    return SigmoidFocalFunction.apply(x, array_of(target), alpha=alpha, gamma=gamma, reduction=reduction)


def _overlap_loss(func, kind, probs, target, smooth, ignore_index, reduction):
    ignore_index = check_int(func, "ignore_index", ignore_index)
    _, ta = _check_labels(func, probs, target, ignore_index)
    check_choice(func, "reduction", reduction, _REDUCTIONS)
    smooth = check_number(func, "smooth", smooth, low=0)
    return OverlapFunction.apply(probs, ta, kind=kind, smooth=smooth, ignore_index=ignore_index,
                                 reduction=reduction)


def dice_loss(probs, target, smooth=1.0, ignore_index=-100, reduction="mean"):
    """Soft Dice loss ``1 - (2 I + s) / (P + T + s)`` per sample and class (see ``overlap_forward``).

    Parameters
    ----------
    probs : Tensor (N, C, d1, ..., dk), class probabilities, e.g. ``softmax(scores, axis=1)``
    target : int array (N, d1, ..., dk), labels in [0, C) or ``ignore_index``
    smooth : float >= 0, added to numerator and denominator
    ignore_index : int, label of pixels left out of every sum
    reduction : 'mean' (over samples and classes) | 'sum' | 'none' ((N, C))
    """
    return _overlap_loss("dice_loss", "dice", probs, target, smooth, ignore_index, reduction)


def soft_iou_loss(probs, target, smooth=1.0, ignore_index=-100, reduction="mean"):
    """Soft IoU (Jaccard) loss ``1 - (I + s) / (P + T - I + s)``; arguments as in ``dice_loss``."""
    return _overlap_loss("soft_iou_loss", "iou", probs, target, smooth, ignore_index, reduction)


def mse_loss(x, target, reduction="mean"):
    """Mean squared error like ``torch.nn.functional.mse_loss``; x, target as in BCE."""
    _check_pair("mse_loss", x, target, reduction)
    return MSEFunction.apply(x, target, reduction=reduction)


def l1_loss(x, target, reduction="mean"):
    """Mean absolute error like ``torch.nn.functional.l1_loss``; x, target as in BCE."""
    _check_pair("l1_loss", x, target, reduction)
    return L1Function.apply(x, target, reduction=reduction)
