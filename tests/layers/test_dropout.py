import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers.dropout import Dropout, dropout, dropout_backward, dropout_forward


@given(p=st.floats(0.0, 0.9), seed=st.integers(0, 99), shape=st.sampled_from([(7,), (3, 4), (2, 3, 5)]))
def test_gradcheck_with_fixed_mask(p, seed, shape):
    x = np.random.default_rng(seed).standard_normal(shape)
    # A fresh generator with the same seed inside fn: every evaluation draws the same mask.
    mg.gradcheck(lambda t: dropout(t, p, rng=np.random.default_rng(seed)), x)


def test_statistics_mean_preserved_and_drop_rate():
    x = np.ones((400, 500), dtype=np.float32)
    for p in (0.1, 0.5, 0.8):
        out = dropout(x, p, rng=0).data
        assert out.dtype == np.float32
        assert abs(np.mean(out == 0) - p) < 0.01
        assert abs(out.mean() - 1.0) < 0.02  # inverted scaling keeps the expectation
        np.testing.assert_allclose(np.unique(out), [0.0, 1 / (1 - p)] if p else [1.0], rtol=1e-6)


def test_backward_uses_the_forward_mask(rng):
    x = mg.Tensor(rng.standard_normal((50, 40)), requires_grad=True)
    out = dropout(x, 0.3, rng=1)
    dout = rng.standard_normal(out.shape)
    out.backward(dout)
    kept = out.data != 0
    np.testing.assert_allclose(x.grad[kept], dout[kept] / 0.7)
    assert np.all(x.grad[~kept] == 0)


def test_eval_and_p_zero_are_identity(rng):
    x = rng.standard_normal((4, 5))
    layer = Dropout(0.5, rng=0).eval()
    np.testing.assert_array_equal(layer(mg.Tensor(x)).data, x)
    np.testing.assert_array_equal(dropout(x, 0.0).data, x)
    out, cache = dropout_forward(x, 0.5, False, np.random.default_rng(0))
    assert cache is None and dropout_backward(x, cache) is x
    np.testing.assert_array_equal(dropout(x, 1.0, rng=0).data, np.zeros_like(x))


def test_seeded_reproducibility():
    x = np.ones((20, 30))
    a, b = Dropout(0.5, rng=7), Dropout(0.5, rng=7)
    first = [a(x).data for _ in range(3)]
    second = [b(x).data for _ in range(3)]
    for u, v in zip(first, second):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(first[0], first[1])  # the generator advances between calls


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"dropout: p must be in \[0, 1\], got 1.5"):
        dropout(np.ones(3), 1.5)
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\], got -0.1"):
        Dropout(-0.1)
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        dropout(np.ones(3), 0.5, rng="seed")
