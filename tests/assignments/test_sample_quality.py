"""The Fréchet distance against hand computations and its known properties, and the
classifier's penultimate features."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from assignments.models import ConvNet
from assignments.sample_quality import frechet_distance, penultimate_features


def _symmetric_root(m):
    w, v = np.linalg.eigh(m)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def _by_hand(a, b):
    """FD with tr((S_a S_b)^(1/2)) = tr((S_a^(1/2) S_b S_a^(1/2))^(1/2)), both roots by eigendecomposition."""
    ca, cb = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    ra = _symmetric_root(ca)
    return np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(ca + cb) - 2 * np.trace(_symmetric_root(ra @ cb @ ra))


def test_one_dimensional_sets_by_hand():
    a = np.array([[0.0], [2.0], [4.0]])  # mean 2, variance 4
    b = np.array([[1.0], [2.0]])  # mean 1.5, variance 0.5
    expected = 0.5 ** 2 + (2.0 - np.sqrt(0.5)) ** 2
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-12)


def test_diagonal_covariances_by_hand():
    # Independent coordinates: FD = |mu_a - mu_b|^2 + sum_i (sd_a,i - sd_b,i)^2.
    a = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 3.0], [0.0, -3.0]]) + [5.0, 0.0]
    b = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, -1.0]])
    sd_a, sd_b = np.sqrt([2 / 3, 6.0]), np.sqrt([8 / 3, 2 / 3])
    assert frechet_distance(a, b) == pytest.approx(25.0 + np.sum((sd_a - sd_b) ** 2), rel=1e-12)


@settings(max_examples=15)
@given(n=st.integers(6, 40), m=st.integers(6, 40), d=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_equals_the_symmetric_form_and_is_symmetric(n, m, d, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, d)) @ rng.standard_normal((d, d)) + rng.standard_normal(d)
    b = rng.standard_normal((m, d)) * rng.uniform(0.5, 2, d)
    fd = frechet_distance(a, b)
    assert fd == pytest.approx(_by_hand(a, b), rel=1e-8, abs=1e-9)
    assert fd == pytest.approx(frechet_distance(b, a), rel=1e-8, abs=1e-9)


@settings(max_examples=15)
@given(n=st.integers(8, 30), d=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_identical_sets_are_0_and_a_shift_costs_its_squared_norm(n, d, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, d)) * 3
    shift = rng.standard_normal(d)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9 * np.trace(np.atleast_2d(np.cov(a.T))) + 1e-12)
    assert frechet_distance(a, a + shift) == pytest.approx(np.sum(shift ** 2), rel=1e-7, abs=1e-9)
    # Row order and float32 do not matter beyond round-off.
    assert frechet_distance(a[::-1].astype(np.float32), a + shift) == pytest.approx(np.sum(shift ** 2), rel=1e-4,
                                                                                     abs=1e-4)


def test_fewer_samples_than_features_stays_finite(rng):
    # Singular covariances (the --quick runs): sqrtm is less accurate there, not wrong.
    a, b = rng.standard_normal((10, 32)), rng.standard_normal((12, 32)) + 1.0
    fd = frechet_distance(a, b)
    assert np.isfinite(fd) and fd == pytest.approx(_by_hand(a, b), rel=1e-4)
    shift = rng.standard_normal(32)
    assert frechet_distance(a, a + shift) == pytest.approx(np.sum(shift ** 2), rel=1e-4)


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="frechet_distance: features_a and features_b must have the same width D"):
        frechet_distance(np.zeros((3, 2)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="frechet_distance: features_b must hold at least 2 rows"):
        frechet_distance(np.zeros((3, 2)), np.zeros((1, 2)))
    with pytest.raises(ValueError, match="frechet_distance: features_a must be 2-D"):
        frechet_distance(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(TypeError, match="frechet_distance: features_a must be float32 or float64"):
        frechet_distance(np.zeros((3, 2), int), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="frechet_distance: features_b"):
        frechet_distance(np.zeros((3, 2)), np.array([[0.0, np.nan], [1.0, 1.0]]))


def test_penultimate_features_feed_the_last_layer(rng):
    model = ConvNet((1, 8, 8), 10, channels=(4, 6), hidden=12, rng=0)
    model.eval()
    X = rng.random((7, 1, 8, 8), dtype=np.float32)
    features = penultimate_features(model, X, batch_size=3)
    assert features.shape == (7, 12) and (features >= 0).all()
    last = list(model.classifier)[-1]
    with mg.no_grad():
        scores = model(mg.Tensor(X)).data
    np.testing.assert_allclose(features @ last.weight.data.T + last.bias.data, scores, rtol=1e-5, atol=1e-5)
