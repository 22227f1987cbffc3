import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers import losses as L
from tests.conftest import assert_close, assert_grads_match
from tests.layers.dense_checks import assert_float32_matches, assert_gradcheck_normwise, away_from

reductions = st.sampled_from(["mean", "sum", "none"])


def _labels(rng, n, c, ignore_frac=0.0, ignore_index=-100):
    y = rng.integers(0, c, n)
    y[rng.random(n) < ignore_frac] = ignore_index
    return y


# ---------------------------------------------------------- cross-entropy
@given(n=st.integers(1, 6), c=st.integers(2, 6), smoothing=st.sampled_from([0.0, 0.1, 0.7]),
       reduction=reductions, ignore=st.booleans(), seed=st.integers(0, 999))
def test_cross_entropy_gradcheck(n, c, smoothing, reduction, ignore, seed):
    rng = np.random.default_rng(seed)
    # Unit-scale logits: a probability near 0 gives a gradient element so small that
    # central-difference round-off dominates its relative error.
    x, y = rng.standard_normal((n, c)), _labels(rng, n, c, 0.3 * ignore)
    if reduction == "mean" and np.all(y == -100):
        y[0] = 0  # a mean over no rows is NaN (tested separately)
    mg.gradcheck(lambda x: L.cross_entropy(x, y, label_smoothing=smoothing, reduction=reduction), x)


@given(n=st.integers(1, 6), c=st.integers(2, 6), smoothing=st.sampled_from([0.0, 0.1, 0.7]),
       reduction=reductions, ignore_index=st.sampled_from([-100, 1]), seed=st.integers(0, 999))
def test_cross_entropy_matches_torch(torch, n, c, smoothing, reduction, ignore_index, seed):
    rng = np.random.default_rng(seed)
    x, y = 5 * rng.standard_normal((n, c)), _labels(rng, n, c, 0.3, ignore_index)
    if reduction == "mean" and np.all(y == ignore_index):
        y[0] = (ignore_index + 1) % c
    kw = dict(label_smoothing=smoothing, ignore_index=ignore_index, reduction=reduction)
    fn = lambda x: L.cross_entropy(x, y, **kw)  # noqa: E731
    ref = lambda x: torch.nn.functional.cross_entropy(x, torch.tensor(y), **kw)  # noqa: E731
    assert_grads_match(fn, ref, [x], torch, atol=1e-12)
    # Unit-scale logits in float32: a saturated row's gradient (p - onehot) is
    # below float32's resolution of p, in any implementation.
    assert_float32_matches(fn, ref, [x / 5], torch)


def test_cross_entropy_all_ignored_mean_is_nan_like_torch(torch):
    x, y = np.zeros((2, 3)), np.array([-100, -100])
    ours = L.cross_entropy(x, y).data
    assert np.isnan(ours) and torch.isnan(torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(y)))


def test_cross_entropy_large_logits_stay_finite():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype=np.float32)
    t = mg.Tensor(x, requires_grad=True)
    loss = L.cross_entropy(t, np.array([0, 0]))
    loss.backward()
    assert loss.dtype == np.float32
    np.testing.assert_allclose(loss.data, 1e4, rtol=1e-6)
    np.testing.assert_allclose(t.grad, [[0, 0, 0], [-0.5, 0.5, 0]], atol=1e-6)


# ------------------------------------------------------- temporal softmax
@given(n=st.integers(1, 3), t=st.integers(1, 4), v=st.integers(2, 5), seed=st.integers(0, 999))
def test_temporal_softmax_loss_gradcheck_and_definition(torch, n, t, v, seed):
    rng = np.random.default_rng(seed)
    x, y, mask = rng.standard_normal((n, t, v)), rng.integers(0, v, (n, t)), rng.random((n, t)) < 0.6
    mg.gradcheck(lambda x: L.temporal_softmax_loss(x, y, mask), x)

    # The definition, written with torch: masked per-step cross-entropy summed, divided by N.
    def ref(x):
        per_step = torch.nn.functional.cross_entropy(
            x.reshape(n * t, v), torch.tensor(y.reshape(-1)), reduction="none")
        return (per_step * torch.tensor(mask.reshape(-1), dtype=x.dtype)).sum() / n

    fn = lambda x: L.temporal_softmax_loss(x, y, mask)  # noqa: E731
    assert_grads_match(fn, ref, [x], torch, atol=1e-12)
    assert_float32_matches(fn, ref, [x], torch)


