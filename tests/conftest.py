"""Shared test helpers: reference-library fixtures, hypothesis profile, gradient checks."""
import contextlib

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from layers import _parallel

# Modest example counts keep the suite fast; no deadline because the first
# call of a Numba kernel compiles (or loads from cache).
settings.register_profile(
    "default",
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("default")


@pytest.fixture(scope="session")
def torch():
    """PyTorch, the reference for forward/backward values (skips if absent).

    Single-threaded: test arrays are small, and torch's thread pool only adds
    overhead (and long stalls on a loaded 2-core machine) for them.
    """
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    return torch


@pytest.fixture(scope="session")
def skimage():
    """scikit-image, the reference for classic CV (skips if absent)."""
    return pytest.importorskip("skimage")


@pytest.fixture(scope="session")
def cv2():
    """OpenCV, the reference for classic CV (skips if absent)."""
    return pytest.importorskip("cv2")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@contextlib.contextmanager
def split_every_call(split=True):
    """Within it, with ``split``, every ``layers._parallel.map_batch`` call of two or more items
    runs on slices in several threads, however small (MIN_PARALLEL_WORK 0); without, calls
    split as usual."""
    with pytest.MonkeyPatch.context() as patch:
        if split:
            patch.setattr(_parallel, "MIN_PARALLEL_WORK", 0)
        yield


def assert_close(actual, expected, atol, what=""):
    """Assert two arrays agree to ``atol`` in max abs difference, naming the worst element."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    if actual.size == 0:
        return
    diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    worst = np.unravel_index(np.argmax(diff), diff.shape)
    assert diff[worst] <= atol, (
        f"{what}: max abs diff {diff[worst]:.3e} > {atol:.1e} at {worst}: "
        f"{actual[worst]!r} vs {expected[worst]!r}"
    )


def assert_grads_match(mg_fn, torch_fn, arrays, torch, atol=1e-10, seed=0):
    """Run ``mg_fn`` (minigrad Tensors) and ``torch_fn`` (torch tensors) on the same
    float64 inputs, backpropagate the same random upstream gradient, and assert
    forward outputs and every input gradient agree to ``atol``."""
    import minigrad as mg

    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    mg_inputs = [mg.Tensor(a, requires_grad=True) for a in arrays]
    th_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    mg_out = mg_fn(*mg_inputs)
    th_out = torch_fn(*th_inputs)
    assert_close(mg_out.data, th_out.detach().numpy(), atol, "forward")
    dout = np.random.default_rng(seed).standard_normal(mg_out.shape)
    mg_out.backward(dout)
    th_out.backward(torch.tensor(dout))
    for k, (m, t) in enumerate(zip(mg_inputs, th_inputs)):
        expected = t.grad.numpy() if t.grad is not None else np.zeros_like(arrays[k])
        actual = m.grad if m.grad is not None else np.zeros_like(arrays[k])
        assert_close(actual, expected, atol, f"grad of input {k}")
