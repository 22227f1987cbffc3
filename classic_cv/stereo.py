"""Dense stereo on rectified pairs: block matching, semi-global matching, depth.

Conventions, shared by every function here:

- The pair is rectified: the left pixel (x, y) matches the right pixel
  (x - d, y) for a disparity d >= 0 (the Middlebury and OpenCV convention).
  Disparities 0 .. ``max_disparity`` are searched, and only d <= x at column
  x (a larger d would leave the right image).
- Disparity maps are (H, W) float32, in the left image's frame. **Invalid
  pixels are NaN**: a failed left-right check, or (block matching) a window
  with no texture. Nothing is ever marked with -1 or 0; 0 is a real disparity
  (a point at infinity).
- Matching costs compare (2r+1)^2 windows (``window`` = 2r+1, odd); the image
  borders repeat their edge pixels. ``cost`` is one of 'sad' (absolute
  differences summed over the window), 'ssd' (squared differences), 'ncc'
  (1 - zero-mean normalised cross-correlation of the windows) or 'census'
  (Hamming distances between 5x5 census signatures, summed: robust to a
  brightness difference between the two cameras, and the default).
- Colour (H, W, 3) images are matched on their luminance; integer images are
  scaled to [0, 1] first.
"""
import numpy as np
from PIL import Image, ImageDraw

from minigrad.validation import check_bool, check_choice, check_int, check_number

from ._kernels import stereo as _k
from ._validate import as_gray, check_image

COSTS = {"sad": _k.SAD, "ssd": _k.SSD, "census": _k.CENSUS, "ncc": _k.NCC}
CENSUS_RADIUS = 2  # 5x5 signatures: 24 bits, stored as uint32

# Default SGM penalties per cost, in units of that cost's per-pixel value:
# P1 for a 1 px disparity step between neighbours, P2 for a larger jump.
SGM_PENALTIES = {"census": (1.0, 8.0), "sad": (0.01, 0.08), "ssd": (0.0005, 0.004), "ncc": (0.1, 0.8)}


def _check_pair(func, left, right, max_disparity, window, cost):
    """Validate the arguments every matcher shares; returns (left, right) as
    (H, W) float32, max_disparity, window."""
    left = as_gray(func, "left", left, dtype=np.float32)
    right = as_gray(func, "right", right, dtype=np.float32)
    if left.shape != right.shape:
        raise ValueError(f"{func}: right must have the shape of left {left.shape}, got {right.shape}")
    h, w = left.shape
    if w < 2:
        raise ValueError(f"{func}: left must be at least 2 pixels wide, got shape {left.shape}")
    max_disparity = check_int(func, "max_disparity", max_disparity, low=1, high=w - 1)
    window = check_int(func, "window", window, low=1, high=min(h, w) if min(h, w) % 2 else min(h, w) - 1)
    if window % 2 == 0:
        raise ValueError(f"{func}: window must be odd, got {window}")
    check_choice(func, "cost", cost, tuple(COSTS))
    return left, right, max_disparity, window


