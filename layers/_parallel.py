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

On Linux the workers are steered off the caller's CPU before each hand-off
(``steer_workers_off``). After an idle spell (a pause in training, the other
side's round in a benchmark) the scheduler woke the worker on the CPU of the
thread that woke it, which then ran its own slice there too: the two slices
shared one CPU (CPU time / wall time 1.1 instead of 1.9, involuntary context
switches every call) for tens of calls, until the load balancer moved one. A
conv2d forward on (64, 32, 14, 14) took 2.8 ms instead of 1.45 for the first
20 calls after a 0.5 s sleep; steered, 1.5-1.7 ms. Spinning thread pools
(PyTorch's OpenMP) never let a CPU go idle between regions, so never meet it.
"""
import ctypes
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
_worker_ids = []  # native ids of the pool's threads, each added as it starts
_worker_cpus = {}  # native id -> the CPUs it was last allowed


def _register_worker():
    _worker_ids.append(threading.get_native_id())


def _executor():
    """The worker threads, started on first use; a forked child (a process pool's worker) gets
    its own, since it inherits the parent's pool object but none of its threads."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _worker_ids.clear()
            _worker_cpus.clear()
            _pool = ThreadPoolExecutor(max_workers=max(1, numba.config.NUMBA_NUM_THREADS - 1),
                                       thread_name_prefix="minigrad-kernel",
                                       initializer=_register_worker)
            _pool_pid = os.getpid()
        return _pool


def _find_sched_getcpu():
    """glibc's ``sched_getcpu`` (the CPU the calling thread runs on), or None off Linux."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    try:  # the process's own symbols, libc's among them (find_library would cost 5 ms)
        getcpu = ctypes.CDLL(None).sched_getcpu
    except (OSError, AttributeError):
        return None
    getcpu.restype = ctypes.c_int
    getcpu.argtypes = ()
    return getcpu


_sched_getcpu = _find_sched_getcpu()


def steer_workers_off(cpu):
    """Allow the pool's threads every CPU the calling thread may use except ``cpu``
    (see the module docstring); a no-op with fewer than two such CPUs. The calling
    thread's own affinity is never changed. Returns whether the workers were steered."""
    allowed = os.sched_getaffinity(0)
    if cpu not in allowed or len(allowed) < 2:
        return False
    others = allowed - {cpu}
    for tid in list(_worker_ids):
        if _worker_cpus.get(tid) != others:
            try:
                os.sched_setaffinity(tid, others)
            except OSError:  # the thread is gone, or a sandbox forbids it: leave it as it is
                continue
            _worker_cpus[tid] = others
    return True


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
    pool = _executor()
    if _sched_getcpu is not None:
        steer_workers_off(_sched_getcpu())
    futures = [pool.submit(run, a, b) for a, b in slices[:-1]]
    last = run(*slices[-1])
    return [f.result() for f in futures] + [last]
