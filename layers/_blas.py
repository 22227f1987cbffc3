"""Products of stacked matrices split over the kernel threads, each calling a one-thread BLAS.

``np.matmul`` of stacks makes one BLAS call per matrix, and BLAS splits each
call over its own threads. On attention's small products that gains nothing:
64 products of (256, 32) @ (32, 256) float32 took 3.3 ms with two BLAS threads,
as with one. Split between our two threads (``layers._parallel``), one BLAS
thread each, they take 1.9 ms. Left at two BLAS threads while two of ours call
it, they took 36 ms: BLAS's threads then fight over the same two cores.

So for the length of such a call the BLAS thread count is set to one, for the
whole process (BLAS has no per-call setting): a BLAS call made at that moment
by another thread of the program runs on one thread. The count is found
through the OpenBLAS that NumPy loaded; with another BLAS, or off Linux,
``batched_matmul`` is ``np.matmul``. Numba kernels that call ``np.dot``
(the Winograd convolution's) use SciPy's own OpenBLAS, whose count
``_one_blas_thread("scipy")`` sets the same way.
"""
import ctypes
import functools
import importlib
import os
import threading
from contextlib import contextmanager

import numba
import numpy as np

from ._parallel import MIN_PARALLEL_WORK, map_batch


@functools.cache
def _openblas_threads(package="numpy"):
    """``(get_num_threads, set_num_threads)`` of the OpenBLAS that ``package`` loaded, or None
    (looked up on first use, not when ``layers`` is imported).

    "numpy": the one NumPy's products call. "scipy": SciPy's own copy, which
    ``np.dot`` inside Numba kernels calls (Numba takes its BLAS from
    ``scipy.linalg.cython_blas``).
    """
    if package == "scipy":
        try:
            importlib.import_module("scipy.linalg.cython_blas")  # loads SciPy's OpenBLAS
        except ImportError:
            return None
    try:
        with open("/proc/self/maps") as maps:
            files = {line.split()[-1] for line in maps if "/" in line}
    except OSError:
        return None
    # numpy.libs/libscipy_openblas64_-*.so, scipy.libs/libscipy_openblas-*.so, ...
    paths = sorted(path for path in files if "openblas" in os.path.basename(path).lower()
                   and os.path.basename(os.path.dirname(path)).lower().startswith(package))
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix in ("scipy_openblas", "openblas"):
            for suffix in ("64_", ""):
                get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                set_ = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                if get is not None and set_ is not None:
                    get.restype, get.argtypes = ctypes.c_int, ()
                    set_.restype, set_.argtypes = None, (ctypes.c_int,)
                    return get, set_
    return None


_lock = threading.Lock()
_holders = {}  # package -> calls inside ``_one_blas_thread`` now
_saved = {}  # package -> the count to restore when the last of them leaves


@contextmanager
def _one_blas_thread(package="numpy"):
    """``package``'s BLAS (see ``_openblas_threads``) at one thread inside the block, its count
    restored when the last concurrent block ends; a no-op where it is not OpenBLAS."""
    found = _openblas_threads(package)
    if found is None:
        yield
        return
    get, set_ = found
    with _lock:
        if _holders.get(package, 0) == 0:
            _saved[package] = get()
            set_(1)
        _holders[package] = _holders.get(package, 0) + 1
    try:
        yield
    finally:
        with _lock:
            _holders[package] -= 1
            if _holders[package] == 0:
                set_(_saved[package])


def batched_matmul(a, b):
    """``np.matmul(a, b)`` of stacks ``a`` (B, ..., M, K) and ``b`` (B, ..., K, N) with
    the same leading shape (any strides), the stack split over the kernel threads
    along its first axis.

    Returns
    -------
    (B, ..., M, N), C-contiguous, of the inputs' result type.
    """
    if a.ndim < 3 or a.shape[:-2] != b.shape[:-2]:
        return np.matmul(a, b)
    out = np.empty(a.shape[:-1] + b.shape[-1:], np.result_type(a, b))
    work = out.size * a.shape[-1]
    splits = a.shape[0] >= 2 and work >= MIN_PARALLEL_WORK and numba.get_num_threads() >= 2
    if not (splits and _openblas_threads()):
        return np.matmul(a, b, out=out)
    with _one_blas_thread():
        map_batch(lambda start, stop: np.matmul(a[start:stop], b[start:stop], out=out[start:stop]),
                  a.shape[0], work)
    return out
