"""The fused masked-softmax kernels against their plain NumPy twins."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from layers._kernels import attention as fast
from layers.naive import attention as naive
from tests.conftest import assert_close, split_every_call

TOL = {np.float32: 1e-6, np.float64: 1e-15}


@st.composite
def problems(draw):
    n, h, t, s = (draw(st.integers(1, 4)) for _ in range(4))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 999))
    rng = np.random.default_rng(seed)
    scores = (4 * rng.standard_normal((n, h, t, s))).astype(dtype)
    # A mask of one of the shapes attention builds, with some -inf (possibly whole rows).
    shape = draw(st.sampled_from([None, (t, s), (n, h, t, s), (n, 1, 1, s), (1, h, 1, s)]))
    mask = None
    if shape is not None:
        mask = rng.standard_normal(shape).astype(dtype)
        mask[rng.random(shape) < draw(st.sampled_from([0.0, 0.3, 1.0]))] = -np.inf
    return scores, mask, draw(st.floats(0.1, 2.0)), rng


@given(problems(), st.booleans())
def test_masked_softmax_matches_naive(problem, split):
    """Also with the rows split over threads."""
    scores, mask, scale, rng = problem
    want = naive.masked_softmax(scores.astype(np.float64), scale, mask)
    with split_every_call(split):
        got = fast.masked_softmax(scores.copy(), scale, mask)
    assert got.dtype == scores.dtype
    assert_close(got, want, TOL[scores.dtype.type], "probs")
    # Masked keys get exactly zero weight.
    if mask is not None:
        assert np.all(got[np.broadcast_to(np.isneginf(mask), got.shape)] == 0)

    dprobs = rng.standard_normal(scores.shape).astype(scores.dtype)
    want_d = naive.softmax_backward(got.astype(np.float64), dprobs, scale)
    with split_every_call(split):
        got_d = fast.softmax_backward(got, dprobs.copy(), scores.dtype.type(scale))
    assert_close(got_d, want_d, 10 * TOL[scores.dtype.type], "dscores")


def test_masked_softmax_is_in_place_and_stable():
    scores = np.array([[[[1000.0, 1001.0, -np.inf], [-1e308, 0.0, 1e308]]]])
    out = fast.masked_softmax(scores, 1.0, None)
    assert out is scores
    np.testing.assert_allclose(out[0, 0, 0], [1 / (1 + np.e), np.e / (1 + np.e), 0.0], rtol=1e-15)
    np.testing.assert_array_equal(out[0, 0, 1], [0.0, 0.0, 1.0])


@pytest.mark.parametrize("shape", [(3, 5), (2, 2, 4, 5), (4, 5, 1), (1, 2, 3, 4, 5)])
def test_masked_softmax_rejects_masks_that_do_not_broadcast(shape):
    with pytest.raises(ValueError, match=r"masked_softmax: mask of shape .* does not broadcast to \(2, 3, 4, 5\)"):
        fast.masked_softmax(np.zeros((2, 3, 4, 5)), 1.0, np.zeros(shape))
