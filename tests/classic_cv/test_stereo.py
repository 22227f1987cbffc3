"""Stereo: kernels equal their twins; block matching and SGM beat OpenCV's on
the Middlebury motorcycle pair; depth, occlusions, bad input, the CLI.

Bad-pixel rule used throughout: over the pixels with a finite ground truth,
a pixel is bad when its disparity is more than 2 px off **or invalid** (NaN
for us, negative for OpenCV). Coverage (valid fraction) and the error rate
over covered pixels are checked as well, so neither matcher can win by
leaving its hard pixels blank.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classic_cv import stereo
from classic_cv.__main__ import main
from classic_cv._kernels import stereo as kern
from classic_cv.naive import stereo as naive
from tests.conftest import assert_close


# ------------------------------------------------------------------ twins
def _integer_pair(seed, h, w, levels=16):
    """Integer-valued float images: every window sum is exact in float32, so
    kernel and twin must agree bit for bit (ties included)."""
    rng = np.random.default_rng(seed)
    return (rng.integers(0, levels, (h, w)).astype(np.float32), rng.integers(0, levels, (h, w)).astype(np.float32))


@settings(max_examples=20)
@given(h=st.integers(1, 9), w=st.integers(1, 9), radius=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_census_kernel_equals_naive_twin(h, w, radius, seed):
    image = _integer_pair(seed, h, w, levels=4)[0]  # few levels: many equal neighbours
    out = np.empty((h, w), np.uint64)
    kern.census_transform(np.pad(image, radius, mode="edge"), radius, out)
    np.testing.assert_array_equal(out, naive.census_transform(image, radius))


@settings(max_examples=20)
@given(h=st.integers(1, 9), w=st.integers(1, 9), radius=st.integers(0, 3), seed=st.integers(0, 2**16))
def test_flat_window_kernel_equals_naive_twin(h, w, radius, seed):
    rng = np.random.default_rng(seed)
    image = (rng.random((h, w)) < 0.05).astype(np.float32)  # mostly 0: many flat windows
    out = np.empty((h, w), bool)
    kern.flat_windows(np.pad(image, radius, mode="edge"), radius, out)
    np.testing.assert_array_equal(out, naive.flat_windows(image, 2 * radius + 1))


@settings(max_examples=20)
@given(h=st.integers(3, 10), w=st.integers(3, 14), window=st.sampled_from([1, 3]),
       cost=st.sampled_from(list(stereo.COSTS)), data=st.data())
def test_cost_volume_kernel_equals_naive_twin(h, w, window, cost, data):
    max_disparity = data.draw(st.integers(1, w - 1))
    left, right = _integer_pair(data.draw(st.integers(0, 2**16)), h, w)
    ours = stereo._cost_volume(left, right, max_disparity, window, cost)
    ref = naive.fill_out_of_image(naive.cost_volume(left, right, max_disparity, window, cost))
    assert_close(ours, ref, 1e-4 if cost == "ncc" else 0, f"{cost} costs")


@settings(max_examples=20)
@given(h=st.integers(1, 8), w=st.integers(2, 14), window=st.sampled_from([1, 3]),
       cost=st.sampled_from(["sad", "ssd", "census"]), lr=st.booleans(), subpixel=st.booleans(), data=st.data())
def test_streamed_block_match_equals_naive_twin(h, w, window, cost, lr, subpixel, data):
    side = min(h, w)
    window = min(window, side if side % 2 else side - 1)
    max_disparity = data.draw(st.integers(1, w - 1))
    left, right = _integer_pair(data.draw(st.integers(0, 2**16)), h, w, levels=data.draw(st.sampled_from([2, 16])))
    ours = stereo.block_match(left, right, max_disparity, window, cost, left_right_check=lr, subpixel=subpixel)
    flat = naive.flat_windows(left, window) & (window > 1)  # a single pixel is never "flat"
    ref = naive.select(naive.cost_volume(left, right, max_disparity, window, cost), subpixel, lr, flat)
    np.testing.assert_array_equal(ours, ref)


@settings(max_examples=20)
@given(h=st.integers(1, 7), w=st.integers(1, 7), nd=st.integers(1, 6), paths=st.sampled_from([4, 8]),
       p1=st.integers(0, 3), extra=st.integers(0, 20), seed=st.integers(0, 2**16))
def test_path_aggregation_kernel_equals_naive_twin(h, w, nd, paths, p1, extra, seed):
    costs = np.random.default_rng(seed).integers(0, 30, (h, w, nd)).astype(np.float32)
    forward, backward = np.empty_like(costs), np.empty_like(costs)
    kern.sgm_aggregate(costs, np.float32(p1), np.float32(p1 + extra), paths, forward, backward)
    assert_close(forward + backward, naive.sgm_aggregate(costs, p1, p1 + extra, paths), 0, f"{paths} paths")


@settings(max_examples=20)
@given(h=st.integers(1, 6), w=st.integers(1, 10), nd=st.integers(1, 6), subpixel=st.booleans(), lr=st.booleans(),
       seed=st.integers(0, 2**16))
def test_select_kernel_equals_naive_twin(h, w, nd, subpixel, lr, seed):
    rng = np.random.default_rng(seed)
    costs = rng.integers(0, 8, (h, w, nd)).astype(np.float32)  # ties on purpose
    flat = rng.random((h, w)) < 0.1
    out = np.empty((h, w), np.float32)
    half = np.floor(costs / 2)  # the kernel selects on the sum of two halves
    kern.select_total(half, costs - half, subpixel, lr, flat, out)
    np.testing.assert_array_equal(out, naive.select(costs, subpixel, lr, flat))


# ------------------------------------------------- the motorcycle pair
MAX_DISPARITY = 63  # OpenCV's numDisparities=64 searches 0..63 too


@pytest.fixture(scope="module")
def motorcycle(skimage):
    left, right, truth = skimage.data.stereo_motorcycle()
    return left, right, truth


def _scores(disparity, truth):
    """(bad-pixel rate counting invalid as bad, coverage, bad rate over covered), over finite truth."""
    known = np.isfinite(truth)
    valid = np.isfinite(disparity)
    with np.errstate(invalid="ignore"):
        wrong = np.abs(disparity - truth) > 2
    return (wrong | ~valid)[known].mean(), valid[known].mean(), wrong[known & valid].mean()


def _opencv(cv2, matcher, left, right):
    gray = [cv2.cvtColor(im, cv2.COLOR_RGB2GRAY) for im in (left, right)]
    fixed = matcher.compute(*gray)  # 1/16 px fixed point, negative where invalid
    return np.where(fixed >= 0, fixed / 16.0, np.nan)


@pytest.mark.parametrize("cost", ["census", "ncc"])
def test_block_match_beats_opencv_stereo_bm(cv2, motorcycle, cost):
    left, right, truth = motorcycle
    window = 9
    ours = _scores(stereo.block_match(left, right, MAX_DISPARITY, window, cost), truth)
    ref = _scores(_opencv(cv2, cv2.StereoBM_create(numDisparities=MAX_DISPARITY + 1, blockSize=window), left, right),
                  truth)
    assert ours[0] <= ref[0], f"bad-pixel rate {ours[0]:.3f} > OpenCV's {ref[0]:.3f}"
    assert ours[1] >= ref[1], f"coverage {ours[1]:.3f} < OpenCV's {ref[1]:.3f}"
    if cost == "census":
        assert ours[2] <= ref[2], f"error over covered pixels {ours[2]:.3f} > OpenCV's {ref[2]:.3f}"


@pytest.mark.parametrize("paths", [8, 4])
def test_sgm_beats_opencv_stereo_sgbm(cv2, motorcycle, paths):
    left, right, truth = motorcycle
    window = 5
    # OpenCV's documented penalty choice; its full 8-path mode against our 8 paths,
    # its default single-pass 5-path mode against our 4.
    mode = cv2.STEREO_SGBM_MODE_HH if paths == 8 else cv2.STEREO_SGBM_MODE_SGBM
    matcher = cv2.StereoSGBM_create(0, MAX_DISPARITY + 1, window, P1=8 * window**2, P2=32 * window**2, mode=mode)
    ours = _scores(stereo.sgm(left, right, MAX_DISPARITY, window, paths=paths), truth)
    ref = _scores(_opencv(cv2, matcher, left, right), truth)
    assert ours[0] <= ref[0], f"bad-pixel rate {ours[0]:.3f} > OpenCV's {ref[0]:.3f}"
    assert ours[1] >= ref[1] - 0.01, f"coverage {ours[1]:.3f} well below OpenCV's {ref[1]:.3f}"
    assert ours[2] <= ref[2], f"error over covered pixels {ours[2]:.3f} > OpenCV's {ref[2]:.3f}"


def test_depth_of_the_motorcycle_pair(motorcycle):
    left, right, truth = motorcycle
    focal, baseline = 994.978, 193.001  # px and mm, from the data set's calibration
    depth = stereo.disparity_to_depth(stereo.sgm(left, right, MAX_DISPARITY), focal, baseline)
    reference = focal * baseline / truth  # truth > 0 wherever it is finite
    both = np.isfinite(depth) & np.isfinite(truth)
    # Depth errors grow as z^2: compare relatively; most pixels within 5 %.
    assert np.median(np.abs(depth[both] - reference[both]) / reference[both]) < 0.05


# ----------------------------------------------------- depth, occlusions
def test_disparity_to_depth_values():
    d = np.array([[10.0, 2.5], [0.0, np.nan]])
    z = stereo.disparity_to_depth(d, focal=500.0, baseline=0.1)
    assert_close(z[0], [5.0, 20.0], 1e-12, "z = f B / d")
    assert z[1, 0] == np.inf and np.isnan(z[1, 1])
    assert stereo.disparity_to_depth(np.array([4], np.uint8), 2, 3)[0] == 1.5


def _scene_with_occlusion(seed=0, h=40, w=90, background=3, foreground=11):
    """Left image with a textured background at one disparity and a nearer
    square at a larger one; the right image is rendered from it (nearer
    pixels painted last). Returns left, right, true disparity, occluded mask."""
    rng = np.random.default_rng(seed)
    left = rng.random((h, w))
    disparity = np.full((h, w), background)
    disparity[10:30, 40:60] = foreground
    right = rng.random((h, w))  # texture where nothing of the left lands
    owner = np.full((h, w), -1)
    for d in (background, foreground):
        ys, xs = np.nonzero(disparity == d)
        keep = xs - d >= 0
        right[ys[keep], xs[keep] - d] = left[ys[keep], xs[keep]]
        owner[ys[keep], xs[keep] - d] = xs[keep]
    ys, xs = np.indices((h, w))
    target = np.clip(xs - disparity, 0, w - 1)
    occluded = (owner[ys, target] != xs) & (xs - disparity >= 0)
    return left, right, disparity, occluded


@pytest.mark.parametrize("method", ["bm", "sgm"])
def test_left_right_check_marks_occlusions(method):
    left, right, truth, occluded = _scene_with_occlusion()
    match = stereo.block_match if method == "bm" else stereo.sgm
    kwargs = dict(max_disparity=15, window=5, cost="census")
    checked = match(left, right, **kwargs)
    unchecked = match(left, right, left_right_check=False, **kwargs)
    assert occluded.sum() >= 100
    assert np.isfinite(unchecked[occluded]).all()
    assert np.isnan(checked[occluded]).mean() >= 0.8, "occluded pixels must fail the check"
    seen = ~occluded
    seen[:, :20] = False  # columns x < max_disparity cannot see the whole range
    seen[:, 36:64] = False  # the window straddles the square's edges
    assert (np.abs(checked[seen] - truth[seen]) <= 0.5).mean() >= 0.95


def test_flat_windows_have_no_texture():
    rng = np.random.default_rng(1)
    left = rng.random((30, 40))
    left[:, 20:] = 0.5
    right = np.roll(left, -2, axis=1)
    disparity = stereo.block_match(left, right, 8, 5, "sad", left_right_check=False)
    assert np.isnan(disparity[:, 23:]).all() and np.isfinite(disparity[:, 8:18]).all()
    assert np.isnan(stereo.block_match(left, right, 8, 5, texture_threshold=0.5)).all()


def test_colorize_disparity():
    d = np.array([[0.0, 5.0], [10.0, np.nan]])
    rgb = stereo.colorize_disparity(d, colorbar=False)
    assert rgb.shape == (2, 2, 3) and rgb.dtype == np.uint8
    assert (rgb[1, 1] == 0).all()
    np.testing.assert_array_equal(rgb[0, 0], stereo.colormap(0.0))
    np.testing.assert_array_equal(rgb[1, 0], stereo.colormap(1.0))
    # The scale runs dark to bright.
    brightness = stereo.colormap(np.linspace(0, 1, 50)).astype(float) @ [0.2125, 0.7154, 0.0721]
    assert (np.diff(brightness) > 0).all()
    with_bar = stereo.colorize_disparity(np.zeros((40, 30)))
    assert with_bar.shape[:2] == (40, 30 + stereo.COLORBAR_WIDTH)
    with pytest.raises(ValueError, match="colorize_disparity: disparity must be 2-D"):
        stereo.colorize_disparity(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="colorize_disparity: disparity must not be empty"):
        stereo.colorize_disparity(np.zeros((0, 4)))
    with pytest.raises(ValueError, match=r"colorize_disparity: max_disparity must be > 0"):
        stereo.colorize_disparity(d, max_disparity=0)


# ---------------------------------------------------------- bad input
@pytest.mark.parametrize("fn", [stereo.block_match, stereo.sgm])
def test_bad_input(fn):
    name = fn.__name__
    img = np.random.default_rng(0).random((12, 16))
    cases = [
        ((img, img[:, :15]), {}, ValueError, f"{name}: right must have the shape of left"),
        ((img, img), dict(max_disparity=0), ValueError, f"{name}: max_disparity must be an integer in \\[1, 15\\]"),
        ((img, img), dict(max_disparity=16), ValueError, "max_disparity must be an integer in"),
        ((img, img), dict(max_disparity=2.5), TypeError, "max_disparity must be an integer"),
        ((img, img), dict(max_disparity=4, window=4), ValueError, f"{name}: window must be odd, got 4"),
        ((img, img), dict(max_disparity=4, window=13), ValueError, "window must be an integer in"),
        ((img, np.full_like(img, np.nan)), {}, ValueError, f"{name}: right must be finite"),
        ((np.zeros((0, 16)), np.zeros((0, 16))), {}, ValueError, f"{name}: left must not be empty"),
        ((img, img), dict(max_disparity=4, cost="mi"), ValueError, f"{name}: cost must be one of"),
        ((img, img), dict(max_disparity=4, left_right_check=1), TypeError, "left_right_check must be True or False"),
        ((img[:, :1], img[:, :1]), {}, ValueError, "left must be at least 2 pixels wide"),
        (([[1.0, 2.0]], img), {}, TypeError, f"{name}: left must be a numpy array"),
    ]
    if fn is stereo.sgm:
        cases += [((img, img), dict(max_disparity=4, paths=6), ValueError, "sgm: paths must be one of 8, 4"),
                  ((img, img), dict(max_disparity=4, P1=2.0, P2=1.0), ValueError, "sgm: P2 must be >= P1"),
                  ((img, img), dict(max_disparity=4, P1=-1.0), ValueError, "sgm: P1 must be >= 0")]
    else:
        cases += [((img, img), dict(max_disparity=4, texture_threshold=-1), ValueError,
                   "block_match: texture_threshold must be >= 0")]
    for args, kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            fn(*args, **kwargs)


def test_disparity_to_depth_bad_input():
    with pytest.raises(ValueError, match="disparity_to_depth: disparity must be >= 0 or NaN"):
        stereo.disparity_to_depth(np.array([1.0, -1.0]), 1, 1)
    with pytest.raises(ValueError, match="disparity must be finite or NaN"):
        stereo.disparity_to_depth(np.array([np.inf]), 1, 1)
    with pytest.raises(ValueError, match="disparity must not be empty"):
        stereo.disparity_to_depth(np.array([]), 1, 1)
    with pytest.raises(ValueError, match=r"focal must be > 0"):
        stereo.disparity_to_depth(np.ones(2), 0, 1)
    with pytest.raises(ValueError, match=r"baseline must be > 0"):
        stereo.disparity_to_depth(np.ones(2), 1, np.nan)
    with pytest.raises(TypeError, match="disparity must have a real numeric dtype"):
        stereo.disparity_to_depth(np.array(["a"]), 1, 1)


# ------------------------------------------------------------------- CLI
@pytest.fixture
def pair_files(motorcycle, tmp_path):
    from classic_cv import io

    left, right, _ = motorcycle
    paths = []
    for name, image in (("left.png", left), ("right.png", right)):
        io.write_image(tmp_path / name, image[200:300, 300:500])
        paths.append(str(tmp_path / name))
    return paths


@pytest.mark.parametrize("method", ["bm", "sgm"])
def test_cli_writes_the_coloured_disparity_map(pair_files, tmp_path, capsys, method):
    from classic_cv import io

    out = tmp_path / f"{method}.png"
    assert main(["stereo", *pair_files, str(out), "--method", method, "--max-disparity", "40", "--window", "5"]) == 0
    assert "matched" in capsys.readouterr().out
    picture = io.read_image(str(out))
    assert picture.shape == (100, 200 + stereo.COLORBAR_WIDTH, 3)
    assert picture[:, :200].std() > 0.05  # a real map, not one flat colour (read as floats in [0, 1])


@pytest.mark.parametrize("args, message", [
    (["--window", "4"], "argument --window: must be odd, got 4"),
    (["--max-disparity", "500"], "argument --max-disparity: must be an integer in [1, 199], got 500"),
    (["--max-disparity", "0"], "argument --max-disparity: must be an integer >= 1"),
    (["--method", "x"], "argument --method"),
])
def test_cli_bad_options(pair_files, tmp_path, capsys, args, message):
    try:
        code = main(["stereo", *pair_files, str(tmp_path / "o.png"), *args])
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "o.png").exists()
