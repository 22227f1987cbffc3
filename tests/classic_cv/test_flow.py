"""Optical flow: kernels equal their twins; accuracy on real images warped by known
smooth flows, held against scikit-image and OpenCV; pictures, warps, interpolation, CLI."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classic_cv import flow, io
from classic_cv._kernels import flow as kern
from classic_cv.__main__ import main
from classic_cv.naive import flow as naive
from tests.conftest import assert_close

IMAGES = ["camera", "astronaut", "coffee", "chelsea"]
CROP = 192  # side of the centre crop the accuracy tests use (time)
MARGIN = 16  # EPE is measured this far inside the border, where every method sees the motion


# ------------------------------------------------------------------ ground truth
def _gray(skimage, name):
    img = getattr(skimage.data, name)()
    img = skimage.color.rgb2gray(img) if img.ndim == 3 else img / 255.0
    h, w = img.shape
    top, left = (h - CROP) // 2, (w - CROP) // 2
    return np.ascontiguousarray(img[top:top + CROP, left:left + CROP])


def _smooth_flow(shape, peak, seed):
    """Global affine motion plus a sinusoid, scaled so the longest vector is ``peak`` px."""
    rng = np.random.default_rng(seed)
    h, w = shape
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    a = rng.uniform(-1, 1, 6)
    u = a[0] + a[1] * (x - 0.5) + a[2] * (y - 0.5) + np.sin(2 * np.pi * (rng.uniform(0.5, 1.5) * x + rng.uniform()))
    v = a[3] + a[4] * (x - 0.5) + a[5] * (y - 0.5) + np.cos(2 * np.pi * (rng.uniform(0.5, 1.5) * y + rng.uniform()))
    field = np.stack([u, v], axis=-1)
    return field * peak / np.hypot(u, v).max()


def _frames(skimage, name, peak, seed=0):
    """(image0, image1, true flow): image1 is the real image, image0 = image1 sampled at
    x + flow(x) with cubic splines, so ``flow`` is exactly the motion from image0 to image1."""
    from scipy import ndimage

    image1 = _gray(skimage, name)
    truth = _smooth_flow(image1.shape, peak, seed)
    y, x = np.mgrid[0:CROP, 0:CROP].astype(np.float64)
    image0 = ndimage.map_coordinates(image1, [y + truth[..., 1], x + truth[..., 0]], order=3, mode="nearest")
    return image0, image1, truth


def _epe(estimate, truth):
    """Average endpoint error in the interior."""
    inner = (slice(MARGIN, -MARGIN), slice(MARGIN, -MARGIN))
    return np.hypot(*np.moveaxis(estimate[inner] - truth[inner], -1, 0)).mean()


def _from_skimage(field):
    """skimage's (2, H, W) (v, u) -> our (H, W, 2) (u, v)."""
    return np.moveaxis(field[::-1], 0, -1)


def _uint8(image):
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


# ------------------------------------------------------------------ kernels == twins
def _random_frames(h, w, seed):
    rng = np.random.default_rng(seed)
    image0 = rng.random((h, w))
    image1 = np.roll(image0, 1, axis=1) + 0.05 * rng.random((h, w))
    return image0, image1, rng.uniform(-3, 3, (h, w, 2))


@settings(max_examples=15)
@given(h=st.integers(1, 12), w=st.integers(1, 12), c=st.integers(1, 3), nearest=st.booleans(),
       seed=st.integers(0, 2**16))
def test_warp_kernel_equals_naive_twin(h, w, c, nearest, seed):
    rng = np.random.default_rng(seed)
    image, field = rng.random((h, w, c)), rng.uniform(-3, 3, (h, w, 2))
    out = np.empty_like(image)
    kern.warp_by_flow(image, field, 0.25, nearest, out)
    assert_close(out, naive.warp_by_flow(image, field, 0.25, nearest), 1e-12, "warp")


