"""SIFT: kernels equal their NumPy twins; matching quality under known warps held
against OpenCV's SIFT on camera and astronaut; descriptor matching."""
import functools

import numpy as np
import pytest

from classic_cv._kernels import sift as k
from classic_cv.matching import match_descriptors
from classic_cv.naive import sift as naive
from classic_cv.ransac import apply_homography
from classic_cv.sift import sift


def _rotation_scale(angle_deg, scale, centre):
    a = np.deg2rad(angle_deg)
    R = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    M = np.eye(3)
    M[:2, :2] = R
    M[:2, 2] = centre - R @ centre
    return M


WARPS = {
    "rot30_scale0.7": _rotation_scale(30, 0.7, np.array([256.0, 256.0])),
    "perspective": np.array([[1.0, 0.15, -20.0], [0.05, 0.9, 30.0], [3e-4, 2e-4, 1.0]]),
}


@functools.lru_cache(maxsize=None)
def _gray(name):
    from skimage import color, data

    image = getattr(data, name)()
    if image.ndim == 3:
        image = (color.rgb2gray(image) * 255).round().astype(np.uint8)
    return image


@functools.lru_cache(maxsize=None)
def _ours(name, warp):
    import cv2

    image = _gray(name)
    if warp is not None:
        image = cv2.warpPerspective(image, WARPS[warp], image.shape[::-1])
    return sift(image)


def _pts(cv_keypoints):
    return np.array([p.pt for p in cv_keypoints]).reshape(-1, 2)


def _correct(xy1, xy2, H):
    return np.linalg.norm(apply_homography(H, xy1) - xy2, axis=1) < 3.0


def _nearest_with_ratio(desc1, desc2):
    """For each row of desc1: its nearest row of desc2 and Lowe's ratio d1 / d2."""
    a, b = desc1.astype(np.float64), desc2.astype(np.float64)
    d2 = (a * a).sum(1)[:, None] - 2 * a @ b.T + (b * b).sum(1)[None]
    two = np.sort(np.maximum(d2, 0), axis=1)[:, :2]
    return d2.argmin(axis=1), np.sqrt(two[:, 0] / two[:, 1])


@pytest.mark.parametrize("warp", list(WARPS))
@pytest.mark.parametrize("name", ["camera", "astronaut"])
def test_matching_quality_vs_opencv(cv2, name, warp):
    H = WARPS[warp]
    image = _gray(name)
    warped = cv2.warpPerspective(image, H, image.shape[::-1])

    detector = cv2.SIFT_create()
    c1, e1 = detector.detectAndCompute(image, None)
    c2, e2 = detector.detectAndCompute(warped, None)
    (kp1, d1), (kp2, d2) = _ours(name, None), _ours(name, warp)
    # Both sides go through the same matcher and ratio, so only the features differ.
    sides = {"ours": (kp1.xy, kp2.xy, d1, d2), "opencv": (_pts(c1), _pts(c2), e1, e2)}
    ok, ranked_ok = {}, {}
    for side, (xy1, xy2, desc1, desc2) in sides.items():
        m, _ = match_descriptors(desc1, desc2, ratio=0.8)
        ok[side] = _correct(xy1[m[:, 0]], xy2[m[:, 1]], H)
        nearest, ratio = _nearest_with_ratio(desc1, desc2)
        order = np.argsort(ratio, kind="stable")  # most distinctive matches first
        ranked_ok[side] = _correct(xy1[order], xy2[nearest[order]], H)
        assert np.array_equal(np.sort(order[:len(m)]), m[:, 0]), "ranking disagrees with the matcher"
    ours_ok, cv_ok = ok["ours"], ok["opencv"]
    assert ours_ok.sum() >= 0.7 * cv_ok.sum(), (ours_ok.sum(), cv_ok.sum())

    # Descriptor quality compared at one operating point: OpenCV's ratio-test
    # match count. Taking that many of our matches, most distinctive first, ours
    # must be at least as precise (measured: 1.5-3.1 points above on all four pairs).
    n = len(cv_ok)
    assert ranked_ok["ours"][:n].mean() >= cv_ok.mean(), (ranked_ok["ours"][:n].mean(), cv_ok.mean())

    # At the fixed ratio 0.8 our more distinctive descriptors pass more matches
    # (2-4 % more, e.g. 603 vs 579 on astronaut + perspective), and the extra ones
    # are the least distinctive: precision there is above OpenCV's on three pairs
    # and 0.9 points below on astronaut + perspective (579/603 vs 561/579), under
    # one standard error of a difference of two proportions at n ~ 600 (1.1 points).
    # Tried and rejected to close it (each loses elsewhere): rounding keypoints to the
    # octave grid for orientation and descriptor as OpenCV does (reproduces OpenCV's
    # counts, loses 10-16 correct matches per pair and precision on camera +
    # rotation), byte descriptors, cross-check or one-to-one matching on both sides.
    assert ours_ok.mean() >= cv_ok.mean() - 0.015, (ours_ok.mean(), cv_ok.mean())


