"""Hough transforms: straight lines in (rho, theta), probabilistic line
segments, and circles over a range of radii.

Points are (x, y) = (column, row), as everywhere in ``classic_cv``. A line is
``rho = x cos(theta) + y sin(theta)`` (``skimage.transform.hough_line``'s
convention), theta in [-pi/2, pi/2). Input is a binary edge map (e.g. from
``canny``): every nonzero pixel votes.
"""
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

from ._kernels import harris as _kh
from ._kernels import hough as _k
from minigrad.validation import as_generator, check_bool, check_int, check_number

from ._validate import as_float_array, as_float_image, check_image


@dataclass
class Lines:
    """Detected lines ``x cos(theta) + y sin(theta) = rho`` (x the column, y the row),
    strongest first: ``votes``, ``theta`` (rad), ``rho`` (px), each (K,)."""

    votes: np.ndarray
    theta: np.ndarray
    rho: np.ndarray

    def __len__(self):
        return len(self.votes)


@dataclass
class Circles:
    """Detected circles, strongest first: ``score`` (fraction of the perimeter
    that voted), centre ``x`` (column), ``y`` (row) and ``radius`` (px), each (K,)."""

    score: np.ndarray
    x: np.ndarray
    y: np.ndarray
    radius: np.ndarray

    def __len__(self):
        return len(self.score)

    @property
    def xy(self):
        """(K, 2) centres as (x, y) points."""
        return np.column_stack([self.x, self.y])


def _edge_points(func, image):
    """Check a 2-D edge image; return its shape and the rows (ys) and columns (xs), int64, of its nonzero pixels."""
    image = check_image(func, "image", image, ndim=2)
    ys, xs = np.nonzero(image)
    return image.shape, ys.astype(np.int64), xs.astype(np.int64)


def _angles(func, theta):
    if theta is None:
        return np.linspace(-np.pi / 2, np.pi / 2, 180, endpoint=False)
    return as_float_array(func, "theta", theta, ndim=1)


def hough_line(image, theta=None):
    """Line accumulator of a binary edge image.

    Parameters
    ----------
    image : (H, W), nonzero pixels vote
    theta : (T,) angles in radians, default 180 angles evenly over [-pi/2, pi/2)

    Returns
    -------
    accumulator : (2 D + 1, T) uint64, D = ceil(hypot(H, W)); votes per (rho, theta) bin
        (a transposed view of the theta-major array the votes are counted in)
    theta : (T,) float64
    rho : (2 D + 1,) float64, the integers -D..D (bin centres)

    Each pixel adds one vote to bin ``round(x cos t + y sin t)`` (halves away
    from zero) of every angle: the accumulator equals skimage's.
    """
    func = "hough_line"
    shape, ys, xs = _edge_points(func, image)
    theta = _angles(func, theta)
    offset = int(np.ceil(np.hypot(*shape)))
    accum_t = np.zeros((len(theta), 2 * offset + 1), dtype=np.uint64)
    _k.line_votes(ys, xs, np.cos(theta), np.sin(theta), offset, accum_t)
    return accum_t.T, theta, np.arange(-offset, offset + 1, dtype=np.float64)


# Bin spacings computed in floating point miss their nominal value by a few ulp
# (10 steps of 1 degree from linspace can exceed deg2rad(10)); this slack keeps
# the suppression windows inclusive, so "within 10 degrees" holds 10 one-degree bins.
_WINDOW_SLACK = 1e-9


