"""Image arguments: check and convert the images of every public ``classic_cv`` entry point.

Scalars, choices, integers and generators are checked by ``minigrad.validation``
(the project's one validation module, numpy-only); this module adds what is
particular to images. Same argument order and messages:
``check_*(func, name, value, ...)`` raising ``"{func}: {name} must be ..., got ..."``.
"""
import numpy as np

from minigrad.validation import FLOAT_DTYPES, check_finite, check_ndim

# ITU-R BT.709 luma weights, the ones skimage.color.rgb2gray uses.
RGB_WEIGHTS = (0.2125, 0.7154, 0.0721)


def check_image(func, name, value, ndim=(2, 3), allow_empty=False):
    """Return ``value`` unchanged after checking it is an image.

    An image is an ndarray of a real numeric dtype (bool, integers, floats of
    any width) with ``ndim`` dimensions, at least one pixel (unless
    ``allow_empty``) and no NaN or inf.
    """
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{func}: {name} must be a numpy array, got {type(value).__name__}")
    if value.dtype.kind not in "buif":
        raise TypeError(f"{func}: {name} must have a real numeric dtype, got {value.dtype}")
    check_ndim(func, name, value, ndim)
    if value.size == 0 and not allow_empty:
        raise ValueError(f"{func}: {name} must not be empty, got shape {value.shape}")
    check_finite(func, name, value)
    return value


def as_float_image(func, name, value, ndim=(2, 3), dtype=None, scale_integers=True):
    """Check an image (``check_image``) and return it as a C-contiguous float array.

    Parameters
    ----------
    func, name : str
        Function and argument names used in error messages.
    value : ndarray, (H, W) or (H, W, C)
        Any real numeric dtype. Integer images are scaled by their dtype's
        maximum (uint8 255 -> 1.0), like ``skimage.img_as_float``, so that
        thresholds mean the same thing whatever the storage type; booleans
        become 0.0/1.0; float images keep their values.
    ndim : int or tuple of int
        Accepted numbers of dimensions.
    dtype : {None, np.float32, np.float64}
        Output dtype. ``None`` keeps float32/float64 input as is and turns
        everything else (float16 included) into float64.
    scale_integers : bool
        False keeps integer values as they are (counts, vote accumulators).

    Returns
    -------
    out : ndarray of float32 or float64, same shape as ``value``
        A copy only when a conversion was needed.
    """
    return to_float(check_image(func, name, value, ndim), dtype, scale_integers)


def to_float(image, dtype=None, scale_integers=True):
    """The conversion of ``as_float_image`` alone, for an image already checked."""
    dtype = np.dtype(dtype if dtype is not None else
                     image.dtype if image.dtype in FLOAT_DTYPES else np.float64)
    if image.dtype.kind in "iu" and scale_integers:
        # Signed types map [min, max] onto [-1, 1] as skimage does (no offset).
        return np.ascontiguousarray(image, dtype=dtype) / dtype.type(np.iinfo(image.dtype).max)
    return np.ascontiguousarray(image, dtype=dtype)


def as_gray(func, name, value, dtype=None):
    """``as_float_image`` that also takes (H, W, 3) RGB, converted to luminance
    with ``rgb2gray`` weights. Returns (H, W) float."""
    image = as_float_image(func, name, value, ndim=(2, 3), dtype=dtype)
    if image.ndim == 3:
        if image.shape[2] != 3:
            raise ValueError(f"{func}: {name} must be (H, W) or (H, W, 3), got shape {image.shape}")
        image = luminance(image)
    return image


def luminance(rgb):
    """(H, W, 3) float -> (H, W) luminance in the same dtype (no checks: callers validated)."""
    return rgb @ np.array(RGB_WEIGHTS, dtype=rgb.dtype)


def check_mask(func, name, value, shape, optional=False):
    """Return a mask of exactly ``shape`` as a C-contiguous bool array.

    Boolean or numeric (nonzero is True, NaN refused). ``None`` is refused
    unless ``optional``, where it passes through unchanged (meaning: no mask).
    """
    if value is None and optional:
        return None
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{func}: {name} must be a numpy array, got {type(value).__name__}")
    if value.dtype.kind not in "buif":
        raise TypeError(f"{func}: {name} must be boolean or numeric, got dtype {value.dtype}")
    if value.shape != tuple(shape):
        raise ValueError(f"{func}: {name} must have shape {tuple(shape)}, got {value.shape}")
    check_finite(func, name, value)
    return np.ascontiguousarray(value, dtype=bool)


def check_min_size(func, name, image, side):
    """Raise ValueError unless both spatial sides of a checked ``image`` are at least ``side`` px."""
    if min(image.shape[:2]) < side:
        raise ValueError(f"{func}: {name} must be at least {side}x{side}, got shape {image.shape}")


def as_float_array(func, name, value, ndim, allow_empty=False):
    """Return a numeric argument that is not an image (angles, radii, points,
    matrices) as a C-contiguous float64 array, values unscaled.

    Lists and tuples are accepted; the array must be finite, have ``ndim``
    dimensions and be non-empty unless ``allow_empty``. A scalar becomes one
    element.
    """
    if not isinstance(value, np.ndarray):
        try:
            value = np.array(value, ndmin=1 if np.isscalar(value) else 0)
        except (ValueError, TypeError):  # ragged nesting
            raise TypeError(f"{func}: {name} must be an array of numbers, got {value!r:.60}") from None
    check_image(func, name, value, ndim, allow_empty)
    return np.ascontiguousarray(value, dtype=np.float64)