def test_temporal_softmax_loss_masked_steps_get_no_gradient(rng):
    x = mg.Tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    mask = np.array([[1, 1, 0], [1, 0, 0]], dtype=bool)
    L.temporal_softmax_loss(x, rng.integers(0, 4, (2, 3)), mask).backward()
    assert np.all(x.grad[~mask] == 0) and np.all(np.abs(x.grad[mask]).sum(-1) > 0)


# ------------------------------------------------------------------- SVM
@given(n=st.integers(1, 6), c=st.integers(2, 6), reduction=reductions, seed=st.integers(0, 999))
def test_svm_loss_gradcheck(n, c, reduction, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((n, c)), rng.integers(0, c, n)
    # Keep every margin x_j - x_y + 1 away from its kink at 0.
    margins = away_from(x - x[np.arange(n), y][:, None] + 1, [0.0], gap=1e-3)
    x = margins + x[np.arange(n), y][:, None] - 1
    mg.gradcheck(lambda x: L.svm_loss(x, y, reduction=reduction), x, tol=1e-5)


@given(n=st.integers(1, 6), c=st.integers(2, 6), margin=st.sampled_from([1.0, 0.5]),
       reduction=reductions, seed=st.integers(0, 999))
def test_svm_loss_is_torch_multi_margin_times_c(torch, n, c, margin, reduction, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((n, c)), rng.integers(0, c, n)
    fn = lambda x: L.svm_loss(x, y, margin, reduction)  # noqa: E731
    ref = lambda x: c * torch.nn.functional.multi_margin_loss(  # noqa: E731
        x, torch.tensor(y), margin=margin, reduction=reduction)
    assert_grads_match(fn, ref, [x], torch, atol=1e-12)
    assert_float32_matches(fn, ref, [x], torch)


def test_svm_loss_cs231n_example():
    # Scores of CS231n's three-image example: losses 2.9, 0, 12.9 (mean 5.27).
    x = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
    np.testing.assert_allclose(L.svm_loss(x, np.array([0, 1, 2]), reduction="none").data, [2.9, 0.0, 12.9])


# -------------------------------------------- element-wise (x, target) losses
PAIR_LOSSES = {
    "bce": (L.binary_cross_entropy_with_logits, "binary_cross_entropy_with_logits", []),
    "mse": (L.mse_loss, "mse_loss", None),
    "l1": (L.l1_loss, "l1_loss", [0.0]),
    "smooth_l1": (L.smooth_l1_loss, "smooth_l1_loss", [-1.0, 1.0]),  # kinks at +-beta
}


@pytest.mark.parametrize("name", list(PAIR_LOSSES))
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), reduction=reductions,
       seed=st.integers(0, 999))
def test_pair_losses_gradcheck_and_torch(torch, name, shape, reduction, seed):
    ours, ref_name, kinks = PAIR_LOSSES[name]
    rng = np.random.default_rng(seed)
    x = 3 * rng.standard_normal(shape)
    target = rng.random(shape) if name == "bce" else rng.standard_normal(shape)
    if kinks:
        x = target + away_from(x - target, kinks)
    fn = lambda x, z: ours(x, z, reduction=reduction)  # noqa: E731
    ref = lambda x, z: getattr(torch.nn.functional, ref_name)(x, z, reduction=reduction)  # noqa: E731
    assert_gradcheck_normwise(fn, x, target)
    assert_grads_match(fn, ref, [x, target], torch, atol=1e-12)
    assert_float32_matches(fn, ref, [x, target], torch)


def test_bce_with_logits_does_not_overflow():
    x = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0], dtype=np.float32)
    z = np.array([0.0, 0.0, 1.0, 1.0, 0.0], dtype=np.float32)
    t = mg.Tensor(x, requires_grad=True)
    loss = L.binary_cross_entropy_with_logits(t, z, reduction="none")
    loss.backward(np.ones(5, np.float32))
    assert np.isfinite(loss.data).all() and np.isfinite(t.grad).all()
    np.testing.assert_allclose(loss.data, [0.0, 0.0, np.log(2), 0.0, 1000.0], atol=1e-6)