def hough_line_peaks(accumulator, theta, rho, min_distance=9, min_angle=10.0, threshold=None, num_peaks=None):
    """Strongest lines of an accumulator with non-maximum suppression.

    A bin is a peak when it has more than ``threshold`` votes (default half
    the maximum) and no bin of its neighbourhood has more: the neighbourhood
    holds the bins within ``min_distance`` px in rho and ``min_angle`` degrees
    in theta, also across the theta wrap-around, where (rho, theta) and
    (-rho, theta + pi) are the same line. So the side lobes of a strong line
    (the wings of its butterfly in the accumulator) are never returned as lines
    of their own. Adjacent peak bins (they tie) form one plateau, reported at
    its centroid: a short segment fills several angle bins equally, and its
    line lies at their centre, not at the first of them. Plateaus are visited
    strongest first and kept unless a kept line lies within the same window.

    Parameters
    ----------
    accumulator, theta, rho : outputs of ``hough_line``
        ``accumulator`` (R, T), ``theta`` (T,) in any order, ``rho`` (R,) increasing
    min_distance : float >= 0, window half-width in rho (px)
    min_angle : float >= 0, window half-width in theta (degrees)
    threshold : float, optional, minimum votes (default half the maximum)
    num_peaks : int >= 1, optional, maximum number of lines

    Returns
    -------
    Lines(votes, theta, rho), strongest first (votes as float64)
    """
    func = "hough_line_peaks"
    accumulator = check_image(func, "accumulator", accumulator, ndim=2)
    theta = as_float_array(func, "theta", theta, ndim=1)
    rho = as_float_array(func, "rho", rho, ndim=1)
    if accumulator.shape != (len(rho), len(theta)):
        raise ValueError(f"{func}: accumulator must have shape (len(rho), len(theta)) = "
                         f"{(len(rho), len(theta))}, got {accumulator.shape}")
    steps = np.diff(rho)
    if (steps <= 0).any():
        i = int(np.argmax(steps <= 0))
        raise ValueError(f"{func}: rho must be strictly increasing, got rho[{i + 1}] = {rho[i + 1]} "
                         f"after {rho[i]}")
    min_distance = check_number(func, "min_distance", min_distance, low=0) + _WINDOW_SLACK
    min_angle = np.deg2rad(check_number(func, "min_angle", min_angle, low=0)) + _WINDOW_SLACK
    threshold = 0.5 * accumulator.max() if threshold is None else check_number(func, "threshold", threshold)
    max_count = accumulator.size if num_peaks is None else check_int(func, "num_peaks", num_peaks, low=1)
    # Columns in angle order, so that adjacent columns are adjacent angles. The
    # memory order is kept: hough_line's accumulator is column-major, which is
    # also how the kernel reads each window.
    votes = accumulator.astype(np.float64, order="K")
    if (np.diff(theta) < 0).any():
        by_angle = np.argsort(theta, kind="stable")
        theta, votes = theta[by_angle], votes[:, by_angle]
    is_peak = _k.line_peak_mask(votes, rho, theta, min_distance, min_angle, threshold)
    votes, theta_c, rho_c = _plateaus(is_peak, votes, theta, rho, min_distance, min_angle)
    order = np.argsort(-votes, kind="stable")
    votes, theta_c, rho_c = votes[order], theta_c[order], rho_c[order]
    keep = _k.suppress_lines(rho_c, theta_c, min_distance, min_angle, max_count)
    return Lines(votes[keep], theta_c[keep], rho_c[keep])


def _plateaus(is_peak, votes, theta, rho, min_distance, min_angle):
    """Group touching peak bins and return per group, in raster order of its
    first bin, its votes and the mean theta and rho of its bins, each (K,).

    Bins touch along an axis only when neighbours on that axis lie within each
    other's window (``min_distance`` in rho, ``min_angle`` in the sorted
    ``theta``): two touching peaks are then each the other's maximum, so they tie.
    """
    along_rho = bool(np.all(np.diff(rho) <= min_distance))
    along_theta = bool(np.all(np.diff(theta) <= min_angle))
    if along_rho and along_theta:
        touching = np.ones((3, 3), dtype=bool)
    else:
        touching = np.zeros((3, 3), dtype=bool)
        touching[:, 1] = along_rho
        touching[1, :] = along_theta
        touching[1, 1] = True
    labels, count = ndi.label(is_peak, structure=touching)
    r, t = np.nonzero(is_peak)
    group = labels[r, t] - 1
    size = np.bincount(group, minlength=count)
    mean_theta = np.bincount(group, theta[t], minlength=count) / size
    mean_rho = np.bincount(group, rho[r], minlength=count) / size
    group_votes = np.zeros(count)
    group_votes[group] = votes[r, t]
    return group_votes, mean_theta, mean_rho


def probabilistic_hough_line(image, threshold=10, line_length=50, line_gap=10, theta=None, rng=None):
    """Line segments by the progressive probabilistic Hough transform.

    Parameters
    ----------
    image : (H, W) binary edge map
    threshold : int >= 1, votes a bin needs before its line is followed
    line_length : float > 0, minimum segment length in px (Euclidean)
    line_gap : int >= 0, largest run of missing pixels bridged inside a segment
    theta : (T,) angles, default as ``hough_line``
    rng : None, int seed or ``np.random.Generator`` for the visiting order

    Returns
    -------
    segments : (K, 2, 2) int64, ``segments[k] = ((x0, y0), (x1, y1))``, end points as (x, y)
    """
    func = "probabilistic_hough_line"
    shape, ys, xs = _edge_points(func, image)
    threshold = check_int(func, "threshold", threshold, low=1)
    line_length = check_number(func, "line_length", line_length, low=0, low_open=True)
    line_gap = check_int(func, "line_gap", line_gap, low=0)
    theta = _angles(func, theta)
    order = as_generator(func, "rng", rng).permutation(len(ys))
    offset = int(np.ceil(np.hypot(*shape)))
    mask = np.zeros(shape, dtype=bool)
    mask[ys, xs] = True
    segments = _k.probabilistic_lines(mask, ys[order], xs[order], np.cos(theta), np.sin(theta), offset,
                                      2 * offset + 1, threshold, line_length, line_gap)
    return segments.reshape(-1, 2, 2)


