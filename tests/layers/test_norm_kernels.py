"""Normalisation kernels against their loop twins, in both dtypes."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from layers._kernels import norm as fast
from layers.naive import norm as naive
from tests.conftest import assert_close


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(n=st.integers(1, 20), c=st.integers(1, 5), l_dim=st.integers(1, 9), seed=st.integers(0, 999))
def test_kernels_match_naive(dtype, n, c, l_dim, seed):
    rng = np.random.default_rng(seed)
    x = (3 * rng.standard_normal((n, c, l_dim)) + 2).astype(dtype)
    dout = rng.standard_normal((n, c, l_dim)).astype(dtype)
    a, b, shift = rng.standard_normal((3, c))
    tol = 1e-5 if dtype == np.float32 else 1e-12

    mean, var = fast.channel_stats(x)
    ref_mean, ref_var = naive.channel_stats(x)
    assert_close(mean, ref_mean, 1e-12, "mean")
    assert_close(var, ref_var, 1e-11, "var")

    sums = fast.channel_grad_sums(dout, x, mean)
    for got, want, what in zip(sums, naive.channel_grad_sums(dout, x, mean), ("sum dy", "sum dy*xc")):
        assert_close(got, want, 1e-10, what)

    out = fast.channel_combine(dout, x, mean, a, b, shift)
    assert out.dtype == dtype
    assert_close(out, naive.channel_combine(dout, x, mean, a, b, shift), tol, "combine")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(rows=st.integers(1, 9), d=st.integers(2, 40), groups=st.integers(1, 3), seed=st.integers(0, 999))
def test_row_kernels_match_naive(dtype, rows, d, groups, seed):
    rng = np.random.default_rng(seed)
    x = (2 * rng.standard_normal((rows, d)) - 1).astype(dtype)
    dout = rng.standard_normal((rows, d)).astype(dtype)
    w, b = rng.standard_normal((2, groups, d)).astype(dtype)
    tol = 1e-5 if dtype == np.float32 else 1e-12

    out, mean, inv_std = fast.rows_forward(x, 1e-5, w, b)
    ref_out, ref_mean, ref_inv = naive.rows_forward(x, 1e-5, w, b)
    assert out.dtype == dtype
    assert_close(out, ref_out, tol, "out")
    assert_close(mean, ref_mean, 1e-12, "mean")
    assert_close(inv_std, ref_inv, 1e-9, "inv_std")

    got, want = fast.rows_backward(dout, x, mean, inv_std, w), naive.rows_backward(dout, x, mean, inv_std, w)
    assert got[0].dtype == dtype
    for g, r, what in zip(got, want, ("dx", "dw", "db")):
        assert_close(g, r, tol, what)
