"""Every public entry point refuses bad input with a TypeError/ValueError naming
the function and the argument; float16 and strided images give correct results.

Families drawn with hypothesis: bad images (NaN/inf anywhere, empty, wrong
ndim, wrong dtype, not an array), bad scalars per argument (NaN, inf,
negative, bool, wrong type), bad point sets and RANSAC models, bad drawing
arguments.
"""
import re
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import classic_cv as cv
from classic_cv import io, stitching

ransac_module = sys.modules["classic_cv.ransac"]  # the package exports a function of the same name

IMG = np.random.default_rng(0).random((16, 16))
EDGES = IMG > 0.7


def _refused(func, name, call, *args, **kwargs):
    """``call`` raises TypeError/ValueError whose message starts with ``func: name``."""
    with pytest.raises((TypeError, ValueError)) as info:
        call(*args, **kwargs)
    # The argument's name, whole: followed by a space, an index or an attribute.
    assert re.match(rf"{re.escape(func)}: {re.escape(name)}(?=[ \[.])", str(info.value)), str(info.value)


# ----------------------------------------------------------------- images
IMAGE_FUNCS = {
    "gaussian_blur": ("image", lambda x: cv.gaussian_blur(x, 1.0)),
    "sobel": ("image", cv.sobel),
    "scharr": ("image", cv.scharr),
    "correlate2d": ("image", lambda x: cv.correlate2d(x, np.ones((3, 3)))),
    "convolve2d": ("image", lambda x: cv.convolve2d(x, np.ones((3, 3)))),
    "rgb2gray": ("image", cv.rgb2gray),
    "canny": ("image", cv.canny),
    "structure_tensor": ("image", cv.structure_tensor),
    "corner_harris": ("image", cv.corner_harris),
    "corner_shi_tomasi": ("image", cv.corner_shi_tomasi),
    "corner_peaks": ("response", cv.corner_peaks),
    "hough_line": ("image", cv.hough_line),
    "probabilistic_hough_line": ("image", cv.probabilistic_hough_line),
    "hough_circle": ("image", lambda x: cv.hough_circle(x, [3])),
    "hough_line_peaks": ("accumulator", lambda x: cv.hough_line_peaks(x, [0.0], [0.0])),
    "sift": ("image", cv.sift),
    "seam_carve": ("image", lambda x: cv.seam_carve(x, width=3)),
    "energy_map": ("image", cv.energy_map),
    "find_seam": ("energy", cv.find_seam),
    "remove_object": ("image", lambda x: cv.remove_object(x, np.ones((4, 4), bool))),
    "resize": ("image", lambda x: cv.resize(x, (5, 5))),
    "warp_affine": ("image", lambda x: cv.warp_affine(x, np.eye(2, 3))),
    "warp_perspective": ("image", lambda x: cv.warp_perspective(x, np.eye(3))),
    "gaussian_pyramid": ("image", cv.gaussian_pyramid),
    "laplacian_pyramid": ("image", cv.laplacian_pyramid),
    "reconstruct_laplacian": ("pyramid[0]", lambda x: cv.reconstruct_laplacian([x])),
    "stitch": ("img1", lambda x: cv.stitch(x, IMG)),
    "estimate_homography": ("img1", lambda x: stitching.estimate_homography(x, IMG)),
    "write_image": ("image", lambda x: cv.write_image("never-written.png", x)),
    "to_uint8": ("image", io.to_uint8),
    "draw_points": ("image", lambda x: io.draw_points(x, [[1, 1]])),
    "draw_segments": ("image", lambda x: io.draw_segments(x, np.zeros((0, 2, 2)))),
    "draw_circles": ("image", lambda x: io.draw_circles(x, [[1, 1]], 1)),
    "overlay_mask": ("image", lambda x: io.overlay_mask(x, np.ones((4, 4), bool))),
}
# hough_circle_peaks takes a 3-D accumulator: its own cases below.


