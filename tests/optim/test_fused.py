"""The fused Adam kernel against the NumPy update it replaces: equal bit for bit."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from optim import _fused, updates


def _run(fused, arrays, **hyper):
    """Adam from zero moments on ``arrays`` (the parameter, then one gradient per step)."""
    param, grads = arrays[0].copy(), arrays[1:]
    state = [np.zeros_like(param) for _ in range(3)]
    real = _fused.fusable
    _fused.fusable = lambda *a: fused and real(*a)  # fused=False: the NumPy path
    try:
        for t, grad in enumerate(grads, start=1):
            updates.adam_update(param, grad, *state, t, **hyper)
    finally:
        _fused.fusable = real
    return param, state


@given(
    dtype=st.sampled_from([np.float32, np.float64]),
    shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=7),
    beta1=st.sampled_from([0.0, 0.3, 0.5, 0.9]),  # both of lerp's formulas
    beta2=st.sampled_from([0.0, 0.9, 0.999]),
    amsgrad=st.booleans(),
    weight_decay=st.sampled_from([0.0, 0.1]),
    decoupled=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_fused_adam_equals_numpy_bitwise(dtype, shape, beta1, beta2, amsgrad,
                                         weight_decay, decoupled, seed):
    rng = np.random.default_rng(seed)
    # A parameter and three steps' gradients, some of them exactly zero.
    arrays = [(rng.standard_normal(shape) * rng.integers(0, 2, shape)).astype(dtype) for _ in range(4)]
    hyper = dict(lr=1e-2, beta1=beta1, beta2=beta2, eps=1e-8, weight_decay=weight_decay,
                 decoupled_weight_decay=decoupled, amsgrad=amsgrad)
    fused, fused_state = _run(True, arrays, **hyper)
    plain, plain_state = _run(False, arrays, **hyper)
    np.testing.assert_array_equal(fused, plain)
    for a, b in zip(fused_state, plain_state):
        np.testing.assert_array_equal(a, b)


def test_fused_adam_propagates_nan_like_numpy():
    grad = np.array([1.0, np.nan, -2.0], np.float32)
    arrays = [np.ones(3, np.float32), grad, np.ones(3, np.float32)]
    for amsgrad in (False, True):
        fused, _ = _run(True, arrays, lr=0.1, amsgrad=amsgrad)
        plain, _ = _run(False, arrays, lr=0.1, amsgrad=amsgrad)
        np.testing.assert_array_equal(fused, plain)
        assert np.isnan(fused[1]) and np.isfinite(fused[[0, 2]]).all()


def test_only_contiguous_arrays_of_one_float_dtype_are_fused():
    a = np.zeros((4, 4), np.float32)
    assert _fused.fusable(a, a.copy())
    assert not _fused.fusable(a, a.T)  # a transposed view: the flat kernel would miss it
    assert not _fused.fusable(a, a.astype(np.float64))
    assert not _fused.fusable(a.astype(np.int32), a.astype(np.int32))
