"""Hough transforms: straight lines in (rho, theta), probabilistic line
segments, and circles over a range of radii.

A line is ``rho = x cos(theta) + y sin(theta)`` with x the column and y the row
(``skimage.transform.hough_line``'s convention), theta in [-pi/2, pi/2).
Input is a binary edge map (e.g. from ``canny``): every nonzero pixel votes.
"""
from dataclasses import dataclass

import numpy as np

from ._kernels import harris as _kh
from ._kernels import hough as _k
from ._validate import as_float_image, check_image, check_number, check_positive


@dataclass
class Lines:
    """Detected lines, strongest first: ``votes``, ``theta`` (rad), ``rho`` (px), each (K,)."""

    votes: np.ndarray
    theta: np.ndarray
    rho: np.ndarray

    def __len__(self):
        return len(self.votes)


@dataclass
class Circles:
    """Detected circles, strongest first: ``score`` (fraction of the perimeter
    that voted), centre ``x``, ``y`` and ``radius`` (px), each (K,)."""

    score: np.ndarray
    x: np.ndarray
    y: np.ndarray
    radius: np.ndarray

    def __len__(self):
        return len(self.score)


def _edge_points(image, func):
    """Validate a 2-D edge image; return its shape and (ys, xs) int64 of its nonzero pixels."""
    image = check_image(image, "image", func, ndim=2)
    ys, xs = np.nonzero(image)
    return image.shape, ys.astype(np.int64), xs.astype(np.int64)


def _angles(theta, func):
    if theta is None:
        return np.linspace(-np.pi / 2, np.pi / 2, 180, endpoint=False)
    theta = as_float_image(np.asarray(theta, dtype=np.float64), "theta", func, ndim=1)
    return theta


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
    shape, ys, xs = _edge_points(image, func)
    theta = _angles(theta, func)
    offset = int(np.ceil(np.hypot(*shape)))
    accum_t = np.zeros((len(theta), 2 * offset + 1), dtype=np.uint64)
    _k.line_votes(ys, xs, np.cos(theta), np.sin(theta), offset, accum_t)
    return accum_t.T, theta, np.arange(-offset, offset + 1, dtype=np.float64)


def hough_line_peaks(accumulator, theta, rho, min_distance=9, min_angle=10.0, threshold=None, num_peaks=None):
    """Strongest lines of an accumulator with non-maximum suppression.

    Bins with more than ``threshold`` votes (default half the maximum) are
    visited strongest first and kept unless a kept line lies within
    ``min_distance`` px in rho and ``min_angle`` degrees in theta (comparing
    across the theta wrap-around, where (rho, theta) = (-rho, theta + pi)).

    Parameters
    ----------
    accumulator, theta, rho : outputs of ``hough_line``
    num_peaks : int, optional, maximum number of lines

    Returns
    -------
    Lines(votes, theta, rho), strongest first (votes as float64)
    """
    func = "hough_line_peaks"
    accumulator = check_image(accumulator, "accumulator", func, ndim=2)
    theta = as_float_image(np.asarray(theta, dtype=np.float64), "theta", func, ndim=1)
    rho = as_float_image(np.asarray(rho, dtype=np.float64), "rho", func, ndim=1)
    if accumulator.shape != (len(rho), len(theta)):
        raise ValueError(f"{func}: accumulator must have shape (len(rho), len(theta)) = "
                         f"{(len(rho), len(theta))}, got {accumulator.shape}")
    min_distance = check_positive(min_distance, "min_distance", func, allow_zero=True)
    min_angle = np.deg2rad(check_positive(min_angle, "min_angle", func, allow_zero=True))
    threshold = 0.5 * accumulator.max() if threshold is None else check_number(threshold, "threshold", func)
    max_count = len(accumulator.ravel()) if num_peaks is None else check_positive(num_peaks, "num_peaks", func,
                                                                                  integer=True)
    r, t = np.nonzero(accumulator > threshold)
    votes = accumulator[r, t].astype(np.float64)
    order = np.argsort(-votes, kind="stable")
    r, t, votes = r[order], t[order], votes[order]
    keep = _k.suppress_lines(rho[r], theta[t], min_distance, min_angle, max_count)
    return Lines(votes[keep], theta[t[keep]], rho[r[keep]])


