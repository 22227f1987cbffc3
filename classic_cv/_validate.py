"""Input validation shared by every public ``classic_cv`` entry point.

Each helper checks one kind of argument and raises ``TypeError`` (wrong kind of
object or dtype) or ``ValueError`` (wrong shape or value) with a message of the
form ``"{func}: {name} must be ..., got ..."``, so callers validate once at the
public entry and hand clean arrays to the kernels.
"""
import numbers

import numpy as np

_FLOAT_TYPES = (np.float32, np.float64)


def check_image(image, name, func, ndim=(2, 3)):
    """Validate an image without converting it: a numpy array of a real numeric
    dtype with ``ndim`` dimensions, not empty, finite. Returns it unchanged."""
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{func}: {name} must be a numpy array, got {type(image).__name__}")
    ndims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if image.ndim not in ndims:
        expected = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{func}: {name} must be {expected}, got shape {image.shape}")
    if image.size == 0:
        raise ValueError(f"{func}: {name} must not be empty, got shape {image.shape}")
    if image.dtype.kind not in "buif":
        raise TypeError(f"{func}: {name} must have a real numeric dtype, got {image.dtype}")
    # min/max propagate NaN and expose inf without allocating a mask.
    if image.dtype.kind == "f" and not (np.isfinite(image.min()) and np.isfinite(image.max())):
        raise ValueError(f"{func}: {name} must be finite, got NaN or inf values")
    return image


def as_float_image(image, name, func, ndim=(2, 3), dtype=None, scale_integers=True):
    """Validate an image (``check_image``) and return it as a C-contiguous float array.

    Parameters
    ----------
    image : ndarray, (H, W) or (H, W, C)
        Any real numeric dtype. Integer images are scaled by their dtype's
        maximum (uint8 255 -> 1.0), like ``skimage.img_as_float``, so that
        thresholds mean the same thing whatever the storage type; booleans
        become 0.0/1.0; float images keep their values.
    name, func : str
        Argument and function names used in error messages.
    ndim : int or tuple of int
        Accepted numbers of dimensions.
    dtype : {None, np.float32, np.float64}
        Output dtype. ``None`` keeps float32/float64 input as is and turns
        everything else into float64.
    scale_integers : bool
        False keeps integer values as they are (counts, vote accumulators).

    Returns
    -------
    out : ndarray of float32 or float64, same shape as ``image``
        A copy only when a conversion was needed.
    """
    image = check_image(image, name, func, ndim)
    if dtype is None:
        dtype = image.dtype if image.dtype in _FLOAT_TYPES else np.float64
    dtype = np.dtype(dtype)
    if dtype not in _FLOAT_TYPES:
        raise ValueError(f"{func}: dtype must be float32 or float64, got {dtype}")
    if image.dtype.kind in "iu" and scale_integers:
        # Signed types map [min, max] onto [-1, 1] as skimage does (no offset).
        return np.ascontiguousarray(image, dtype=dtype) / dtype.type(np.iinfo(image.dtype).max)
    return np.ascontiguousarray(image, dtype=dtype)


def as_gray(image, name, func, dtype=None):
    """``as_float_image`` that also accepts (H, W, 3) RGB and converts it to
    luminance with ``rgb2gray`` weights. Returns (H, W) float."""
    image = as_float_image(image, name, func, ndim=(2, 3), dtype=dtype)
    if image.ndim == 3:
        if image.shape[2] != 3:
            raise ValueError(
                f"{func}: {name} must be (H, W) or (H, W, 3), got shape {image.shape}"
            )
        image = image @ np.array(RGB_WEIGHTS, dtype=image.dtype)
    return image


# ITU-R BT.709 luma weights, the ones skimage.color.rgb2gray uses.
RGB_WEIGHTS = (0.2125, 0.7154, 0.0721)


def check_mask(mask, shape, name, func):
    """Validate a boolean-like mask of exactly ``shape``; return it as bool.

    ``None`` passes through unchanged (meaning: no mask).
    """
    if mask is None:
        return None
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"{func}: {name} must be a numpy array, got {type(mask).__name__}")
    if mask.dtype.kind not in "buif":
        raise TypeError(f"{func}: {name} must be boolean or numeric, got {mask.dtype}")
    if mask.shape != tuple(shape):
        raise ValueError(f"{func}: {name} must have shape {tuple(shape)}, got {mask.shape}")
    return np.ascontiguousarray(mask, dtype=bool)


def check_number(value, name, func, low=None, high=None, low_open=False, integer=False):
    """Validate a real, finite scalar within [low, high] (``low_open``: low excluded).

    Returns it as ``float`` (or ``int`` when ``integer``).
    """
    kinds = numbers.Integral if integer else numbers.Real
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, kinds):
        what = "an integer" if integer else "a real number"
        raise TypeError(f"{func}: {name} must be {what}, got {value!r}")
    value = int(value) if integer else float(value)
    if not np.isfinite(value):
        raise ValueError(f"{func}: {name} must be finite, got {value}")
    if low is not None and (value <= low if low_open else value < low):
        op = ">" if low_open else ">="
        raise ValueError(f"{func}: {name} must be {op} {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{func}: {name} must be <= {high}, got {value}")
    return value


def check_positive(value, name, func, allow_zero=False, integer=False):
    """Validate a real (or integer) scalar > 0 (>= 0 with ``allow_zero``)."""
    return check_number(value, name, func, low=0, low_open=not allow_zero, integer=integer)


def check_choice(value, name, func, choices):
    """Validate that ``value`` is one of ``choices``; return it."""
    if value not in choices:
        raise ValueError(f"{func}: {name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value
