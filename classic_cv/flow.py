"""Optical flow: dense Lucas-Kanade and Horn-Schunck, sparse KLT tracking,
the flow colour wheel, backward warping and midpoint frame interpolation.

Conventions
-----------
A flow field is an (H, W, 2) float array of (u, v) = (dx, dy) in pixels,
defined on the grid of the *first* frame: pixel (x, y) of ``image0`` moved to
(x + u, y + v) in ``image1``, so ``image1(x + u, y + v) ~ image0(x, y)`` and
``warp_by_flow(image1, flow)`` looks like ``image0``. This is OpenCV's
``calcOpticalFlowFarneback`` convention; ``skimage.registration`` returns the
same field as (v, u) stacked first: ``ours == np.moveaxis(skimage_flow[::-1], 0, -1)``.
Points are (N, 2) arrays of (x, y) = (column, row).

Both dense methods work coarse to fine: Gaussian pyramids of both frames
(``classic_cv.pyramids``), the flow of each level doubled and expanded to the
next finer one, and at each level the second frame warped back by the current
flow and the brightness-constancy equation linearised around it again, so
displacements of many pixels are found although each linearisation only holds
for about one pixel.
"""
import numpy as np

from minigrad.validation import check_bool, check_choice, check_int, check_number

from ._kernels import flow as _k
from ._validate import as_float_array, as_float_image, as_gray
from .filters import check_cval
from .pyramids import DEFAULT_SIGMA, _gaussian_pyramid, _pyrup

# Fixed-point steps of ``interpolate_frame`` for the flow on the new frame's grid;
# each divides the error of a smooth flow by about t * (largest flow derivative).
_FIXED_POINT_STEPS = 4

# Step length (pixels of the level) that ends the KLT iterations at levels
# coarser than full resolution: stopping there at 0.1 instead of 0.01 px took
# a third less time and moved the average endpoint error by less than 0.001 px.
_COARSE_EPSILON = 0.1

#: The coarsest level of an automatic pyramid keeps its shorter side at least this long.
MIN_LEVEL_SIDE = 16


# ----------------------------------------------------------------- validation
def _check_frames(func, image0, image1):
    """Two frames of one shape as (H, W) float arrays of a common dtype (colour -> luminance)."""
    image0 = as_gray(func, "image0", image0)
    image1 = as_gray(func, "image1", image1)
    if image0.shape != image1.shape:
        raise ValueError(f"{func}: image1 must have the shape of image0 {image0.shape}, got {image1.shape}")
    if min(image0.shape) < 2:
        raise ValueError(f"{func}: image0 must be at least 2x2, got shape {image0.shape}")
    dtype = np.result_type(image0, image1)
    return image0.astype(dtype, copy=False), image1.astype(dtype, copy=False)


def _check_window(func, name, value):
    """An odd window side >= 3 (a window needs a centre pixel and neighbours on each side)."""
    value = check_int(func, name, value, low=3)
    if value % 2 == 0:
        raise ValueError(f"{func}: {name} must be odd, got {value}")
    return value


def _check_levels(func, levels, shape):
    """Pyramid levels >= 1, or None for as many as keep the shorter side >= MIN_LEVEL_SIDE."""
    if levels is None:
        return max(1, int(np.floor(np.log2(min(shape) / MIN_LEVEL_SIDE))) + 1)
    return check_int(func, "levels", levels, low=1)


def _check_flow(func, name, flow, shape):
    """A finite (H, W, 2) float64 flow whose (H, W) is ``shape``."""
    flow = as_float_array(func, name, flow, ndim=3)
    if flow.shape != (*shape, 2):
        raise ValueError(f"{func}: {name} must have shape {(*shape, 2)} (H, W, 2), got {flow.shape}")
    return flow


# ----------------------------------------------------------- dense flow
def _coarse_to_fine(image0, image1, levels, refine):
    """Run ``refine(level0, level1, flow) -> flow`` from the coarsest pyramid level to the finest.

    Returns the finest level's flow, (H, W, 2) float64.
    """
    pyramid0 = _gaussian_pyramid(image0, levels, DEFAULT_SIGMA)
    pyramid1 = _gaussian_pyramid(image1, levels, DEFAULT_SIGMA)
    flow = np.zeros((*pyramid0[-1].shape, 2))
    for level0, level1 in zip(pyramid0[::-1], pyramid1[::-1]):
        if flow.shape[:2] != level0.shape:
            flow = 2.0 * _pyrup(flow, level0.shape)
        flow = refine(level0, level1, flow)
    return flow