# --------------------------------------------------------------- bad input
def test_bad_inputs():
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"cross_entropy: target must have shape \(3,\) for x of shape \(3, 4\), got \(2,\)"):
        L.cross_entropy(x, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"cross_entropy: target labels must be in \[0, 4\), got range \[0, 4\]"):
        L.cross_entropy(x, np.array([0, 1, 4]))
    # (N, C, d1) scores take (N, d1) labels.
    with pytest.raises(ValueError, match=r"cross_entropy: target must have shape \(3, 1\) for x of shape "
                                         r"\(3, 4, 1\), got \(3,\)"):
        L.cross_entropy(x[..., None], np.array([0, 1, 2]))
    with pytest.raises(TypeError, match="cross_entropy: target must hold integers, got dtype float64"):
        L.cross_entropy(x, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="cross_entropy: reduction must be one of"):
        L.cross_entropy(x, np.array([0, 1, 2]), reduction="avg")
    with pytest.raises(ValueError, match=r"temporal_softmax_loss: mask must have shape \(2, 3\) for x of shape \(2, 3, 4\), got \(2, 2\)"):
        L.temporal_softmax_loss(np.zeros((2, 3, 4)), np.zeros((2, 3), int), np.ones((2, 2), bool))
    with pytest.raises(ValueError, match=r"mse_loss: target must have x's shape \(3, 4\), got \(4,\)"):
        L.mse_loss(x, np.zeros(4))
    with pytest.raises(ValueError, match=r"svm_loss: target labels must be in \[0, 4\), got range \[-1, 1\]"):
        L.svm_loss(x, np.array([-1, 0, 1]))


@pytest.mark.parametrize("mask, error, match", [
    (np.full((2, 3), "1"), TypeError, r"mask must be bool or numbers 0/1, got dtype <U1"),
    (np.full((2, 3), None), TypeError, r"mask must be bool or numbers 0/1, got dtype object"),
    (np.full((2, 3), 2), ValueError, r"mask must hold only 0 and 1 \(or bools\), got 2"),
    (np.full((2, 3), 0.5), ValueError, r"mask must hold only 0 and 1 \(or bools\), got 0.5"),
])
def test_temporal_softmax_loss_bad_masks(mask, error, match):
    x, y = np.zeros((2, 3, 4)), np.zeros((2, 3), int)
    with pytest.raises(error, match=f"^temporal_softmax_loss: {match}"):
        L.temporal_softmax_loss(x, y, mask)
    for good in (np.ones((2, 3), bool), np.ones((2, 3), np.int8), np.zeros((2, 3))):
        assert np.isfinite(L.temporal_softmax_loss(x, y, good).data)


# ------------------------------------------------ -inf logits, NaN, empty
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_masked_class_logits_match_torch(torch, smoothing, dtype):
    x = np.array([[-np.inf, 0.0, 1.0], [0.5, -np.inf, -np.inf], [2.0, 1.0, 0.0]], dtype)
    y = np.array([2, 0, 1])
    for reduction in ("none", "mean", "sum"):
        t = mg.Tensor(x, requires_grad=True)
        ref_x = torch.tensor(x.astype(np.float64), requires_grad=True)
        loss = L.cross_entropy(t, y, label_smoothing=smoothing, reduction=reduction)
        ref = torch.nn.functional.cross_entropy(ref_x, torch.tensor(y), label_smoothing=smoothing,
                                                reduction=reduction)
        dout = np.linspace(0.5, 1.5, loss.size).reshape(loss.shape).astype(dtype)
        loss.backward(dout)
        ref.backward(torch.tensor(dout.astype(np.float64)))
        expected = ref.detach().numpy()
        # Without smoothing the loss is finite (0.3133 for the first row); with it, the
        # masked classes' share of the uniform target makes it +inf, as in torch.
        np.testing.assert_array_equal(np.isinf(loss.data), np.isinf(expected))
        assert not np.isnan(loss.data).any()
        assert_close(np.where(np.isinf(expected), 0, loss.data), np.where(np.isinf(expected), 0, expected),
                     1e-6 if dtype == np.float32 else 1e-12)
        assert np.isfinite(t.grad).all()
        assert_close(t.grad, ref_x.grad.numpy(), 1e-6 if dtype == np.float32 else 1e-12)
    assert abs(float(L.cross_entropy(x[:1], y[:1]).data) - 0.3133) < 1e-4


