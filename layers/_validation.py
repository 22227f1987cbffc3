"""Input checks shared by the layer families' public entry points.

Each check raises with the calling function's name, the argument, what was
expected and what was given, so a user sees e.g.
``linear: x must have 4 features in its last axis, got shape (2, 3)``.
"""
import numpy as np

from minigrad import Tensor


def array_of(value):
    """The ndarray behind a Tensor, or ``value`` as an ndarray."""
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def require_float(fn, name, value):
    """Return ``value``'s array, raising TypeError unless it is float32/float64."""
    array = array_of(value)
    if array.dtype not in (np.float32, np.float64):
        raise TypeError(f"{fn}: {name} must be float32 or float64, got dtype {array.dtype}")
    return array


def require_int(fn, name, value):
    """Return ``value``'s array, raising TypeError unless it holds integers."""
    array = array_of(value)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{fn}: {name} must hold integers, got dtype {array.dtype}")
    return array


def require_ndim(fn, name, array, ndims, layout):
    """Raise ValueError unless ``array.ndim`` is in ``ndims``; ``layout`` names the axes."""
    if array.ndim not in ndims:
        wanted = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{fn}: {name} must be {wanted} {layout}, got shape {array.shape}")


def require_finite(fn, name, array):
    """Raise ValueError if ``array`` holds NaN or inf.

    Summing first is one cheap pass; only when the sum is not finite (NaN,
    inf, or a harmless overflow) do we pay for the exact element-wise test.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(array, axis=None)
    if not np.isfinite(total) and not np.isfinite(array).all():
        raise ValueError(f"{fn}: {name} contains NaN or inf")


def require_positive(fn, name, value):
    """Raise ValueError unless ``value`` > 0."""
    if not value > 0:
        raise ValueError(f"{fn}: {name} must be positive, got {value!r}")


def as_generator(rng):
    """An ``np.random.Generator`` from a Generator, an int seed or None (fresh)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}")