@settings(max_examples=15)
@given(h=st.integers(1, 12), w=st.integers(1, 12), radius=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_dense_kernels_equal_naive_twins(h, w, radius, seed):
    image0, image1, field = _random_frames(h, w, seed)
    gx, gy, residual = (np.empty((h, w)) for _ in range(3))
    kern.linearize(image0, image1, field, gx, gy, residual)
    for ours, ref, what in zip((gx, gy, residual), naive.linearize(image0, image1, field), ("gx", "gy", "res")):
        assert_close(ours, ref, 1e-12, what)
    # A threshold inside the range of eigenvalues, so both branches run.
    threshold = 0.01
    out, valid = field.copy(), np.empty((h, w), dtype=bool)
    kern.lucas_kanade_solve(gx, gy, residual, radius, threshold, out, valid)
    ref_flow, ref_valid = naive.lucas_kanade_solve(gx, gy, residual, radius, threshold, field)
    np.testing.assert_array_equal(valid, ref_valid)
    assert_close(out, ref_flow, 1e-8 * max(1.0, np.abs(ref_flow).max()), "lk flow")
    swept = field.copy()
    kern.horn_schunck_sweeps(gx, gy, residual, 0.01, 3, swept)
    assert_close(swept, naive.horn_schunck_sweeps(gx, gy, residual, 0.01, 3, field), 1e-10, "hs")
    # Quantised values: ties, which the compare-and-swap median must handle.
    coarse = np.round(field)
    median = np.empty_like(coarse)
    kern.median_filter_flow(coarse, median)
    assert_close(median, naive.median_filter_flow(coarse), 0, "median")


@settings(max_examples=15)
@given(n=st.integers(1, 6), radius=st.integers(1, 4), scale=st.sampled_from([1.0, 0.5]),
       finest=st.booleans(), seed=st.integers(0, 2**16))
def test_track_kernel_equals_naive_twin(n, radius, scale, finest, seed):
    rng = np.random.default_rng(seed)
    image0 = rng.random((24, 30))
    image1 = np.roll(image0, (1, -1), axis=(0, 1)) + 0.02 * rng.random((24, 30))
    points = rng.uniform(0, [58, 46], (n, 2))  # some windows overlap the border
    start = rng.uniform(-1, 1, (n, 2))
    lost = rng.random(n) < 0.2
    displacement, ours_lost, error = start.copy(), lost.copy(), np.full(n, np.nan)
    # epsilon 0 runs every iteration on both sides; min_eigenvalue rejects some windows.
    kern.track_level(image0, image1, points, scale, radius, 3, 0.0, 0.004, finest, displacement, ours_lost, error)
    ref_d, ref_lost, ref_error = naive.track_level(image0, image1, points, scale, radius, 3, 0.0, 0.004, finest,
                                                   start, lost)
    np.testing.assert_array_equal(ours_lost, ref_lost)
    assert_close(displacement, ref_d, 1e-8, "displacement")
    np.testing.assert_allclose(error, ref_error, atol=1e-10)


# ------------------------------------------------------------------ accuracy
@pytest.mark.parametrize("name", IMAGES)
def test_dense_lucas_kanade_beats_skimage_ilk(skimage, name):
    """At an equal window (15 = 2 * 7 + 1) and warps per level, EPE <= optical_flow_ilk's."""
    from skimage.registration import optical_flow_ilk

    for peak, seed in ((1.0, 0), (4.0, 1), (8.0, 2)):
        image0, image1, truth = _frames(skimage, name, peak, seed)
        ours = _epe(flow.lucas_kanade(image0, image1, window=15, iterations=10), truth)
        ref = _epe(_from_skimage(optical_flow_ilk(image0, image1, radius=7, num_warp=10)), truth)
        assert ours <= ref, f"{name} peak {peak}: EPE {ours:.3f} > ilk {ref:.3f}"
        assert ours < 0.1 * peak + 0.1, f"{name} peak {peak}: EPE {ours:.3f}"


def test_lucas_kanade_rejects_flat_windows(skimage):
    image0, image1, _ = _frames(skimage, "camera", 1.0)
    image0[:40, :40] = image1[:40, :40] = 0.5  # no texture: A = 0 there
    field, valid = flow.lucas_kanade(image0, image1, window=7, levels=1, return_valid=True)
    assert not valid[:30, :30].any()
    assert valid[60:-60, 60:-60].mean() > 0.95
    np.testing.assert_array_equal(field[:30, :30], 0.0)


def _shi_tomasi_points(image):
    from classic_cv.harris import corner_peaks, corner_shi_tomasi

    return corner_peaks(corner_shi_tomasi(image, sigma=1.5), min_distance=5, threshold_rel=0.02,
                        num_peaks=150).astype(np.float64)


@pytest.mark.parametrize("name", IMAGES)
def test_tracking_matches_or_beats_opencv(skimage, cv2, name):
    """Same Shi-Tomasi points and parameters: our EPE <= cv2's (on the points both
    track) and our tracked fraction >= cv2's. cv2 needs 8-bit frames, ours get
    the same frames scaled to [0, 1]."""
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 30, 0.01)
    for peak, seed in ((2.0, 3), (8.0, 4)):
        image0, image1, truth = _frames(skimage, name, peak, seed)
        frame0, frame1 = _uint8(image0), _uint8(image1)
        points = _shi_tomasi_points(image0)
        assert len(points) >= 30
        expected = points + truth[points[:, 1].astype(int), points[:, 0].astype(int)]
        ours, status, error = flow.track_points(frame0, frame1, points, win_size=21, levels=4, iterations=30,
                                                epsilon=0.01)
        ref, ref_status, _ = cv2.calcOpticalFlowPyrLK(frame0, frame1, points.astype(np.float32), None,
                                                      winSize=(21, 21), maxLevel=3, criteria=criteria)
        ref_status = ref_status.ravel().astype(bool)
        both = status & ref_status
        ours_epe = np.hypot(*(ours - expected)[both].T).mean()
        ref_epe = np.hypot(*(ref - expected)[both].T).mean()
        assert status.mean() >= ref_status.mean()
        assert ours_epe <= ref_epe * 1.02, f"{name} peak {peak}: EPE {ours_epe:.3f} > cv2 {ref_epe:.3f}"
        assert np.isfinite(error[status]).all() and (error[status] < 0.1).all()


