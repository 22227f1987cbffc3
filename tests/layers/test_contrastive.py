import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers import contrastive as C
from layers import info_nce_loss, nt_xent_loss
from layers.naive import contrastive as naive
from tests.conftest import assert_close, assert_grads_match
from tests.layers.dense_checks import assert_gradcheck_normwise

temperatures = st.sampled_from([0.07, 0.2, 0.5, 1.0, 3.0])


def _views(seed, n, d, scale=1.0):
    rng = np.random.default_rng(seed)
    z1 = scale * rng.standard_normal((n, d))
    # Positives correlated with their partners, as after a trained encoder.
    z2 = 0.6 * z1 + scale * rng.standard_normal((n, d))
    return z1, z2


def _torch_nt_xent(torch, temperature):
    """SimCLR's loss written with PyTorch's own pieces: normalise, similarities, mask, cross-entropy."""
    F = torch.nn.functional

    def loss(z1, z2):
        n = z1.shape[0]
        z = F.normalize(torch.cat([z1, z2]), dim=1)
        logits = (z @ z.T) / temperature
        logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
        target = torch.cat([torch.arange(n, 2 * n), torch.arange(n)])
        return F.cross_entropy(logits, target)

    return loss


@given(n=st.integers(1, 6), d=st.integers(1, 5), temperature=temperatures, seed=st.integers(0, 999))
def test_equals_naive_double_loop(n, d, temperature, seed):
    z1, z2 = _views(seed, n, d, scale=3.0)
    ours = nt_xent_loss(z1, z2, temperature).data
    assert ours.shape == () and ours.dtype == np.float64
    assert abs(float(ours) - naive.nt_xent_loss(z1, z2, temperature)) <= 1e-12 * max(1.0, abs(float(ours)))


@given(n=st.integers(1, 5), d=st.integers(1, 5), temperature=temperatures, seed=st.integers(0, 999))
def test_gradcheck(n, d, temperature, seed):
    z1, z2 = _views(seed, n, d)
    # The loss is invariant to each row's length, so its gradient has no radial part:
    # elements can be ~0, where only the scale-relative check is meaningful.
    assert_gradcheck_normwise(lambda a, b: nt_xent_loss(a, b, temperature), z1, z2)


def _torch_outputs(torch, ref, arrays, dout, dtype):
    """``ref``'s output and input gradients (upstream ``dout``) in torch, computed in ``dtype``."""
    inputs = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    out = ref(*inputs)
    out.backward(torch.tensor(dout.astype(dtype)))
    return [out.detach().numpy()] + [t.grad.numpy() for t in inputs]


@given(n=st.integers(1, 6), d=st.integers(1, 6), temperature=temperatures, seed=st.integers(0, 999))
def test_matches_torch(torch, n, d, temperature, seed):
    z1, z2 = _views(seed, n, d, scale=2.0)
    fn = lambda a, b: nt_xent_loss(a, b, temperature)  # noqa: E731
    ref = _torch_nt_xent(torch, temperature)
    assert_grads_match(fn, ref, [z1, z2], torch, atol=1e-12)
    _assert_float32_as_accurate_as_torch(fn, ref, [z1, z2], torch)


def _assert_float32_as_accurate_as_torch(fn, ref, arrays, torch, seed=12345):
    """Ours in float32 against torch in float64 on the same float32 inputs, with the error allowed
    to reach twice torch's own float32 error (or 1e-4 of the reference's scale).

    A fixed tolerance would not do: at low temperatures in few dimensions the loss is
    ill-conditioned, and torch's float32 gradient itself is off by up to 70 % of its scale
    (n=2, d=2, temperature=0.07), as cosine similarities rounded to float32 are divided by 0.07.
    """
    arrays = [np.asarray(a, np.float32) for a in arrays]
    dout = np.random.default_rng(seed).standard_normal(()).astype(np.float32)

    ours = [mg.Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ours)
    out.backward(dout)
    mine = [out.data] + [t.grad for t in ours]
    single, double = (_torch_outputs(torch, ref, arrays, dout, dtype) for dtype in (np.float32, np.float64))
    for what, a, theirs32, exact in zip(["forward", "grad 0", "grad 1"], mine, single, double):
        assert a.dtype == np.float32, f"{what}: dtype {a.dtype}"
        scale = max(float(np.abs(exact).max()), 1e-6)
        err = float(np.abs(a - exact).max()) / scale
        torch_err = float(np.abs(theirs32 - exact).max()) / scale
        assert err <= max(2 * torch_err, 1e-4), f"{what}: relative error {err:.2e}, torch's float32 {torch_err:.2e}"


