"""Activation kernels against their twins: ReLU and the softmax rows against
``minigrad.activations`` (their definitions), GELU against ``layers.naive``,
the float32 SiLU against its float64 NumPy pair (on ``minigrad``'s sigmoid),
and the vectorisable ``exp_neg`` they share against NumPy's float64 exp."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numba import njit

from layers._kernels import activations as kernels
from layers.activations import relu_backward, relu_forward, silu_backward, silu_forward
from layers._kernels._fastmath import exp_neg
from layers._kernels._reductions import row_max
from layers.naive import activations as naive
from minigrad import activations as reference
from tests.conftest import assert_close, split_every_call

TOL = {np.float32: 1e-6, np.float64: 1e-14}


@njit
def _exp_neg_all(t, out):
    for i in range(t.size):
        out[i] = exp_neg(t[i])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_neg_is_within_one_ulp(dtype):
    top = 87.3 if dtype == np.float32 else 708.0  # exp(-top) is still a normal number
    t = np.concatenate([np.linspace(0, top, 200001), np.geomspace(1e-30, 1, 2001)]).astype(dtype)
    out = np.empty_like(t)
    _exp_neg_all(t, out)
    want = np.exp(-t.astype(np.float64))
    ulps = np.abs(out - want) / np.spacing(want.astype(dtype)).astype(np.float64)
    assert ulps.max() <= 1.0, f"worst at t={t[np.argmax(ulps)]!r}: {ulps.max():.2f} ulp"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exp_neg_limits(dtype):
    t = np.array([0.0, 90.0, 104.0, 800.0, 1e30, np.inf, np.nan], dtype=dtype)
    out = np.empty_like(t)
    _exp_neg_all(t, out)
    want = np.exp(-t.astype(np.float64))
    # Below float32's smallest normal number the result may be flushed to 0.
    atol = np.finfo(dtype).tiny if dtype == np.float32 else 0.0
    np.testing.assert_allclose(out[:-1], want[:-1], rtol=np.finfo(dtype).eps, atol=atol)
    assert out[0] == 1 and out[-2] == 0 and np.isnan(out[-1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(shape=st.lists(st.integers(1, 30), min_size=1, max_size=3).map(tuple), seed=st.integers(0, 999))
def test_relu_pair_matches_reference(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    x.flat[::7] = 0.0  # the kink: PyTorch's subgradient there is 0
    x.flat[3::11] = np.nan
    dout = rng.standard_normal(shape).astype(dtype)
    out, cache = relu_forward(x)
    want, want_cache = reference.relu_forward(x)
    np.testing.assert_array_equal(out, want)  # NaN where NaN, +0.0 below zero
    assert out.dtype == dtype and not np.signbit(out[x <= 0]).any()
    dx = relu_backward(dout, cache)
    assert dx.dtype == dtype
    np.testing.assert_array_equal(dx, reference.relu_backward(dout, want_cache))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(rows=st.integers(1, 6), d=st.integers(1, 300), scale=st.sampled_from([0.1, 3.0, 40.0]),
       seed=st.integers(0, 999), split=st.booleans())
def test_softmax_rows_match_reference(dtype, rows, d, scale, seed, split):
    """Also with the rows split over threads."""
    rng = np.random.default_rng(seed)
    x = (scale * rng.standard_normal((rows, d))).astype(dtype)
    dout = rng.standard_normal((rows, d)).astype(dtype)
    with split_every_call(split):
        y = kernels.softmax_rows(x)
        dx = kernels.softmax_rows_backward(dout, y)
    want, cache = reference.softmax_forward(x.astype(np.float64), axis=-1)
    assert y.dtype == dtype
    assert_close(y, want, TOL[dtype], "softmax")
    assert dx.dtype == dtype
    assert_close(dx, reference.softmax_backward(dout.astype(np.float64), cache), 4 * TOL[dtype], "softmax dx")


@njit
def _row_maxima(x, out):
    for r in range(x.shape[0]):
        out[r] = row_max(x, r)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(rows=st.integers(1, 4), d=st.integers(1, 300), seed=st.integers(0, 999),
       specials=st.lists(st.sampled_from([0.0, -0.0, np.inf, -np.inf, 1e-42, -1e-42, -1e30]), max_size=6))
def test_row_max_matches_numpy(dtype, rows, d, seed, specials):
    # The maximum goes through integer keys of the floats' bits: every sign,
    # zero, subnormal and infinity must come back as the same float.
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, d)).astype(dtype) * rng.choice([1e-3, 1.0, 1e6], size=(rows, 1)).astype(dtype)
    x[rng.integers(0, 2, rows) == 1] *= -1
    flat = x.reshape(-1)
    flat[rng.choice(flat.size, size=min(len(specials), flat.size), replace=False)] = specials[:flat.size]
    out = np.empty(rows, dtype)
    _row_maxima(x, out)
    np.testing.assert_array_equal(out, x.max(axis=1))  # -0.0 == 0.0; the sign of a zero is free


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_rows_extremes(dtype):
    negative_nan = np.copysign(np.nan, -1.0)  # its integer key sorts below -inf's
    x = np.array([[1000.0, 0.0, -1000.0], [-np.inf, 0.0, 1.0], [np.nan, 0.0, 1.0], [5.0, 5.0, 5.0],
                  [negative_nan, 0.0, 1.0], [-0.0, 0.0, -0.0]], dtype=dtype)
    y = kernels.softmax_rows(x)
    with np.errstate(invalid="ignore"):
        want, _ = reference.softmax_forward(x.astype(np.float64), axis=-1)
    np.testing.assert_allclose(y, want, rtol=TOL[dtype], atol=TOL[dtype])
    assert np.isnan(y[2]).all() and np.isnan(y[4]).all()


@pytest.mark.parametrize("approximate", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(shape=st.lists(st.integers(1, 40), min_size=1, max_size=3).map(tuple),
       scale=st.sampled_from([0.5, 3.0, 8.0]), seed=st.integers(0, 999), split=st.booleans())
def test_gelu_kernels_match_naive(approximate, dtype, shape, scale, seed, split):
    """Also with the values split over threads."""
    rng = np.random.default_rng(seed)
    x = (scale * rng.standard_normal(shape)).astype(dtype)
    dout = rng.standard_normal(shape).astype(dtype)
    with split_every_call(split):
        out, aux = kernels.gelu_forward(x, approximate)
        dx = kernels.gelu_backward(x, aux, dout, approximate)
    assert out.dtype == dtype and dx.dtype == dtype
    x64 = x.astype(np.float64)
    # Within float32's rounding of outputs up to |x| ~ 30 (1e-6 absolute).
    assert_close(out, naive.gelu_forward(x64, approximate), TOL[dtype] * max(scale, 1), "gelu")
    assert_close(dx, naive.gelu_backward(x64, dout.astype(np.float64), approximate), TOL[dtype] * max(scale, 1),
                 "gelu dx")


EPS32 = float(np.finfo(np.float32).eps)
TINY32 = float(np.finfo(np.float32).tiny)


def _silu_definition(x, dout):
    """SiLU and its gradient from the NumPy pair, in float64."""
    with np.errstate(invalid="ignore"):  # -inf * 0 and inf * 0: NaN, as in the kernels
        out, cache = silu_forward(x.astype(np.float64))
        return out, silu_backward(dout.astype(np.float64), cache), cache[1][0]


def _assert_silu32_matches_definition(x, dout, split=False):
    with split_every_call(split):
        out = kernels.silu_forward32(x)
        dx = kernels.silu_backward32(x, dout)
    assert out.dtype == np.float32 and dx.dtype == np.float32 and out.shape == x.shape == dx.shape
    want, want_dx, s = _silu_definition(x, dout)
    # A few float32 ulps of the output. The slope s (1 + x (1 - s)) has a zero
    # near x = -1.28, where the sum cancels: its error is relative to the size
    # of the terms, |dout| s (1 + |x| (1 - s)). A sigmoid below float32's
    # smallest normal number (x < -87) may be flushed to 0: an error below
    # TINY32 times the factor it is multiplied by, |x| or |dout| (1 + |x|).
    with np.errstate(invalid="ignore"):
        terms = np.abs(dout) * s * (1 + np.abs(x) * (1 - s))
        flushed = TINY32 * (1 + np.abs(x.astype(np.float64)))
    for got, ref, size, floor, what in ((out, want, np.abs(want), flushed, "silu"),
                                        (dx, want_dx, terms, flushed * np.abs(dout), "silu dx")):
        np.testing.assert_array_equal(np.isnan(got), np.isnan(ref), err_msg=f"{what}: NaN positions")
        finite = np.isfinite(ref)
        np.testing.assert_array_equal(got[~finite & ~np.isnan(ref)], ref[~finite & ~np.isnan(ref)])
        err = np.abs(got[finite] - ref[finite])
        bound = 4 * EPS32 * size[finite] + floor[finite]
        assert (err <= bound).all(), (
            f"{what}: worst at x={x[finite][np.argmax(err / bound)]!r}: {got[finite][np.argmax(err / bound)]!r} "
            f"vs {ref[finite][np.argmax(err / bound)]!r}")


@given(shape=st.lists(st.integers(0, 40), min_size=1, max_size=3).map(tuple),
       scale=st.sampled_from([0.5, 3.0, 20.0, 100.0]), seed=st.integers(0, 999), split=st.booleans())
def test_silu32_kernels_match_definition(shape, scale, seed, split):
    """Also with the values split over threads."""
    rng = np.random.default_rng(seed)
    x = (scale * rng.standard_normal(shape)).astype(np.float32)
    dout = rng.standard_normal(shape).astype(np.float32)
    _assert_silu32_matches_definition(x, dout, split)


def test_silu32_dense_range_and_extremes():
    # Every region of the sigmoid: the tails where 1 - s or s rounds away in
    # float32, tiny |x|, +-100 (sigmoid beyond float32's range), inf and NaN.
    special = [-100.0, -88.0, -87.0, -30.0, -1e-30, -0.0, 0.0, 1e-30, 17.0, 30.0, 88.0, 100.0, np.inf, -np.inf, np.nan]
    x = np.concatenate([np.linspace(-90, 90, 20001), np.geomspace(1e-30, 90, 501), -np.geomspace(1e-30, 90, 501),
                        special]).astype(np.float32)
    dout = np.random.default_rng(0).standard_normal(x.size).astype(np.float32)
    _assert_silu32_matches_definition(x, dout)
    out = kernels.silu_forward32(x[-len(special):])
    dx = kernels.silu_backward32(x[-len(special):], dout[-len(special):])
    assert out[11] == 100 and abs(out[0]) < 1e-41 and np.isnan(out[-1]) and np.isnan(dx[-1])
    assert np.isfinite(dx[:-3]).all()


def test_silu_pair_takes_the_kernel_for_float32_only():
    x = np.linspace(-5, 5, 11)
    out32, cache32 = silu_forward(x.astype(np.float32))
    out64, cache64 = silu_forward(x)
    assert out32.dtype == np.float32 and out64.dtype == np.float64
    np.testing.assert_array_equal(out32, kernels.silu_forward32(x.astype(np.float32)))
    assert cache32[1] is None and cache64[1] is not None  # float32 saves only x
    dx = silu_backward(np.ones(11, np.float32), cache32)
    np.testing.assert_array_equal(dx, kernels.silu_backward32(x.astype(np.float32), np.ones(11, np.float32)))
