import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers import Linear, sinusoidal_encoding, timestep_embedding


@given(length=st.integers(0, 40), dim=st.integers(1, 17))
def test_integer_steps_are_rows_of_the_positional_table(length, dim):
    for dtype in (np.float32, np.float64):
        emb = timestep_embedding(np.arange(length), dim, dtype=dtype)
        assert emb.dtype == dtype and emb.shape == (length, dim)
        np.testing.assert_array_equal(emb, sinusoidal_encoding(length, dim, dtype))


@given(t=st.lists(st.integers(0, 5000), min_size=1, max_size=6), dim=st.integers(1, 12),
       max_period=st.sampled_from([1.0, 100.0, 10000.0, 1e6]))
def test_matches_the_formula_element_by_element(torch, t, dim, max_period):
    emb = timestep_embedding(np.array(t), dim, max_period=max_period, dtype=np.float64)
    # Written out with PyTorch, one column at a time.
    steps = torch.tensor(t, dtype=torch.float64)
    for j in range(dim):
        freq = math.exp(-math.log(max_period) * (j - j % 2) / dim)
        expected = (torch.sin if j % 2 == 0 else torch.cos)(steps * freq).numpy()
        np.testing.assert_allclose(emb[:, j], expected, rtol=0, atol=1e-12)


def test_float_steps_tensors_and_no_gradient():
    t = np.array([0.0, 0.5, 999.25])
    emb = timestep_embedding(t, 6)
    assert emb.dtype == np.float32 and np.all(np.abs(emb) <= 1)
    np.testing.assert_array_equal(timestep_embedding(mg.Tensor(t), 6), emb)
    np.testing.assert_array_equal(timestep_embedding([0, 3], 4, dtype=np.float64),
                                  sinusoidal_encoding(4, 4, np.float64)[[0, 3]])
    # It feeds a layer as a constant: the layer's weights get gradients, t gets none.
    layer = Linear(6, 3)
    layer(timestep_embedding(np.array([1, 2, 3]), 6)).sum().backward()
    assert layer.weight.grad.shape == (3, 6)


def test_bad_inputs():
    with pytest.raises(TypeError, match="timestep_embedding: t must hold integers or floats, got dtype bool"):
        timestep_embedding(np.array([True, False]), 4)
    with pytest.raises(ValueError, match=r"timestep_embedding: t must be 1-D \(N,\), got shape \(2, 2\)"):
        timestep_embedding(np.zeros((2, 2), dtype=int), 4)
    with pytest.raises(ValueError, match=r"timestep_embedding: t must be 1-D \(N,\), got shape \(\)"):
        timestep_embedding(5, 4)
    with pytest.raises(ValueError, match="timestep_embedding: t must be finite"):
        timestep_embedding(np.array([1.0, np.nan]), 4)
    with pytest.raises(ValueError, match="timestep_embedding: dim must be an integer >= 1, got 0"):
        timestep_embedding(np.arange(3), 0)
    with pytest.raises(ValueError, match="timestep_embedding: max_period must be > 0, got 0.0"):
        timestep_embedding(np.arange(3), 4, max_period=0)
    with pytest.raises(TypeError, match="timestep_embedding: dtype must be float32 or float64"):
        timestep_embedding(np.arange(3), 4, dtype=np.float16)