def probabilistic_hough_line(image, threshold=10, line_length=50, line_gap=10, theta=None, rng=None):
    """Line segments by the progressive probabilistic Hough transform.

    Parameters
    ----------
    image : (H, W) binary edge map
    threshold : int, votes a bin needs before its line is followed
    line_length : float, minimum segment length in px (Euclidean)
    line_gap : int, largest run of missing pixels bridged inside a segment
    theta : (T,) angles, default as ``hough_line``
    rng : None, int seed or ``np.random.Generator`` for the visiting order

    Returns
    -------
    segments : (K, 2, 2) int64, ``segments[k] = ((x0, y0), (x1, y1))``
    """
    func = "probabilistic_hough_line"
    shape, ys, xs = _edge_points(image, func)
    threshold = check_positive(threshold, "threshold", func, integer=True)
    line_length = check_positive(line_length, "line_length", func)
    line_gap = check_positive(line_gap, "line_gap", func, allow_zero=True, integer=True)
    theta = _angles(theta, func)
    order = np.random.default_rng(rng).permutation(len(ys))
    offset = int(np.ceil(np.hypot(*shape)))
    mask = np.zeros(shape, dtype=bool)
    mask[ys, xs] = True
    segments = _k.probabilistic_lines(mask, ys[order], xs[order], np.cos(theta), np.sin(theta), offset,
                                      2 * offset + 1, threshold, line_length, line_gap)
    return segments.reshape(-1, 2, 2)


def circle_offsets(radius):
    """Distinct integer (dy, dx) offsets of a digital circle of ``radius`` px.

    Points ``round(r sin a), round(r cos a)`` for angles dense enough
    (step < 1/r rad) that consecutive points touch, duplicates removed.
    """
    angles = np.linspace(0, 2 * np.pi, int(np.ceil(8 * radius)) + 8, endpoint=False)
    pts = np.round(np.stack([radius * np.sin(angles), radius * np.cos(angles)], 1)).astype(np.int64)
    return np.unique(pts, axis=0)


def hough_circle(image, radii, normalize=True):
    """Circle accumulators, one plane per radius.

    Parameters
    ----------
    image : (H, W) binary edge map
    radii : (R,) positive radii in px
    normalize : divide each plane by its circle's number of perimeter points,
        so a complete circle scores ~1 whatever its radius

    Returns
    -------
    accumulator : (R, H, W) float64, votes for a circle centred at (y, x)
    """
    func = "hough_circle"
    shape, ys, xs = _edge_points(image, func)
    radii = as_float_image(np.atleast_1d(np.asarray(radii, dtype=np.float64)), "radii", func, ndim=1)
    if (radii <= 0).any():
        raise ValueError(f"{func}: radii must be > 0, got {radii.min()}")
    offsets = [circle_offsets(r) for r in radii]
    starts = np.cumsum([0] + [len(o) for o in offsets]).astype(np.int64)
    flat = np.concatenate(offsets)
    scale = 1.0 / np.diff(starts) if normalize else np.ones(len(radii))
    accum = np.empty((len(radii),) + shape)
    _k.circle_votes(ys, xs, np.ascontiguousarray(flat[:, 0]), np.ascontiguousarray(flat[:, 1]), starts, scale, accum)
    return accum


def hough_circle_peaks(accumulator, radii, min_distance=5, min_radius_distance=None, threshold=None,
                       num_peaks=None):
    """Strongest circles of ``hough_circle`` output with non-maximum suppression.

    Candidates are local maxima of each radius plane over a (2d+1)^2 window
    (d = ``min_distance``) scoring above ``threshold`` (default half the global
    maximum). Visited strongest first, a candidate is dropped when a kept
    circle has its centre within ``min_distance`` px (Chebyshev) and radius
    within ``min_radius_distance`` px (default ``min_distance``), so concentric
    circles of clearly different radii are all found.

    Returns
    -------
    Circles(score, x, y, radius), strongest first
    """
    func = "hough_circle_peaks"
    accumulator = as_float_image(accumulator, "accumulator", func, ndim=3, scale_integers=False)
    radii = np.atleast_1d(np.asarray(radii, dtype=np.float64))
    if radii.shape != accumulator.shape[:1]:
        raise ValueError(f"{func}: radii must have one entry per accumulator plane "
                         f"({accumulator.shape[0]}), got shape {radii.shape}")
    md = check_positive(min_distance, "min_distance", func, integer=True)
    mrd = md if min_radius_distance is None else check_positive(min_radius_distance, "min_radius_distance",
                                                                func, allow_zero=True)
    threshold = 0.5 * accumulator.max() if threshold is None else check_number(threshold, "threshold", func)
    max_count = accumulator.size if num_peaks is None else check_positive(num_peaks, "num_peaks", func,
                                                                           integer=True)
    is_peak = np.empty(accumulator.shape, dtype=bool)
    local_max = np.empty(accumulator.shape[1:])
    for k, plane in enumerate(accumulator):
        _kh.max_filter(plane, md, local_max)
        np.logical_and(plane == local_max, plane > threshold, out=is_peak[k])
    ks, ys, xs = np.nonzero(is_peak)
    score = accumulator[ks, ys, xs]
    order = np.argsort(-score, kind="stable")
    ks, ys, xs, score = ks[order], ys[order], xs[order], score[order]
    keep = _k.suppress_circles(ks, ys, xs, radii, md, mrd, max_count)
    return Circles(score[keep], xs[keep].astype(np.float64), ys[keep].astype(np.float64), radii[ks[keep]])
