"""Linear filters: Gaussian blur, Sobel/Scharr gradients, 2-D correlation and convolution.

Border modes follow ``scipy.ndimage`` names (for a row ``a b c d``):

=========  ===========================  =====================
mode       extension                    NumPy ``np.pad`` name
=========  ===========================  =====================
reflect    ``c b a | a b c d | d c b``  symmetric
mirror     ``d c b | a b c d | c b a``  reflect
nearest    ``a a a | a b c d | d d d``  edge
wrap       ``b c d | a b c d | a b c``  wrap
constant   ``k k k | a b c d | k k k``  constant (k = cval)
=========  ===========================  =====================

All functions accept (H, W) or (H, W, C) images (channels filtered
independently) of any real dtype; float32 input stays float32, everything else
is computed in float64 (integers scaled to [0, 1], see ``_validate``).
"""
import numpy as np

from ._kernels import filters as _k
from ._validate import as_float_image, as_gray, check_choice, check_number, check_positive

MODES = ("reflect", "mirror", "nearest", "wrap", "constant")


def border_index(n, before, after, mode):
    """Source index of every position of an axis of length ``n`` padded by
    ``before``/``after`` samples under ``mode``; ``-1`` marks cval (constant).

    Returns
    -------
    idx : (before + n + after,) int64
    """
    p = np.arange(-before, n + after, dtype=np.int64)
    if mode == "constant":
        return np.where((p >= 0) & (p < n), p, -1)
    if mode == "nearest":
        return np.clip(p, 0, n - 1)
    if mode == "wrap":
        return p % n
    if mode == "reflect":
        # Period 2n: a b c d | d c b a.
        m = p % (2 * n)
        return np.where(m >= n, 2 * n - 1 - m, m)
    # mirror: period 2n - 2 (edge sample not repeated); a single sample is constant.
    if n == 1:
        return np.zeros_like(p)
    m = p % (2 * n - 2)
    return np.where(m >= n, 2 * n - 2 - m, m)


def _per_channel(image, fn):
    """Apply ``fn`` ((H, W) -> (H, W)) to an (H, W) image or each channel of (H, W, C)."""
    if image.ndim == 2:
        return fn(image)
    return np.stack([fn(np.ascontiguousarray(image[..., c])) for c in range(image.shape[2])], axis=-1)