def test_tracking_loses_untextured_points_and_follows_a_translation(skimage):
    image = _gray(skimage, "astronaut")
    image[:60, :60] = 0.5  # a flat corner: no window there can be tracked
    shifted = np.roll(image, (3, 7), axis=(0, 1))  # content moves 7 right, 3 down
    points = np.array([[100.0, 100.0], [20.0, 20.0], [150.5, 120.25]])
    new, status, error = flow.track_points(image, shifted, points, win_size=15, levels=3)
    np.testing.assert_array_equal(status, [True, False, True])
    assert_close(new[[0, 2]], points[[0, 2]] + [7.0, 3.0], 0.02, "tracked points")
    assert np.isnan(new[1]).all() and np.isnan(error[1]) and (error[[0, 2]] < 1e-3).all()


def test_horn_schunck_recovers_smooth_flow(skimage, cv2):
    """No target against the references: HS must explain most of the motion. The
    Farneback and TV-L1 numbers are printed beside it for the report (pytest -s)."""
    from skimage.registration import optical_flow_tvl1

    for name in ("astronaut", "coffee"):
        image0, image1, truth = _frames(skimage, name, 4.0, 5)
        ours = _epe(flow.horn_schunck(image0, image1, alpha=0.1), truth)
        zero = _epe(np.zeros_like(truth), truth)
        farneback = _epe(cv2.calcOpticalFlowFarneback(_uint8(image0), _uint8(image1), None, 0.5, 4, 15, 3, 5,
                                                      1.1, 0), truth)
        tvl1 = _epe(_from_skimage(optical_flow_tvl1(image0, image1)), truth)
        print(f"{name}: EPE horn_schunck {ours:.3f}, Farneback {farneback:.3f}, TV-L1 {tvl1:.3f}, zero {zero:.3f}")
        assert ours < 0.15 * zero


