import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers.affine import Linear, affine_backward, affine_forward, linear
from tests.conftest import assert_grads_match
from tests.layers.dense_checks import assert_float32_matches

lead_shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


@given(lead=lead_shapes, d=st.integers(1, 5), m=st.integers(1, 5), bias=st.booleans(), seed=st.integers(0, 99))
def test_linear_gradcheck(lead, d, m, bias, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal(lead + (d,)), rng.standard_normal((m, d)), rng.standard_normal(m)
    if bias:
        mg.gradcheck(lambda x, w, b: linear(x, w, b), x, w, b)
    else:
        mg.gradcheck(lambda x, w: linear(x, w), x, w)


@given(lead=lead_shapes, d=st.integers(1, 6), m=st.integers(1, 6), seed=st.integers(0, 99))
def test_linear_matches_torch(torch, lead, d, m, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(lead + (d,)), rng.standard_normal((m, d)), rng.standard_normal(m)]
    assert_grads_match(linear, torch.nn.functional.linear, arrays, torch, atol=1e-12)
    assert_float32_matches(linear, torch.nn.functional.linear, arrays, torch)


def test_functional_pair_matches_formula(rng):
    x, w, b = rng.standard_normal((3, 4)), rng.standard_normal((2, 4)), rng.standard_normal(2)
    out, cache = affine_forward(x, w, b)
    np.testing.assert_allclose(out, x @ w.T + b)
    dout = rng.standard_normal((3, 2))
    dx, dw, db = affine_backward(dout, cache)
    np.testing.assert_allclose(dx, dout @ w)
    np.testing.assert_allclose(dw, dout.T @ x)
    np.testing.assert_allclose(db, dout.sum(0))


def test_module_init_state_dict_and_dtype(torch):
    layer = Linear(50, 7, rng=0)
    bound = 1 / np.sqrt(50)
    assert layer.weight.shape == (7, 50) and layer.bias.shape == (7,)
    assert layer.weight.dtype == np.float32
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    # Uniform on [-bound, bound]: the spread is close to the bound, not far inside it.
    assert np.abs(layer.weight.data).max() > 0.9 * bound
    ref = torch.nn.Linear(50, 7)
    assert set(layer.state_dict()) == set(ref.state_dict())
    layer64 = Linear(50, 7, bias=False, rng=0, dtype=np.float64)
    assert layer64.bias is None and layer64.weight.dtype == np.float64
    assert [n for n, _ in layer64.named_parameters()] == ["weight"]
    np.testing.assert_array_equal(Linear(5, 3, rng=1).weight.data, Linear(5, 3, rng=1).weight.data)


@pytest.mark.parametrize(
    "x_shape, w_shape, b_shape, match",
    [
        ((2, 3), (4, 5), (4,), r"linear: x must have in_features=5.*got shape \(2, 3\)"),
        ((2, 5), (4, 5, 1), (4,), r"linear: weight must be 2-D"),
        ((2, 5), (4, 5), (3,), r"linear: bias must have shape \(4,\), got shape \(3,\)"),
        ((), (4, 5), (4,), r"linear: x must have in_features"),
    ],
)
def test_bad_shapes(x_shape, w_shape, b_shape, match):
    with pytest.raises(ValueError, match=match):
        linear(np.ones(x_shape), np.ones(w_shape), np.ones(b_shape))


def test_bad_dtype_and_features():
    with pytest.raises(TypeError, match="linear: x must be float32 or float64, got dtype int64"):
        linear(np.ones((2, 3), dtype=np.int64), np.ones((4, 3)))
    with pytest.raises(ValueError, match="Linear: in_features must be an integer >= 1, got 0"):
        Linear(0, 3)


def test_output_keeps_the_input_dtype(rng):
    layer = Linear(4, 3, rng=0, dtype=np.float32)
    x = mg.Tensor(rng.standard_normal((2, 4)).astype(np.float32), requires_grad=True)
    out = layer(x)
    out.backward(np.ones(out.shape, np.float32))
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
    assert layer.weight.grad.dtype == np.float32


def test_mixed_dtypes_raise(rng):
    # A float64 layer fed float32 (or the reverse) is refused, never silently cast.
    x = rng.standard_normal((2, 4)).astype(np.float32)
    with pytest.raises(TypeError, match=r"^Linear: x must have the dtype of weight \(float64\), got float32"):
        Linear(4, 3, rng=0, dtype=np.float64)(x)
    with pytest.raises(TypeError, match=r"linear: bias must have the dtype of x \(float64\), got float32"):
        linear(x.astype(np.float64), np.ones((3, 4)), np.ones(3, np.float32))
