"""The per-thread scratch buffers shared by conv and the recurrent layers."""
import threading

import numpy as np

from layers._workspace import release, workspace


def test_a_slot_reuses_its_memory_and_grows_when_needed():
    a = workspace("test.a", (4, 5), np.float32)
    assert a.shape == (4, 5) and a.dtype == np.float32 and a.flags.c_contiguous
    a[...] = 1
    smaller = workspace("test.a", (3,), np.float64)
    assert np.shares_memory(a, smaller)
    bigger = workspace("test.a", (100, 100), np.float64)
    assert bigger.shape == (100, 100) and not np.shares_memory(a, bigger)
    assert np.shares_memory(workspace("test.a", (4, 5), np.float32), bigger)  # never shrinks


def test_slots_and_threads_do_not_share():
    a, b = workspace("test.a", (8,), np.float64), workspace("test.b", (8,), np.float64)
    assert not np.shares_memory(a, b)
    other = []
    thread = threading.Thread(target=lambda: other.append(workspace("test.a", (8,), np.float64)))
    thread.start()
    thread.join()
    assert not np.shares_memory(a, other[0])


def test_release_frees_the_buffers():
    a = workspace("test.a", (8,), np.float64)
    release()
    assert not np.shares_memory(a, workspace("test.a", (8,), np.float64))