# ------------------------------------------------------------------ pictures and warps
def test_flow_to_rgb_colour_wheel(skimage):
    from skimage.color import rgb2hsv

    angles = np.linspace(-np.pi, np.pi, 24, endpoint=False)
    field = np.zeros((3, 24, 2))
    for row, length in enumerate((0.0, 0.5, 1.0)):
        field[row, :, 0], field[row, :, 1] = length * np.cos(angles), length * np.sin(angles)
    rgb = flow.flow_to_rgb(field, max_flow=1.0)
    assert rgb.shape == (3, 24, 3) and rgb.min() >= 0 and rgb.max() <= 1
    np.testing.assert_array_equal(rgb[0], 1.0)  # zero flow is white
    hsv = rgb2hsv(rgb[1:])
    # Saturation grows with length; the hue depends on the direction only.
    assert (hsv[0, :, 1] < hsv[1, :, 1]).all() and np.allclose(hsv[1, :, 1], 1.0)
    np.testing.assert_allclose(hsv[0, :, 0], hsv[1, :, 0], atol=1e-9)
    # Going round the circle goes once round the hue circle, monotonically.
    turn = np.unwrap(np.append(hsv[1, :, 0], hsv[1, 0, 0]) * 2 * np.pi)
    steps = np.diff(turn)
    assert (np.sign(steps) == np.sign(steps[0])).all()
    assert abs(turn[-1] - turn[0]) == pytest.approx(2 * np.pi)
    np.testing.assert_allclose(rgb[2, 12], [1.0, 0.0, 0.0])  # motion to the right: red
    # Default scale: the longest vector is saturated; beyond max_flow, darker.
    assert np.allclose(flow.flow_to_rgb(3 * field)[2], rgb[2])
    assert (flow.flow_to_rgb(field, max_flow=0.5)[2] <= 0.75).all()


def test_warp_by_flow_of_a_known_translation(skimage):
    image = skimage.data.astronaut()[100:200, 150:260] / 255.0
    h, w = image.shape[:2]
    field = np.broadcast_to(np.array([3.0, -2.0]), (h, w, 2))
    out = flow.warp_by_flow(image, field)
    # out(x, y) = image(x + 3, y - 2): a whole-pixel shift, exact away from the edges.
    np.testing.assert_allclose(out[2:, :-3], image[:-2, 3:], atol=1e-12)
    assert out.shape == image.shape and out.dtype == np.float64
    half = flow.warp_by_flow(image[..., 0], np.broadcast_to(np.array([0.5, 0.0]), (h, w, 2)))
    np.testing.assert_allclose(half[:, :-1], (image[:, :-1, 0] + image[:, 1:, 0]) / 2, atol=1e-12)
    outside = flow.warp_by_flow(image, field, mode="constant", cval=0.3)
    np.testing.assert_array_equal(outside[:2], 0.3)
    np.testing.assert_array_equal(outside[:, -3:], 0.3)
    # Warping frame 1 back by the true flow gives frame 0.
    image0, image1, truth = _frames(skimage, "coffee", 3.0)
    back = flow.warp_by_flow(image1, truth)
    assert np.abs(back - image0)[MARGIN:-MARGIN, MARGIN:-MARGIN].mean() < 0.01


def test_interpolate_frame_of_a_translated_image(skimage):
    image = skimage.data.chelsea() / 255.0
    frame0, frame1 = image[20:140, 30:190], image[22:142, 34:194]
    field = np.broadcast_to(np.array([-4.0, -2.0]), (120, 160, 2))  # content moves 4 left, 2 up
    middle = flow.interpolate_frame(frame0, frame1, field)
    np.testing.assert_allclose(middle[4:-4, 4:-4], image[21:141, 32:192][4:-4, 4:-4], atol=1e-12)
    np.testing.assert_allclose(flow.interpolate_frame(frame0, frame1, field, t=0.0), frame0, atol=1e-12)
    # With an estimated flow, the midpoint is closer to the truth than either frame.
    gray = image.mean(axis=2)
    a, b, truth_mid = gray[20:140, 30:190], gray[24:144, 38:198], gray[22:142, 34:194]
    estimate = flow.lucas_kanade(a, b, window=15)
    middle = flow.interpolate_frame(a, b, estimate)
    inner = (slice(MARGIN, -MARGIN), slice(MARGIN, -MARGIN))
    assert np.abs(middle - truth_mid)[inner].mean() < 0.25 * np.abs(a - truth_mid)[inner].mean()


