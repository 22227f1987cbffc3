"""Hough lines, segments and circles: kernels equal their twins, the line
accumulator equals skimage's, and known shapes are recovered."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classic_cv import hough
from classic_cv._kernels import hough as kern
from classic_cv.naive import hough as naive


def _angle_diff(a, b):
    """Difference of two line normal angles modulo pi, in degrees."""
    d = np.rad2deg(abs(a - b)) % 180
    return min(d, 180 - d)


def _same_line(t1, r1, t2, r2, deg=1.0, px=2.0):
    """Lines equal within tolerances, also across the (rho, theta) ~ (-rho, theta + pi) wrap."""
    direct = abs(t1 - t2) < np.pi / 2
    return _angle_diff(t1, t2) <= deg and abs(r1 - (r2 if direct else -r2)) <= px


def _draw_line(img, theta, rho):
    """Rasterise x cos t + y sin t = rho: one pixel per step along the major axis."""
    h, w = img.shape
    c, s = np.cos(theta), np.sin(theta)
    if abs(s) >= abs(c):
        x = np.arange(w)
        y = np.round((rho - x * c) / s).astype(int)
    else:
        y = np.arange(h)
        x = np.round((rho - y * s) / c).astype(int)
    ok = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    img[y[ok], x[ok]] = True


@settings(max_examples=15)
@given(seed=st.integers(0, 2**16), n_theta=st.integers(1, 40))
def test_kernels_equal_naive_twins(seed, n_theta):
    rng = np.random.default_rng(seed)
    mask = rng.random((25, 31)) < 0.1
    ys, xs = (a.astype(np.int64) for a in np.nonzero(mask))
    theta = rng.uniform(-np.pi / 2, np.pi / 2, n_theta)
    offset = int(np.ceil(np.hypot(25, 31)))
    accum = np.zeros((n_theta, 2 * offset + 1), dtype=np.uint64)
    kern.line_votes(ys, xs, np.cos(theta), np.sin(theta), offset, accum)
    np.testing.assert_array_equal(accum.T, naive.line_votes(ys, xs, np.cos(theta), np.sin(theta), offset,
                                                          2 * offset + 1))
    rho, th = rng.uniform(-20, 20, 30), rng.uniform(-np.pi / 2, np.pi / 2, 30)
    np.testing.assert_array_equal(kern.suppress_lines(rho, th, 3.0, 0.2, 10),
                                  naive.suppress_lines(rho, th, 3.0, 0.2, 10))
    radii = np.array([2.0, 3.5, 7.0])
    offsets = [hough.circle_offsets(r) for r in radii]
    starts = np.cumsum([0] + [len(o) for o in offsets]).astype(np.int64)
    flat = np.concatenate(offsets)
    circ = np.empty((3, 25, 31))
    kern.circle_votes(ys, xs, flat[:, 0].copy(), flat[:, 1].copy(), starts, np.ones(3), circ)
    np.testing.assert_array_equal(circ, naive.circle_votes(ys, xs, offsets, (25, 31)))
    theta = np.linspace(-np.pi / 2, np.pi / 2, 60, endpoint=False)
    order = rng.permutation(len(ys))
    args = (ys[order], xs[order], np.cos(theta), np.sin(theta), offset, 2 * offset + 1, 2, 4.0, 1)
    np.testing.assert_array_equal(kern.probabilistic_lines(mask.copy(), *args),
                                  naive.probabilistic_lines(mask, *args))


@pytest.mark.parametrize("theta", [None, np.linspace(-np.pi / 2, np.pi / 2, 361, endpoint=False),
                                   np.array([0.1, 0.7, -1.2])])
def test_accumulator_equals_skimage(skimage, theta):
    edges = skimage.feature.canny(skimage.data.camera() / 255.0, 2.0)
    ours, t, r = hough.hough_line(edges, theta)
    ref, t_ref, r_ref = skimage.transform.hough_line(edges, theta)
    np.testing.assert_array_equal(ours, ref)
    np.testing.assert_array_equal(t, t_ref)
    np.testing.assert_array_equal(r, r_ref)


def test_known_lines_recovered():
    rng = np.random.default_rng(1)
    truth = [(np.deg2rad(-60.0), 40.0), (np.deg2rad(10.0), 120.0), (np.deg2rad(75.0), 150.0),
             (np.deg2rad(-20.0), -30.0), (np.deg2rad(45.0), 200.0)]
    img = np.zeros((240, 320), bool)
    for t, r in truth:
        _draw_line(img, t, r)
    img |= rng.random(img.shape) < 0.002  # a little clutter
    theta = np.deg2rad(np.arange(-90, 90, 0.5))
    acc, theta, rho = hough.hough_line(img, theta)
    lines = hough.hough_line_peaks(acc, theta, rho, threshold=60, num_peaks=10)
    assert len(lines) == len(truth)
    for t, r in truth:
        assert any(_same_line(t, r, t2, r2) for t2, r2 in zip(lines.theta, lines.rho)), (np.rad2deg(t), r)
    assert np.all(np.diff(lines.votes) <= 0)


def test_peaks_suppress_neighbours_across_wrap():
    acc = np.zeros((21, 180))
    acc[15, 0] = 10  # rho = 5, theta = -90 deg ...
    acc[5, 179] = 9  # ... and rho = -5, theta = 89 deg: the same line, 1 deg apart
    acc[10, 90] = 8
    theta = np.deg2rad(np.arange(-90, 90))
    lines = hough.hough_line_peaks(acc, theta, np.arange(-10, 11.0), threshold=1)
    np.testing.assert_array_equal(lines.votes, [10, 8])


def test_probabilistic_segments_recovered():
    from skimage.draw import line

    truth = [((20, 30), (200, 60)), ((40, 180), (280, 180)), ((270, 20), (120, 140))]
    img = np.zeros((220, 300), bool)
    for (x0, y0), (x1, y1) in truth:
        rr, cc = line(y0, x0, y1, x1)
        img[rr, cc] = True
    segs = hough.probabilistic_hough_line(img, threshold=20, line_length=40, line_gap=3,
                                          theta=np.deg2rad(np.arange(-90, 90, 0.25)), rng=0)
    assert segs.shape[1:] == (2, 2)
    for (x0, y0), (x1, y1) in truth:
        length = np.hypot(x1 - x0, y1 - y0)
        # The longest found segment lying on this line covers it end to end within 2 px.
        best = max(
            (s for s in segs
             if all(abs((x1 - x0) * (y0 - py) - (x0 - px) * (y1 - y0)) / length <= 2 for px, py in s)),
            key=lambda s: np.hypot(*(s[1] - s[0])), default=None)
        assert best is not None
        ends = sorted(map(tuple, best))
        want = sorted([(x0, y0), (x1, y1)])
        assert np.abs(np.array(ends) - np.array(want)).max() <= 2


def test_known_circles_recovered():
    from skimage.draw import circle_perimeter

    truth = [(60, 50, 20), (150, 120, 35), (70, 200, 12), (150, 120, 15)]  # (y, x, r), one concentric
    img = np.zeros((220, 260), bool)
    for y, x, r in truth:
        rr, cc = circle_perimeter(y, x, r)
        img[rr, cc] = True
    img |= np.random.default_rng(0).random(img.shape) < 0.003
    radii = np.arange(10, 40)
    circles = hough.hough_circle_peaks(hough.hough_circle(img, radii), radii, threshold=0.6)
    assert len(circles) == len(truth)
    for y, x, r in truth:
        d = np.maximum(np.maximum(abs(circles.y - y), abs(circles.x - x)), abs(circles.radius - r))
        assert d.min() <= 2, (y, x, r)


def test_errors():
    with pytest.raises(ValueError, match="hough_line: image must be 2-D"):
        hough.hough_line(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="hough_line_peaks: accumulator must have shape"):
        hough.hough_line_peaks(np.zeros((5, 4)), np.zeros(3), np.zeros(5))
    with pytest.raises(ValueError, match="hough_circle: radii must be > 0"):
        hough.hough_circle(np.zeros((4, 4)), [0, 1])
    with pytest.raises(ValueError, match="probabilistic_hough_line: line_length must be > 0"):
        hough.probabilistic_hough_line(np.zeros((4, 4)), line_length=0)
    with pytest.raises(ValueError, match="hough_circle_peaks: radii must have one entry per accumulator plane"):
        hough.hough_circle_peaks(np.zeros((2, 4, 4)), [1, 2, 3])
