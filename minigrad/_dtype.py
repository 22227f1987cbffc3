"""Default floating dtype used when Python scalars and lists become arrays."""
import numpy as np

_default_dtype = np.dtype(np.float32)
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def set_default_dtype(dtype) -> None:
    """Set the dtype given to Python scalars and lists (float32 or float64).

    Arrays passed in keep their own dtype; this only decides what a bare
    ``1.5`` or ``[1, 2, 3]`` becomes.
    """
    global _default_dtype
    _default_dtype = check_float_dtype("set_default_dtype", "dtype", dtype)


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


def check_float_dtype(func, name, value):
    """Return ``value`` as a NumPy dtype after checking it is float32 or float64
    (for a ``dtype=`` argument, e.g. of a Module's parameters). Part of
    ``minigrad.validation``; it lives here because ``set_default_dtype`` needs it."""
    try:
        dtype = np.dtype(value) if value is not None else None
    except TypeError:
        dtype = None
    if dtype is None:
        raise TypeError(f"{func}: {name} must be float32 or float64, got {value!r}")
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"{func}: {name} must be float32 or float64, got {dtype}")
    return dtype
