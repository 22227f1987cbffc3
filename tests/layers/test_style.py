import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers import content_loss, gram_matrix, style_loss, total_variation_loss
from layers import style as S
from tests.conftest import assert_close, assert_grads_match
from tests.layers.dense_checks import assert_float32_matches, assert_gradcheck_normwise

images = st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(1, 5), st.integers(1, 5))
weights = st.sampled_from([0.0, 0.3, 1.0, 250.0])
# Moderate per-layer weights: the numerical gradient of one layer's input carries the round-off
# of the whole sum, which a 250-times heavier layer of unnormalised Gram matrices would swamp.
layer_weight_lists = st.lists(st.sampled_from([0.0, 0.3, 1.0, 2.5]), min_size=3, max_size=3)


def _torch_gram(torch, x, normalize):
    n, c, h, w = x.shape
    f = x.reshape(n, c, h * w)
    g = f @ f.transpose(1, 2)
    return g / (c * h * w) if normalize else g


def _torch_tv(torch, x, weight):
    """CS231n's total variation, written with PyTorch slicing."""
    return weight * (((x[:, :, 1:, :] - x[:, :, :-1, :]) ** 2).sum() + ((x[:, :, :, 1:] - x[:, :, :, :-1]) ** 2).sum())


@given(shape=images, normalize=st.booleans(), seed=st.integers(0, 999))
def test_gram_gradcheck_and_torch(torch, shape, normalize, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    fn = lambda x: gram_matrix(x, normalize)  # noqa: E731
    ref = lambda x: _torch_gram(torch, x, normalize)  # noqa: E731
    mg.gradcheck(fn, x)
    assert_grads_match(fn, ref, [x], torch, atol=1e-12)
    assert_float32_matches(fn, ref, [x], torch)


def test_gram_is_symmetric_and_counts_correlations():
    x = np.zeros((1, 2, 2, 2))
    x[0, 0] = [[1, 2], [3, 4]]
    x[0, 1] = [[1, 0], [0, 1]]
    g = gram_matrix(x, normalize=False).data
    np.testing.assert_array_equal(g[0], [[30, 5], [5, 2]])
    np.testing.assert_array_equal(gram_matrix(x).data, g / 8)  # C * H * W = 8


@given(shapes=st.lists(images, min_size=1, max_size=3), layer_weights=layer_weight_lists,
       normalize=st.booleans(), seed=st.integers(0, 999))
def test_style_loss_gradcheck_and_torch(torch, shapes, layer_weights, normalize, seed):
    rng = np.random.default_rng(seed)
    n = shapes[0][0]
    shapes = [(n,) + s[1:] for s in shapes]  # one batch through every layer
    feats = [rng.standard_normal(s) for s in shapes]
    # Targets: Gram matrices of another image's features.
    targets = [gram_matrix(rng.standard_normal(s), normalize).data for s in shapes]
    ws = layer_weights[:len(shapes)]
    fn = lambda *f: style_loss(list(f), [t.astype(f[0].dtype) for t in targets], ws, normalize)  # noqa: E731

    def ref(*f):
        return sum(w * ((_torch_gram(torch, x, normalize) - torch.tensor(t)) ** 2).sum()
                   for x, t, w in zip(f, targets, ws))

    assert_gradcheck_normwise(fn, *feats, tol=1e-7)
    assert_grads_match(fn, ref, feats, torch, atol=1e-10)
    assert_float32_matches(fn, ref, feats, torch, rtol=1e-4)


@given(shape=images, weight=weights, seed=st.integers(0, 999))
def test_content_and_tv_gradcheck_and_torch(torch, shape, weight, seed):
    rng = np.random.default_rng(seed)
    x, target = rng.standard_normal(shape), rng.standard_normal(shape)
    cases = [
        # The target takes x's dtype: float32 features are compared with a float32 target.
        (lambda x: content_loss(x, target.astype(x.dtype), weight),
         lambda x: weight * ((x - torch.tensor(target)) ** 2).sum()),
        (lambda x: total_variation_loss(x, weight), lambda x: _torch_tv(torch, x, weight)),
    ]
    for fn, ref in cases:
        assert_gradcheck_normwise(fn, x)
        assert_grads_match(fn, ref, [x], torch, atol=1e-11 * max(1.0, weight))  # sums grow with the weight
        if weight:
            assert_float32_matches(fn, ref, [x], torch)


def test_losses_by_hand():
    x = np.arange(12, dtype=np.float64).reshape(1, 1, 3, 4)
    # Vertical neighbours differ by 4 (8 pairs), horizontal ones by 1 (9 pairs).
    assert_close(total_variation_loss(x, 0.5).data, 0.5 * (8 * 16 + 9 * 1), 0)
    assert_close(content_loss(x, x + 2, 3.0).data, 3.0 * 12 * 4, 0)
    # A constant image has no variation; a style equal to its target costs nothing.
    assert total_variation_loss(np.ones((2, 3, 4, 4)), 10.0).data == 0
    g = gram_matrix(x).data
    assert style_loss([x], [g], [5.0]).data == 0


def test_keeps_float32():
    x = mg.Tensor(np.random.default_rng(0).standard_normal((1, 3, 5, 5)).astype(np.float32), requires_grad=True)
    target = np.zeros((1, 3, 5, 5), np.float32)
    loss = (content_loss(x, target, 2.0) + style_loss([x], [np.zeros((1, 3, 3), np.float32)], [1.0])
            + total_variation_loss(x, 0.1))
    loss.backward()
    assert loss.dtype == np.float32 and x.grad.dtype == np.float32


def test_pairs_are_the_functions():
    rng = np.random.default_rng(5)
    x, dout = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 3))
    g, cache = S.gram_matrix_forward(x, normalize=True)
    t = mg.Tensor(x, requires_grad=True)
    gram_matrix(t).backward(dout)
    assert_close(g, gram_matrix(x).data, 0)
    assert_close(S.gram_matrix_backward(dout, cache), t.grad, 0)
    # An empty map (H = 0) gives zero Gram matrices rather than 0 / 0.
    assert_close(gram_matrix(np.zeros((1, 2, 0, 3))).data, np.zeros((1, 2, 2)), 0)


