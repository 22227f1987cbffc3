"""Harris and Shi-Tomasi corners: structure tensor, responses, ``corner_peaks``.

Conventions follow ``skimage.feature`` so results can be compared directly:
Sobel derivatives and Gaussian window both use border ``mode`` (default
'constant', zero outside), tensor elements in row/column order (Arr, Arc, Acc).
One difference: with ``mode='constant'`` and a nonzero ``cval``, the Sobel
stencil here sees ``cval`` outside the image, whereas skimage's chain of 1-D
filters pads its intermediate (derivative) image with ``cval`` too. And
``corner_peaks`` returns points as (x, y), the package's convention, where
skimage returns (row, column).
"""
import numpy as np

from minigrad.validation import check_bool, check_choice, check_int, check_number

from ._kernels import calibration as _calibration_kernels
from ._kernels import harris as _k
from ._validate import as_float_array, as_float_image, as_gray, check_min_size
from .filters import _gaussian_kernel1d, border_index, check_mode, check_sigma


def structure_tensor(image, sigma=1.0, mode="constant", cval=0.0):
    """Gaussian-weighted sums of gradient products.

    Parameters
    ----------
    image : (H, W) gray or (H, W, 3) RGB
    sigma : float in [0, 1e5], standard deviation of the Gaussian window

    Returns
    -------
    arr, arc, acc : (H, W) each
        Windowed ``Ir*Ir``, ``Ir*Ic``, ``Ic*Ic`` where ``Ir``/``Ic`` are the Sobel
        derivatives along rows / columns.
    """
    func = "structure_tensor"
    image, sigma, cval = _check_common(func, image, sigma, mode, cval)
    return _run_corner_kernel(image, sigma, mode, cval, _k.TENSOR)


def _check_common(func, image, sigma, mode, cval):
    """The arguments every response shares: (H, W) float image, sigma, cval."""
    image = as_gray(func, "image", image)
    return image, check_sigma(func, "sigma", sigma), check_mode(func, mode, cval, image)


def _run_corner_kernel(image, sigma, mode, cval, what, k=0.0, eps=0.0):
    """Run the streamed structure-tensor kernel on a validated (H, W) float image;
    returns (Arr, Arc, Acc) when ``what`` is TENSOR, else the requested response."""
    window = _gaussian_kernel1d(sigma).astype(image.dtype)
    h, w = image.shape
    rad = len(window) // 2
    # A response uses one output; the kernel's unused slots may alias it.
    outs = [np.empty_like(image) for _ in range(3)] if what == _k.TENSOR else [np.empty_like(image)] * 3
    _k.corner_response(image, window, border_index(h, 1, 1, mode), border_index(w, 1, 1, mode),
                       border_index(h, rad, rad, mode), border_index(w, rad, rad, mode),
                       image.dtype.type(cval), what, image.dtype.type(k), image.dtype.type(eps), *outs)
    return tuple(outs) if what == _k.TENSOR else outs[0]


def corner_harris(image, method="k", k=0.05, eps=1e-6, sigma=1.0, mode="constant", cval=0.0):
    """Harris corner response.

    Parameters
    ----------
    image : (H, W) gray or (H, W, 3) RGB (integers scaled to [0, 1])
    method : 'k' for ``det(A) - k trace(A)^2``; 'eps' for Noble's
        ``2 det(A) / (trace(A) + eps)``
    k : float in [0, 0.25], sensitivity (larger finds fewer, sharper corners)
    sigma : float in [0, 1e5], Gaussian window of the structure tensor ``A``

    Returns
    -------
    response : (H, W) float; large positive at corners, negative on edges
    """
    func = "corner_harris"
    image, sigma, cval = _check_common(func, image, sigma, mode, cval)
    check_choice(func, "method", method, ("k", "eps"))
    k = check_number(func, "k", k, low=0.0, high=0.25)
    eps = check_number(func, "eps", eps, low=0, low_open=True)
    return _run_corner_kernel(image, sigma, mode, cval, _k.HARRIS_K if method == "k" else _k.HARRIS_EPS, k, eps)


def corner_shi_tomasi(image, sigma=1.0, mode="constant", cval=0.0):
    """Shi-Tomasi response: the smaller eigenvalue of the structure tensor.

    Arguments as ``corner_harris``; returns (H, W) float >= 0 (up to rounding).
    """
    func = "corner_shi_tomasi"
    image, sigma, cval = _check_common(func, image, sigma, mode, cval)
    return _run_corner_kernel(image, sigma, mode, cval, _k.MIN_EIGENVALUE)