@st.composite
def bad_images(draw):
    """Arrays (or non-arrays) that no image argument accepts."""
    kind = draw(st.sampled_from(["nonfinite", "empty", "ndim", "dtype", "object"]))
    if kind == "nonfinite":
        h, w = draw(st.integers(1, 6)), draw(st.integers(1, 6))
        image = np.zeros((h, w), draw(st.sampled_from([np.float16, np.float32, np.float64])))
        bad = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        image[draw(st.integers(0, h - 1)), draw(st.integers(0, w - 1))] = bad
        return image
    if kind == "empty":
        return np.zeros(draw(st.sampled_from([(0, 5), (5, 0), (0, 0), (0, 4, 3)])))
    if kind == "ndim":
        return np.zeros(draw(st.sampled_from([(), (5,), (2, 2, 2, 2)])))
    if kind == "dtype":
        return np.zeros((4, 4), draw(st.sampled_from([complex, object, "U1", "datetime64[s]"])))
    return draw(st.sampled_from([None, object(), "image.png", [[0.0, 1.0]], 3.0]))


@pytest.mark.parametrize("func", sorted(IMAGE_FUNCS))
@settings(max_examples=12)
@given(bad=bad_images())
def test_bad_images_are_refused(func, bad):
    name, call = IMAGE_FUNCS[func]
    _refused(func, name, call, bad)


@settings(max_examples=10)
@given(bad=bad_images())
def test_bad_circle_accumulators_are_refused(bad):
    _refused("hough_circle_peaks", "accumulator", cv.hough_circle_peaks, bad, [1.0])


@pytest.mark.parametrize("func", ["gaussian_blur", "sobel", "canny", "corner_harris", "resize", "sift",
                                  "seam_carve", "gaussian_pyramid", "to_uint8"])
def test_float16_and_strided_images_give_the_float64_result(func):
    _, call = IMAGE_FUNCS[func]
    half = np.random.default_rng(1).random((24, 40)).astype(np.float16)
    expected = call(half.astype(np.float64))
    for image in (half, np.asfortranarray(half.astype(np.float64)), half.astype(np.float64)[::-1, ::-1][::-1, ::-1]):
        got = call(image)
        if func == "seam_carve":  # keeps the input's dtype: compare in float64
            got, exp = np.asarray(got, np.float64), np.asarray(expected, np.float64)
            np.testing.assert_allclose(got, exp, atol=1e-3)
            continue
        _assert_same(got, expected)


def _assert_same(got, expected):
    if isinstance(expected, (tuple, list)):
        for g, e in zip(got, expected):
            _assert_same(g, e)
    elif hasattr(expected, "xy"):  # Keypoints
        np.testing.assert_array_equal(got.xy, expected.xy)
    else:
        np.testing.assert_array_equal(got, expected)


# ------------------------------------------------------- scalar arguments
NAN_INF = [np.nan, np.inf, -np.inf, np.float32("nan")]
WRONG_TYPE = [True, "1", None, object(), [1.0], np.array([1.0, 2.0, 3.0])]


def _number_bads(low=None, high=None, low_open=False, integer=False, optional=False):
    """Strategy of values a number argument with these bounds must refuse."""
    bad = NAN_INF + [v for v in WRONG_TYPE if not (optional and v is None)]
    if integer:
        bad += [1.5, 2.0, np.float64(3.0)]
    floats = []
    if low is not None:
        floats.append(st.floats(max_value=low, exclude_max=not low_open, allow_nan=False, allow_infinity=False)
                      .map(lambda v: int(np.floor(v)) - (1 if np.floor(v) == low and not low_open else 0)
                           if integer else v))
    if high is not None:
        floats.append(st.floats(min_value=high, exclude_min=True, allow_nan=False, allow_infinity=False)
                      .map(lambda v: int(np.ceil(v)) + (1 if np.ceil(v) == high else 0) if integer else v))
    return st.one_of(st.sampled_from(bad), *floats)


ANY = {}  # any finite number
NONNEG = dict(low=0)
POSITIVE = dict(low=0, low_open=True)
SIGMA = dict(low=0, high=1e5)
UNIT = dict(low=0, high=1)
COUNT = dict(low=1, integer=True)