def test_perfect_alignment_and_scale_invariance():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((8, 4))
    # Each row's length does not matter (cosine similarity) ...
    lengths = rng.uniform(0.1, 10.0, (8, 1))
    assert_close(nt_xent_loss(z * lengths, z, 0.5).data, nt_xent_loss(z, z, 0.5).data, 1e-13)
    # ... and identical views of mutually orthogonal embeddings score
    # -log(e^(1/t) / (e^(1/t) + 2N - 2)).
    z = np.eye(4)
    expected = -np.log(np.exp(1 / 0.5) / (np.exp(1 / 0.5) + 6))
    assert_close(nt_xent_loss(z, z, 0.5).data, expected, 1e-14)


def test_zero_rows_and_empty_batch():
    # A zero row is divided by the tiny eps, not its norm (0): finite loss and gradient.
    z1 = mg.Tensor(np.array([[0.0, 0.0], [1.0, 2.0]]), requires_grad=True)
    loss = nt_xent_loss(z1, np.array([[1.0, 0.0], [0.5, 2.0]]), 0.5)
    loss.backward()
    assert np.isfinite(loss.data) and np.isfinite(z1.grad).all()
    # N = 0: a mean over nothing, NaN as in cross_entropy and PyTorch.
    empty = mg.Tensor(np.zeros((0, 3)), requires_grad=True)
    loss = nt_xent_loss(empty, np.zeros((0, 3)), 0.5)
    loss.backward()
    assert np.isnan(loss.data) and empty.grad.shape == (0, 3)


def test_bad_inputs():
    z = np.ones((3, 4))
    with pytest.raises(ValueError, match=r"nt_xent_loss: z1 must be 2-D \(N, D\), got shape \(3,\)"):
        nt_xent_loss(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match=r"nt_xent_loss: z2 must have z1's shape \(3, 4\), got \(2, 4\)"):
        nt_xent_loss(z, np.ones((2, 4)))
    with pytest.raises(TypeError, match="nt_xent_loss: z2 must have the dtype of z1 \\(float64\\), got float32"):
        nt_xent_loss(z, z.astype(np.float32))
    with pytest.raises(TypeError, match="nt_xent_loss: z1 must be float32 or float64, got dtype int64"):
        nt_xent_loss(np.ones((3, 4), dtype=np.int64), z)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="nt_xent_loss: temperature must be > 0"):
            nt_xent_loss(z, z, bad)
    with pytest.raises(TypeError, match="nt_xent_loss: temperature must be a real number"):
        nt_xent_loss(z, z, "0.5")


def test_pair_is_the_function():
    z1, z2 = _views(3, 4, 3)
    loss, cache = C.nt_xent_forward(z1, z2, temperature=0.2)
    dz1, dz2 = C.nt_xent_backward(np.array(1.0), cache)
    a, b = mg.Tensor(z1, requires_grad=True), mg.Tensor(z2, requires_grad=True)
    nt_xent_loss(a, b, 0.2).backward()
    assert_close(loss, nt_xent_loss(z1, z2, 0.2).data, 0)
    assert_close(dz1, a.grad, 0)
    assert_close(dz2, b.grad, 0)


# ------------------------------------------------------------------ InfoNCE (MoCo)
def _moco_inputs(seed, n, k, d, scale=1.0):
    rng = np.random.default_rng(seed)
    query = scale * rng.standard_normal((n, d))
    key = 0.6 * query + scale * rng.standard_normal((n, d))
    return query, key, scale * rng.standard_normal((k, d))


def _torch_info_nce(torch, temperature):
    """MoCo's loss in PyTorch's pieces: normalise, positive and negative logits, cross-entropy on class 0."""
    F = torch.nn.functional

    def loss(query, key, queue):
        q, k, w = F.normalize(query, dim=1), F.normalize(key, dim=1), F.normalize(queue, dim=1)
        logits = torch.cat([(q * k).sum(1, keepdim=True), q @ w.T], dim=1) / temperature
        return F.cross_entropy(logits, torch.zeros(len(q), dtype=torch.long))

    return loss


@given(n=st.integers(1, 5), k=st.integers(0, 6), d=st.integers(1, 5), temperature=temperatures,
       seed=st.integers(0, 999))
def test_info_nce_equals_naive_loop(n, k, d, temperature, seed):
    query, key, queue = _moco_inputs(seed, n, k, d, scale=3.0)
    ours = info_nce_loss(query, key, queue, temperature).data
    assert ours.shape == () and ours.dtype == np.float64
    expected = naive.info_nce_loss(query, key, queue, temperature)
    assert abs(float(ours) - expected) <= 1e-12 * max(1.0, abs(expected))


@given(n=st.integers(1, 4), k=st.integers(1, 5), d=st.integers(1, 4), temperature=temperatures,
       seed=st.integers(0, 999))