def test_bad_inputs():
    x = np.ones((1, 2, 3, 3))
    with pytest.raises(ValueError, match=r"gram_matrix: x must be 4-D \(N, C, H, W\), got shape \(2, 3, 3\)"):
        gram_matrix(np.ones((2, 3, 3)))
    with pytest.raises(TypeError, match="gram_matrix: normalize must be True or False, got 1"):
        gram_matrix(x, 1)
    with pytest.raises(ValueError, match=r"content_loss: target must have shape \(1, 2, 3, 3\), got \(1, 2, 3\)"):
        content_loss(x, np.ones((1, 2, 3)))
    with pytest.raises(TypeError, match=r"content_loss: target must have the dtype of x \(float64\), got float32"):
        content_loss(x, x.astype(np.float32))
    with pytest.raises(ValueError, match="content_loss: weight must be >= 0, got -1.0"):
        content_loss(x, x, -1.0)
    with pytest.raises(ValueError, match=r"style_loss: targets\[0\] must have shape \(1, 2, 2\), got \(2, 2\)"):
        style_loss([x], [np.ones((2, 2))], [1.0])
    with pytest.raises(ValueError, match="style_loss: features, targets and weights must have one entry per layer"):
        style_loss([x, x], [np.ones((1, 2, 2))], [1.0])
    with pytest.raises(ValueError, match="style_loss: features, targets and weights must have one entry per layer"):
        style_loss([], [], [])
    with pytest.raises(TypeError, match="style_loss: features must be a list or tuple with one entry per layer, "
                                        "got ndarray"):
        style_loss(x, [np.ones((1, 2, 2))], [1.0])
    with pytest.raises(ValueError, match=r"style_loss: weights\[0\] must be >= 0, got nan"):
        style_loss([x], [np.ones((1, 2, 2))], [float("nan")])
    with pytest.raises(ValueError, match="total_variation_loss: weight must be >= 0, got -0.5"):
        total_variation_loss(x, -0.5)
    with pytest.raises(TypeError, match="total_variation_loss: x must be float32 or float64, got dtype int64"):
        total_variation_loss(np.ones((1, 1, 2, 2), dtype=np.int64))
