"""Linear SVM and softmax: naive and vectorised losses agree and their gradients check."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from assignments import linear_classifier
from assignments.linear_svm import svm_loss_naive, svm_loss_vectorized
from assignments.softmax import softmax_loss_naive, softmax_loss_vectorized

PAIRS = [(svm_loss_naive, svm_loss_vectorized), (softmax_loss_naive, softmax_loss_vectorized)]


def _problem(seed, n=7, d=5, c=4):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((d, c)), rng.standard_normal((n, d)), rng.integers(0, c, n)


@pytest.mark.parametrize("naive, vectorized", PAIRS, ids=["svm", "softmax"])
@given(st.integers(1, 8), st.integers(1, 6), st.integers(2, 5), st.floats(0, 1), st.integers(0, 2**32 - 1))
def test_naive_and_vectorized_agree(naive, vectorized, n, d, c, reg, seed):
    W, X, y = _problem(seed, n, d, c)
    loss_a, dW_a = naive(W, X, y, reg)
    loss_b, dW_b = vectorized(W, X, y, reg)
    np.testing.assert_allclose(loss_b, loss_a, rtol=1e-12)
    np.testing.assert_allclose(dW_b, dW_a, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("naive, vectorized", PAIRS, ids=["svm", "softmax"])
@pytest.mark.parametrize("seed", range(3))
def test_gradient_matches_central_differences(naive, vectorized, seed):
    W, X, y = _problem(seed)
    for loss_fn in (naive, vectorized):
        _, dW = loss_fn(W, X, y, 0.1)
        numeric = mg.numerical_gradient(lambda w: np.array(loss_fn(w, X, y, 0.1)[0]), W.copy(), 1.0)
        # The hinge is piecewise linear: away from its kinks central differences are exact up to round-off.
        assert mg.rel_error(dW, numeric) < 1e-7


def test_softmax_loss_equals_minigrad_autograd_and_passes_gradcheck():
    """The hand-derived gradient against the autograd engine on the same formula."""
    W, X, y = _problem(4, n=9, d=6, c=5)

    def loss(W_t):
        data_loss = -(mg.Tensor(X) @ W_t).log_softmax(axis=1)[np.arange(len(y)), y].mean()
        return data_loss + 0.3 * (W_t * W_t).sum()

    W_t = mg.Tensor(W.copy(), requires_grad=True)
    out = loss(W_t)
    out.backward()
    ours, dW = softmax_loss_vectorized(W, X, y, 0.3)
    np.testing.assert_allclose(ours, out.data, rtol=1e-12)
    np.testing.assert_allclose(dW, W_t.grad, rtol=1e-10, atol=1e-12)
    assert mg.gradcheck(loss, mg.Tensor(W, requires_grad=True))[0] < 1e-7


def test_softmax_is_stable_for_huge_scores():
    W, X, y = _problem(1)
    loss, dW = softmax_loss_vectorized(W * 1e4, X, y, 0.0)
    assert np.isfinite(loss) and np.all(np.isfinite(dW))


def test_svm_loss_at_zero_weights_is_num_classes_minus_one():
    W, X, y = _problem(2, c=6)
    loss, _ = svm_loss_vectorized(np.zeros_like(W), X, y, 0.0)
    assert loss == pytest.approx(5.0)  # every wrong class violates the margin by exactly 1


@pytest.mark.parametrize("args, message", [
    ((np.zeros((5, 3)), np.zeros((4, 6)), np.zeros(4, int)), r"W must be \(D, C\) and X \(N, D\)"),
    ((np.zeros((5, 3)), np.zeros((4, 5)), np.zeros(3, int)), r"y must be \(4,\) integers"),
    ((np.zeros((5, 3)), np.zeros((4, 5)), np.array([0, 1, 2, 3])), r"labels must lie in 0..2, got 0..3"),
])
def test_losses_validate_inputs(args, message):
    for loss_fn in (svm_loss_vectorized, softmax_loss_naive):
        with pytest.raises(ValueError, match=loss_fn.__name__ + ": " + message):
            loss_fn(*args, 0.0)
    with pytest.raises(ValueError, match="reg must be >= 0"):
        svm_loss_naive(*_problem(0), -1.0)
    W, X, y = _problem(0)
    with pytest.raises(ValueError, match=r"softmax_loss_vectorized: W contains NaN or inf \(SGD diverges"):
        softmax_loss_vectorized(W * np.inf, X, y, 0.0)
    X[2, 1] = np.nan
    with pytest.raises(ValueError, match="svm_loss_vectorized: X contains NaN or inf"):
        svm_loss_vectorized(W, X, y, 0.0)


def test_losses_accept_array_likes():
    W, X, y = _problem(5)
    loss, _ = softmax_loss_vectorized(W.tolist(), X.tolist(), y.tolist(), 0.1)
    np.testing.assert_allclose(loss, softmax_loss_vectorized(W, X, y, 0.1)[0])


def test_sgd_separates_two_blobs(rng):
    X = linear_classifier.append_bias(np.concatenate([rng.normal(-2, 1, (50, 2)), rng.normal(2, 1, (50, 2))]))
    y = np.repeat([0, 1], 50)
    for loss_fn in (svm_loss_vectorized, softmax_loss_vectorized):
        W, losses = linear_classifier.train_sgd(loss_fn, X, y, 2, lr=0.1, reg=1e-3, epochs=20,
                                                batch_size=10, rng=np.random.default_rng(0))
        assert W.shape == (3, 2) and len(losses) == 200
        assert np.mean(losses[-10:]) < 0.5 * losses[0]
        assert np.mean(linear_classifier.predict(W, X) == y) > 0.95
