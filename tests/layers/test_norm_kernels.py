"""Normalisation kernels against their loop twins, in both dtypes."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from layers._kernels import norm as fast
from layers.naive import norm as naive
from tests.conftest import assert_close, split_every_call


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(n=st.integers(1, 20), c=st.integers(1, 5),
       l_dim=st.one_of(st.integers(1, 9), st.integers(fast.ROW_MOMENTS_MIN - 2, fast.ROW_MOMENTS_MIN + 2),
                       st.integers(250, 600)),
       shift=st.sampled_from([2.0, 1e3]), seed=st.integers(0, 999))
def test_kernels_match_naive(dtype, n, c, l_dim, shift, seed):
    # Runs of L > 256 values take more than one block of the float32 sums; a
    # mean far from zero needs the two-part mean of the gradient sums.
    rng = np.random.default_rng(seed)
    x = (3 * rng.standard_normal((n, c, l_dim)) + shift).astype(dtype)
    dout = rng.standard_normal((n, c, l_dim)).astype(dtype)
    a, b, shift = rng.standard_normal((3, c))
    tol = 1e-5 if dtype == np.float32 else 1e-12

    mean, var = fast.channel_stats(x)
    ref_mean, ref_var = naive.channel_stats(x)
    assert_close(mean, ref_mean, 1e-12, "mean")
    assert_close(var, ref_var, 1e-11, "var")

    # Images are summed in x's dtype within blocks (float32 lanes): the error is
    # relative to the sum of the terms' magnitudes.
    sums = fast.channel_grad_sums(dout, x, mean)
    rel = 1e-6 if dtype == np.float32 else 1e-13
    magnitudes = (np.abs(dout), np.abs(dout * (x - mean[:, None])))
    for got, want, size, what in zip(sums, naive.channel_grad_sums(dout, x, mean), magnitudes,
                                     ("sum dy", "sum dy*xc")):
        assert_close(got, want, rel * max(1.0, float(size.sum(axis=(0, 2)).max())), what)

    out = fast.channel_combine(dout, x, mean, a, b, shift)
    assert out.dtype == dtype
    assert_close(out, naive.channel_combine(dout, x, mean, a, b, shift), tol, "combine")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(rows=st.integers(1, 9), d=st.integers(2, 600), groups=st.integers(1, 3), shift=st.sampled_from([-1.0, 1e3]),
       seed=st.integers(0, 999), split=st.booleans())
def test_row_kernels_match_naive(dtype, rows, d, groups, shift, seed, split):
    """Also with the rows split over threads (whole groups of rows per slice)."""
    rng = np.random.default_rng(seed)
    x = (2 * rng.standard_normal((rows, d)) + shift).astype(dtype)
    dout = rng.standard_normal((rows, d)).astype(dtype)
    w, b = rng.standard_normal((2, groups, d)).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    # float32 rows are summed in float32 lanes (float64 across blocks): the
    # statistics carry float32 round-off, ~1e-7 relative.
    stat_tol = 2e-6 if dtype == np.float32 else 1e-11
    mean_tol = stat_tol * abs(shift) if dtype == np.float32 else 1e-9

    with split_every_call(split):
        out, mean, inv_std = fast.rows_forward(x, 1e-5, w, b)
        got = fast.rows_backward(dout, x, mean, inv_std, w)
    ref_out, ref_mean, ref_inv = naive.rows_forward(x, 1e-5, w, b)
    assert out.dtype == dtype
    # x - mean loses eps * |x| to rounding, magnified by 1 / std: rows of a few values
    # far from zero (d = 2, shift 1e3) are ill-conditioned in any order of summation.
    conditioning = float(np.abs(x).max() * ref_inv.max() * np.abs(w).max())
    assert_close(out, ref_out, max(tol, 16 * np.finfo(dtype).eps * conditioning), "out")
    assert_close(mean, ref_mean, mean_tol, "mean")
    assert_close(inv_std / ref_inv, np.ones_like(ref_inv), stat_tol, "inv_std (relative)")

    want = naive.rows_backward(dout, x, mean, inv_std, w)
    assert got[0].dtype == dtype
    # Tolerances relative to the size of what is summed: float32 keeps ~7 digits of it.
    dx_scale = max(1.0, float(np.abs(want[0]).max()), _backward_scale(inv_std, dout, w))
    for g, r, what in zip(got, want, ("dx", "dw", "db")):
        assert_close(g, r, tol * rows * max(1.0, float(np.abs(r).max())) if what != "dx" else tol * dx_scale, what)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(rows=st.integers(1, 9), k=st.integers(1, 4), l_dim=st.integers(1, 300), groups=st.integers(1, 3),
       shift=st.sampled_from([0.0, 1e3]), seed=st.integers(0, 999), split=st.booleans())
def test_group_kernels_match_naive(dtype, rows, k, l_dim, groups, shift, seed, split):
    # Up to 1200 values a row (past one 256-value block of the float32 sums),
    # and means far from zero, which the two-part mean keeps accurate.
    rng = np.random.default_rng(seed)
    x = (2 * rng.standard_normal((rows, k * l_dim)) + shift).astype(dtype)
    dout = rng.standard_normal((rows, k * l_dim)).astype(dtype)
    w, b = rng.standard_normal((2, groups, k)).astype(dtype)
    tol = 2e-5 if dtype == np.float32 else 1e-11

    ref_out, ref_mean, ref_inv = naive.groups_forward(x, 1e-5, w, b)
    with split_every_call(split):
        out, mean, inv_std = fast.groups_forward(x, 1e-5, w, b)
        got = fast.groups_backward(dout, x, ref_mean, ref_inv, w)
    assert out.dtype == dtype
    assert_close(out, ref_out, tol, "out")
    assert_close(mean, ref_mean, 1e-6 * max(shift, 1) if dtype == np.float32 else 1e-9, "mean")
    assert_close(inv_std / ref_inv, np.ones_like(ref_inv), 2e-6 if dtype == np.float32 else 1e-11, "inv_std")

    want = naive.groups_backward(dout, x, ref_mean, ref_inv, w)
    assert got[0].dtype == dtype
    # dw sums over every value of a channel: its tolerance scales with their number.
    # dx is inv_std * (w dout - its means): relative to that size, which a one-value group
    # (inv_std = 1 / sqrt(eps)) makes large while the exact dx is 0.
    dx_scale = max(1.0, float(np.abs(want[0]).max()), _backward_scale(ref_inv, dout, w))
    for g, r, what, t in zip(got, want, ("dx", "dw", "db"), (tol * dx_scale, tol * rows * l_dim, tol * rows * l_dim)):
        assert_close(g, r, t, what)


def _backward_scale(inv_std, dout, w):
    """The size of the terms a normalisation's dx is made of: max inv_std * max |dout| * max |w|."""
    return float(np.max(inv_std)) * float(np.abs(dout).max()) * float(np.abs(w).max())
