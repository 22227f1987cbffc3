"""Harris and Shi-Tomasi corners: structure tensor, responses, ``corner_peaks``.

Conventions follow ``skimage.feature`` so results can be compared directly:
Sobel derivatives and Gaussian window both use border ``mode`` (default
'constant', zero outside), tensor elements in row/column order (Arr, Arc, Acc).
One difference: with ``mode='constant'`` and a nonzero ``cval``, the Sobel
stencil here sees ``cval`` outside the image, whereas skimage's chain of 1-D
filters pads its intermediate (derivative) image with ``cval`` too.
"""
import numpy as np

from ._kernels import harris as _k
from ._validate import as_float_image, as_gray, check_choice, check_number, check_positive
from .filters import _check_mode, border_index, gaussian_kernel1d


def structure_tensor(image, sigma=1.0, mode="constant", cval=0.0):
    """Gaussian-weighted sums of gradient products.

    Parameters
    ----------
    image : (H, W) gray or (H, W, 3) RGB
    sigma : float >= 0, standard deviation of the Gaussian window

    Returns
    -------
    arr, arc, acc : (H, W) each
        Windowed ``Ir*Ir``, ``Ir*Ic``, ``Ic*Ic`` where ``Ir``/``Ic`` are the Sobel
        derivatives along rows / columns.
    """
    func = "structure_tensor"
    image = as_gray(image, "image", func)
    sigma = check_positive(sigma, "sigma", func, allow_zero=True)
    cval = _check_mode(mode, cval, func)
    return _run_corner_kernel(image, sigma, mode, cval, _k.TENSOR)


def _run_corner_kernel(image, sigma, mode, cval, what, k=0.0, eps=0.0):
    """Run the streamed structure-tensor kernel on a validated (H, W) float image;
    returns (Arr, Arc, Acc) when ``what`` is TENSOR, else the requested response."""
    window = gaussian_kernel1d(sigma).astype(image.dtype)
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
    sigma : float >= 0, Gaussian window of the structure tensor ``A``

    Returns
    -------
    response : (H, W) float; large positive at corners, negative on edges
    """
    func = "corner_harris"
    image = as_gray(image, "image", func)
    check_choice(method, "method", func, ("k", "eps"))
    k = check_number(k, "k", func, low=0.0, high=0.25)
    eps = check_positive(eps, "eps", func)
    sigma = check_positive(sigma, "sigma", func, allow_zero=True)
    cval = _check_mode(mode, cval, func)
    return _run_corner_kernel(image, sigma, mode, cval, _k.HARRIS_K if method == "k" else _k.HARRIS_EPS, k, eps)


def corner_shi_tomasi(image, sigma=1.0, mode="constant", cval=0.0):
    """Shi-Tomasi response: the smaller eigenvalue of the structure tensor.

    Arguments as ``corner_harris``; returns (H, W) float >= 0 (up to rounding).
    """
    func = "corner_shi_tomasi"
    image = as_gray(image, "image", func)
    sigma = check_positive(sigma, "sigma", func, allow_zero=True)
    cval = _check_mode(mode, cval, func)
    return _run_corner_kernel(image, sigma, mode, cval, _k.MIN_EIGENVALUE)


def corner_peaks(response, min_distance=1, threshold_abs=None, threshold_rel=None,
                 exclude_border=True, num_peaks=None):
    """Corner coordinates: local maxima of a response map, strongest first.

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

    Parameters
    ----------
    response : (H, W) float
    min_distance : int >= 1
    exclude_border : bool or int
        True excludes ``min_distance`` pixels on each side; an int that many.
    num_peaks : int, optional, maximum number of corners returned

    Returns
    -------
    coords : (K, 2) int64 of (row, col)
    """
    func = "corner_peaks"
    response = as_float_image(response, "response", func, ndim=2)
    md = check_positive(min_distance, "min_distance", func, integer=True)
    if isinstance(exclude_border, (bool, np.bool_)):
        border = md if exclude_border else 0
    else:
        border = check_positive(exclude_border, "exclude_border", func, allow_zero=True, integer=True)
    max_count = (response.size if num_peaks is None
                 else check_positive(num_peaks, "num_peaks", func, integer=True))
    threshold = response.min() if threshold_abs is None else check_number(threshold_abs, "threshold_abs", func)
    if threshold_rel is not None:
        rel = check_number(threshold_rel, "threshold_rel", func, low=0.0, high=1.0)
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
    return np.stack([rows[keep], cols[keep]], axis=1)