# (function, argument, bounds, call with that one argument set)
SCALAR_ARGS = [
    ("gaussian_kernel1d", "sigma", SIGMA, lambda v: cv.gaussian_kernel1d(v)),
    ("gaussian_kernel1d", "truncate", dict(low=0, low_open=True, high=100), lambda v: cv.gaussian_kernel1d(1.0, v)),
    ("gaussian_blur", "sigma", SIGMA, lambda v: cv.gaussian_blur(IMG, v)),
    ("gaussian_blur", "cval", ANY, lambda v: cv.gaussian_blur(IMG, 1.0, cval=v)),
    ("sobel", "cval", ANY, lambda v: cv.sobel(IMG, cval=v)),
    ("correlate2d", "cval", ANY, lambda v: cv.correlate2d(IMG, np.ones((3, 3)), cval=v)),
    ("canny", "sigma", SIGMA, lambda v: cv.canny(IMG, v)),
    ("canny", "low_threshold", dict(low=0, optional=True),
     lambda v: cv.canny(IMG, low_threshold=v, high_threshold=1e9)),
    ("canny", "high_threshold", dict(low=0, optional=True),
     lambda v: cv.canny(IMG, low_threshold=0.0, high_threshold=v)),
    ("structure_tensor", "sigma", SIGMA, lambda v: cv.structure_tensor(IMG, v)),
    ("corner_harris", "k", dict(low=0, high=0.25), lambda v: cv.corner_harris(IMG, k=v)),
    ("corner_harris", "eps", POSITIVE, lambda v: cv.corner_harris(IMG, method="eps", eps=v)),
    ("corner_harris", "sigma", SIGMA, lambda v: cv.corner_harris(IMG, sigma=v)),
    ("corner_shi_tomasi", "sigma", SIGMA, lambda v: cv.corner_shi_tomasi(IMG, sigma=v)),
    ("corner_peaks", "min_distance", COUNT, lambda v: cv.corner_peaks(IMG, min_distance=v)),
    ("corner_peaks", "threshold_abs", dict(optional=True), lambda v: cv.corner_peaks(IMG, threshold_abs=v)),
    ("corner_peaks", "threshold_rel", dict(UNIT, optional=True), lambda v: cv.corner_peaks(IMG, threshold_rel=v)),
    ("corner_peaks", "num_peaks", dict(COUNT, optional=True), lambda v: cv.corner_peaks(IMG, num_peaks=v)),
    ("hough_line_peaks", "min_distance", NONNEG, lambda v: cv.hough_line_peaks(*cv.hough_line(EDGES), min_distance=v)),
    ("hough_line_peaks", "min_angle", NONNEG, lambda v: cv.hough_line_peaks(*cv.hough_line(EDGES), min_angle=v)),
    ("hough_line_peaks", "threshold", dict(optional=True), lambda v: cv.hough_line_peaks(*cv.hough_line(EDGES),
                                                                                          threshold=v)),
    ("hough_line_peaks", "num_peaks", dict(COUNT, optional=True),
     lambda v: cv.hough_line_peaks(*cv.hough_line(EDGES), num_peaks=v)),
    ("probabilistic_hough_line", "threshold", COUNT, lambda v: cv.probabilistic_hough_line(EDGES, threshold=v)),
    ("probabilistic_hough_line", "line_length", POSITIVE, lambda v: cv.probabilistic_hough_line(EDGES, line_length=v)),
    ("probabilistic_hough_line", "line_gap", dict(low=0, integer=True),
     lambda v: cv.probabilistic_hough_line(EDGES, line_gap=v)),
    ("hough_circle_peaks", "min_distance", COUNT, lambda v: cv.hough_circle_peaks(np.zeros((1, 4, 4)), [2], v)),
    ("hough_circle_peaks", "min_radius_distance", dict(low=0, optional=True),
     lambda v: cv.hough_circle_peaks(np.zeros((1, 4, 4)), [2], min_radius_distance=v)),
    ("hough_circle_peaks", "threshold", dict(optional=True),
     lambda v: cv.hough_circle_peaks(np.zeros((1, 4, 4)), [2], threshold=v)),
    ("sift", "n_scales", COUNT, lambda v: cv.sift(IMG, n_scales=v)),
    ("sift", "sigma", dict(low=0, low_open=True, high=1e5), lambda v: cv.sift(IMG, sigma=v)),
    ("sift", "contrast_threshold", NONNEG, lambda v: cv.sift(IMG, contrast_threshold=v)),
    ("sift", "edge_ratio", dict(low=1, low_open=True), lambda v: cv.sift(IMG, edge_ratio=v)),
    ("sift", "n_octaves", dict(low=1, high=2, integer=True, optional=True), lambda v: cv.sift(IMG, n_octaves=v)),
    ("match_descriptors", "ratio", dict(low=0, low_open=True, high=1),
     lambda v: cv.match_descriptors(np.ones((2, 3)), np.ones((2, 3)), ratio=v)),
    ("seam_carve", "width", dict(COUNT, optional=True), lambda v: cv.seam_carve(IMG, width=v)),
    ("seam_carve", "height", dict(COUNT, optional=True), lambda v: cv.seam_carve(IMG, height=v)),
    ("resize", "cval", ANY, lambda v: cv.resize(IMG, (4, 4), cval=v)),
    ("resize", "output_shape[0]", COUNT, lambda v: cv.resize(IMG, (v, 4))),
    ("warp_affine", "cval", ANY, lambda v: cv.warp_affine(IMG, np.eye(2, 3), cval=v)),
    ("warp_perspective", "output_shape[1]", COUNT, lambda v: cv.warp_perspective(IMG, np.eye(3), (4, v))),
    ("gaussian_pyramid", "levels", dict(COUNT, optional=True), lambda v: cv.gaussian_pyramid(IMG, v)),
    ("gaussian_pyramid", "sigma", SIGMA, lambda v: cv.gaussian_pyramid(IMG, 2, v)),
    ("laplacian_pyramid", "sigma", SIGMA, lambda v: cv.laplacian_pyramid(IMG, 2, v)),
    ("stitch", "ratio", dict(low=0, low_open=True, high=1), lambda v: cv.stitch(IMG, IMG, ratio=v)),
    ("stitch", "threshold", POSITIVE, lambda v: cv.stitch(IMG, IMG, threshold=v)),
    ("estimate_homography", "min_inliers", dict(low=0, integer=True),
     lambda v: stitching.estimate_homography(IMG, IMG, min_inliers=v)),
    ("ransac", "threshold", POSITIVE, lambda v: cv.ransac(IMG[:, :2], cv.LineModel, v)),
    ("ransac", "confidence", dict(low=0, low_open=True, high=1),
     lambda v: cv.ransac(IMG[:, :2], cv.LineModel, 1.0, confidence=v)),
    ("ransac", "max_trials", COUNT, lambda v: cv.ransac(IMG[:, :2], cv.LineModel, 1.0, max_trials=v)),
    ("ransac", "refine_steps", dict(low=0, integer=True), lambda v: cv.ransac(IMG[:, :2], cv.LineModel, 1.0,
                                                                             refine_steps=v)),
    ("find_homography", "threshold", POSITIVE, lambda v: cv.find_homography(IMG[:, :2], IMG[:, 2:4], v)),
    ("find_fundamental", "max_trials", COUNT, lambda v: cv.find_fundamental(IMG[:, :2], IMG[:, 2:4], max_trials=v)),
    ("draw_points", "radius", POSITIVE, lambda v: io.draw_points(IMG, [[1, 1]], radius=v)),
    ("draw_segments", "width", COUNT, lambda v: io.draw_segments(IMG, [[[0, 0], [3, 3]]], width=v)),
]