def test_nan_logits_give_nan_loss_like_torch(torch):
    x = np.array([[np.nan, 0.0], [1.0, 2.0]])
    assert np.isnan(L.cross_entropy(x, np.array([0, 1])).data)
    assert np.isnan(L.temporal_softmax_loss(x[None], np.array([[0, 1]]), np.ones((1, 2), bool)).data)
    assert np.isnan(L.mse_loss(x, np.zeros_like(x)).data)
    assert torch.isnan(torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor([0, 1])))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_empty_batch_matches_torch(torch, reduction):
    x, y = np.zeros((0, 3)), np.zeros(0, np.int64)
    cases = [
        (lambda x: L.cross_entropy(x, y, reduction=reduction),
         lambda x: torch.nn.functional.cross_entropy(x, torch.tensor(y), reduction=reduction)),
        (lambda x: L.mse_loss(x, np.zeros((0, 3)), reduction=reduction),
         lambda x: torch.nn.functional.mse_loss(x, torch.zeros(0, 3), reduction=reduction)),
    ]
    for ours, ref in cases:
        t, tt = mg.Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, expected = ours(t), ref(tt)
        np.testing.assert_array_equal(out.data, expected.detach().numpy())  # NaN == NaN here
        out.backward(np.ones(out.shape))
        assert t.grad.shape == (0, 3)


# ------------------------------------------- bad hyper-parameters and dtypes
bad_dtypes = st.sampled_from([np.float16, np.int64, np.bool_])
LOSSES = {
    "cross_entropy": lambda x, **kw: L.cross_entropy(x, np.array([0, 1]), **kw),
    "svm_loss": lambda x, **kw: L.svm_loss(x, np.array([0, 1]), **kw),
    "temporal_softmax_loss": lambda x: L.temporal_softmax_loss(x[None], np.array([[0, 1]]), np.ones((1, 2))),
    "mse_loss": lambda x, **kw: L.mse_loss(x, np.zeros((2, 3)), **kw),
    "l1_loss": lambda x, **kw: L.l1_loss(x, np.zeros((2, 3)), **kw),
    "smooth_l1_loss": lambda x, **kw: L.smooth_l1_loss(x, np.zeros((2, 3)), **kw),
    "sigmoid_focal_loss": lambda x, **kw: L.sigmoid_focal_loss(x, np.zeros((2, 3)), **kw),
    "binary_cross_entropy_with_logits": lambda x, **kw: L.binary_cross_entropy_with_logits(x, np.zeros((2, 3)), **kw),
}


@given(name=st.sampled_from(sorted(LOSSES)), dtype=bad_dtypes)
def test_bad_dtypes_raise_type_error(name, dtype):
    with pytest.raises(TypeError, match=rf"^{name}: x must be float32 or float64, got dtype"):
        LOSSES[name](np.zeros((2, 3), dtype))


@given(name=st.sampled_from(["mse_loss", "l1_loss", "smooth_l1_loss", "sigmoid_focal_loss",
                             "binary_cross_entropy_with_logits"]))
def test_mixed_float_dtypes_raise(name):
    with pytest.raises(TypeError, match=rf"^{name}: target must have the dtype of x \(float32\), got float64"):
        LOSSES[name](np.zeros((2, 3), np.float32))


@given(value=st.sampled_from([np.nan, np.inf, -np.inf, -0.1, 1.5, True]))
def test_cross_entropy_rejects_bad_label_smoothing(value):
    error = TypeError if isinstance(value, bool) else ValueError
    with pytest.raises(error, match=r"^cross_entropy: label_smoothing must be"):
        LOSSES["cross_entropy"](np.zeros((2, 3)), label_smoothing=value)


@given(value=st.sampled_from([np.nan, np.inf, -np.inf, True]))
def test_svm_loss_rejects_bad_margin(value):
    error = TypeError if isinstance(value, bool) else ValueError
    with pytest.raises(error, match=r"^svm_loss: margin must be"):
        LOSSES["svm_loss"](np.zeros((2, 3)), margin=value)


@given(name=st.sampled_from(sorted(set(LOSSES) - {"temporal_softmax_loss"})),
       reduction=st.sampled_from(["avg", "Mean", None, 0]))
def test_bad_reduction(name, reduction):
    with pytest.raises(ValueError, match=rf"^{name}: reduction must be one of 'mean', 'sum', 'none'"):
        LOSSES[name](np.zeros((2, 3)), reduction=reduction)


def test_cross_entropy_rejects_bad_ignore_index():
    with pytest.raises(TypeError, match="^cross_entropy: ignore_index must be an integer"):
        LOSSES["cross_entropy"](np.zeros((2, 3)), ignore_index=True)
    with pytest.raises(TypeError, match="^cross_entropy: ignore_index must be an integer"):
        LOSSES["cross_entropy"](np.zeros((2, 3)), ignore_index=1.0)
