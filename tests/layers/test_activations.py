import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers import activations as A
from layers._kernels import activations as kernels
from layers.naive import activations as naive
from tests.conftest import assert_close, assert_grads_match
from tests.layers.dense_checks import assert_float32_matches, assert_gradcheck_normwise, away_from

shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple)


def _cases(torch):
    F = torch.nn.functional
    return {
        "relu": (A.relu, F.relu, [0.0]),
        "leaky_relu": (lambda x: A.leaky_relu(x, 0.2), lambda x: F.leaky_relu(x, 0.2), [0.0]),
        "sigmoid": (A.sigmoid, torch.sigmoid, []),
        "tanh": (A.tanh, torch.tanh, []),
        "gelu": (A.gelu, F.gelu, []),
        "gelu_tanh": (lambda x: A.gelu(x, "tanh"), lambda x: F.gelu(x, approximate="tanh"), []),
        "silu": (A.silu, F.silu, []),
        "softmax_last": (A.softmax, lambda x: F.softmax(x, dim=-1), []),
        "softmax_first": (lambda x: A.softmax(x, axis=0), lambda x: F.softmax(x, dim=0), []),
    }


NAMES = ["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "gelu_tanh", "silu", "softmax_last", "softmax_first"]


@pytest.mark.parametrize("name", NAMES)
@given(shape=shapes, seed=st.integers(0, 999))
def test_gradcheck(torch, name, shape, seed):
    ours, _, kinks = _cases(torch)[name]
    # Moderate scale: where tanh or sigmoid saturate, the outputs' round-off
    # swamps the central differences, not the (exp-based) analytic slope.
    x = away_from(1.5 * np.random.default_rng(seed).standard_normal(shape), kinks)
    if name.startswith(("gelu", "softmax")):
        # GELU' has a zero near x = -0.75 and softmax gradients cancel, so an
        # element can be ~0 where only the scale-relative check is meaningful.
        assert_gradcheck_normwise(ours, x)
    else:
        mg.gradcheck(ours, x)


@pytest.mark.parametrize("name", NAMES)
@given(shape=shapes, seed=st.integers(0, 999))
def test_matches_torch(torch, name, shape, seed):
    ours, ref, _ = _cases(torch)[name]
    x = 4 * np.random.default_rng(seed).standard_normal(shape)
    assert_grads_match(ours, ref, [x], torch, atol=1e-12)
    # Unit scale in float32: a saturated softmax row (or tanh) has gradients far
    # below float32's resolution of its outputs, in any implementation.
    assert_float32_matches(ours, ref, [x / 4], torch)


def test_extreme_inputs_stay_finite():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=np.float32)
    s = A.sigmoid(x).data
    assert np.isfinite(s).all() and s[0] == 0 and s[-1] == 1
    p = A.softmax(np.array([[1000.0, 0.0, -1000.0]])).data
    np.testing.assert_allclose(p, [[1.0, 0.0, 0.0]])


