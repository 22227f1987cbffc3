"""Losses for segmentation and detection: per-pixel and class-weighted cross-entropy, soft
Dice and soft IoU, binary cross-entropy with weights and pos_weight, sigmoid focal loss.

Each is checked against numerical gradients and against PyTorch in float64: the
built-in function where PyTorch has one, else the definition written with torch ops
(torchvision's focal loss cannot be loaded here, and PyTorch has no Dice loss)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers import losses as L
from tests.conftest import assert_grads_match
from tests.layers.dense_checks import assert_float32_matches, assert_gradcheck_normwise

reductions = st.sampled_from(["mean", "sum", "none"])
spatial = st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple)


def _labels(rng, shape, c, ignore_index):
    y = rng.integers(0, c, shape)
    y[rng.random(shape) < 0.25] = ignore_index
    return y


# ---------------------------------------------- cross-entropy per pixel and with class weights
@given(n=st.integers(1, 3), c=st.integers(2, 4), dims=spatial, weighted=st.booleans(),
       smoothing=st.sampled_from([0.0, 0.2]), ignore_index=st.sampled_from([-100, 1]), reduction=reductions,
       seed=st.integers(0, 999))
def test_cross_entropy_per_pixel_and_weighted_matches_torch(torch, n, c, dims, weighted, smoothing, ignore_index,
                                                             reduction, seed):
    rng = np.random.default_rng(seed)
    x, y = 3 * rng.standard_normal((n, c) + dims), _labels(rng, (n,) + dims, c, ignore_index)
    if reduction == "mean" and np.all(y == ignore_index):
        y.flat[0] = (ignore_index + 1) % c
    weight = rng.random(c) + 0.2 if weighted else None
    kw = dict(label_smoothing=smoothing, ignore_index=ignore_index, reduction=reduction)
    fn = lambda x: L.cross_entropy(x, y, weight, **kw)  # noqa: E731
    ref = lambda x: torch.nn.functional.cross_entropy(  # noqa: E731
        x, torch.tensor(y), None if weight is None else torch.tensor(weight, dtype=x.dtype), **kw)
    assert_grads_match(fn, ref, [x], torch, atol=1e-12)
    mg.gradcheck(fn, x / 3)
    if weight is not None:
        weight = weight.astype(np.float32)
    assert_float32_matches(fn, ref, [x / 3], torch)


def test_per_pixel_cross_entropy_is_the_mean_over_pixels_of_the_per_sample_loss():
    """(N, C, H, W) scores are N*H*W classification problems: moving classes last and
    flattening gives the same loss and the same gradient, back in (N, C, H, W)."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((2, 5, 3, 4)), rng.integers(0, 5, (2, 3, 4))
    pixels, flat = mg.Tensor(x, requires_grad=True), mg.Tensor(x.transpose(0, 2, 3, 1).reshape(-1, 5),
                                                               requires_grad=True)
    L.cross_entropy(pixels, y).backward()
    L.cross_entropy(flat, y.reshape(-1)).backward()
    np.testing.assert_allclose(pixels.grad.transpose(0, 2, 3, 1).reshape(-1, 5), flat.grad, rtol=1e-12)


@pytest.mark.parametrize("weight, match", [
    (np.ones(4), r"weight must have shape \(3,\), one per class of x, got \(4,\)"),
    (np.ones((3, 1)), r"weight must be 1-D"),
    (np.array([1.0, -1.0, 1.0]), r"weight must be finite and >= 0"),
    (np.array([1.0, np.nan, 1.0]), r"weight must be finite and >= 0"),
])
def test_cross_entropy_rejects_bad_class_weights(weight, match):
    with pytest.raises(ValueError, match=rf"^cross_entropy: {match}"):
        L.cross_entropy(np.zeros((2, 3, 4)), np.zeros((2, 4), int), weight)


def test_cross_entropy_refuses_a_weight_of_another_dtype_and_mismatched_pixel_labels():
    with pytest.raises(TypeError, match=r"^cross_entropy: weight must have the dtype of x \(float32\)"):
        L.cross_entropy(np.zeros((2, 3), np.float32), np.zeros(2, int), np.ones(3))
    with pytest.raises(ValueError, match=r"^cross_entropy: target must have shape \(2, 4, 5\) for x of shape "
                                         r"\(2, 3, 4, 5\), got \(2, 5, 4\)"):
        L.cross_entropy(np.zeros((2, 3, 4, 5)), np.zeros((2, 5, 4), int))
    with pytest.raises(ValueError, match=r"^cross_entropy: x must be \(N, C\) or"):
        L.cross_entropy(np.zeros(3), np.zeros((), int))


