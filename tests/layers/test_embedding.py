import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers._kernels import embedding as fast
from layers.embedding import Embedding, embedding
from layers.naive import embedding as naive
from tests.conftest import assert_close, assert_grads_match
from tests.layers.dense_checks import assert_float32_matches


@given(v=st.integers(1, 6), d=st.integers(1, 4), idx_shape=st.sampled_from([(5,), (2, 3), (1, 1, 4)]),
       pad=st.booleans(), seed=st.integers(0, 999))
def test_gradcheck_and_torch(torch, v, d, idx_shape, pad, seed):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, v, idx_shape)  # small v: repeated indices are common
    w = rng.standard_normal((v, d))
    padding_idx = int(idx.flat[0]) if pad else None
    fn = lambda w: embedding(idx, w, padding_idx)  # noqa: E731
    ref = lambda w: torch.nn.functional.embedding(torch.tensor(idx), w, padding_idx=padding_idx)  # noqa: E731
    if padding_idx is None:  # the padding row's gradient is zero by design, not by calculus
        mg.gradcheck(fn, w)
    assert_grads_match(fn, ref, [w], torch, atol=1e-12)
    assert_float32_matches(fn, ref, [w], torch)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scatter_kernel_matches_naive(dtype):
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 7, 50)
    rows = rng.standard_normal((50, 3)).astype(dtype)
    out = fast.scatter_add_rows(idx, rows, 7)
    assert out.dtype == dtype
    assert_close(out, naive.scatter_add_rows(idx, rows, 7), 1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(v=st.integers(1, 9), d=st.integers(1, 40), k=st.integers(0, 30), seed=st.integers(0, 999))
def test_gather_kernel_matches_naive(dtype, v, d, k, seed):
    rng = np.random.default_rng(seed)
    weight = rng.standard_normal((v, d)).astype(dtype)
    idx = rng.integers(0, v, k)
    out = fast.gather_rows(idx, weight)
    assert out.dtype == dtype and out.shape == (k, d)
    np.testing.assert_array_equal(out, naive.gather_rows(idx, weight))


@pytest.mark.parametrize("bad", [-1, 7, 100])
def test_gather_kernel_refuses_indices_outside_the_table(bad):
    with pytest.raises(IndexError, match=rf"gather_rows: idx\[2\] = {bad} is outside \[0, 7\)"):
        fast.gather_rows(np.array([0, 6, bad, 1]), np.ones((7, 3)))


def test_module_init_and_padding(torch):
    layer = Embedding(1000, 8, padding_idx=-1, rng=0)
    assert layer.padding_idx == 999 and np.all(layer.weight.data[999] == 0)
    assert layer.weight.dtype == np.float32
    assert abs(layer.weight.data.std() - 1) < 0.05  # N(0, 1) like PyTorch
    assert set(layer.state_dict()) == set(torch.nn.Embedding(3, 2).state_dict())
    out = layer(np.array([[1, 999]]))
    out.backward(np.ones(out.shape, np.float32))
    assert out.shape == (1, 2, 8) and np.all(layer.weight.grad[999] == 0) and np.all(layer.weight.grad[1] == 1)


def test_bad_inputs():
    w = np.ones((4, 3))
    with pytest.raises(ValueError, match=r"embedding: idx must be in \[0, 4\) for weight of shape \(4, 3\), got range \[0, 4\]"):
        embedding(np.array([0, 4]), w)
    with pytest.raises(TypeError, match="embedding: idx must hold integers, got dtype float64"):
        embedding(np.array([0.0]), w)
    with pytest.raises(ValueError, match=r"embedding: weight must be 2-D \(num_embeddings, dim\), got shape \(4,\)"):
        embedding(np.array([0]), np.ones(4))
    with pytest.raises(ValueError, match=r"Embedding: padding_idx must be an integer in \[-3, 2\], got 3"):
        Embedding(3, 2, padding_idx=3)


def test_list_weight_is_read_through_its_array():
    # The padding row is found from the checked array, not from a .shape the list lacks.
    out = embedding(np.array([1, 0]), [[1.0, 2.0], [3.0, 4.0]], padding_idx=-1)
    np.testing.assert_array_equal(np.asarray(out.data), [[3.0, 4.0], [1.0, 2.0]])
    with pytest.raises(ValueError, match=r"^embedding: padding_idx must be an integer in \[-2, 1\], got 2"):
        embedding(np.array([0]), [[1.0], [2.0]], padding_idx=2)
