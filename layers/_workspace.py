"""Per-thread scratch buffers reused across calls.

Fresh multi-megabyte arrays cost page faults on every call on these
machines (as much as the im2col copy itself in conv2d, a third of an LSTM's
forward time). Temporaries that die inside one call therefore live in
grow-only buffers, one per named slot and thread, kept between calls::

    cols = workspace("conv.cols", (ck, n * length), x.dtype)

Rules for callers:

- A workspace array is only valid until the next request for the same slot
  in the same thread. Never hand one to a cache, a Tensor or a caller.
- Two arrays needed at the same time must come from two different slots.
- The contents are garbage: fill before reading.
"""
import math
import threading

import numpy as np

_local = threading.local()


def workspace(slot, shape, dtype):
    """A scratch array of ``shape`` and ``dtype``, reused by every call naming ``slot``.

    Parameters
    ----------
    slot : str
        Name of the buffer; requests for one slot share its memory.
    shape : tuple of int
    dtype : numpy dtype

    Returns
    -------
    ndarray
        C-contiguous, uninitialised, a view into the slot's buffer (grown
        when too small, never shrunk).
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {}
    buf = buffers.get(slot)
    if buf is None or buf.nbytes < nbytes:
        buf = buffers[slot] = np.empty(nbytes, np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


def release():
    """Free every buffer of the calling thread (they are re-grown on the next request)."""
    _local.buffers = {}
