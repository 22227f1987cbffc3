"""Max / average / global average pooling: kernels vs naive twins, gradcheck, PyTorch parity, errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers import pooling as P
from layers.naive import pooling as naive
from tests.conftest import assert_close, assert_grads_match


@st.composite
def pool_configs(draw):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    hw = tuple(max(1, k - 2 * p) + draw(st.integers(0, 5)) for k, p in zip(kernel, padding))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), *hw)
    return shape, kernel, stride, padding


def _distinct(shape, seed, dtype=np.float64):
    """Values with no ties (a permutation), so every window has one clear maximum."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1).astype(dtype)


@given(cfg=pool_configs(), dtype=st.sampled_from([np.float32, np.float64]))
def test_max_pool_kernels_match_naive(cfg, dtype):
    shape, kernel, stride, padding = cfg
    x = _distinct(shape, 0, dtype)
    out, cache = P.max_pool2d_forward(x, kernel, stride, padding)
    want, want_argmax = naive.max_pool2d(x, kernel, stride, padding)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(cache[1], want_argmax)
    assert out.dtype == dtype
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    assert_close(P.max_pool2d_backward(dout, cache), naive.max_pool2d_backward(dout, want_argmax, shape),
                 1e-6, "dx")


@given(cfg=pool_configs(), dtype=st.sampled_from([np.float32, np.float64]))
def test_avg_pool_kernels_match_naive(cfg, dtype):
    shape, kernel, stride, padding = cfg
    x = np.random.default_rng(2).standard_normal(shape).astype(dtype)
    out, cache = P.avg_pool2d_forward(x, kernel, stride, padding)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    assert out.dtype == dtype
    assert_close(out, naive.avg_pool2d(x, kernel, stride, padding), tol, "forward")
    dout = np.random.default_rng(3).standard_normal(out.shape).astype(dtype)
    assert_close(P.avg_pool2d_backward(dout, cache),
                 naive.avg_pool2d_backward(dout, shape, kernel, stride, padding), tol, "dx")


@given(cfg=pool_configs())
def test_max_pool_gradcheck_and_torch(cfg, torch):
    shape, kernel, stride, padding = cfg
    x = _distinct(shape, 4)  # spacing 0.1 >> h: no kink is crossed
    fn = lambda t: P.max_pool2d(t, kernel, stride, padding)  # noqa: E731
    mg.gradcheck(fn, mg.Tensor(x, requires_grad=True), tol=1e-7)
    assert_grads_match(fn, lambda t: torch.nn.functional.max_pool2d(t, kernel, stride, padding),
                       [x], torch, atol=1e-12)


@given(cfg=pool_configs())
def test_avg_pool_gradcheck_and_torch(cfg, torch):
    shape, kernel, stride, padding = cfg
    x = np.random.default_rng(5).standard_normal(shape)
    fn = lambda t: P.avg_pool2d(t, kernel, stride, padding)  # noqa: E731
    mg.gradcheck(fn, mg.Tensor(x, requires_grad=True))
    assert_grads_match(fn, lambda t: torch.nn.functional.avg_pool2d(t, kernel, stride, padding),
                       [x], torch, atol=1e-12)


def test_global_avg_pool_gradcheck_and_torch(torch, rng):
    x = rng.standard_normal((3, 4, 5, 6))
    mg.gradcheck(P.global_avg_pool2d, mg.Tensor(x, requires_grad=True))
    pool = torch.nn.AdaptiveAvgPool2d(1)
    assert_grads_match(P.global_avg_pool2d, pool, [x], torch, atol=1e-12)
    out = P.GlobalAvgPool2d()(mg.Tensor(x.astype(np.float32)))
    assert out.shape == (3, 4, 1, 1) and out.dtype == np.float32


