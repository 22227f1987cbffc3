"""Sigmoid and tanh gradients in the tails: accurate where the output has rounded to +-1,
and zero instead of subnormal (subnormals make the GEMMs downstream ~40x slower)."""
import numpy as np
import pytest

from minigrad.activations import sigmoid_backward, sigmoid_forward, tanh_backward, tanh_forward


def _exact_slopes(name, x):
    """float64 slopes of sigmoid / tanh, from exp of the negative magnitude."""
    if name == "sigmoid":
        e = np.exp(-np.abs(x))
        return e / (1 + e) ** 2
    e = np.exp(-2 * np.abs(x))
    return 4 * e / (1 + e) ** 2


PAIRS = {"sigmoid": (sigmoid_forward, sigmoid_backward), "tanh": (tanh_forward, tanh_backward)}


@pytest.mark.parametrize("name", PAIRS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tail_slopes_are_normal_or_zero(name, dtype):
    forward, backward = PAIRS[name]
    x = np.concatenate([-np.geomspace(1, 800, 400), np.geomspace(1, 800, 400)]).astype(dtype)
    dout = np.full_like(x, 1e-3)
    dx = backward(dout, forward(x)[1])
    assert dx.dtype == dtype
    tiny = np.finfo(dtype).tiny
    assert not np.any((dx != 0) & (np.abs(dx) < tiny)), "a subnormal gradient"
    want = dout.astype(np.float64) * _exact_slopes(name, x.astype(np.float64))
    normal = want >= 2 * tiny  # clear of the flush threshold after rounding
    assert normal.sum() > 100
    np.testing.assert_allclose(dx[normal], want[normal], rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert np.all(dx[want < tiny / 2] == 0)


def test_saturated_tanh_still_has_a_float32_slope():
    """Where tanh(x) is exactly 1 in float32 (x = 20), the slope 4 exp(-40) is kept."""
    x = np.array([20.0], np.float32)
    assert tanh_forward(x)[0][0] == 1
    dx = tanh_backward(np.ones(1, np.float32), tanh_forward(x)[1])
    assert dx[0] == pytest.approx(4 * np.exp(-40.0), rel=1e-5)