# ------------------------------------------------------------------ bad input
def test_bad_input():
    rng = np.random.default_rng(0)
    a, b = rng.random((32, 40)), rng.random((32, 40))
    field = np.zeros((32, 40, 2))
    for fn in (flow.lucas_kanade, flow.horn_schunck):
        with pytest.raises(ValueError, match="image1 must have the shape of image0"):
            fn(a, b[:, :-1])
        with pytest.raises(ValueError, match="image0 must be finite"):
            fn(np.where(a > 0.5, np.nan, a), b)
        with pytest.raises(ValueError, match="image0 must not be empty"):
            fn(np.zeros((0, 4)), np.zeros((0, 4)))
        with pytest.raises(TypeError, match="image1 must be a numpy array"):
            fn(a, b.tolist())
    for window in (4, 1):
        with pytest.raises(ValueError, match="lucas_kanade: window must be"):
            flow.lucas_kanade(a, b, window=window)
    with pytest.raises(TypeError, match="window must be an integer"):
        flow.lucas_kanade(a, b, window=7.0)
    with pytest.raises(ValueError, match="min_eigenvalue must be >= 0"):
        flow.lucas_kanade(a, b, min_eigenvalue=-1)
    for alpha in (0, -0.1, np.nan):
        with pytest.raises(ValueError, match="horn_schunck: alpha must be > 0"):
            flow.horn_schunck(a, b, alpha=alpha)
    with pytest.raises(ValueError, match="iterations must be an integer >= 1"):
        flow.horn_schunck(a, b, iterations=0)
    with pytest.raises(ValueError, match="points must lie inside the image"):
        flow.track_points(a, b, [[5.0, 5.0], [40.0, 3.0]])
    with pytest.raises(ValueError, match="points must lie inside the image"):
        flow.track_points(a, b, [[-0.5, 5.0]])
    with pytest.raises(ValueError, match=r"points must have shape \(N, 2\)"):
        flow.track_points(a, b, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="points must not be empty"):
        flow.track_points(a, b, np.zeros((0, 2)))
    with pytest.raises(ValueError, match="points must be finite"):
        flow.track_points(a, b, [[np.nan, 3.0]])
    with pytest.raises(ValueError, match="win_size must be odd"):
        flow.track_points(a, b, [[5.0, 5.0]], win_size=8)
    with pytest.raises(ValueError, match="levels must be an integer >= 1"):
        flow.track_points(a, b, [[5.0, 5.0]], levels=0)
    with pytest.raises(ValueError, match=r"flow must have shape \(32, 40, 2\)"):
        flow.warp_by_flow(a, field[:, :-1])
    with pytest.raises(ValueError, match="flow must be finite"):
        flow.warp_by_flow(a, np.full((32, 40, 2), np.inf))
    with pytest.raises(ValueError, match="mode must be one of"):
        flow.warp_by_flow(a, field, mode="wrap")
    with pytest.raises(ValueError, match="flow_to_rgb: flow must have shape"):
        flow.flow_to_rgb(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="max_flow must be > 0"):
        flow.flow_to_rgb(field, max_flow=0)
    with pytest.raises(ValueError, match="t must be in"):
        flow.interpolate_frame(a, b, field, t=1.5)
    with pytest.raises(ValueError, match="interpolate_frame: image1 must have the shape"):
        flow.interpolate_frame(a, b[:-1], field)


# ------------------------------------------------------------------ CLI
@pytest.fixture
def frame_pngs(skimage, tmp_path):
    image0, image1, _ = _frames(skimage, "astronaut", 3.0)
    paths = tmp_path / "f0.png", tmp_path / "f1.png"
    for path, image in zip(paths, (image0, image1)):
        io.write_image(path, image)
    return paths


@pytest.mark.parametrize("args", [[], ["--method", "hs", "--alpha", "0.2"], ["--window", "9", "--max-flow", "5"]])
def test_cli_flow_writes_the_colour_wheel_picture(frame_pngs, tmp_path, capsys, args):
    out = tmp_path / "flow.png"
    assert main(["flow", str(frame_pngs[0]), str(frame_pngs[1]), str(out)] + args) == 0
    picture = io.read_image(out)
    assert picture.shape == (CROP, CROP, 3) and picture.std() > 0.01
    assert "mean flow length" in capsys.readouterr().out


def test_cli_flow_bad_options(frame_pngs, tmp_path, capsys):
    out = str(tmp_path / "flow.png")
    assert main(["flow", str(frame_pngs[0]), str(frame_pngs[1]), out, "--window", "8"]) == 2
    message = capsys.readouterr().err.strip()
    assert message.endswith("argument --window: must be odd, got 8") and "\n" not in message
    small = tmp_path / "small.png"
    io.write_image(small, np.zeros((20, 20)))
    assert main(["flow", str(frame_pngs[0]), str(small), out]) == 2
    assert "input2" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["flow", str(frame_pngs[0]), str(frame_pngs[1]), out, "--method", "farneback"])
    assert exit_info.value.code == 2