def corner_peaks(response, min_distance=1, threshold_abs=None, threshold_rel=None,
                 exclude_border=True, num_peaks=None):
    """Corner positions (x, y): local maxima of a response map, strongest first.

    A pixel is a peak when it equals the maximum of its (2d+1)^2 window
    (d = ``min_distance``, window clipped at the image edge), exceeds the
    threshold ``max(threshold_abs or response.min(), threshold_rel * response.max())``
    and lies outside the excluded border. Peaks are then visited strongest
    first (ties in raster order) and kept only when no kept peak lies within
    Chebyshev distance d, so kept peaks are more than d apart.

    These are ``skimage.feature.corner_peaks``'s rules except for the spacing
    step: skimage runs two greedy passes (first rejecting distances < d, then
    <= d among the survivors), which can drop a peak whose only close
    neighbour was itself dropped, and can return fewer than ``num_peaks``. The
    single pass here keeps every peak that no stronger kept peak covers; for
    ``min_distance=1`` the two coincide exactly.

    Points are (x, y) = (column, row), as everywhere in ``classic_cv``;
    skimage returns (row, column): ``ours == skimage.feature.corner_peaks(...)[:, ::-1]``.

    Parameters
    ----------
    response : (H, W) real
        Corner response, e.g. of ``corner_harris``.
    min_distance : int >= 1
        Minimum spacing of the corners in pixels (Chebyshev).
    threshold_abs : float, optional
        Minimum response (default the minimum of ``response``).
    threshold_rel : float in [0, 1], optional
        Minimum response as a fraction of the maximum.
    exclude_border : bool or int >= 0
        True excludes ``min_distance`` pixels on each side; an int that many.
    num_peaks : int >= 1, optional
        Maximum number of corners returned.

    Returns
    -------
    xy : (K, 2) int64
        Corner positions (x, y) = (column, row), strongest first.
    """
    func = "corner_peaks"
    response = as_float_image(func, "response", response, ndim=2)
    md = check_int(func, "min_distance", min_distance, low=1)
    if isinstance(exclude_border, (bool, np.bool_)):
        border = md if check_bool(func, "exclude_border", exclude_border) else 0
    else:
        border = check_int(func, "exclude_border", exclude_border, low=0)
    max_count = response.size if num_peaks is None else check_int(func, "num_peaks", num_peaks, low=1)
    threshold = response.min() if threshold_abs is None else check_number(func, "threshold_abs", threshold_abs)
    if threshold_rel is not None:
        rel = check_number(func, "threshold_rel", threshold_rel, low=0.0, high=1.0)
        threshold = max(threshold, rel * response.max())

    local_max = np.empty_like(response)
    _k.max_filter(response, md, local_max)
    is_peak = response == local_max
    if is_peak.all():  # a flat map has no corners
        return np.empty((0, 2), dtype=np.int64)
    is_peak &= response > threshold
    if border:
        is_peak[:border], is_peak[-border:], is_peak[:, :border], is_peak[:, -border:] = False, False, False, False
    rows, cols = np.nonzero(is_peak)
    order = np.argsort(-response[rows, cols], kind="stable")
    rows, cols = rows[order].astype(np.int64), cols[order].astype(np.int64)
    keep = _k.greedy_spacing(rows, cols, response.shape, md, max_count)
    return np.stack([cols[keep], rows[keep]], axis=1)


def corner_subpix(image, points, window=5, max_iter=40, tol=1e-3):
    """Refine corner positions to sub-pixel accuracy by gradient orthogonality.

    Near a corner ``q`` every image gradient ``g(p)`` is orthogonal to
    ``p - q``: on an edge through ``q`` the gradient is normal to the edge,
    and in flat areas it vanishes. So ``q`` minimises
    ``sum_p w(p) (g(p) . (p - q))^2``, whose solution is
    ``q = (sum w g g^T)^-1 sum w g g^T p``. The sum runs over a
    (2 ``window`` + 1)^2 patch, re-sampled bilinearly around the current
    estimate (borders replicated), with Gaussian weights
    ``exp(-(dx^2 + dy^2) / window^2)``; it is solved again around each new
    estimate until the update is shorter than ``tol``. This is the iteration
    of OpenCV's ``cornerSubPix`` (without its dead zone); a point that drifts
    more than ``window`` px along x or y, or whose patch has no two gradient
    directions, keeps its input position.

    Parameters
    ----------
    image : (H, W) gray or (H, W, 3) RGB, at least 3x3
    points : (K, 2) real
        Initial corner positions (x, y) inside the image, e.g. ``corner_peaks`` output.
    window : int >= 1
        Half-size of the search window in pixels.
    max_iter : int >= 1
        Maximum number of iterations per point.
    tol : float > 0
        Stop when a point moves less than this (pixels).

    Returns
    -------
    xy : (K, 2) float64
        Refined positions (x, y).
    """
    func = "corner_subpix"
    image = as_gray(func, "image", image, dtype=np.float64)
    check_min_size(func, "image", image, 3)
    points = as_float_array(func, "points", points, ndim=2, allow_empty=True)
    if points.shape[1:] != (2,):
        raise ValueError(f"{func}: points must be (K, 2) points (x, y), got shape {points.shape}")
    h, w = image.shape
    if ((points < 0) | (points > [w - 1, h - 1])).any():
        raise ValueError(f"{func}: points must lie inside the image (0 <= x <= {w - 1}, 0 <= y <= {h - 1})")
    window = check_int(func, "window", window, low=1)
    max_iter = check_int(func, "max_iter", max_iter, low=1)
    tol = check_number(func, "tol", tol, low=0, low_open=True)
    return _corner_subpix(image, points, window, max_iter, tol)


def _corner_subpix(image, points, window, max_iter, tol):
    """``corner_subpix`` on a checked (H, W) float64 image and (K, 2) float64 points."""
    out = np.empty_like(points)
    _calibration_kernels.corner_subpix(image, points, window, max_iter, tol, out)
    return out