@pytest.mark.parametrize("func, name, bounds, call", SCALAR_ARGS, ids=[f"{f}-{n}" for f, n, _, _ in SCALAR_ARGS])
@settings(max_examples=10)
@given(data=st.data())
def test_bad_scalars_are_refused(func, name, bounds, call, data):
    bad = data.draw(_number_bads(**bounds))
    _refused(func, name, call, bad)


@pytest.mark.parametrize("func, name, call", [
    ("gaussian_blur", "mode", lambda v: cv.gaussian_blur(IMG, 1.0, mode=v)),
    ("canny", "mode", lambda v: cv.canny(IMG, mode=v)),
    ("corner_harris", "method", lambda v: cv.corner_harris(IMG, method=v)),
    ("resize", "mode", lambda v: cv.resize(IMG, (3, 3), mode=v)),
    ("seam_carve", "energy", lambda v: cv.seam_carve(IMG, energy=v)),
    ("remove_object", "energy", lambda v: cv.remove_object(IMG, IMG > 0.9, energy=v)),
])
@settings(max_examples=8)
@given(bad=st.one_of(st.text(max_size=8), st.sampled_from([None, 1, True, ("reflect",)])))
def test_bad_choices_are_refused(func, name, call, bad):
    if bad in ("reflect", "mirror", "nearest", "wrap", "constant", "k", "eps", "backward", "forward"):
        return
    _refused(func, name, call, bad)