def _box_stats(image, window):
    """Window means and root sums of squared deviations, (H, W) float32 each,
    over the edge-padded image (summed-area tables in float64, centred on the
    image mean to limit cancellation). A flat window (all pixels equal) gets
    exactly 0, which rounding alone would not guarantee."""
    n = window * window
    offset = image.mean(dtype=np.float64)
    padded = np.pad(image.astype(np.float64) - offset, window // 2, mode="edge")
    total = _window_sums(padded, window)
    squares = _window_sums(padded**2, window)
    norm = np.sqrt(np.maximum(squares - total * total / n, 0.0))
    norm[_flat_windows(image, window)] = 0.0
    return (total / n + offset).astype(np.float32), norm.astype(np.float32)


def _flat_windows(image, window):
    """(H, W) bool: windows of the edge-padded image whose pixels are all equal."""
    out = np.empty(image.shape, bool)
    _k.flat_windows(np.pad(image, window // 2, mode="edge"), window // 2, out)
    return out


def _window_sums(padded, window):
    """Sum of every window x window block of a padded float array (float64
    summed-area table): (padded.shape - window + 1) sums."""
    table = np.zeros((padded.shape[0] + 1, padded.shape[1] + 1))
    table[1:, 1:] = padded.cumsum(0).cumsum(1)
    return table[window:, window:] - table[:-window, window:] - table[window:, :-window] + table[:-window, :-window]


_NO_STATS = (np.zeros((1, 1), np.float32),) * 4


def _kernel_inputs(left, right, window, cost):
    """Padded images (or census signatures) and NCC statistics for the kernels."""
    r = window // 2
    kind = COSTS[cost]
    dummy_sig = np.zeros((1, 1), np.uint32)
    dummy_img = np.zeros((1, 1), np.float32)
    if kind == _k.CENSUS:
        sigs = []
        for image in (left, right):
            sig = np.empty(image.shape, np.uint32)
            _k.census_transform(np.pad(image, CENSUS_RADIUS, mode="edge"), CENSUS_RADIUS, sig)
            sigs.append(np.pad(sig, r, mode="edge"))
        return kind, (dummy_img, dummy_img, sigs[0], sigs[1])
    padded = [np.pad(image, r, mode="edge") for image in (left, right)]
    return kind, (padded[0], padded[1], dummy_sig, dummy_sig)


def _ncc_stats(left, right, window, cost):
    """(mean_l, mean_r, norm_l, norm_r) for NCC, 1x1 placeholders otherwise."""
    if cost != "ncc":
        return _NO_STATS
    (mean_l, norm_l), (mean_r, norm_r) = (_box_stats(im, window) for im in (left, right))
    return mean_l, mean_r, norm_l, norm_r


def block_match(left, right, max_disparity=64, window=9, cost="census", left_right_check=True, subpixel=True,
                texture_threshold=0.0):
    """Disparity map of a rectified pair by local window matching (winner-take-all).

    Parameters
    ----------
    left, right : (H, W) gray or (H, W, 3) RGB, same shape
        Rectified pair; left (x, y) matches right (x - d, y).
    max_disparity : int in [1, W - 1]
        Largest disparity searched (0 .. max_disparity).
    window : odd int in [1, min(H, W)]
        Side of the square matching window.
    cost : {'sad', 'ssd', 'ncc', 'census'}
        Window cost (see the module notes).
    left_right_check : bool
        Also match right to left and mark NaN every pixel whose right match
        does not point back to it within 1 px (occlusions, mismatches).
    subpixel : bool
        Refine each disparity by a parabola through the best cost and its two
        neighbours (not at 0, max_disparity or x, where a neighbour is missing).
    texture_threshold : float >= 0
        Pixels whose left window has an intensity standard deviation at or
        below this are marked NaN ("no texture"). The default 0 marks only
        perfectly flat windows. With ``window=1`` no pixel is marked, except
        by 'ncc', which is undefined on a single pixel (all NaN).

    Returns
    -------
    disparity : (H, W) float32
        Disparities in pixels; NaN where invalid.
    """
    func = "block_match"
    left, right, max_disparity, window = _check_pair(func, left, right, max_disparity, window, cost)
    lr = check_bool(func, "left_right_check", left_right_check)
    sub = check_bool(func, "subpixel", subpixel)
    texture = check_number(func, "texture_threshold", texture_threshold, low=0)
    kind, images = _kernel_inputs(left, right, window, cost)
    stats = _ncc_stats(left, right, window, cost)
    if window == 1 and cost != "ncc":
        flat = np.zeros(left.shape, bool)  # one pixel has no texture to test
    elif texture > 0:
        norm_l = stats[2] if cost == "ncc" else _box_stats(left, window)[1]
        flat = norm_l <= np.float32(texture * window)  # std = norm / sqrt(n) = norm / window
    else:
        flat = _flat_windows(left, window)
    out = np.empty(left.shape, np.float32)
    _k.block_match(kind, *images, window // 2, max_disparity + 1, stats, flat, sub, lr, out)
    return out


def sgm(left, right, max_disparity=64, window=5, cost="census", paths=8, P1=None, P2=None, left_right_check=True,
        subpixel=True):
    """Disparity map of a rectified pair by semi-global matching (Hirschmüller, 2008).

    The window costs C(p, d) of ``block_match`` are smoothed along ``paths``
    straight lines through every pixel by the recursion

        L(p, d) = C(p, d) + min(L(q, d), L(q, d +- 1) + P1, min_k L(q, k) + P2) - min_k L(q, k)

    (q the previous pixel on the path), and each pixel takes the disparity
    minimising the sum of its path costs.

    Parameters
    ----------
    left, right, max_disparity, window, cost, left_right_check, subpixel
        As ``block_match`` (default cost 'census', window 5). The left-right
        check compares with the right image's disparities read from the same
        summed costs.
    paths : {8, 4}
        8: horizontal, vertical and diagonal paths; 4: horizontal and vertical.
    P1, P2 : float >= 0, optional
        Penalties for a 1 px disparity change between neighbours (P1) and for
        a larger jump (P2 >= P1), in units of the per-pixel cost (a census
        cost counts differing bits; 'sad' is in image intensity units).
        Default: ``SGM_PENALTIES[cost]``.

    Returns
    -------
    disparity : (H, W) float32
        Disparities in pixels; NaN where the left-right check failed.
    """
    func = "sgm"
    left, right, max_disparity, window = _check_pair(func, left, right, max_disparity, window, cost)
    check_choice(func, "paths", paths, (8, 4))
    lr = check_bool(func, "left_right_check", left_right_check)
    sub = check_bool(func, "subpixel", subpixel)
    p1, p2 = SGM_PENALTIES[cost]
    p1 = p1 if P1 is None else check_number(func, "P1", P1, low=0)
    p2 = p2 if P2 is None else check_number(func, "P2", P2, low=0)
    if p2 < p1:
        raise ValueError(f"{func}: P2 must be >= P1 ({p1:g}), got {p2:g}")
    costs = _cost_volume(left, right, max_disparity, window, cost)
    # The volume holds window sums (NCC: one value per window): scale the
    # per-pixel penalties to match.
    scale = 1 if cost == "ncc" else window * window
    forward, backward = np.empty_like(costs), np.empty_like(costs)
    _k.sgm_aggregate(costs, np.float32(p1 * scale), np.float32(p2 * scale), paths, forward, backward)
    del costs  # 4 bytes per pixel and disparity: free it before the next step
    out = np.empty(left.shape, np.float32)
    _k.select_total(forward, backward, sub, lr, np.zeros(left.shape, bool), out)
    return out


def _cost_volume(left, right, max_disparity, window, cost):
    """(H, W, max_disparity + 1) float32 window costs (sums, or 1 - ncc) of validated float32 images;
    entries with d > x hold the worst valid cost of their pixel."""
    kind, images = _kernel_inputs(left, right, window, cost)
    out = np.empty(left.shape + (max_disparity + 1,), np.float32)
    _k.cost_volume(kind, *images, window // 2, _ncc_stats(left, right, window, cost), out)
    _k.fill_out_of_image(out)
    return out


def disparity_to_depth(disparity, focal, baseline):
    """Depth ``z = focal * baseline / d`` of a disparity map.

    Parameters
    ----------
    disparity : (H, W) or any-shape real array, values >= 0 or NaN
        Disparities in pixels (NaN: invalid, as the matchers return).
    focal : float > 0
        Focal length in pixels.
    baseline : float > 0
        Distance between the camera centres; depth comes in the same unit.

    Returns
    -------
    depth : float64 array, the shape of ``disparity``
        NaN where the disparity is NaN (unknown), +inf where it is 0 (a point
        at infinity: the rays are parallel).
    """
    func = "disparity_to_depth"
    if not isinstance(disparity, np.ndarray):
        disparity = np.asarray(disparity)
    if disparity.dtype.kind not in "buif":
        raise TypeError(f"{func}: disparity must have a real numeric dtype, got {disparity.dtype}")
    if disparity.size == 0:
        raise ValueError(f"{func}: disparity must not be empty, got shape {disparity.shape}")
    d = disparity.astype(np.float64)
    if np.isinf(d).any():
        raise ValueError(f"{func}: disparity must be finite or NaN, got inf values")
    if (d < 0).any():
        raise ValueError(f"{func}: disparity must be >= 0 or NaN, got minimum {np.nanmin(d):g}")
    focal = check_number(func, "focal", focal, low=0, low_open=True)
    baseline = check_number(func, "baseline", baseline, low=0, low_open=True)
    with np.errstate(divide="ignore"):
        return focal * baseline / d


# A viridis-like colour map: anchors from dark purple through teal to yellow,
# linearly interpolated (perceptually ordered, readable in grey too).
_ANCHORS = np.array([[68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
                     [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37]], float)
# Colour bar layout in px: a white gap, the gradient, room for the labels.
_BAR_GAP, _BAR_WIDTH, _LABEL_WIDTH = 4, 16, 36
COLORBAR_WIDTH = _BAR_GAP + _BAR_WIDTH + _LABEL_WIDTH


def colormap(values):
    """Map values in [0, 1] (clipped) to RGB uint8 of shape ``values.shape + (3,)``."""
    t = np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0) * (len(_ANCHORS) - 1)
    low = np.minimum(np.floor(t).astype(int), len(_ANCHORS) - 2)
    frac = (t - low)[..., None]
    return np.round(_ANCHORS[low] * (1 - frac) + _ANCHORS[low + 1] * frac).astype(np.uint8)


def colorize_disparity(disparity, max_disparity=None, colorbar=True):
    """An (H, W) disparity map as an RGB picture, invalid (NaN) pixels black.

    Parameters
    ----------
    disparity : (H, W) real, NaN allowed
    max_disparity : float > 0, optional
        Disparity drawn at the top of the colour scale (default the map's
        largest valid value); 0 is at the bottom.
    colorbar : bool
        Append a vertical colour bar labelled with 0 and ``max_disparity``.

    Returns
    -------
    rgb : (H, W, 3) uint8, or (H, W + COLORBAR_WIDTH, 3) with the colour bar
    """
    func = "colorize_disparity"
    disparity = np.asarray(disparity)
    valid = np.isfinite(disparity) if disparity.dtype.kind == "f" else np.ones(disparity.shape, bool)
    check_image(func, "disparity", np.where(valid, disparity, 0), ndim=2)
    if max_disparity is None:
        top = float(disparity[valid].max()) if valid.any() else 1.0
        top = top if top > 0 else 1.0
    else:
        top = check_number(func, "max_disparity", max_disparity, low=0, low_open=True)
    rgb = colormap(np.where(valid, disparity, 0) / top)
    rgb[~valid] = 0
    if not check_bool(func, "colorbar", colorbar):
        return rgb
    return np.concatenate([rgb, _colorbar(disparity.shape[0], top)], axis=1)


def _colorbar(height, top):
    """(height, COLORBAR_WIDTH, 3) uint8: the gradient (``top`` up, 0 down), labelled."""
    canvas = np.full((height, COLORBAR_WIDTH, 3), 255, np.uint8)
    canvas[:, _BAR_GAP : _BAR_GAP + _BAR_WIDTH] = colormap(np.linspace(1.0, 0.0, height))[:, None, :]
    picture = Image.fromarray(canvas)
    draw = ImageDraw.Draw(picture)
    x = _BAR_GAP + _BAR_WIDTH + 2
    draw.text((x, 0), f"{top:g}", fill=(0, 0, 0))
    draw.text((x, max(height - 11, 0)), "0", fill=(0, 0, 0))
    return np.asarray(picture)