# ------------------------------------------------------------------ soft Dice and soft IoU
def _torch_overlap(torch, kind, probs, y, smooth, ignore_index, reduction):
    """The definition with torch ops: per (sample, class) sums over the pixels left in."""
    valid = torch.tensor(y != ignore_index)[:, None]
    onehot = torch.stack([torch.tensor(y == k) for k in range(probs.shape[1])], 1) & valid
    p, t = probs * valid, onehot.to(probs.dtype)
    axes = tuple(range(2, probs.ndim))
    inter, total = (p * t).sum(axes), p.sum(axes) + t.sum(axes)
    score = (2 * inter + smooth) / (total + smooth) if kind == "dice" else (inter + smooth) / (total - inter + smooth)
    loss = 1 - score
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


@pytest.mark.parametrize("kind", ["dice", "iou"])
@given(n=st.integers(1, 3), c=st.integers(1, 4), dims=st.lists(st.integers(1, 4), min_size=1, max_size=2).map(tuple),
       smooth=st.sampled_from([0.0, 1.0]), reduction=reductions, seed=st.integers(0, 999))
def test_overlap_losses_gradcheck_and_definition(torch, kind, n, c, dims, smooth, reduction, seed):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((n, c) + dims)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    # Without smoothing, a sample whose pixels are all left out scores 0/0: keep them all.
    y = _labels(rng, (n,) + dims, c, -100) if smooth else rng.integers(0, c, (n,) + dims)
    ours = L.dice_loss if kind == "dice" else L.soft_iou_loss
    fn = lambda p: ours(p, y, smooth=smooth, reduction=reduction)  # noqa: E731
    ref = lambda p: _torch_overlap(torch, kind, p, y, smooth, -100, reduction)  # noqa: E731
    assert_gradcheck_normwise(fn, probs)
    assert_grads_match(fn, ref, [probs], torch, atol=1e-12)
    assert_float32_matches(fn, ref, [probs], torch)


def test_overlap_losses_are_zero_for_a_perfect_prediction_and_one_for_a_disjoint_one():
    y = np.array([[[0, 1], [2, 2]]])
    perfect = np.stack([(y == k) for k in range(3)], 1).astype(float)
    wrong = np.roll(perfect, 1, axis=1)
    for loss in (L.dice_loss, L.soft_iou_loss):
        assert loss(perfect, y, smooth=0.0).item() == 0.0
        assert loss(wrong, y, smooth=0.0).item() == 1.0


def test_overlap_losses_leave_out_ignored_pixels():
    rng = np.random.default_rng(1)
    probs = rng.random((1, 2, 3, 3))
    y = rng.integers(0, 2, (1, 3, 3))
    y_ignored = y.copy()
    y_ignored[0, 0] = -100
    cropped = L.dice_loss(probs[:, :, 1:], y[:, 1:]).item()
    assert L.dice_loss(probs, y_ignored).item() == pytest.approx(cropped, rel=1e-12)


def test_overlap_losses_reject_bad_arguments():
    probs, y = np.full((1, 2, 2, 2), 0.5), np.zeros((1, 2, 2), int)
    with pytest.raises(ValueError, match=r"^dice_loss: smooth must be"):
        L.dice_loss(probs, y, smooth=-1.0)
    with pytest.raises(ValueError, match=r"^soft_iou_loss: target labels must be in \[0, 2\), got range \[0, 2\]"):
        L.soft_iou_loss(probs, y + np.array([[[0, 2], [0, 0]]]))
    with pytest.raises(TypeError, match=r"^dice_loss: target must hold integers"):
        L.dice_loss(probs, y.astype(float))


# --------------------------------------------------- binary cross-entropy: weight and pos_weight
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), use_weight=st.booleans(),
       use_pos=st.booleans(), reduction=reductions, seed=st.integers(0, 999))
