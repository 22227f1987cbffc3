"""Default floating dtype used when Python scalars and lists become arrays."""
import numpy as np

_default_dtype = np.dtype(np.float32)


def set_default_dtype(dtype) -> None:
    """Set the dtype given to Python scalars and lists (float32 or float64).

    Arrays passed in keep their own dtype; this only decides what a bare
    ``1.5`` or ``[1, 2, 3]`` becomes.
    """
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"set_default_dtype: dtype must be float32 or float64, got {dtype}")
    _default_dtype = dtype


def get_default_dtype() -> np.dtype:
    """Return the dtype given to Python scalars and lists."""
    return _default_dtype


def as_array(data, dtype=None) -> np.ndarray:
    """Convert ``data`` to an ndarray following minigrad's dtype rules.

    ndarrays and NumPy scalars keep their dtype; Python floats, ints and lists
    of them become the default float dtype (bools stay bool).
    """
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data)
    array = np.asarray(data)
    if array.dtype.kind in "iuf":
        return array.astype(_default_dtype)
    return array
