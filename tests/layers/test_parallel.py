"""layers._parallel: how a batch is cut into slices and run in threads."""
import threading

import numba
import pytest
from hypothesis import given
from hypothesis import strategies as st

from layers import _parallel as P


@given(n=st.integers(0, 50), parts=st.integers(1, 8))
def test_batch_slices_cover_the_batch_in_order(n, parts):
    slices = P.batch_slices(n, parts)
    covered = [i for a, b in slices for i in range(a, b)]
    assert covered == list(range(n))
    assert len(slices) == min(parts, n)
    if slices:
        sizes = [b - a for a, b in slices]
        assert max(sizes) - min(sizes) <= 1, "slices must be of near-equal size"


def _record(calls):
    def run(a, b):
        calls.append((a, b, threading.get_ident()))
        return (a, b)
    return run


def test_map_batch_splits_large_work_across_threads():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs a machine where Numba may use 2 threads")
    calls, previous = [], numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        results = P.map_batch(_record(calls), 9, P.MIN_PARALLEL_WORK)
    finally:
        numba.set_num_threads(previous)
    assert results == [(0, 4), (4, 9)], "results must come back in slice order"
    assert len({ident for *_, ident in calls}) == 2
    assert calls[-1][2] == threading.get_ident() or calls[0][2] == threading.get_ident()


@pytest.mark.parametrize("n, work, threads", [(9, P.MIN_PARALLEL_WORK - 1, 2), (9, 1 << 30, 1), (1, 1 << 30, 2)])
def test_map_batch_runs_small_or_single_threaded_work_in_the_caller(n, work, threads):
    calls, previous = [], numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        results = P.map_batch(_record(calls), n, work)
    finally:
        numba.set_num_threads(previous)
    assert results == [(0, n)]
    assert calls == [(0, n, threading.get_ident())]


def test_map_batch_of_an_empty_batch_runs_once():
    assert P.map_batch(lambda a, b: (a, b), 0, 1 << 30) == [(0, 0)]


def test_map_batch_passes_exceptions_on():
    def run(a, b):
        if a == 0:
            raise ValueError("first slice")
        return b

    with pytest.raises(ValueError, match="first slice"):
        P.map_batch(run, 4, 1 << 30)


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_map_batch_works_in_a_forked_child():
    """A child forked after the pool started (a process pool's worker) must not wait forever on
    the parent's threads, which it does not have."""
    import multiprocessing

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs a machine where Numba may use 2 threads")
    P.map_batch(lambda a, b: b - a, 4, 1 << 30)  # the parent's pool is running
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        result = pool.apply_async(_split_in_child).get(timeout=60)
    assert result == [2, 2]


def _split_in_child():
    numba.set_num_threads(2)
    return P.map_batch(lambda a, b: b - a, 4, 1 << 30)


def test_workers_are_steered_off_the_callers_cpu():
    """Before each hand-off the workers may run on every CPU the caller may use but the
    caller's own, so the scheduler cannot stack both slices on one CPU."""
    import os

    if not hasattr(os, "sched_setaffinity") or P._sched_getcpu is None:
        pytest.skip("CPU affinity is a Linux interface")
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs a machine where Numba may use 2 threads")
    previous = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        P.map_batch(lambda a, b: b - a, 4, 1 << 30)  # the pool has started its worker
        allowed = os.sched_getaffinity(0)
        assert P._worker_ids, "the pool's threads must register their ids"
        for cpu in sorted(allowed)[:2]:
            steered = P.steer_workers_off(cpu)
            assert steered == (len(allowed) >= 2)
            for tid in P._worker_ids:
                assert os.sched_getaffinity(tid) == (allowed - {cpu} if steered else allowed)
        # A CPU the caller may not use (or a single allowed CPU) leaves the workers as they are.
        before = {tid: os.sched_getaffinity(tid) for tid in P._worker_ids}
        assert not P.steer_workers_off(max(allowed) + 1)
        assert {tid: os.sched_getaffinity(tid) for tid in P._worker_ids} == before
        # The caller's own affinity is never touched.
        assert os.sched_getaffinity(0) == allowed
    finally:
        numba.set_num_threads(previous)
