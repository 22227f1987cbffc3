"""k-NN: the three distance computations agree, voting and cross-validation are right."""
import collections

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assignments import knn


@given(st.integers(1, 7), st.integers(1, 9), st.integers(1, 12), st.integers(0, 2**32 - 1))
def test_three_distance_versions_agree(n, m, d, seed):
    rng = np.random.default_rng(seed)
    X_train, X = rng.standard_normal((m, d)), rng.standard_normal((n, d))
    two = knn.compute_distances_two_loops(X_train, X)
    assert two.shape == (n, m)
    np.testing.assert_allclose(knn.compute_distances_one_loop(X_train, X), two, rtol=0, atol=1e-12)
    np.testing.assert_allclose(knn.compute_distances_no_loops(X_train, X), two, rtol=0, atol=1e-6)


def test_no_loop_distances_of_identical_rows_are_zero_not_nan(rng):
    X = rng.random((5, 784)).astype(np.float32)
    dists = knn.compute_distances_no_loops(X, X)
    assert np.all(np.isfinite(dists))
    np.testing.assert_allclose(np.diag(dists), 0, atol=1e-6)


def test_distance_shapes_are_validated():
    with pytest.raises(ValueError, match=r"compute_distances_no_loops: .* equal D, got \(3, 4\) and \(2, 5\)"):
        knn.compute_distances_no_loops(np.zeros((3, 4)), np.zeros((2, 5)))
    with pytest.raises(ValueError, match="compute_distances_two_loops: X_train and X must be finite"):
        knn.compute_distances_two_loops(np.zeros((3, 4)), np.full((2, 4), np.nan))


def _vote_loop(dists, y_train, k):
    """Twin of predict_labels: sort each row, count the k nearest labels, smallest label wins ties."""
    predictions = []
    for row in dists:
        counts = collections.Counter(y_train[np.argsort(row, kind="stable")[:k]].tolist())
        best = max(counts.values())
        predictions.append(min(label for label, c in counts.items() if c == best))
    return np.array(predictions)


@given(st.integers(1, 6), st.integers(1, 15), st.integers(2, 5), st.data())
def test_predict_labels_matches_a_loop(n, m, num_classes, draw):
    rng = np.random.default_rng(draw.draw(st.integers(0, 2**32 - 1)))
    # Few distinct distances, so ties are common; kmax < m exercises the partial sort.
    dists = rng.integers(0, 4, (n, m)).astype(np.float64)
    y_train = rng.integers(0, num_classes, m)
    kmax = draw.draw(st.integers(1, m))
    ks = list(range(1, kmax + 1))
    predictions = knn.predict_labels(dists, y_train, ks, num_classes)
    assert predictions.shape == (kmax, n)
    for k, row in zip(ks, predictions):
        np.testing.assert_array_equal(row, _vote_loop(dists, y_train, k))
    np.testing.assert_array_equal(knn.predict_labels(dists, y_train, 1, num_classes), y_train[dists.argmin(1)])


def test_predict_labels_breaks_ties_towards_the_smaller_label():
    dists = np.array([[0.1, 0.2, 0.3, 0.4]])
    y_train = np.array([3, 1, 3, 1])
    assert knn.predict_labels(dists, y_train, 2, 4)[0] == 1
    assert knn.predict_labels(dists, y_train, 3, 4)[0] == 3
    with pytest.raises(ValueError, match=r"every k must be in 1..4, got \[5\]"):
        knn.predict_labels(dists, y_train, [5], 4)


def test_cross_validation_scores_each_fold(rng):
    # Two well-separated clusters: every k up to the cluster size classifies perfectly.
    X = np.concatenate([rng.normal(0, 0.1, (20, 3)), rng.normal(5, 0.1, (20, 3))])
    y = np.repeat([0, 1], 20)
    order = rng.permutation(40)
    scores = knn.cross_validate(X[order], y[order], [1, 3, 5], num_classes=2)
    assert scores.shape == (3, knn.NUM_FOLDS)
    np.testing.assert_array_equal(scores, 1.0)
    # Shuffled labels carry no signal: accuracy near chance.
    noisy = knn.cross_validate(X[order], rng.permutation(y), [1], num_classes=2)
    assert noisy.mean() < 0.8


def test_chunked_predict_equals_one_shot(rng):
    X_train, y_train, X = rng.random((30, 4)), rng.integers(0, 3, 30), rng.random((25, 4))
    expected = knn.predict_labels(knn.compute_distances_two_loops(X_train, X), y_train, 3, 3)
    np.testing.assert_array_equal(knn.predict(X_train, y_train, X, 3, 3, chunk=7), expected)
