"""Cross-entropy kernels against their loop twins."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers._kernels import losses as fast
from layers.losses import cross_entropy
from layers.naive import losses as naive
from tests.conftest import assert_close


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(n=st.integers(1, 12), c=st.integers(1, 7), smoothing=st.sampled_from([0.0, 0.2]),
       seed=st.integers(0, 999))
def test_cross_entropy_kernels_match_naive(dtype, n, c, smoothing, seed):
    rng = np.random.default_rng(seed)
    x = (4 * rng.standard_normal((n, c))).astype(dtype)
    y = rng.integers(0, c, n)
    y[rng.random(n) < 0.3] = -100
    scale = rng.standard_normal(n)
    loss, probs = fast.cross_entropy_forward(x, y, -100, smoothing)
    ref_loss, ref_probs = naive.cross_entropy_forward(x, y, -100, smoothing)
    assert probs.dtype == dtype
    tol = 1e-6 if dtype == np.float32 else 1e-14
    assert_close(loss, ref_loss, 1e-5 if dtype == np.float32 else 1e-12, "loss")
    assert_close(probs, ref_probs, tol, "probs")
    dx = fast.cross_entropy_backward(probs, y, scale, -100, smoothing)
    assert dx.dtype == dtype
    assert_close(dx, naive.cross_entropy_backward(probs, y, scale, -100, smoothing), tol, "dx")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_long_rows_match_naive(dtype):
    # Rows of >= 256 classes take NumPy's row max instead of the fused kernel.
    rng = np.random.default_rng(0)
    x = (4 * rng.standard_normal((5, 300))).astype(dtype)
    y = rng.integers(0, 300, 5)
    loss, probs = fast.cross_entropy_forward(x, y, -100, 0.1)
    ref_loss, ref_probs = naive.cross_entropy_forward(x, y, -100, 0.1)
    assert_close(loss, ref_loss, 1e-5 if dtype == np.float32 else 1e-12, "loss")
    assert_close(probs, ref_probs, 1e-6 if dtype == np.float32 else 1e-14, "probs")


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_masked_classes_match_naive(dtype, smoothing):
    # -inf logits (masked classes): finite losses without smoothing, +inf with it, never NaN.
    x = np.array([[-np.inf, 0.0, 1.0], [3.0, -np.inf, 0.5]], dtype)
    y = np.array([2, 0])
    loss, probs = fast.cross_entropy_forward(x, y, -100, smoothing)
    ref_loss, ref_probs = naive.cross_entropy_forward(x, y, -100, smoothing)
    assert not np.isnan(loss).any() and np.isfinite(loss).all() == (smoothing == 0)
    np.testing.assert_array_equal(np.isinf(loss), np.isinf(ref_loss))
    finite = np.isfinite(ref_loss)
    assert_close(loss[finite], ref_loss[finite], 1e-6 if dtype == np.float32 else 1e-14, "loss")
    assert_close(probs, ref_probs, 1e-7 if dtype == np.float32 else 1e-15, "probs")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_gradient_has_no_subnormals(dtype):
    """Classes 80 to 800 logits below the top one: their softmax probabilities run through the
    subnormal range of both dtypes; the gradient is the normal ones or zero."""
    gaps = np.geomspace(80, 800, 200)
    logits = np.concatenate([[0.0], -gaps]).astype(dtype)[None].repeat(3, axis=0)
    x = mg.Tensor(logits, requires_grad=True)
    cross_entropy(x, np.zeros(3, np.int64)).backward()
    tiny = np.finfo(dtype).tiny
    g = x.grad
    assert not np.any((g != 0) & (np.abs(g) < tiny))
    want = np.exp(-gaps) / 3  # the mean over 3 rows; p of the top class is ~1
    normal = want >= 2 * tiny
    assert normal.sum() > 5
    np.testing.assert_allclose(g[0, 1:][normal], want[normal], rtol=1e-4 if dtype == np.float32 else 1e-10)
