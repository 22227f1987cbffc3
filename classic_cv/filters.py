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

Gaussian ``sigma`` is at most ``MAX_SIGMA`` (1e5 px, far beyond any image):
larger values would only allocate a kernel of millions of samples.

Each public function checks its arguments and calls a private twin
(``_gaussian_blur``, ``_gaussian_kernel1d``) that the rest of the package calls
with arguments it already checked.
"""
import numpy as np

from minigrad.validation import check_choice, check_number

from ._kernels import filters as _k
from ._validate import as_float_image, as_gray

MODES = ("reflect", "mirror", "nearest", "wrap", "constant")
MAX_SIGMA = 1e5


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


def check_sigma(func, name, value, low_open=False):
    """A Gaussian standard deviation in [0, MAX_SIGMA] ((0, MAX_SIGMA] with ``low_open``), as a float."""
    return check_number(func, name, value, low=0, low_open=low_open, high=MAX_SIGMA)


def check_mode(func, mode, cval, image):
    """Check a border ``mode`` and its fill value ``cval``; return ``cval`` as a float."""
    check_choice(func, "mode", mode, MODES)
    return check_cval(func, cval, image)


def check_cval(func, cval, image):
    """A fill value the (float) ``image``'s dtype can hold: 1e300 would become inf in float32."""
    largest = float(np.finfo(image.dtype).max)
    return check_number(func, "cval", cval, low=-largest, high=largest)


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
    func = "gaussian_kernel1d"
    return _gaussian_kernel1d(check_sigma(func, "sigma", sigma),
                              check_number(func, "truncate", truncate, low=0, low_open=True, high=100))


def _gaussian_kernel1d(sigma, truncate=4.0):
    """``gaussian_kernel1d`` for checked arguments."""
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
    sigma : float in [0, 1e5], or (sigma_y, sigma_x)
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
    image = as_float_image(func, "image", image)
    if out is not None:
        _check_out(func, out, image)
    cval = check_mode(func, mode, cval, image)
    if np.ndim(sigma) == 1:
        if len(sigma) != 2:
            raise ValueError(f"{func}: sigma must be a number or (sigma_y, sigma_x), got {sigma!r}")
        sigma = tuple(check_sigma(func, "sigma", s) for s in sigma)
    else:
        sigma = check_sigma(func, "sigma", sigma)
    truncate = check_number(func, "truncate", truncate, low=0, low_open=True, high=100)
    return _gaussian_blur(image, sigma, mode, truncate, cval, out)


def _gaussian_blur(image, sigma, mode="reflect", truncate=4.0, cval=0.0, out=None):
    """``gaussian_blur`` of a checked float image; ``sigma`` a float or (sigma_y, sigma_x)."""
    sy, sx = sigma if isinstance(sigma, tuple) else (sigma, sigma)
    return _separable(image, _gaussian_kernel1d(sy, truncate), _gaussian_kernel1d(sx, truncate), mode, cval, out)


def _check_out(func, out, image):
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


def _gradient(func, image, smooth, mode, cval):
    image = as_float_image(func, "image", image)
    cval = check_mode(func, mode, cval, image)
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
    return _gradient("sobel", image, _SOBEL_SMOOTH, mode, cval)


def scharr(image, mode="reflect", cval=0.0):
    """Scharr gradients ``(gx, gy)`` with smoothing ``[3, 10, 3]`` (OpenCV's scale).

    Better rotational symmetry than Sobel. Returns gx, gy like ``sobel``.
    """
    return _gradient("scharr", image, _SCHARR_SMOOTH, mode, cval)


def _correlate(func, image, kernel, mode, cval, flip):
    image = as_float_image(func, "image", image)
    kernel = as_float_image(func, "kernel", kernel, ndim=2, dtype=np.float64)
    cval = check_mode(func, mode, cval, image)
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
    return _correlate("correlate2d", image, kernel, mode, cval, flip=False)


def convolve2d(image, kernel, mode="reflect", cval=0.0):
    """2-D convolution ``out[i, j] = sum_ab kernel[a, b] * image[i - a + KH//2, j - b + KW//2]``.

    Equals ``scipy.ndimage.convolve`` (same origin convention). Shapes as ``correlate2d``.
    """
    return _correlate("convolve2d", image, kernel, mode, cval, flip=True)


def rgb2gray(image):
    """Luminance ``0.2125 R + 0.7154 G + 0.0721 B`` (ITU-R BT.709, as skimage).

    Parameters
    ----------
    image : (H, W, 3); an (H, W) image is returned as float unchanged.

    Returns
    -------
    gray : (H, W) float32 or float64
    """
    return as_gray("rgb2gray", "image", image)
