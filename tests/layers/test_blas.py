"""layers._blas: stacked matrix products split over the kernel threads, one BLAS thread each."""
import threading

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layers import _blas, _parallel

needs_openblas = pytest.mark.skipif(_blas._openblas_threads() is None,
                                    reason="NumPy is not linked to OpenBLAS")


@st.composite
def stacks(draw):
    lead = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=2)))
    m, k, n = (draw(st.integers(1, 9)) for _ in range(3))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 999)))
    # Either operand may be a transposed view, as attention's key and weight products are.
    a = rng.standard_normal(lead + ((k, m) if draw(st.booleans()) else (m, k))).astype(dtype)
    b = rng.standard_normal(lead + ((n, k) if draw(st.booleans()) else (k, n))).astype(dtype)
    a = a if a.shape[-1] == k and a.shape[-2] == m else np.swapaxes(a, -1, -2)
    b = b if b.shape[-2] == k and b.shape[-1] == n else np.swapaxes(b, -1, -2)
    return a, b


@pytest.mark.parametrize("split", [True, False])
@settings(deadline=None)
@given(problem=stacks())
def test_batched_matmul_equals_numpy(split, problem):
    a, b = problem
    with pytest.MonkeyPatch.context() as patch:
        # Threshold 0 splits any stack of two or more matrices over the threads.
        for module in (_blas, _parallel):
            patch.setattr(module, "MIN_PARALLEL_WORK", 0 if split else 1 << 62)
        got = _blas.batched_matmul(a, b)
    want = np.matmul(a, b)
    assert got.dtype == want.dtype and got.shape == want.shape and got.flags.c_contiguous
    tol = 1e-5 if a.dtype == np.float32 else 1e-13
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max(initial=1.0))


@needs_openblas
def test_blas_runs_one_thread_inside_and_is_restored_after(monkeypatch):
    get, _ = _blas._openblas_threads()
    before = get()
    seen = []
    numpy_matmul = np.matmul

    def matmul(a, b, out):  # what each of our threads runs: record BLAS's thread count
        seen.append(get())
        return numpy_matmul(a, b, out=out)

    for module in (_blas, _parallel):
        monkeypatch.setattr(module, "MIN_PARALLEL_WORK", 0)
    monkeypatch.setattr(_blas.np, "matmul", matmul)
    previous = numba.get_num_threads()
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    try:
        _blas.batched_matmul(np.ones((4, 3, 2)), np.ones((4, 2, 5)))
    finally:
        numba.set_num_threads(previous)
    if numba.config.NUMBA_NUM_THREADS >= 2:
        assert seen and set(seen) == {1}
    assert get() == before


@needs_openblas
def test_one_blas_thread_restores_the_count_after_errors_and_overlapping_calls():
    get, _ = _blas._openblas_threads()
    before = get()
    with pytest.raises(RuntimeError):
        with _blas._one_blas_thread():
            raise RuntimeError("inside")
    assert get() == before
    # Two threads inside at once: the count stays 1 until the last one leaves.
    inside, leave = threading.Barrier(2), threading.Event()
    counts = []

    def hold():
        with _blas._one_blas_thread():
            inside.wait()
            leave.wait()

    worker = threading.Thread(target=hold)
    worker.start()
    with _blas._one_blas_thread():
        inside.wait()
        leave.set()
        worker.join()
        counts.append(get())
    assert counts == [1] and get() == before