def _repeated(xy1, scale1, xy2, scale2, H, shape, ori1=None, ori2=None, turn=0.0):
    """Repeatability: per keypoint of image 1 (every row, so a position with two
    orientations counts twice) whose position mapped by the similarity ``H``
    falls inside image 2 (of ``shape``), whether image 2 has a keypoint within
    1.5 px of it at a consistent scale: the sigma ratio within one SIFT scale step
    (a factor 2^(1/3)) of the known zoom. With orientations, that keypoint must also
    point the same way, within 15 degrees of the known ``turn`` (radians)."""
    mapped = apply_homography(H, xy1)
    inside = ((mapped >= 0) & (mapped <= np.array(shape[::-1]) - 1)).all(axis=1)
    zoom = np.sqrt(abs(np.linalg.det(H[:2, :2])))
    near = np.linalg.norm(mapped[inside, None] - xy2[None], axis=2) <= 1.5
    near &= np.abs(np.log2(scale2[None] / (zoom * scale1[inside, None]))) <= 1 / 3
    if ori1 is not None:
        off = np.angle(np.exp(1j * (ori2[None] - ori1[inside, None] - turn)))
        near &= np.abs(off) <= np.deg2rad(15)
    return near.any(axis=1)


def test_repeatability_vs_opencv(cv2):
    # Image 1 is camera rotated by 30 degrees and scaled by 0.7, image 2 the
    # original; both detectors run on the same two images.
    H = WARPS["rot30_scale0.7"]
    image = _gray("camera")
    warped = cv2.warpPerspective(image, H, image.shape[::-1])
    back = np.linalg.inv(H)
    turn = -np.deg2rad(30)  # orientations (y down) in the original = warped ones - 30 degrees
    (kp1, d1), (kp2, d2) = _ours("camera", "rot30_scale0.7"), _ours("camera", None)
    detector = cv2.SIFT_create()
    c1, e1 = detector.detectAndCompute(warped, None)
    c2, e2 = detector.detectAndCompute(image, None)

    def opencv(points):  # OpenCV's size is twice our sigma; its angle is in degrees, y down
        return _pts(points), np.array([p.size / 2 for p in points]), np.deg2rad([p.angle for p in points])

    sides = {"ours": ((kp1.xy, kp1.scale, kp1.orientation), (kp2.xy, kp2.scale, kp2.orientation), d1, d2),
             "opencv": (opencv(c1), opencv(c2), e1, e2)}
    position, oriented, correct, precision = {}, {}, {}, {}
    for side, ((xy1, s1, o1), (xy2, s2, o2), desc1, desc2) in sides.items():
        position[side] = _repeated(xy1, s1, xy2, s2, back, image.shape).mean()
        oriented[side] = _repeated(xy1, s1, xy2, s2, back, image.shape, o1, o2, turn).mean()
        m, _ = match_descriptors(desc2, desc1, ratio=0.8)  # as in test_matching_quality_vs_opencv
        ok = _correct(xy2[m[:, 0]], xy1[m[:, 1]], H)
        correct[side], precision[side] = ok.sum(), ok.mean()
    # Both find the same positions (415 vs 414, the same 245 repeated); the rest is
    # which positions get a second orientation. Measured 296/494 = 0.599 vs 290/486 =
    # 0.597 (0.595 before gradients were shared between orientation bins); at 2 px
    # and half an octave 0.611 vs 0.615: two keypoints, within noise.
    assert position["ours"] >= position["opencv"], position
    # A second orientation only counts where it is found again: ours are more
    # stable (measured 0.575 vs 0.547; OpenCV centres the orientation window on the
    # integer sample, we on the sub-pixel keypoint).
    assert oriented["ours"] >= oriented["opencv"] + 0.01, oriented
    assert correct["ours"] >= correct["opencv"] and precision["ours"] >= precision["opencv"], (correct, precision)


