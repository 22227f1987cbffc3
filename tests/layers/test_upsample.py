"""Nearest and bilinear upsampling: kernels vs naive twins, gradcheck, PyTorch parity, errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers import upsample as U
from layers.naive import upsample as naive
from tests.conftest import assert_close, assert_grads_match

shapes = st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 6), st.integers(1, 6))
scales = st.integers(1, 3)


@given(shape=shapes, scale=scales, dtype=st.sampled_from([np.float32, np.float64]))
def test_kernels_match_naive(shape, scale, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    tol = 1e-6 if dtype == np.float32 else 1e-14
    out, cache = U.upsample_nearest2d_forward(x, scale)
    np.testing.assert_array_equal(out, naive.nearest(x, scale))
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    assert_close(U.upsample_nearest2d_backward(dout, cache), naive.nearest_backward(dout, shape, scale), tol,
                 "nearest backward")
    out, cache = U.upsample_bilinear2d_forward(x, scale)
    assert out.dtype == dtype
    assert_close(out, naive.bilinear(x, scale), tol, "bilinear forward")
    dout = rng.standard_normal(out.shape).astype(dtype)
    # Each input sums up to (2 * scale)^2 output gradients: the error grows with their size.
    expected = naive.bilinear_backward(dout, shape, scale)
    assert_close(U.upsample_bilinear2d_backward(dout, cache), expected, tol * max(1.0, np.abs(expected).max()),
                 "bilinear backward")


@pytest.mark.parametrize("mode", U.MODES)
@given(shape=shapes, scale=scales)
def test_gradcheck_and_torch(mode, shape, scale, torch):
    x = np.random.default_rng(1).standard_normal(shape)
    fn = lambda t: U.upsample2d(t, scale, mode)  # noqa: E731
    mg.gradcheck(fn, mg.Tensor(x, requires_grad=True))
    ref = torch.nn.Upsample(scale_factor=scale, mode=mode, **({"align_corners": False} if mode == "bilinear" else {}))
    assert_grads_match(fn, ref, [x], torch, atol=1e-12)


@pytest.mark.parametrize("mode", U.MODES)
def test_float32_module_matches_torch(mode, torch, rng):
    x = rng.standard_normal((2, 3, 7, 5)).astype(np.float32)
    t = mg.Tensor(x, requires_grad=True)
    out = U.Upsample(2, mode)(t)
    out.sum().backward()
    r = torch.tensor(x, dtype=torch.float32, requires_grad=True)
    ref = torch.nn.functional.interpolate(r, scale_factor=2, mode=mode)
    ref.sum().backward()
    assert out.dtype == np.float32 and t.grad.dtype == np.float32
    assert_close(out.data, ref.detach().numpy(), 1e-5, "forward")
    assert_close(t.grad, r.grad.numpy(), 1e-5, "grad")


def test_nearest_output_is_a_fresh_array():
    x = np.ones((1, 1, 2, 2))
    out = U.upsample2d(x, 1).data
    out[...] = 5
    assert x.max() == 1


def test_bad_input():
    with pytest.raises(ValueError, match=r"upsample2d: x must be 4-D \(N, C, H, W\), got shape \(2, 2\)"):
        U.upsample2d(np.zeros((2, 2)), 2, "bilinear")
    with pytest.raises(ValueError, match=r"upsample2d: scale_factor must be an integer >= 1, got 0"):
        U.upsample2d(np.zeros((1, 1, 2, 2)), 0)
    with pytest.raises(ValueError, match=r"upsample2d: mode must be one of"):
        U.upsample2d(np.zeros((1, 1, 2, 2)), 2, "bicubic")
    with pytest.raises(TypeError, match=r"Upsample: scale_factor must be an integer, got 1.5"):
        U.Upsample(1.5)
    assert repr(U.Upsample(2, "bilinear")) == "Upsample(scale_factor=2, mode='bilinear')"