def circle_offsets(radius):
    """Distinct integer offsets (dx, dy), shape (P, 2), of a digital circle of ``radius`` px.

    Points ``round(r cos a), round(r sin a)`` for angles dense enough
    (step < 1/r rad) that consecutive points touch, duplicates removed.
    """
    angles = np.linspace(0, 2 * np.pi, int(np.ceil(8 * radius)) + 8, endpoint=False)
    pts = np.round(np.stack([radius * np.cos(angles), radius * np.sin(angles)], 1)).astype(np.int64)
    return np.unique(pts, axis=0)


def hough_circle(image, radii, normalize=True):
    """Circle accumulators, one plane per radius.

    Parameters
    ----------
    image : (H, W) binary edge map
    radii : float or (R,) positive radii in px
    normalize : bool
        Divide each plane by its circle's number of perimeter points, so a
        complete circle scores ~1 whatever its radius.

    Returns
    -------
    accumulator : (R, H, W) float64
        ``accumulator[k, row, col]``: votes for a circle of ``radii[k]`` centred
        at x = col, y = row.
    """
    func = "hough_circle"
    shape, ys, xs = _edge_points(func, image)
    radii = as_float_array(func, "radii", radii, ndim=1)
    if (radii <= 0).any():
        raise ValueError(f"{func}: radii must be > 0, got {radii.min()}")
    normalize = check_bool(func, "normalize", normalize)
    # A circle wider than the image's diagonal, centred inside it, has no
    # perimeter pixel inside it: its plane is zero without listing its offsets.
    reach = np.hypot(*shape) + 1
    offsets = [circle_offsets(r) if r <= reach else np.zeros((0, 2), np.int64) for r in radii]
    starts = np.cumsum([0] + [len(o) for o in offsets]).astype(np.int64)
    flat = np.concatenate(offsets)
    scale = 1.0 / np.maximum(np.diff(starts), 1) if normalize else np.ones(len(radii))
    accum = np.empty((len(radii),) + shape)
    _k.circle_votes(ys, xs, np.ascontiguousarray(flat[:, 1]), np.ascontiguousarray(flat[:, 0]), starts, scale, accum)
    return accum


def hough_circle_peaks(accumulator, radii, min_distance=5, min_radius_distance=None, threshold=None,
                       num_peaks=None):
    """Strongest circles of ``hough_circle`` output with non-maximum suppression.

    A circle's window holds the centres within ``min_distance`` px
    (Chebyshev) on the planes whose radius is within ``min_radius_distance``
    px (default ``min_distance``) of its own. Candidates score above
    ``threshold`` (default half the global maximum) and no bin of their window
    scores more: a ring of a strong circle on a neighbouring radius plane (an
    internally tangent circle, which shares many pixels with it) is not a
    circle of its own. Visited strongest first, a candidate is dropped when a
    kept circle lies within its window, so concentric circles of clearly
    different radii are all found.

    Parameters
    ----------
    accumulator : (R, H, W), output of ``hough_circle``
    radii : float or (R,), the radii of its planes
    min_distance : int >= 1, centre spacing in px
    min_radius_distance : float >= 0, optional, radius spacing in px
    threshold : float, optional, minimum score
    num_peaks : int >= 1, optional, maximum number of circles

    Returns
    -------
    Circles(score, x, y, radius), strongest first
    """
    func = "hough_circle_peaks"
    accumulator = as_float_image(func, "accumulator", accumulator, ndim=3, scale_integers=False)
    radii = as_float_array(func, "radii", radii, ndim=1)
    if radii.shape != accumulator.shape[:1]:
        raise ValueError(f"{func}: radii must have one entry per accumulator plane "
                         f"({accumulator.shape[0]}), got shape {radii.shape}")
    md = check_int(func, "min_distance", min_distance, low=1)
    mrd = md if min_radius_distance is None else check_number(func, "min_radius_distance", min_radius_distance,
                                                              low=0)
    threshold = 0.5 * accumulator.max() if threshold is None else check_number(func, "threshold", threshold)
    max_count = accumulator.size if num_peaks is None else check_int(func, "num_peaks", num_peaks, low=1)
    # Maxima of their own plane first (one cheap filter per plane), then of the whole window.
    is_peak = np.empty(accumulator.shape, dtype=bool)
    local_max = np.empty(accumulator.shape[1:])
    for k, plane in enumerate(accumulator):
        _kh.max_filter(plane, md, local_max)
        np.logical_and(plane == local_max, plane > threshold, out=is_peak[k])
    ks, ys, xs = np.nonzero(is_peak)
    window_peak = _k.circle_window_peaks(accumulator, ks, ys, xs, radii, md, mrd)
    ks, ys, xs = ks[window_peak], ys[window_peak], xs[window_peak]
    score = accumulator[ks, ys, xs]
    order = np.argsort(-score, kind="stable")
    ks, ys, xs, score = ks[order], ys[order], xs[order], score[order]
    keep = _k.suppress_circles(ks, ys, xs, radii, md, mrd, max_count)
    return Circles(score[keep], xs[keep].astype(np.float64), ys[keep].astype(np.float64), radii[ks[keep]])