def test_keypoints_fields_and_descriptors():
    kp, desc = _ours("camera", None)
    n = len(kp)
    assert n > 300 and desc.shape == (n, 128) and desc.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(desc, axis=1), 1.0, atol=1e-5)
    assert (kp.xy >= 0).all() and (kp.xy[:, 0] < 512).all() and (kp.xy[:, 1] < 512).all()
    assert (kp.scale > 0.5).all() and set(np.unique(kp.octave)) <= set(range(-1, 8))
    assert ((kp.orientation >= 0) & (kp.orientation < 2 * np.pi)).all()
    assert (kp.response > 0).all()
    assert kp.scale.max() > 4 * kp.scale.min()  # several octaves contribute


def test_rotation_by_90_degrees_is_recovered():
    image = _gray("camera")[100:356, 100:356]
    kp1, d1 = sift(image)
    kp2, d2 = sift(np.ascontiguousarray(np.rot90(image)))
    m, _ = match_descriptors(d1, d2, ratio=0.8, cross_check=True)
    # np.rot90 maps (x, y) -> (y, W - 1 - x).
    expected = np.column_stack([kp1.xy[m[:, 0], 1], image.shape[1] - 1 - kp1.xy[m[:, 0], 0]])
    ok = np.linalg.norm(expected - kp2.xy[m[:, 1]], axis=1) < 1.0
    assert ok.sum() > 100 and ok.mean() > 0.95
    turn = (kp2.orientation[m[ok, 1]] - kp1.orientation[m[ok, 0]]) % (2 * np.pi)
    # Rotating the image by +90 deg (counter-clockwise) turns orientations (y down) by -90 deg.
    assert np.median(np.abs(turn - 1.5 * np.pi)) < 0.05


def _octave(seed=0):
    from classic_cv.filters import gaussian_blur

    rng = np.random.default_rng(seed)
    img = gaussian_blur(rng.random((48, 56)).astype(np.float32), 2.0)
    gauss = np.stack([gaussian_blur(img, s) for s in (0.0, 0.8, 1.2, 1.6, 2.2, 3.0)]).astype(np.float32)
    return gauss, np.ascontiguousarray(gauss[1:] - gauss[:-1])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_find_extrema_equals_twin(seed):
    _, dog = _octave(seed)
    fast = k.find_extrema(dog, 1e-4, 5)
    slow = naive.find_extrema(dog, 1e-4, 5)
    assert len(fast) > 5
    np.testing.assert_array_equal(fast[np.lexsort(fast.T[::-1])], slow[np.lexsort(slow.T[::-1])])


def test_orientation_and_descriptor_equal_twins():
    gauss, _ = _octave(3)
    mag, ang = k.gradient_polar(gauss[2])
    mag_ref, ang_ref = naive.gradient_polar(gauss[2])
    np.testing.assert_allclose(mag, mag_ref, atol=1e-6)
    np.testing.assert_allclose(ang, ang_ref, atol=2.5e-4)  # fast_atan2's accuracy
    rng = np.random.default_rng(0)
    for _ in range(10):
        r, c = rng.integers(2, 46), rng.integers(2, 54)
        dr, dc = rng.uniform(-0.5, 0.5, 2)
        scale, theta = rng.uniform(1.0, 4.0), rng.uniform(0, 2 * np.pi)
        np.testing.assert_allclose(
            k.orientation_histogram(mag, ang, r, c, dr, dc, scale, 36),
            naive.orientation_histogram(mag, ang, r, c, dr, dc, scale, 36),
            rtol=1e-9, atol=1e-12,
        )
        np.testing.assert_allclose(
            k.descriptor(mag, ang, r, c, dr, dc, scale, theta, 4, 8, 0.2),
            naive.descriptor(mag, ang, r, c, dr, dc, scale, theta, 4, 8, 0.2),
            atol=2e-6,
        )


def test_histogram_peaks():
    hist = np.zeros(36)
    hist[10], hist[9], hist[11] = 10.0, 5.0, 5.0  # symmetric peak: exactly bin 10
    hist[20], hist[19], hist[21] = 8.5, 2.0, 6.0  # secondary peak >= 80 %, skewed right
    hist[30] = 7.0  # below 80 %: ignored
    peaks = k.histogram_peaks(hist, 0.8)
    assert len(peaks) == 2
    assert peaks[0] == pytest.approx(10 * 2 * np.pi / 36)
    offset = 0.5 * (2.0 - 6.0) / (2.0 - 17.0 + 6.0)
    assert peaks[1] == pytest.approx((20 + offset) * 2 * np.pi / 36)