def test_max_pool_ties_and_nan_follow_torch(torch):
    # Ties go to the first maximum in scan order; a NaN in a window wins.
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 2, 3] = np.nan
    assert_grads_match(lambda t: P.max_pool2d(t, 2), lambda t: torch.nn.functional.max_pool2d(t, 2),
                       [np.zeros((1, 2, 4, 4))], torch)
    out = P.max_pool2d(mg.Tensor(x), 2).data
    np.testing.assert_array_equal(np.isnan(out), [[[[False, False], [False, True]]]])


def test_float32_modules_match_torch(torch, rng):
    x = rng.standard_normal((4, 3, 9, 8)).astype(np.float32)
    for ours, ref in [(P.MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1)),
                      (P.AvgPool2d((2, 3), padding=1), torch.nn.AvgPool2d((2, 3), padding=1))]:
        t = mg.Tensor(x, requires_grad=True)
        out = ours(t)
        out.sum().backward()
        r = torch.tensor(x, dtype=torch.float32, requires_grad=True)
        ref(r).sum().backward()
        assert out.dtype == np.float32 and t.grad.dtype == np.float32
        assert_close(out.data, ref(r).detach().numpy(), 1e-6, repr(ours))
        assert_close(t.grad, r.grad.numpy(), 1e-6, repr(ours))
    assert "kernel_size=(2, 3), stride=(2, 3), padding=(1, 1)" in repr(P.AvgPool2d((2, 3), padding=1))


@pytest.mark.parametrize(
    "fn", [P.max_pool2d, P.avg_pool2d],
)
@pytest.mark.parametrize(
    "shape, kwargs, error, match",
    [
        ((3, 8, 8), dict(kernel_size=2), ValueError, r"x must be 4-D \(N, C, H, W\), got shape \(3, 8, 8\)"),
        ((1, 1, 2, 8), dict(kernel_size=3), ValueError, r"kernel 3x3 is larger than the padded input 2x8"),
        ((1, 1, 8, 8), dict(kernel_size=2, stride=0), ValueError, r"stride must be >= 1, got 0"),
        ((1, 1, 8, 8), dict(kernel_size=0), ValueError, r"kernel_size must be >= 1"),
        ((1, 1, 8, 8), dict(kernel_size=2, padding=2), ValueError, r"padding must be at most half of kernel_size \(2, 2\), got \(2, 2\)"),
    ],
)
def test_pool_bad_input(fn, shape, kwargs, error, match):
    with pytest.raises(error, match=fn.__name__ + ": " + match):
        fn(np.zeros(shape), **kwargs)


def test_pool_module_and_global_bad_input():
    with pytest.raises(ValueError, match=r"MaxPool2d: stride must be >= 1"):
        P.MaxPool2d(2, stride=-1)
    with pytest.raises(ValueError, match=r"global_avg_pool2d: x must be 4-D"):
        P.global_avg_pool2d(np.zeros((2, 3)))


@given(h=st.integers(2, 9), w=st.integers(2, 9), dtype=st.sampled_from([np.float32, np.float64]))
def test_max_pool_2x2_fast_path_matches_general_kernel(h, w, dtype):
    """The dedicated 2x2/stride-2 kernels give bit-identical outputs, argmax and gradients
    to the general clipped-window kernels, ties, NaN and -0 included."""
    from layers._kernels import pooling as K

    rng = np.random.default_rng(h * 10 + w)
    x = np.round(rng.standard_normal((2, 3, h, w))).astype(dtype)  # rounding makes ties
    x[0, 0, 0, 0] = np.nan
    out, cache = P.max_pool2d_forward(x, 2)
    want, want_arg = np.empty_like(out), np.empty_like(cache[1])
    K.max_pool_forward(x, want, want_arg, 2, 2, 2, 2, 0, 0)
    assert cache[2], "the 2x2 fast path was not taken"
    assert out.tobytes() == want.tobytes() and np.array_equal(cache[1], want_arg)
    dout = np.round(rng.standard_normal(out.shape)).astype(dtype) * -1.0  # includes -0
    dx = np.empty(x.shape, dtype)
    K.max_pool_backward(dout, cache[1], dx)
    assert P.max_pool2d_backward(dout, cache).tobytes() == dx.tobytes()
