"""Canny edge detector: smoothing, Sobel gradient, interpolated NMS, double threshold, hysteresis.

Matches ``skimage.feature.canny`` at equal parameters (same defaults, same
border handling and masked-smoothing normalisation, same interpolated
non-maximum suppression); the pipeline is fused into a few Numba passes.
"""
import numpy as np
from scipy import ndimage as ndi

from minigrad.validation import check_bool, check_number

from ._kernels import canny as _k
from ._kernels import filters as _kf
from ._validate import as_gray, check_mask, check_min_size
from .filters import _gaussian_kernel1d, border_index, check_mode, check_sigma


def _smooth(image, sigma, mask, mode, cval):
    """Gaussian blur that ignores masked-out pixels.

    Where pixels are missing (outside the image in 'constant' mode, or False in
    ``mask``) the blur is renormalised by the blurred mask, so a region's
    boundary is not darkened by what lies beyond it (skimage's convention,
    including its ``+ eps`` guard).
    """
    k = _gaussian_kernel1d(sigma).astype(image.dtype)
    h, w = image.shape
    idx_r = border_index(h, len(k) // 2, len(k) // 2, mode)
    idx_c = border_index(w, len(k) // 2, len(k) // 2, mode)
    cval = image.dtype.type(cval)
    eps = np.finfo(image.dtype).eps
    source = image if mask is None else np.where(mask, image, 0).astype(image.dtype)
    smoothed = np.empty_like(image)
    _kf.correlate_separable(source, k, k, idx_r, idx_c, cval, smoothed)
    if mask is not None:
        weight = np.empty_like(image)
        _kf.correlate_separable(mask.astype(image.dtype), k, k, idx_r, idx_c, cval, weight)
        smoothed /= weight + eps
    elif mode == "constant":
        # The blurred all-ones mask is separable: an outer product of two 1-D blurs.
        ones_r = np.empty((h, 1), dtype=image.dtype)
        ones_c = np.empty((1, w), dtype=image.dtype)
        one = np.ones(1, dtype=image.dtype)
        zero = np.zeros(1, dtype=np.int64)
        _kf.correlate_separable(np.ones((h, 1), image.dtype), k, one, idx_r, zero, cval, ones_r)
        _kf.correlate_separable(np.ones((1, w), image.dtype), one, k, zero, idx_c, cval, ones_c)
        _k.divide_outer(smoothed, ones_r[:, 0], ones_c[0], eps)
    return smoothed


def _valid_mask(mask):
    """Pixels where NMS may fire, besides never on the image border: inside the
    mask eroded by one (a gradient that touches a masked pixel is contaminated).
    Without a mask, a 1x1 placeholder the kernel does not read."""
    if mask is None:
        return np.ones((1, 1), dtype=bool)
    return ndi.binary_erosion(mask, np.ones((3, 3), bool), border_value=0)


def canny(image, sigma=1.0, low_threshold=None, high_threshold=None, mask=None,
          use_quantiles=False, mode="constant", cval=0.0):
    """Binary edge map by the Canny algorithm.

    Parameters
    ----------
    image : (H, W) grayscale or (H, W, 3) RGB (converted with ``rgb2gray``)
        Integer images are scaled to [0, 1] first, so thresholds are in the
        units of a [0, 1] image whatever the dtype. float32 input is processed
        in float32, everything else in float64.
    sigma : float in [0, 1e5]
        Gaussian smoothing (kernel radius ``int(4 * sigma + 0.5)``).
    low_threshold, high_threshold : float, default 0.1 and 0.2
        Hysteresis thresholds on the Sobel gradient magnitude (absolute), or
        quantiles in [0, 1] of the magnitude when ``use_quantiles``.
        ``low_threshold <= high_threshold`` is required.
    mask : (H, W) bool, optional
        Only pixels where ``mask`` is True (and not touching a False pixel)
        can be edges; smoothing ignores masked-out pixels.
    mode, cval : border handling of the smoothing (``classic_cv.filters`` modes).

    Returns
    -------
    edges : (H, W) bool
        Local maxima of the gradient magnitude along the gradient direction with
        magnitude >= low, 8-connected to at least one pixel >= high.
    """
    func = "canny"
    image = as_gray(func, "image", image)
    check_min_size(func, "image", image, 3)
    sigma = check_sigma(func, "sigma", sigma)
    cval = check_mode(func, mode, cval, image)
    use_quantiles = check_bool(func, "use_quantiles", use_quantiles)
    bounds = dict(low=0.0, high=1.0) if use_quantiles else dict(low=0.0)
    low = 0.1 if low_threshold is None else check_number(func, "low_threshold", low_threshold, **bounds)
    high = 0.2 if high_threshold is None else check_number(func, "high_threshold", high_threshold, **bounds)
    if low > high:
        raise ValueError(f"{func}: low_threshold must be <= high_threshold, got {low} > {high}")
    mask = check_mask(func, "mask", mask, image.shape, optional=True)

    smoothed = _smooth(image, sigma, mask, mode, cval)
    if use_quantiles:
        gy, gx, mag = np.empty_like(image), np.empty_like(image), np.empty_like(image)
        _k.sobel_magnitude(smoothed, gy, gx, mag)
        low, high = np.percentile(mag, [100.0 * low, 100.0 * high])
    valid = _valid_mask(mask)
    labels = np.empty(image.shape, dtype=np.uint8)
    dtype = smoothed.dtype.type
    count = _k.gradient_nms(smoothed, valid, mask is not None, dtype(low), dtype(high), labels)
    edges = np.empty(image.shape, dtype=bool)
    _k.hysteresis(labels, count, edges)
    return edges