def test_match_descriptors_against_brute_force(rng):
    d1 = rng.random((40, 16))
    d2 = rng.random((50, 16))
    m, dist = match_descriptors(d1, d2, ratio=0.9)
    for (i, j), dd in zip(m, dist):
        row = np.linalg.norm(d2 - d1[i], axis=1)
        first, second = np.sort(row)[:2]
        assert np.argmin(row) == j and dd == pytest.approx(first) and first < 0.9 * second
    kept = set(m[:, 0])
    for i in set(range(40)) - kept:
        first, second = np.sort(np.linalg.norm(d2 - d1[i], axis=1))[:2]
        assert first >= 0.9 * second - 1e-12
    mc, _ = match_descriptors(d1, d2, ratio=1.0, cross_check=True)
    back, _ = match_descriptors(d2, d1, ratio=1.0, cross_check=True)
    assert {tuple(p) for p in mc} == {(j, i) for i, j in back}


def test_bad_input():
    with pytest.raises(ValueError, match="sift: image must be 2-D or 3-D"):
        sift(np.zeros(10))
    with pytest.raises(ValueError, match="at least 8x8"):
        sift(np.zeros((4, 40)))
    nan = np.zeros((20, 20))
    nan[3, 3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        sift(nan)
    with pytest.raises(ValueError, match="edge_ratio"):
        sift(np.zeros((20, 20)), edge_ratio=1.0)
    with pytest.raises(ValueError, match="n_scales"):
        sift(np.zeros((20, 20)), n_scales=0)
    with pytest.raises(ValueError, match="same length"):
        match_descriptors(np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="ratio"):
        match_descriptors(np.zeros((3, 4)), np.zeros((3, 4)), ratio=1.5)


def test_fast_atan2_accuracy(rng):
    y, x = rng.normal(size=(2, 5000))
    y[:10] = 0.0
    x[10:20] = 0.0
    got = np.array([k.fast_atan2(a, b) for a, b in zip(y, x)])
    np.testing.assert_allclose(got, np.arctan2(y, x), atol=2.5e-4)
    assert k.fast_atan2(0.0, 0.0) == 0.0


@pytest.mark.parametrize("seed", [0, 4])
def test_refine_extrema_equals_twin(seed):
    _, dog = _octave(seed)
    cands = k.find_extrema(dog, 1e-5, 2)
    fast = k.refine_extrema(dog, cands, 3, 1e-4, 10.0, 2, 5)
    slow = naive.refine_extrema(dog, cands, 3, 1e-4, 10.0, 2, 5)
    assert len(fast) >= 3
    np.testing.assert_allclose(fast, slow, rtol=1e-6, atol=1e-9)


def test_flat_image_has_no_keypoints():
    kp, desc = sift(np.full((64, 64), 0.5))
    assert len(kp) == 0 and desc.shape == (0, 128) and kp.xy.shape == (0, 2)


def test_cli_draws_keypoints_with_scale_and_orientation(tmp_path, capsys):
    from PIL import Image

    from classic_cv import io
    from classic_cv.__main__ import main

    image = _gray("camera")[100:300, 150:350]
    Image.fromarray(image).save(tmp_path / "in.png")
    out = tmp_path / "kp.png"
    assert main(["sift", str(tmp_path / "in.png"), str(out), "--magnify", "2"]) == 0
    kp, _ = sift(image)
    assert f"{len(kp)} keypoints" in capsys.readouterr().out
    expected = io.draw_keypoints(image, kp.xy, kp.scale, kp.orientation, magnify=2.0)
    np.testing.assert_array_equal(np.round(io.read_image(out) * 255).astype(np.uint8), expected)
    # Without --magnify the circles have a radius of 3 sigma.
    assert main(["sift", str(tmp_path / "in.png"), str(out)]) == 0
    drawn = np.round(io.read_image(out) * 255).astype(np.uint8)
    np.testing.assert_array_equal(drawn, io.draw_keypoints(image, kp.xy, kp.scale, kp.orientation, magnify=3.0))

    code = None
    try:
        code = main(["sift", str(tmp_path / "in.png"), str(out), "--magnify", "0"])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "argument --magnify: must be > 0" in err, err