@pytest.mark.parametrize("approximate", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_kernel_matches_naive(approximate, dtype):
    rng = np.random.default_rng(int(approximate))
    # Dense near 0 and out to both tails, where 1 + erf(x) would cancel.
    x = np.concatenate([3 * rng.standard_normal(300), np.linspace(-12, 12, 301)]).astype(dtype)
    dout = rng.standard_normal(x.size).astype(dtype)
    out, aux = kernels.gelu_forward(x, approximate)
    dx = kernels.gelu_backward(x, aux, dout, approximate)
    assert out.dtype == dtype and dx.dtype == dtype
    # float32: the inputs are exact in both; the kernels round once per operation.
    tol = 1e-6 if dtype == np.float32 else 1e-14
    assert_close(out, naive.gelu_forward(x.astype(np.float64), approximate), tol, "gelu forward")
    assert_close(dx, naive.gelu_backward(x.astype(np.float64), dout.astype(np.float64), approximate), tol, "gelu backward")


def test_exact_gelu_left_tail_is_accurate_in_float32():
    # Phi(x) comes from erfc, so tiny outputs keep their relative accuracy.
    x = np.array([-5.0, -7.0, -9.0], dtype=np.float32)
    ref = naive.gelu_forward(x.astype(np.float64), False)
    np.testing.assert_allclose(A.gelu(x).data, ref, rtol=5e-5)


def test_modules(torch):
    x = np.random.default_rng(0).standard_normal((3, 4))
    pairs = [
        (A.ReLU(), torch.nn.ReLU()), (A.LeakyReLU(0.3), torch.nn.LeakyReLU(0.3)),
        (A.Sigmoid(), torch.nn.Sigmoid()), (A.Tanh(), torch.nn.Tanh()),
        (A.GELU(), torch.nn.GELU()), (A.GELU("tanh"), torch.nn.GELU("tanh")),
        (A.Softmax(dim=0), torch.nn.Softmax(dim=0)), (A.SiLU(), torch.nn.SiLU()),
    ]
    for ours, ref in pairs:
        assert_close(ours(mg.Tensor(x)).data, ref(torch.tensor(x)).numpy(), 1e-12, type(ours).__name__)
    assert "negative_slope=0.3" in repr(A.LeakyReLU(0.3))


def test_bad_inputs():
    with pytest.raises(TypeError, match="relu: x must be float32 or float64, got dtype int64"):
        A.relu(np.arange(3))
    with pytest.raises(ValueError, match="gelu: approximate must be one of 'none', 'tanh', got 'fast'"):
        A.gelu(np.ones(3), "fast")
    with pytest.raises(ValueError, match=r"softmax: axis must be in \[-2, 1\] for a tensor of 2 dimensions, got 2"):
        A.softmax(np.ones((2, 3)), axis=2)


@given(dim=st.integers(-6, 6), ndim=st.integers(1, 3))
def test_softmax_module_names_dim(dim, ndim):
    x = np.ones((2,) * ndim, np.float32)
    if -ndim <= dim < ndim:
        np.testing.assert_allclose(A.Softmax(dim)(x).data.sum(axis=dim), 1, rtol=1e-6)
        return
    with pytest.raises(ValueError, match=rf"^Softmax: dim must be in \[{-ndim}, {ndim - 1}\] for x with {ndim} "
                                         rf"dimensions, got {dim}$"):
        A.Softmax(dim)(x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(rows=st.integers(1, 5), d=st.integers(1, 9), seed=st.integers(0, 999))
def test_leaky_kernels_match_naive(dtype, rows, d, seed):
    rng = np.random.default_rng(seed)
    x = (3 * rng.standard_normal((rows, d))).astype(dtype)
    dout = rng.standard_normal((rows, d)).astype(dtype)
    for slope in (0.0, 0.1):
        assert_close(kernels.leaky_relu_forward(x, slope), naive.leaky_relu_forward(x, dtype(slope)), 0, "leaky")
        assert_close(kernels.leaky_relu_backward(dout, x, slope),
                     naive.leaky_relu_backward(dout, x, dtype(slope)), 0, "leaky dx")


def test_silu_tails_keep_their_relative_accuracy(torch):
    # x * sigmoid(x) for large negative x is a tiny number; its slope too.
    x = np.array([-80.0, -30.0, -10.0, 0.0, 10.0, 30.0, 80.0])
    t = mg.Tensor(x, requires_grad=True)
    A.silu(t).backward(np.ones_like(x))
    ref = torch.tensor(x, requires_grad=True)
    out = torch.nn.functional.silu(ref)
    out.backward(torch.ones_like(ref))
    np.testing.assert_allclose(A.silu(x).data, out.detach().numpy(), rtol=1e-14)
    np.testing.assert_allclose(t.grad, ref.grad.numpy(), rtol=1e-13)
    # float32 (the Numba kernel) keeps a few ulps of relative accuracy there too,
    # against torch in float64 on the same inputs; also through the Module.
    t32 = mg.Tensor(x.astype(np.float32), requires_grad=True)
    out32 = A.SiLU()(t32)
    out32.backward(np.ones(x.size, np.float32))
    assert out32.dtype == np.float32 and t32.grad.dtype == np.float32
    np.testing.assert_allclose(out32.data, out.detach().numpy(), rtol=5e-7)
    np.testing.assert_allclose(t32.grad, ref.grad.numpy(), rtol=5e-7)
    with pytest.raises(TypeError, match="silu: x must be float32 or float64, got dtype int64"):
        A.silu(np.arange(3))
