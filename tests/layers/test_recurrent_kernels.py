"""The fused recurrent gate kernels against their plain NumPy twins."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from layers._kernels import recurrent as fast
from layers.naive import recurrent as naive
from tests.conftest import assert_close

dtypes = st.sampled_from([np.float32, np.float64])
TOL = {np.float32: 2e-6, np.float64: 1e-14}


def _draw(rng, dtype, *shape, scale=3.0):
    return (scale * rng.standard_normal(shape)).astype(dtype)


@given(n=st.integers(1, 5), h=st.integers(1, 40), dtype=dtypes, seed=st.integers(0, 999))
def test_lstm_gates_match_naive(n, h, dtype, seed):
    rng = np.random.default_rng(seed)
    xproj, hproj, c_prev = _draw(rng, dtype, n, 4 * h), _draw(rng, dtype, n, 4 * h), _draw(rng, dtype, n, h)
    gates, c, tanh_c, hidden = (np.empty(s, dtype) for s in [(n, 4 * h)] + [(n, h)] * 3)
    fast.lstm_gates_forward(xproj, hproj, c_prev, gates, c, tanh_c, hidden)
    expected = naive.lstm_gates_forward(xproj.astype(np.float64), hproj, c_prev)
    for name, got, want in zip(("gates", "c", "tanh_c", "h"), (gates, c, tanh_c, hidden), expected):
        assert got.dtype == dtype
        assert_close(got, want, TOL[dtype], name)

    # Upstream gradient through a strided view, as the sequence loop passes it.
    dh_out = _draw(rng, dtype, n, 2, h)[:, 1]
    dh_rec, dc_next = _draw(rng, dtype, n, h), _draw(rng, dtype, n, h)
    dgates, dc = np.empty((n, 4 * h), dtype), dc_next.copy()
    fast.lstm_gates_backward(dh_out, dh_rec, dc, gates, c_prev, tanh_c, dgates)
    want_dgates, want_dc = naive.lstm_gates_backward(
        dh_out.astype(np.float64), dh_rec, dc_next, gates, c_prev, tanh_c
    )
    assert_close(dgates, want_dgates, 10 * TOL[dtype], "dgates")
    assert_close(dc, want_dc, 10 * TOL[dtype], "dc_prev")


@given(n=st.integers(1, 5), h=st.integers(1, 40), dtype=dtypes, seed=st.integers(0, 999))
def test_gru_gates_match_naive(n, h, dtype, seed):
    rng = np.random.default_rng(seed)
    xproj, hproj = _draw(rng, dtype, n, 3 * h), _draw(rng, dtype, n, 3 * h)
    b_hh, h_prev = _draw(rng, dtype, 3 * h), _draw(rng, dtype, n, h)
    gates, hn, hidden = np.empty((n, 3 * h), dtype), np.empty((n, h), dtype), np.empty((n, h), dtype)
    fast.gru_gates_forward(xproj, hproj, b_hh, h_prev, gates, hn, hidden)
    expected = naive.gru_gates_forward(xproj.astype(np.float64), hproj, b_hh, h_prev)
    for name, got, want in zip(("gates", "hn", "h"), (gates, hn, hidden), expected):
        assert got.dtype == dtype
        assert_close(got, want, 10 * TOL[dtype], name)

    dh_out = _draw(rng, dtype, n, 2, h)[:, 0]
    dh_rec = _draw(rng, dtype, n, h)
    dxproj, dhproj, dh_prev = np.empty((n, 3 * h), dtype), np.empty((n, 3 * h), dtype), np.empty((n, h), dtype)
    fast.gru_gates_backward(dh_out, dh_rec, gates, hn, h_prev, dxproj, dhproj, dh_prev)
    expected = naive.gru_gates_backward(dh_out.astype(np.float64), dh_rec, gates, hn, h_prev)
    for name, got, want in zip(("dxproj", "dhproj", "dh_prev"), (dxproj, dhproj, dh_prev), expected):
        assert_close(got, want, 100 * TOL[dtype], name)


@pytest.mark.parametrize("kind", ["sigmoid", "tanh"])
def test_inline_activations_are_accurate_everywhere(kind):
    """The kernels' own exp-based sigmoid/tanh, probed through the LSTM kernel:
    within a few ulp over a wide range, exact limits, no overflow, NaN kept."""
    a = np.concatenate([
        np.linspace(-60, 60, 24001), np.geomspace(1e-300, 30, 2000), -np.geomspace(1e-300, 30, 2000),
        [0.0, 700.0, -700.0, 800.0, -800.0, 1e300, -1e300, np.inf, -np.inf],
    ])
    n = a.size
    # Put ``a`` in the i gate (sigmoid) or the g gate (tanh); the others get 0.
    xproj = np.zeros((n, 4))
    xproj[:, 0 if kind == "sigmoid" else 2] = a
    gates, c, tanh_c, h = np.empty((n, 4)), np.empty((n, 1)), np.empty((n, 1)), np.empty((n, 1))
    fast.lstm_gates_forward(xproj, np.zeros((n, 4)), np.zeros((n, 1)), gates, c, tanh_c, h)
    got = gates[:, 0 if kind == "sigmoid" else 2]
    with np.errstate(over="ignore"):
        want = 1 / (1 + np.exp(-a)) if kind == "sigmoid" else np.tanh(a)
    rel = np.abs(got - want) / np.maximum(np.abs(want), 1e-300)
    assert rel.max() < 8 * np.finfo(np.float64).eps, f"worst at a={a[np.argmax(rel)]!r}"
    xproj[0, 0 if kind == "sigmoid" else 2] = np.nan
    fast.lstm_gates_forward(xproj, np.zeros((n, 4)), np.zeros((n, 1)), gates, c, tanh_c, h)
    assert np.isnan(gates[0, 0 if kind == "sigmoid" else 2])


@pytest.mark.parametrize("kind", ["sigmoid", "tanh"])
def test_inline_activations_in_float32(kind):
    """The float32 sigmoid/tanh (float32 exp, float32 lanes), probed through the LSTM kernel:
    within a few float32 ulp wherever the value is a normal float32, 0 below that, NaN kept."""
    a = np.concatenate([
        np.linspace(-60, 60, 24001), np.geomspace(1e-30, 30, 2000), -np.geomspace(1e-30, 30, 2000),
        [0.0, 100.0, -100.0, 1e30, -1e30, np.inf, -np.inf],
    ]).astype(np.float32)
    n, column = a.size, 0 if kind == "sigmoid" else 2
    xproj = np.zeros((n, 4), np.float32)
    xproj[:, column] = a
    outputs = [np.empty((n, 4), np.float32)] + [np.empty((n, 1), np.float32) for _ in range(3)]
    fast.lstm_gates_forward(xproj, np.zeros_like(xproj), np.zeros((n, 1), np.float32), *outputs)
    got = outputs[0][:, column].astype(np.float64)
    with np.errstate(over="ignore"):
        a64 = a.astype(np.float64)
        want = 1 / (1 + np.exp(-a64)) if kind == "sigmoid" else np.tanh(a64)
    normal = np.abs(want) >= np.finfo(np.float32).tiny
    rel = np.abs(got - want)[normal] / np.abs(want[normal])
    assert rel.max() < 4 * np.finfo(np.float32).eps, f"worst at a={a[normal][np.argmax(rel)]!r}"
    assert np.all(got[~normal] == 0)
    xproj[0, column] = np.nan
    fast.lstm_gates_forward(xproj, np.zeros_like(xproj), np.zeros((n, 1), np.float32), *outputs)
    assert np.isnan(outputs[0][0, column])
