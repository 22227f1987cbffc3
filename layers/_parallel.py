"""Run a Numba kernel on slices of a batch in several threads at once.

The kernels that use this are compiled with ``nogil=True``: they release the
GIL, so plain Python threads run them truly in parallel. We split the batch
this way rather than with Numba's ``prange`` because Numba's OpenMP workers
spin for a while after each parallel region and then compete for the 2 cores
with the BLAS threads of the GEMM that typically comes next (see
``layers._kernels.conv``); these threads block on a queue instead.

The number of threads is ``numba.get_num_threads()``, so ``NUMBA_NUM_THREADS``
and ``numba.set_num_threads`` govern these kernels as they govern ``prange``
ones. The calling thread runs the last slice itself.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba

# Below this many multiply-adds (or element operations) per call, handing
# slices to other threads costs more than it saves (a hand-off is tens of us).
MIN_PARALLEL_WORK = 1 << 20

_pool = None
_pool_pid = None
_pool_lock = threading.Lock()


def _executor():
    """The worker threads, started on first use; a forked child (a process pool's worker) gets
    its own, since it inherits the parent's pool object but none of its threads."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(max_workers=max(1, numba.config.NUMBA_NUM_THREADS - 1),
                                       thread_name_prefix="minigrad-kernel")
            _pool_pid = os.getpid()
        return _pool


def batch_slices(n, parts):
    """``range(n)`` cut into ``parts`` consecutive ``(start, stop)`` slices of near-equal size
    (fewer when ``n < parts``; none when ``n == 0``)."""
    parts = max(1, min(parts, n))
    bounds = [n * k // parts for k in range(parts + 1)]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


def map_batch(run, n, work):
    """``[run(start, stop) for each slice of range(n)]``, the slices run in parallel.

    Parameters
    ----------
    run : callable (start, stop) -> result
        Must only write to its own slice of the outputs, and release the
        GIL (a ``nogil`` Numba kernel) to gain anything.
    n : int
        Batch size.
    work : int
        Rough operation count of the whole call; below ``MIN_PARALLEL_WORK``
        everything runs in the calling thread.

    Returns
    -------
    list
        The results in slice order, at least one (an empty batch is one
        empty slice), so that callers may sum them in a fixed order.
    """
    threads = numba.get_num_threads() if work >= MIN_PARALLEL_WORK else 1
    slices = batch_slices(n, threads)
    if len(slices) <= 1:
        return [run(0, n)]
    futures = [_executor().submit(run, a, b) for a, b in slices[:-1]]
    last = run(*slices[-1])
    return [f.result() for f in futures] + [last]