def _linearize(image0, image1, flow):
    """(gx, gy, residual) of ``_k.linearize``: brightness constancy linearised around ``flow``."""
    gx, gy, residual = (np.empty(image0.shape) for _ in range(3))
    _k.linearize(image0, image1, flow, gx, gy, residual)
    return gx, gy, residual


def _median_filter_flow(flow):
    """Separable 5x5 median of each flow component (rows, then columns): removes isolated
    wrong vectors (a failed solve, a window straddling a motion edge) before they seed the
    next level, at a fraction of the cost of the full 5x5 median and about as well."""
    out = np.empty_like(flow)
    _k.median_filter_flow(flow, out)
    return out


def lucas_kanade(image0, image1, window=15, levels=None, iterations=10, min_eigenvalue=1e-7,
                 return_valid=False):
    """Dense optical flow by pyramidal, iterative Lucas-Kanade.

    The second frame is warped back by the current flow ``f0`` and compared
    with the first: ``it`` is their difference and ``g`` the image gradient
    (mean of both frames' central differences), so that near ``f0``,
    ``image1(x + f) - image0(x) ~ it + g . (f - f0)``. At every pixel the new
    flow ``f`` minimises the sum of the squares of this over the
    ``window x window`` neighbourhood (clipped at the image edge), each
    neighbour linearised around its own ``f0``. The normal equations are the
    2x2 system ``A f = -b`` with ``A = mean(g g^T)`` (the structure tensor
    with a box window) and ``b = mean(g (it - g . f0))``. Each pyramid level repeats this
    ``iterations`` times, warping again each time, then replaces the flow by
    its separable 5x5 median (of 5 along rows, then of 5 down columns), which
    removes isolated outliers before they seed the next level (on smooth
    test flows it lowered the average endpoint error by 3-12%).

    Ill-conditioned pixels: ``A`` is singular where the window sees no texture
    (flat regions) or only one edge direction (the aperture problem). A pixel
    whose *smaller eigenvalue* of ``A`` is below ``min_eigenvalue`` is
    rejected: its flow is not updated, so it keeps what the coarser levels
    found (zero where no level could solve) until the median filter fills
    it from its neighbours, and ``valid`` is False there.

    Parameters
    ----------
    image0, image1 : (H, W) gray or (H, W, 3) RGB, same shape
        Consecutive frames; integers are scaled to [0, 1], colour is
        converted to luminance.
    window : odd int >= 3
        Side of the square window over which the flow is assumed constant
        (``skimage.registration.optical_flow_ilk``'s ``radius`` r is
        ``window = 2 r + 1``). Larger windows are more robust, smoother and
        blur motion boundaries.
    levels : int >= 1, optional
        Pyramid levels including the full-resolution one. Default: as many as
        keep the coarsest level's shorter side >= 16 px. Each level doubles
        the largest displacement that can be recovered.
    iterations : int >= 1
        Warp-and-solve steps per level.
    min_eigenvalue : float >= 0
        Rejection threshold on the smaller eigenvalue of ``A``, in (intensity
        per pixel)^2 for intensities in [0, 1]: 1e-7 means a gradient of
        about 3e-4 per pixel (0.08 grey levels of 255) in the weakest direction.
    return_valid : bool
        Also return the mask of accepted pixels.

    Returns
    -------
    flow : (H, W, 2) float64
        (u, v) = (dx, dy) with ``image1(x + u, y + v) ~ image0(x, y)``.
    valid : (H, W) bool, only if ``return_valid``
        False where the last solve at full resolution was rejected (the
        flow there is the median of its neighbours').
    """
    func = "lucas_kanade"
    image0, image1 = _check_frames(func, image0, image1)
    window = _check_window(func, "window", window)
    levels = _check_levels(func, levels, image0.shape)
    iterations = check_int(func, "iterations", iterations, low=1)
    min_eigenvalue = check_number(func, "min_eigenvalue", min_eigenvalue, low=0)
    return_valid = check_bool(func, "return_valid", return_valid)
    valid = np.ones(image0.shape, dtype=bool)

    def refine(level0, level1, flow):
        mask = np.empty(level0.shape, dtype=bool)
        for _ in range(iterations):
            _k.lucas_kanade_solve(*_linearize(level0, level1, flow), window // 2, min_eigenvalue, flow, mask)
        if mask.shape == valid.shape:
            valid[:] = mask
        return _median_filter_flow(flow)

    flow = _coarse_to_fine(image0, image1, levels, refine)
    return (flow, valid) if return_valid else flow


def horn_schunck(image0, image1, alpha=0.1, iterations=100, levels=None, warps=3):
    """Dense optical flow by Horn-Schunck, coarse to fine with warping.

    Minimises ``sum (it + g . (flow - f0))^2 + alpha^2 (|grad u|^2 + |grad v|^2)``:
    brightness constancy linearised around the current flow ``f0`` (``g`` the
    gradient, ``it`` the difference between the warped second frame and the
    first, as in ``lucas_kanade``) plus a smoothness penalty that fills in
    the flow where the image has no texture. Solved by Jacobi sweeps (Horn
    and Schunck's neighbour-mean update); each pyramid level re-linearises
    ``warps`` times.

    Parameters
    ----------
    image0, image1 : (H, W) gray or (H, W, 3) RGB, same shape
        Consecutive frames (integers scaled to [0, 1], colour to luminance).
    alpha : float > 0
        Smoothness weight, in intensity units for intensities in [0, 1] (it
        is compared with the gradient magnitude per pixel): larger gives
        smoother flow, smaller follows the data more closely.
    iterations : int >= 1
        Jacobi sweeps after each linearisation.
    levels : int >= 1, optional
        Pyramid levels as in ``lucas_kanade`` (default: coarsest side >= 16 px).
    warps : int >= 1
        Linearisations (warps of the second frame) per level.

    Returns
    -------
    flow : (H, W, 2) float64, (u, v) = (dx, dy) as in ``lucas_kanade``.
    """
    func = "horn_schunck"
    image0, image1 = _check_frames(func, image0, image1)
    alpha = check_number(func, "alpha", alpha, low=0, low_open=True)
    iterations = check_int(func, "iterations", iterations, low=1)
    levels = _check_levels(func, levels, image0.shape)
    warps = check_int(func, "warps", warps, low=1)

    def refine(level0, level1, flow):
        for _ in range(warps):
            _k.horn_schunck_sweeps(*_linearize(level0, level1, flow), alpha * alpha, iterations, flow)
        return flow

    return _coarse_to_fine(image0, image1, levels, refine)


# ----------------------------------------------------------- sparse tracking
def track_points(image0, image1, points, win_size=21, levels=4, iterations=30, epsilon=0.01,
                 min_eigenvalue=1e-6):
    """Track points from ``image0`` to ``image1`` (pyramidal Lucas-Kanade, "KLT").

    Each point's ``win_size x win_size`` window of ``image0`` is the template;
    at each pyramid level, coarsest first, Gauss-Newton steps move the
    matching window in ``image1`` until a step is shorter than ``epsilon``
    (or after ``iterations``), and the displacement found is doubled as the
    start of the next finer level. Windows are sampled bilinearly at subpixel
    positions; gradients ``g`` are normalised Scharr derivatives of
    ``image0``'s window. Past the border the image is mirrored and its
    gradient taken as zero, so the part of a window outside the image weighs
    nothing. Same algorithm and parameters as ``cv2.calcOpticalFlowPyrLK``
    (its ``maxLevel`` is ``levels - 1``).

    A point is lost (``status`` False) when it ends outside the image, or
    when its window at full resolution is ill-conditioned: the smaller
    eigenvalue of ``A = mean(g g^T)`` below ``min_eigenvalue`` (a flat or
    single-edge window). At a coarser level an ill-conditioned window only
    skips that level.

    Parameters
    ----------
    image0, image1 : (H, W) gray or (H, W, 3) RGB, same shape
        The frames (integers scaled to [0, 1], colour to luminance).
    points : (N, 2) array_like
        Positions (x, y) in ``image0``, inside ``[0, W-1] x [0, H-1]``.
    win_size : odd int >= 3
        Side of the square tracking window.
    levels : int >= 1
        Pyramid levels including full resolution (fewer if the image is too
        small). Each level doubles the largest motion that can be tracked.
    iterations : int >= 1
        Most Gauss-Newton steps per level.
    epsilon : float >= 0
        Stop when a step is shorter than this, in pixels. Coarser levels stop
        at ``max(epsilon, 0.1)`` of their pixels: the finer levels correct
        what they leave.
    min_eigenvalue : float >= 0
        Rejection threshold, in (intensity per pixel)^2 for intensities in
        [0, 1], as in ``lucas_kanade``.

    Returns
    -------
    new_points : (N, 2) float64
        Positions (x, y) in ``image1``; NaN where ``status`` is False.
    status : (N,) bool
        True where the point was tracked.
    error : (N,) float64
        Mean absolute intensity difference between the final windows of
        both frames (on the [0, 1] scale); NaN where ``status`` is False.
    """
    func = "track_points"
    image0, image1 = _check_frames(func, image0, image1)
    points = as_float_array(func, "points", points, ndim=2)
    if points.shape[1] != 2:
        raise ValueError(f"{func}: points must have shape (N, 2) (x, y), got {points.shape}")
    h, w = image0.shape
    outside = (points[:, 0] < 0) | (points[:, 0] > w - 1) | (points[:, 1] < 0) | (points[:, 1] > h - 1)
    if outside.any():
        first = points[np.argmax(outside)]
        raise ValueError(f"{func}: points must lie inside the image [0, {w - 1}] x [0, {h - 1}], "
                         f"got ({first[0]:g}, {first[1]:g})")
    radius = _check_window(func, "win_size", win_size) // 2
    levels = check_int(func, "levels", levels, low=1)
    iterations = check_int(func, "iterations", iterations, low=1)
    epsilon = check_number(func, "epsilon", epsilon, low=0)
    min_eigenvalue = check_number(func, "min_eigenvalue", min_eigenvalue, low=0)
    return _track_points(image0, image1, points, radius, levels, iterations, epsilon, min_eigenvalue)


def _track_points(image0, image1, points, radius, levels, iterations, epsilon, min_eigenvalue):
    """``track_points`` for checked arguments."""
    # float32 halves the memory traffic of the pyramids; the kernel sums in float64.
    image0, image1 = image0.astype(np.float32, copy=False), image1.astype(np.float32, copy=False)
    pyramid0 = _gaussian_pyramid(image0, levels, DEFAULT_SIGMA)
    pyramid1 = _gaussian_pyramid(image1, levels, DEFAULT_SIGMA)
    n = len(points)
    displacement = np.zeros((n, 2))
    lost = np.zeros(n, dtype=bool)
    error = np.full(n, np.nan)
    for level in range(len(pyramid0) - 1, -1, -1):
        # A coarse level's error is corrected by the finer ones: it needs no
        # hundredth of a pixel, and its steps converge slowly (they alternate).
        tolerance = epsilon if level == 0 else max(epsilon, _COARSE_EPSILON)
        _k.track_level(pyramid0[level], pyramid1[level], points, 0.5**level, radius, iterations, tolerance,
                       min_eigenvalue, level == 0, displacement, lost, error)
        if level:
            displacement *= 2.0
    new_points = points + displacement
    new_points[lost] = np.nan
    return new_points, ~lost, error


# ------------------------------------------------------ pictures and warps
def _colour_wheel():
    """Middlebury colour wheel, (55, 3) RGB in [0, 1]: hues red -> yellow -> green ->
    cyan -> blue -> magenta -> red, with more samples where the eye tells hues apart."""
    # (segment length, start colour, end colour); each ramp excludes its end point.
    segments = [(15, (1, 0, 0), (1, 1, 0)), (6, (1, 1, 0), (0, 1, 0)), (4, (0, 1, 0), (0, 1, 1)),
                (11, (0, 1, 1), (0, 0, 1)), (13, (0, 0, 1), (1, 0, 1)), (6, (1, 0, 1), (1, 0, 0))]
    ramps = []
    for n, start, end in segments:
        f = np.floor(255 * np.arange(n) / n)[:, None] / 255
        ramps.append((1 - f) * np.array(start, float) + f * np.array(end, float))
    return np.concatenate(ramps)


def flow_to_rgb(flow, max_flow=None):
    """Colour picture of a flow field (Middlebury colour wheel).

    Direction sets the hue (motion to the right is red, down orange-yellow,
    left cyan-blue, up blue-magenta), magnitude the saturation: zero flow is
    white, flow of length ``max_flow`` the fully saturated wheel colour;
    longer vectors are clipped to the wheel's rim and darkened by 25%.

    Parameters
    ----------
    flow : (H, W, 2) array_like
        (u, v) = (dx, dy) per pixel.
    max_flow : float > 0, optional
        Length drawn fully saturated. Default: the longest vector of ``flow``
        (1 if all are zero), so each picture uses the whole range.

    Returns
    -------
    rgb : (H, W, 3) float64 in [0, 1]
    """
    func = "flow_to_rgb"
    flow = as_float_array(func, "flow", flow, ndim=3)
    if flow.shape[2] != 2:
        raise ValueError(f"{func}: flow must have shape (H, W, 2), got {flow.shape}")
    u, v = flow[..., 0], flow[..., 1]
    radius = np.hypot(u, v)
    if max_flow is None:
        max_flow = radius.max() if radius.max() > 0 else 1.0
    else:
        max_flow = check_number(func, "max_flow", max_flow, low=0, low_open=True)
    radius = radius / max_flow
    wheel = _colour_wheel()
    # Angle of the opposite vector (x right, y down) as a position round the
    # wheel: right is red at both ends, left sits in the middle; the last
    # sample blends back into the first, so the hue is continuous all round.
    position = (np.arctan2(-v, -u) / np.pi + 1) / 2 * len(wheel)
    k0 = np.floor(position).astype(np.int64) % len(wheel)
    k1 = (k0 + 1) % len(wheel)
    f = (position - np.floor(position))[..., None]
    colour = (1 - f) * wheel[k0] + f * wheel[k1]
    inside = (radius <= 1)[..., None]
    # Inside the rim: blend from white at the centre; outside: darker, saturated.
    return np.where(inside, 1 - radius[..., None] * (1 - colour), 0.75 * colour)


def warp_by_flow(image, flow, mode="nearest", cval=0.0):
    """Backward warp: ``out(x, y) = image(x + u(x, y), y + v(x, y))``, bilinear.

    With a flow from frame 0 to frame 1, ``warp_by_flow(frame1, flow)`` is
    frame 1 brought back onto frame 0's grid.

    Parameters
    ----------
    image : (H, W) or (H, W, C)
        Any real dtype (integers scaled to [0, 1]).
    flow : (H, W, 2) array_like
        (u, v) = (dx, dy) per output pixel.
    mode : {'nearest', 'constant'}
        Sources outside ``[0, W-1] x [0, H-1]``: the nearest border value, or ``cval``.
    cval : float
        Fill value for ``mode='constant'``.

    Returns
    -------
    warped : float array of ``image``'s shape (float32 stays float32, else float64)
    """
    func = "warp_by_flow"
    image = as_float_image(func, "image", image)
    flow = _check_flow(func, "flow", flow, image.shape[:2])
    check_choice(func, "mode", mode, ("nearest", "constant"))
    cval = check_cval(func, cval, image)
    return _warp_by_flow(image, flow, mode == "nearest", cval)


def _warp_by_flow(image, flow, nearest=True, cval=0.0):
    """``warp_by_flow`` for a checked float image and float64 flow."""
    src = image if image.ndim == 3 else image[:, :, None]
    out = np.empty(src.shape, dtype=image.dtype)
    _k.warp_by_flow(np.ascontiguousarray(src), flow, image.dtype.type(cval), nearest, out)
    return out if image.ndim == 3 else out[:, :, 0]


def interpolate_frame(image0, image1, flow, t=0.5):
    """The in-between frame at time ``t`` (0 = ``image0``, 1 = ``image1``).

    A pixel y of the new frame sits where some pixel x of ``image0`` passes
    at time t: ``y = x + t flow(x)``. Its flow ``f_t(y)`` is found by a few
    fixed-point steps ``f_t <- flow(y - t f_t)`` (exact for a constant flow,
    accurate for smooth ones), then both frames are warped to the middle and
    blended: ``(1 - t) image0(y - t f_t) + t image1(y + (1 - t) f_t)``.
    Occlusions are not modelled: where a region appears or disappears, the
    blend shows both frames.

    Parameters
    ----------
    image0, image1 : (H, W) or (H, W, C), same shape
        The frames (integers scaled to [0, 1]).
    flow : (H, W, 2) array_like
        Flow from ``image0`` to ``image1`` (e.g. from ``lucas_kanade``).
    t : float in [0, 1]
        Time of the new frame.

    Returns
    -------
    frame : float array of ``image0``'s shape
    """
    func = "interpolate_frame"
    image0 = as_float_image(func, "image0", image0)
    image1 = as_float_image(func, "image1", image1)
    if image0.shape != image1.shape:
        raise ValueError(f"{func}: image1 must have the shape of image0 {image0.shape}, got {image1.shape}")
    flow = _check_flow(func, "flow", flow, image0.shape[:2])
    t = check_number(func, "t", t, low=0, high=1)
    dtype = np.result_type(image0, image1)
    flow_t = flow.copy()
    for _ in range(_FIXED_POINT_STEPS):
        flow_t = _warp_by_flow(flow, -t * flow_t)
    before = _warp_by_flow(image0.astype(dtype, copy=False), -t * flow_t)
    after = _warp_by_flow(image1.astype(dtype, copy=False), (1 - t) * flow_t)
    return (1 - t) * before + t * after