def _separable(image, k_rows, k_cols, mode, cval, out=None):
    """Correlate a clean float image with ``k_cols`` along x then ``k_rows`` along y,
    into ``out`` if given (checked by the caller).

    Kernel origin is ``len(k) // 2`` (the scipy convention)."""
    dtype = image.dtype.type
    k_rows = np.ascontiguousarray(k_rows, dtype=image.dtype)
    k_cols = np.ascontiguousarray(k_cols, dtype=image.dtype)

    def one(channel, result=None):
        h, w = channel.shape
        idx_r = border_index(h, len(k_rows) // 2, (len(k_rows) - 1) // 2, mode)
        idx_c = border_index(w, len(k_cols) // 2, (len(k_cols) - 1) // 2, mode)
        if result is None:
            result = np.empty_like(channel)
        _k.correlate_separable(channel, k_rows, k_cols, idx_r, idx_c, dtype(cval), result)
        return result

    if out is not None:
        return one(image, out)
    return _per_channel(image, one)


def _check_mode(mode, cval, func):
    check_choice(mode, "mode", func, MODES)
    return check_number(cval, "cval", func)


def gaussian_kernel1d(sigma, truncate=4.0):
    """Normalised 1-D Gaussian ``exp(-x^2 / (2 sigma^2))`` sampled at integers.

    The radius rule is ``radius = int(truncate * sigma + 0.5)`` (the one
    ``scipy.ndimage.gaussian_filter`` and ``skimage.filters.gaussian`` use), so
    blurs agree with those libraries sample for sample. ``sigma == 0`` gives
    the identity kernel ``[1.0]``.

    Returns
    -------
    kernel : (2 * radius + 1,) float64, sums to 1
    """
    sigma = check_positive(sigma, "sigma", "gaussian_kernel1d", allow_zero=True)
    truncate = check_positive(truncate, "truncate", "gaussian_kernel1d")
    radius = int(truncate * sigma + 0.5)
    if sigma == 0 or radius == 0:
        return np.ones(1)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    return kernel / kernel.sum()


def gaussian_blur(image, sigma, mode="reflect", truncate=4.0, cval=0.0, out=None):
    """Separable Gaussian blur.

    Parameters
    ----------
    image : (H, W) or (H, W, C)
    sigma : float >= 0, or (sigma_y, sigma_x)
        Standard deviation in pixels; kernel radius ``int(truncate * sigma + 0.5)``.
    mode : str
        Border mode (see module docstring); ``cval`` fills in ``'constant'`` mode.
    out : (H, W) C-contiguous array, optional
        Where to write the result (2-D float32/float64 ``image`` only, same dtype,
        not sharing memory with it): lets a caller fill a preallocated stack,
        e.g. a scale-space octave, without a copy per layer.

    Returns
    -------
    blurred : same shape as ``image``, float32 or float64 (``out`` if given)
    """
    func = "gaussian_blur"
    image = as_float_image(image, "image", func)
    if out is not None:
        _check_out(out, image, func)
    cval = _check_mode(mode, cval, func)
    if np.isscalar(sigma):
        sy = sx = sigma
    elif len(sigma) == 2:
        sy, sx = sigma
    else:
        raise ValueError(f"{func}: sigma must be a number or (sigma_y, sigma_x), got {sigma!r}")
    k_rows = gaussian_kernel1d(check_positive(sy, "sigma", func, allow_zero=True), truncate)
    k_cols = gaussian_kernel1d(check_positive(sx, "sigma", func, allow_zero=True), truncate)
    return _separable(image, k_rows, k_cols, mode, cval, out)


def _check_out(out, image, func):
    """``out`` must be a C-contiguous 2-D array like ``image`` and not overlap it
    (the streamed kernels read input rows after writing earlier output rows)."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{func}: out must be a numpy array, got {type(out).__name__}")
    if image.ndim != 2 or out.shape != image.shape or out.dtype != image.dtype or not out.flags.c_contiguous:
        raise ValueError(
            f"{func}: out must be a C-contiguous {image.dtype} array of the 2-D image's shape {image.shape}, "
            f"got {out.dtype} array of shape {out.shape}"
        )
    if np.shares_memory(out, image):
        raise ValueError(f"{func}: out must not share memory with image")


# Derivative [-1, 0, 1] (central difference, positive for increasing intensity)
# times a smoothing profile across it; unnormalised like scipy.ndimage.sobel
# and OpenCV, so gradient magnitudes (and Canny thresholds) match theirs.
_DERIVATIVE = np.array([-1.0, 0.0, 1.0])
_SOBEL_SMOOTH = np.array([1.0, 2.0, 1.0])
_SCHARR_SMOOTH = np.array([3.0, 10.0, 3.0])


def _gradient(image, smooth, mode, cval, func):
    image = as_float_image(image, "image", func)
    cval = _check_mode(mode, cval, func)
    gx = _separable(image, smooth, _DERIVATIVE, mode, cval)
    gy = _separable(image, _DERIVATIVE, smooth, mode, cval)
    return gx, gy


def sobel(image, mode="reflect", cval=0.0):
    """Sobel gradients ``(gx, gy)``: x along columns (axis 1), y along rows (axis 0).

    ``gx = [1, 2, 1]^T (x) [-1, 0, 1]`` correlated with the image, unnormalised
    (``gx`` equals ``scipy.ndimage.sobel(image, axis=1)``).

    Returns
    -------
    gx, gy : same shape as ``image``
    """
    return _gradient(image, _SOBEL_SMOOTH, mode, cval, "sobel")


def scharr(image, mode="reflect", cval=0.0):
    """Scharr gradients ``(gx, gy)`` with smoothing ``[3, 10, 3]`` (OpenCV's scale).

    Better rotational symmetry than Sobel. Returns gx, gy like ``sobel``.
    """
    return _gradient(image, _SCHARR_SMOOTH, mode, cval, "scharr")


def _correlate(image, kernel, mode, cval, func, flip):
    image = as_float_image(image, "image", func)
    kernel = as_float_image(kernel, "kernel", func, ndim=2, dtype=np.float64)
    cval = _check_mode(mode, cval, func)
    if flip:
        kernel = kernel[::-1, ::-1]
    kernel = np.ascontiguousarray(kernel, dtype=image.dtype)
    kh, kw = kernel.shape
    # Origin at k // 2 of the kernel as given; for even sizes the flipped kernel's
    # origin moves by one so that convolution is correlation with the flipped kernel
    # *about the same point* (scipy.ndimage.convolve's convention).
    top = kh // 2 if not flip else (kh - 1) // 2
    left = kw // 2 if not flip else (kw - 1) // 2

    def one(channel):
        h, w = channel.shape
        idx_r = border_index(h, top, kh - 1 - top, mode)
        idx_c = border_index(w, left, kw - 1 - left, mode)
        out = np.empty_like(channel)
        _k.correlate2d(channel, kernel, idx_r, idx_c, left, image.dtype.type(cval), out)
        return out

    return _per_channel(image, one)


def correlate2d(image, kernel, mode="reflect", cval=0.0):
    """2-D correlation ``out[i, j] = sum_ab kernel[a, b] * image[i + a - KH//2, j + b - KW//2]``.

    Parameters
    ----------
    image : (H, W) or (H, W, C)
    kernel : (KH, KW), any size (even sizes allowed; origin at ``K // 2``)
    mode, cval : border handling (module docstring)

    Returns
    -------
    out : same shape as ``image``. Equals ``scipy.ndimage.correlate``.
    """
    return _correlate(image, kernel, mode, cval, "correlate2d", flip=False)


def convolve2d(image, kernel, mode="reflect", cval=0.0):
    """2-D convolution ``out[i, j] = sum_ab kernel[a, b] * image[i - a + KH//2, j - b + KW//2]``.

    Equals ``scipy.ndimage.convolve`` (same origin convention). Shapes as ``correlate2d``.
    """
    return _correlate(image, kernel, mode, cval, "convolve2d", flip=True)


def rgb2gray(image):
    """Luminance ``0.2125 R + 0.7154 G + 0.0721 B`` (ITU-R BT.709, as skimage).

    Parameters
    ----------
    image : (H, W, 3); an (H, W) image is returned as float unchanged.

    Returns
    -------
    gray : (H, W) float32 or float64
    """
    return as_gray(image, "image", "rgb2gray")