def test_bce_with_weights_matches_torch(torch, shape, use_weight, use_pos, reduction, seed):
    rng = np.random.default_rng(seed)
    x, z = 3 * rng.standard_normal(shape), rng.random(shape)
    weight = rng.random(shape[-1:]) + 0.5 if use_weight else None
    pos_weight = 3 * rng.random(shape[-1:]) if use_pos else None
    fn = lambda x, z: L.binary_cross_entropy_with_logits(  # noqa: E731
        x, z, weight, reduction=reduction, pos_weight=pos_weight)
    ref = lambda x, z: torch.nn.functional.binary_cross_entropy_with_logits(  # noqa: E731
        x, z, None if weight is None else torch.tensor(weight, dtype=x.dtype), reduction=reduction,
        pos_weight=None if pos_weight is None else torch.tensor(pos_weight, dtype=x.dtype))
    assert_gradcheck_normwise(fn, x, z)
    assert_grads_match(fn, ref, [x, z], torch, atol=1e-12)
    weight = None if weight is None else weight.astype(np.float32)
    pos_weight = None if pos_weight is None else pos_weight.astype(np.float32)
    assert_float32_matches(fn, ref, [x, z], torch)


def test_bce_pos_weight_does_not_overflow():
    x = mg.Tensor(np.array([-1000.0, 0.0, 1000.0]), requires_grad=True)
    loss = L.binary_cross_entropy_with_logits(x, np.array([1.0, 1.0, 0.0]), reduction="sum",
                                              pos_weight=np.array([2.0]))
    loss.backward()
    assert loss.item() == pytest.approx(2 * 1000 + 2 * np.log(2) + 1000)
    np.testing.assert_allclose(x.grad, [-2.0, -1.0, 1.0])


def test_bce_rejects_weights_that_do_not_broadcast():
    with pytest.raises(ValueError, match=r"^binary_cross_entropy_with_logits: pos_weight must broadcast to x's "
                                         r"shape \(2, 3\), got \(2,\)"):
        L.binary_cross_entropy_with_logits(np.zeros((2, 3)), np.zeros((2, 3)), pos_weight=np.ones(2))
    with pytest.raises(ValueError, match=r"^binary_cross_entropy_with_logits: weight must be finite and >= 0"):
        L.binary_cross_entropy_with_logits(np.zeros((2, 3)), np.zeros((2, 3)), np.full(3, -1.0))


# ------------------------------------------------------------------------------- focal loss
def _torch_focal(torch, x, z, alpha, gamma, reduction):
    """RetinaNet's focal loss exactly as torchvision's ``sigmoid_focal_loss`` computes it."""
    p = torch.sigmoid(x)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(x, z, reduction="none")
    p_t = p * z + (1 - p) * (1 - z)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * z + (1 - alpha) * (1 - z)) * loss
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       alpha=st.sampled_from([0.25, 0.5, -1.0]), gamma=st.sampled_from([0.0, 0.5, 1.0, 2.0]),
       binary=st.booleans(), reduction=reductions, seed=st.integers(0, 999))
def test_sigmoid_focal_loss_gradcheck_and_torchvision_definition(torch, shape, alpha, gamma, binary, reduction,
                                                                 seed):
    rng = np.random.default_rng(seed)
    x = 3 * rng.standard_normal(shape)
    z = (rng.random(shape) < 0.3).astype(float) if binary else rng.random(shape)
    fn = lambda x: L.sigmoid_focal_loss(x, z, alpha, gamma, reduction)  # noqa: E731
    ref = lambda x: _torch_focal(torch, x, torch.tensor(z, dtype=x.dtype), alpha, gamma, reduction)  # noqa: E731
    assert_gradcheck_normwise(fn, x)
    assert_grads_match(fn, ref, [x], torch, atol=1e-12)
    z = z.astype(np.float32)
    assert_float32_matches(fn, ref, [x], torch)


def test_focal_loss_gradient_is_finite_at_a_certain_prediction_with_gamma_below_one():
    x = mg.Tensor(np.array([-800.0, 800.0]), requires_grad=True)
    L.sigmoid_focal_loss(x, np.array([0.0, 1.0]), gamma=0.5, reduction="sum").backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(alpha=1.5), r"alpha must be"), (dict(gamma=-1.0), r"gamma must be"), (dict(gamma=np.nan), r"gamma must"),
])
def test_focal_loss_rejects_bad_hyper_parameters(kwargs, match):
    with pytest.raises(ValueError, match=rf"^sigmoid_focal_loss: {match}"):
        L.sigmoid_focal_loss(np.zeros(3), np.zeros(3), **kwargs)