@pytest.mark.parametrize("func, name, call", [
    ("canny", "use_quantiles", lambda v: cv.canny(IMG, use_quantiles=v)),
    ("corner_peaks", "exclude_border", lambda v: cv.corner_peaks(IMG, exclude_border=v)),
    ("hough_circle", "normalize", lambda v: cv.hough_circle(EDGES, [2], normalize=v)),
    ("match_descriptors", "cross_check", lambda v: cv.match_descriptors(np.ones((2, 3)), np.ones((2, 3)),
                                                                         cross_check=v)),
    ("remove_object", "restore_size", lambda v: cv.remove_object(IMG, IMG > 0.9, restore_size=v)),
    ("read_image", "gray", lambda v: cv.read_image("unused.png", gray=v)),
])
@pytest.mark.parametrize("bad", [None, "yes", 1.5, -1])
def test_bad_flags_are_refused(func, name, call, bad):
    if func == "corner_peaks" and bad == -1:
        name = "exclude_border"  # an int is a border width: -1 is out of range
    _refused(func, name, call, bad)


def test_generators():
    pts = IMG[:, :2]
    for bad in (-1, 1.5, "seed", object()):
        _refused("probabilistic_hough_line", "rng", cv.probabilistic_hough_line, EDGES, rng=bad)
        _refused("ransac", "rng", cv.ransac, pts, cv.LineModel, 1.0, rng=bad)
        _refused("find_homography", "rng", cv.find_homography, pts, pts, rng=bad)
        _refused("find_fundamental", "rng", cv.find_fundamental, pts, pts, rng=bad)
    a = cv.probabilistic_hough_line(EDGES, threshold=2, line_length=3, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(a, cv.probabilistic_hough_line(EDGES, threshold=2, line_length=3, rng=4))


# ------------------------------------------------- points, models, arrays
@st.composite
def bad_points(draw):
    kind = draw(st.sampled_from(["nonfinite", "shape", "type", "ragged"]))
    if kind == "nonfinite":
        pts = np.random.default_rng(draw(st.integers(0, 99))).random((10, 2))
        pts[draw(st.integers(0, 9)), draw(st.integers(0, 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        return pts
    if kind == "shape":
        return np.zeros(draw(st.sampled_from([(10,), (10, 3), (10, 1), (0, 2), (2, 5, 2)])))
    if kind == "type":
        return draw(st.sampled_from([None, object(), "points", np.zeros((10, 2), complex)]))
    return [[0.0, 1.0], [2.0]]


@pytest.mark.parametrize("func, name, call", [
    ("find_homography", "src", lambda p: cv.find_homography(p, IMG[:10, :2])),
    ("find_homography", "dst", lambda p: cv.find_homography(IMG[:10, :2], p)),
    ("find_fundamental", "x1", lambda p: cv.find_fundamental(p, IMG[:10, :2])),
    ("apply_homography", "points", lambda p: ransac_module.apply_homography(np.eye(3), p)),
    ("draw_points", "xy", lambda p: io.draw_points(IMG, p)),
    ("draw_circles", "xy", lambda p: io.draw_circles(IMG, p, 2)),
])
@settings(max_examples=10)
@given(bad=bad_points())
def test_bad_points_are_refused(func, name, call, bad):
    if func in ("draw_points", "draw_circles", "apply_homography") and isinstance(bad, np.ndarray) \
            and bad.shape == (0, 2):
        call(bad)  # nothing to draw or map is fine
        return
    with pytest.raises((TypeError, ValueError)) as info:
        call(bad)
    message = str(info.value)
    # A too-short point set is refused by count, the rest by argument name.
    assert message.startswith(f"{func}: {name} ") or message.startswith(f"{func}: need at least"), message


def test_ransac_refuses_objects_that_are_not_models():
    pts = IMG[:, :2]
    with pytest.raises(TypeError, match=r"^ransac: model must provide min_samples, fit\(\*data\) and residuals"):
        ransac_module.ransac(pts, object(), 1.0)

    class NoSamples:
        fit = residuals = staticmethod(lambda *a: None)

    for min_samples, exc in ((None, TypeError), (True, TypeError), (0, ValueError), ("2", TypeError)):
        NoSamples.min_samples = min_samples
        with pytest.raises(exc, match="^ransac: model.min_samples must be"):
            cv.ransac(pts, NoSamples, 1.0)
    for data in (object(), None, (), [pts, pts[:3]], np.zeros((0, 2))):
        with pytest.raises((TypeError, ValueError), match="^ransac: data"):
            cv.ransac(data, cv.LineModel, 1.0)


BUILT_IN_MODELS = [cv.LineModel, cv.AffineModel, cv.HomographyModel, cv.FundamentalModel]


@st.composite
def data_layouts(draw):
    """A built-in model and a tuple of 1 to 3 arrays (1-D to 3-D, N rows each) for it."""
    model = draw(st.sampled_from(BUILT_IN_MODELS))
    n = draw(st.integers(10, 20))
    shapes = draw(st.lists(st.tuples(st.just(n)) | st.tuples(st.just(n), st.integers(1, 4))
                           | st.tuples(st.just(n), st.integers(1, 3), st.integers(1, 3)), min_size=1, max_size=3))
    return model, shapes


@settings(max_examples=40)
@given(layout=data_layouts(), as_tuple=st.booleans())
def test_built_in_models_refuse_a_wrong_data_layout(layout, as_tuple):
    """The wrong number of arrays or of columns is a ValueError naming data, the expected
    and the given shapes, never an IndexError or a Numba typing error from inside a fit."""
    model, shapes = layout
    if [s[1:] for s in shapes] == [(2,)] * len(model.data_shapes):
        return  # the right layout
    arrays = [np.random.default_rng(1).random(s) for s in shapes]
    data = tuple(arrays) if as_tuple or len(arrays) > 1 else arrays[0]
    with pytest.raises(ValueError) as info:
        cv.ransac(data, model, 1.0)
    message = str(info.value)
    assert re.match(r"ransac: data(\[\d\])? must ", message), message
    assert "(N, 2)" in message and model.__name__ in message, message
    assert any(str(tuple(s)) in message for s in shapes), message


def test_model_data_shapes_name_the_array_and_its_shape():
    pts = IMG[:, :2]
    with pytest.raises(ValueError, match=r"^ransac: data must be 2 arrays \(N, 2\) and \(N, 2\) for "
                                         r"HomographyModel, got 1 of shape \(16, 2\)$"):
        cv.ransac(pts, cv.HomographyModel, 3)
    with pytest.raises(ValueError, match=r"^ransac: data\[1\] must have shape \(N, 2\) for AffineModel, "
                                         r"got \(16, 3\)$"):
        cv.ransac((pts, IMG[:, :3]), cv.AffineModel, 3)
    with pytest.raises(ValueError, match=r"^ransac: data must have shape \(N, 2\) for LineModel, got \(16,\)$"):
        cv.ransac(IMG[:, 0], cv.LineModel, 1.0)

    class Anything:  # a model without data_shapes takes any layout
        min_samples = 1
        fit = staticmethod(lambda x: x.mean(axis=0))
        residuals = staticmethod(lambda params, x: np.abs(x - params).sum(axis=(1, 2)))

    assert cv.ransac(np.zeros((5, 2, 2)), Anything, 1.0).inliers.all()


@pytest.mark.parametrize("func, name, call", [
    ("hough_line", "theta", lambda v: cv.hough_line(EDGES, v)),
    ("hough_circle", "radii", lambda v: cv.hough_circle(EDGES, v)),
    ("hough_circle_peaks", "radii", lambda v: cv.hough_circle_peaks(np.zeros((1, 4, 4)), v)),
    ("warp_affine", "matrix", lambda v: cv.warp_affine(IMG, v)),
    ("apply_homography", "H", lambda v: ransac_module.apply_homography(v, IMG[:, :2])),
    ("correlate2d", "kernel", lambda v: cv.correlate2d(IMG, v)),
    ("line_segments", "theta", lambda v: io.line_segments(v, [1.0], (4, 4))),
])
@pytest.mark.parametrize("bad", [np.nan, [0.5, np.inf], None, object(), "x", [[1.0], [2.0, 3.0]], [],
                                 np.zeros((2, 2, 2))], ids=repr)
def test_bad_arrays_are_refused(func, name, call, bad):
    if func == "hough_line" and bad is None:
        return  # the default angles
    _refused(func, name, call, bad)


def test_values_and_combinations():
    _refused("hough_circle", "radii", cv.hough_circle, EDGES, [2, -1])
    img32 = IMG.astype(np.float32)  # a fill value float32 cannot hold would become inf
    _refused("gaussian_blur", "cval", cv.gaussian_blur, img32, 1.0, mode="constant", cval=1e39)
    _refused("warp_affine", "cval", cv.warp_affine, img32, np.eye(2, 3), cval=-1e39)
    assert np.isfinite(cv.gaussian_blur(IMG, 1.0, mode="constant", cval=1e39)).all()  # float64 holds it
    _refused("canny", "low_threshold", cv.canny, IMG, low_threshold=0.5, high_threshold=0.1)
    _refused("canny", "high_threshold", cv.canny, IMG, use_quantiles=True, high_threshold=1.5)
    _refused("warp_perspective", "matrix", cv.warp_perspective, IMG, np.zeros((3, 3)))
    _refused("match_descriptors", "desc1", cv.match_descriptors, np.ones((2, 3), np.complex64), np.ones((2, 3)))
    _refused("match_descriptors", "desc2", cv.match_descriptors, np.ones((2, 3)), np.full((2, 3), np.nan))
    _refused("seam_carve", "protect", cv.seam_carve, IMG, width=4, protect=np.full((16, 16), np.nan))
    _refused("remove_object", "mask", cv.remove_object, IMG, None)
    _refused("stitch", "img1", cv.stitch, IMG[:6], IMG[:6])  # SIFT needs 8x8
    _refused("stitch", "img1", cv.stitch, np.zeros((16, 16, 4)), np.zeros((16, 16, 4)))
    _refused("reconstruct_laplacian", "pyramid", cv.reconstruct_laplacian, IMG)
    _refused("reconstruct_laplacian", "pyramid", cv.reconstruct_laplacian, [])
    _refused("gaussian_blur", "sigma", cv.gaussian_blur, IMG, (1.0, 2.0, 3.0))
    _refused("resize", "output_shape", cv.resize, IMG, 5)
    _refused("draw_points", "color", io.draw_points, IMG, [[1, 1]], color=(0, 0, 256))
    _refused("draw_points", "color", io.draw_points, IMG, [[1, 1]], color="red")
    _refused("draw_circles", "radius", io.draw_circles, IMG, [[1, 1], [2, 2]], [1, 2, 3])
    _refused("draw_circles", "radius", io.draw_circles, IMG, [[1, 1]], -1)
    _refused("line_segments", "shape", io.line_segments, [0.0], [1.0], (4,))
    _refused("write_image", "path", cv.write_image, "image.unknown", IMG)
    _refused("write_image", "path", cv.write_image, 3, IMG)
    _refused("read_image", "path", cv.read_image, None)


@pytest.mark.parametrize("exc, func, name, call", [
    # The wrong kind of object is a TypeError, a wrong value of the right kind a ValueError.
    (TypeError, "warp_affine", "output_shape", lambda: cv.warp_affine(IMG, np.eye(2, 3), output_shape=5)),
    (TypeError, "warp_perspective", "output_shape", lambda: cv.warp_perspective(IMG, np.eye(3), output_shape="4x4")),
    (ValueError, "warp_affine", "output_shape", lambda: cv.warp_affine(IMG, np.eye(2, 3), output_shape=(4, 4, 4))),
    (ValueError, "warp_affine", "output_shape", lambda: cv.warp_affine(IMG, np.eye(2, 3),
                                                                        output_shape=np.ones((2, 2), int))),
    (TypeError, "resize", "output_shape", lambda: cv.resize(IMG, None)),
    (TypeError, "resize", "output_shape", lambda: cv.resize(IMG, 5)),
    (ValueError, "resize", "output_shape", lambda: cv.resize(IMG, (5,))),
    (TypeError, "line_segments", "shape", lambda: io.line_segments([0.0], [1.0], None)),
    (TypeError, "line_segments", "shape", lambda: io.line_segments([0.0], [1.0], 4)),
    (ValueError, "line_segments", "shape", lambda: io.line_segments([0.0], [1.0], (4,))),
    (ValueError, "draw_points", "color", lambda: io.draw_points(IMG, [[1, 1]], color=(255, 0))),
    (ValueError, "draw_segments", "color", lambda: io.draw_segments(IMG, [[[0, 0], [3, 3]]], color=[1, 2, 3, 4])),
    (TypeError, "draw_points", "color", lambda: io.draw_points(IMG, [[1, 1]], color=None)),
    (TypeError, "overlay_mask", "mask", lambda: io.overlay_mask(IMG, None)),
    (TypeError, "remove_object", "mask", lambda: cv.remove_object(IMG, None)),
])
def test_error_class_follows_the_kind_of_mistake(exc, func, name, call):
    with pytest.raises(exc) as info:
        call()
    assert type(info.value) is exc  # not merely a subclass match
    assert str(info.value).startswith(f"{func}: {name} must be "), str(info.value)


def test_output_shape_takes_tuples_lists_and_1d_arrays():
    for shape in ((5, 7), [5, 7], np.array([5, 7])):
        assert cv.resize(IMG, shape).shape == (5, 7)
        assert cv.warp_affine(IMG, np.eye(2, 3), output_shape=shape).shape == (5, 7)
    assert len(io.line_segments([0.0], [1.0], np.array([4, 4]))) == 1


def test_huge_circles_vote_nowhere_without_listing_their_perimeter():
    acc = cv.hough_circle(EDGES, [2.0, 1e12])
    np.testing.assert_array_equal(acc[0], cv.hough_circle(EDGES, [2.0])[0])
    assert not acc[1].any()


# ------------------------------------------- validation happens once, at the entry
def _astronaut_halves():
    from skimage import data

    image = data.astronaut()[::2, ::2] / 255.0
    return image[:, :160], image[:, 96:]


@pytest.mark.parametrize("call, scans", [
    (lambda: cv.sift(IMG), 1),
    (lambda: cv.canny(IMG), 1),
    (lambda: cv.canny(IMG, mask=IMG > 0.5), 2),
    (lambda: cv.corner_peaks(cv.corner_harris(IMG)), 2),  # two public calls, one scan each
    (lambda: cv.gaussian_pyramid(IMG), 1),
    (lambda: cv.laplacian_pyramid(IMG), 1),
    (lambda: cv.reconstruct_laplacian([IMG, IMG[::2, ::2]]), 2),
    (lambda: cv.seam_carve(IMG, width=10), 1),
    (lambda: cv.find_homography(IMG[:, :2], IMG[:, 2:4] + IMG[:, :2]), 2),
    (lambda: stitching.stitch(*_astronaut_halves()), 2),
    (lambda: io.draw_points(IMG, [[1, 1]]), 2),
], ids=["sift", "canny", "canny-mask", "harris+peaks", "gaussian_pyramid", "laplacian_pyramid",
        "reconstruct_laplacian", "seam_carve", "find_homography", "stitch", "draw_points"])
def test_each_array_is_scanned_once(monkeypatch, call, scans):
    """Internal calls (SIFT's blurs, stitching's SIFT and RANSAC, the pyramids'
    blurs) take the private paths: the NaN/inf scan runs once per argument."""
    from classic_cv import _validate

    count = []
    scan = _validate.check_finite

    def counting(func, name, value):
        count.append((func, name))
        return scan(func, name, value)

    monkeypatch.setattr(_validate, "check_finite", counting)
    call()
    assert len(count) == scans, count