def test_info_nce_gradcheck(n, k, d, temperature, seed):
    assert_gradcheck_normwise(lambda q, key, w: info_nce_loss(q, key, w, temperature),
                              *_moco_inputs(seed, n, k, d))


@given(n=st.integers(1, 5), k=st.integers(0, 6), d=st.integers(1, 5), temperature=temperatures,
       seed=st.integers(0, 999))
def test_info_nce_matches_torch(torch, n, k, d, temperature, seed):
    inputs = _moco_inputs(seed, n, k, d, scale=2.0)
    fn = lambda q, key, w: info_nce_loss(q, key, w, temperature)  # noqa: E731
    ref = _torch_info_nce(torch, temperature)
    assert_grads_match(fn, ref, inputs, torch, atol=1e-12)
    if k:
        _assert_float32_as_accurate_as_torch_n(fn, ref, inputs, torch)


def _assert_float32_as_accurate_as_torch_n(fn, ref, arrays, torch):
    """``_assert_float32_as_accurate_as_torch`` for any number of inputs, with three times torch's
    error allowed, and at least 1e-3 of the scale: at temperature 0.07 in two dimensions both
    float32 gradients are off by up to ~1e-3 of their scale and which one rounds worse varies
    (ours 2.3e-3 against 1.0e-3 for n=2, k=1, d=2, seed=106; 1.4e-4 against 3.3e-5 for n=1,
    k=2, d=2, seed=0)."""
    arrays = [np.asarray(a, np.float32) for a in arrays]
    dout = np.float32(0.7)

    ours = [mg.Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ours)
    out.backward(dout)
    single, double = (_torch_outputs(torch, ref, arrays, dout, dtype) for dtype in (np.float32, np.float64))
    for i, (a, theirs32, exact) in enumerate(zip([out.data] + [t.grad for t in ours], single, double)):
        assert a.dtype == np.float32, f"output {i}: dtype {a.dtype}"
        scale = max(float(np.abs(exact).max()), 1e-6)
        err, torch_err = (float(np.abs(b - exact).max()) / scale for b in (a, theirs32))
        assert err <= max(3 * torch_err, 1e-3), f"output {i}: relative error {err:.2e}, torch's {torch_err:.2e}"


def test_info_nce_known_values_and_gradient_to_the_query_only():
    # Orthonormal queries, keys equal to them, a queue of K other orthonormal rows:
    # every query scores -log(e^(1/t) / (e^(1/t) + K)).
    eye = np.eye(6)
    query = mg.Tensor(eye[:2] * 3.0, requires_grad=True)
    loss = info_nce_loss(query, eye[:2], eye[2:], 0.5)
    assert_close(loss.data, -np.log(np.exp(2.0) / (np.exp(2.0) + 4)), 1e-14)
    loss.backward()
    assert query.grad.shape == (2, 6) and np.isfinite(query.grad).all()
    # An empty queue leaves only the positive: loss 0, no gradient.
    query = mg.Tensor(eye[:2], requires_grad=True)
    loss = info_nce_loss(query, eye[2:4], np.zeros((0, 6)), 0.2)
    loss.backward()
    assert loss.data == 0 and not query.grad.any()


def test_info_nce_backward_skips_unneeded_gradients():
    query, key, queue = _moco_inputs(0, 3, 4, 2)
    _, cache = C.info_nce_forward(query, key, queue, temperature=0.2)
    full = C.info_nce_backward(np.array(1.0), cache)
    part = C.info_nce_backward(np.array(1.0), cache, needs_grad=(True, False, False))
    assert part[1] is None and part[2] is None
    assert_close(part[0], full[0], 0)
    assert all(g.shape == a.shape for g, a in zip(full, (query, key, queue)))


def test_info_nce_bad_inputs():
    q = np.ones((3, 4))
    with pytest.raises(ValueError, match=r"info_nce_loss: queue must be 2-D \(K, D\), got shape \(4,\)"):
        info_nce_loss(q, q, np.ones(4))
    with pytest.raises(ValueError, match=r"info_nce_loss: key must have query's shape \(3, 4\), got \(2, 4\)"):
        info_nce_loss(q, np.ones((2, 4)), np.ones((5, 4)))
    with pytest.raises(ValueError, match=r"info_nce_loss: queue must have D = 4 columns as query, got shape \(5, 3\)"):
        info_nce_loss(q, q, np.ones((5, 3)))
    with pytest.raises(TypeError, match=r"info_nce_loss: queue must have the dtype of query \(float64\), got float32"):
        info_nce_loss(q, q, np.ones((5, 4), np.float32))
    with pytest.raises(ValueError, match="info_nce_loss: temperature must be > 0"):
        info_nce_loss(q, q, q, 0.0)
