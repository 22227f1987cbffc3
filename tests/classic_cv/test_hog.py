"""HOG and the hue histogram: the kernel equals its twin; descriptors and pictures equal skimage's."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classic_cv._kernels import hog as kern
from classic_cv.hog import _gradient_field, _normalize_blocks, color_histogram_hsv, hog
from classic_cv.naive import hog as naive
from tests.conftest import assert_close

IMAGES = ["camera", "coins", "astronaut"]
NORMS = ["L1", "L1-sqrt", "L2", "L2-Hys"]
# skimage's defaults, and a configuration with bin bounds at 45/90/135 degrees
# (where gradients of quantised images fall exactly), non-square cells and blocks.
CONFIGS = [dict(), dict(orientations=8, pixels_per_cell=(7, 5), cells_per_block=(2, 3))]


def _image(skimage, name):
    """A test image as float64 in [0, 1], the input both libraries get."""
    return skimage.img_as_float(getattr(skimage.data, name)())


def _skimage_hog(skimage, image, **kwargs):
    return skimage.feature.hog(image, channel_axis=-1 if image.ndim == 3 else None, **kwargs)


# ----------------------------------------------------------------------------- twins

@settings(max_examples=30)
@given(h=st.integers(1, 30), w=st.integers(1, 30), cell_rows=st.integers(1, 6), cell_cols=st.integers(1, 6),
       n_bins=st.integers(1, 12), rgb=st.booleans(), seed=st.integers(0, 2**16))
def test_cell_histogram_kernel_equals_naive_twin(h, w, cell_rows, cell_cols, n_bins, rgb, seed):
    h, w = max(h, cell_rows), max(w, cell_cols)
    # Few grey levels make equal differences, hence gradients exactly on bin bounds, common.
    image = np.round(np.random.default_rng(seed).random((h, w, 3) if rgb else (h, w)) * 4) / 4
    field = _gradient_field(image)
    out = np.empty((h // cell_rows, w // cell_cols, n_bins))
    kern.cell_histograms(*field, cell_rows, cell_cols, out)
    assert_close(out, naive.cell_histograms(*field, cell_rows, cell_cols, n_bins), 1e-12, "histograms")


@pytest.mark.parametrize("n_bins", [1, 4, 7, 8, 9, 18, 39])
def test_orientations_exactly_on_a_bin_bound_go_to_the_upper_bin(n_bins):
    step = 180.0 / n_bins
    for k in range(n_bins):
        assert kern._orientation_bin(step * k, step, n_bins) == k
        assert kern._orientation_bin(np.nextafter(step * k, 0), step, n_bins) == max(k - 1, 0)
    # Above the last bound (180 itself, and for 39 bins a sliver below it) no bin holds.
    top = np.nextafter(180.0, 0)
    assert kern._orientation_bin(180.0, step, n_bins) == -1
    assert kern._orientation_bin(top, step, n_bins) == (n_bins - 1 if top < step * n_bins else -1)


def test_unsigned_degrees_round_as_numpy_does():
    grid = np.arange(-6, 7) / 4
    angles = np.concatenate([np.arctan2(grid[:, None], grid[None, :]).ravel(),
                             [np.pi, -np.pi, 0.0, -0.0, -1e-300, 1e-300, np.pi / 2, -np.pi / 2],
                             np.random.default_rng(0).uniform(-np.pi, np.pi, 1000)])
    ours = np.array([kern._unsigned_degrees(a) for a in angles])
    np.testing.assert_array_equal(ours, np.rad2deg(angles) % 180.0)


@settings(max_examples=25)
@given(rows=st.integers(1, 6), cols=st.integers(1, 6), block_rows=st.integers(1, 3), block_cols=st.integers(1, 3),
       n_bins=st.integers(1, 9), method=st.sampled_from(NORMS), empty=st.booleans(), seed=st.integers(0, 2**16))
def test_block_normalisation_equals_naive_twin(rows, cols, block_rows, block_cols, n_bins, method, empty, seed):
    rows, cols = max(rows, block_rows), max(cols, block_cols)
    hist = np.random.default_rng(seed).random((rows, cols, n_bins)) ** 3
    if empty:
        hist[: rows // 2] = 0.0  # flat patches: eps alone keeps the division finite
    ours = _normalize_blocks(hist, (block_rows, block_cols), method)
    assert_close(ours, naive.normalize_blocks(hist, block_rows, block_cols, method), 1e-13, method)


# ----------------------------------------------------------------------------- against skimage

@pytest.mark.parametrize("config", CONFIGS, ids=["defaults", "8-bins-7x5-cells-2x3-blocks"])
@pytest.mark.parametrize("name", IMAGES)
def test_descriptor_equals_skimage_for_every_block_norm(skimage, name, config):
    image = _image(skimage, name)
    for norm in NORMS:
        ours = hog(image, block_norm=norm, **config)
        ref = _skimage_hog(skimage, image, block_norm=norm, **config)
        # skimage sums each cell in single precision: agreement to ~1e-7, not bitwise.
        assert_close(ours, ref, 1e-6, f"{name} {norm}")
        assert ours.dtype == ref.dtype == np.float64


def test_unflattened_descriptor_has_skimage_layout(skimage):
    image = _image(skimage, "coins")
    kwargs = dict(orientations=6, pixels_per_cell=(16, 12), cells_per_block=(2, 1), feature_vector=False)
    ours = hog(image, **kwargs)
    assert ours.shape == ((303 // 16) - 1, 384 // 12, 2, 1, 6)
    assert_close(ours, _skimage_hog(skimage, image, **kwargs), 1e-6, "layout")


@pytest.mark.parametrize("name", IMAGES)
@pytest.mark.parametrize("cell", [(8, 8), (12, 7)])
def test_hog_picture_equals_skimage(skimage, name, cell):
    image = _image(skimage, name)
    _, ours = hog(image, pixels_per_cell=cell, cells_per_block=1, visualize=True)
    _, ref = _skimage_hog(skimage, image, pixels_per_cell=cell, cells_per_block=(1, 1), visualize=True)
    assert ours.shape == image.shape[:2] and np.count_nonzero(ref) > image.shape[0]
    assert_close(ours, ref, 1e-6 * ref.max(), f"{name} picture")


def test_hog_picture_of_tiny_cells(skimage):
    image = _image(skimage, "camera")[200:232, 240:270]
    # 2-px cells: a segment of half-length 0, the cell's whole histogram on its centre pixel, as in skimage.
    _, ours = hog(image, pixels_per_cell=2, cells_per_block=1, visualize=True)
    _, ref = _skimage_hog(skimage, image, pixels_per_cell=(2, 2), cells_per_block=(1, 1), visualize=True)
    assert_close(ours, ref, 1e-6 * ref.max(), "2-px cells")
    assert np.count_nonzero(ours[::2]) == 0 and np.count_nonzero(ours[:, ::2]) == 0
    # 1-px cells: each pixel's own histogram, on itself (skimage's half-length -1 draws elsewhere).
    descriptor, picture = hog(image, 9, 1, 1, "L1", visualize=True, feature_vector=False)
    assert np.all((picture > 0) == (descriptor.sum(axis=(2, 3, 4)) > 0))


def test_rgb_uses_the_channel_with_the_largest_gradient_per_pixel(skimage):
    gray = _image(skimage, "camera")[:128, :128]
    rgb = np.stack([gray, gray, gray], axis=2)
    assert_close(hog(rgb), hog(gray), 0, "equal channels")
    # One textured channel beside two flat ones: the flat ones never win.
    only_green = np.zeros_like(rgb)
    only_green[..., 1] = gray
    assert_close(hog(only_green), hog(gray), 0, "one channel")
    # Channels with different structure: not a luminance conversion, and equal to skimage's rule.
    mixed = np.stack([gray, gray.T, np.flipud(gray)], axis=2)
    ours = hog(mixed, orientations=8)
    assert np.abs(ours - hog(skimage.color.rgb2gray(mixed), orientations=8)).max() > 0.1
    assert_close(ours, _skimage_hog(skimage, mixed, orientations=8), 1e-6, "mixed channels")


def test_integer_and_float32_images(skimage):
    camera8 = skimage.data.camera()[100:300, 150:350]
    assert_close(hog(camera8), hog(camera8 / 255.0), 0, "uint8 is scaled to [0, 1]")
    ours = hog(camera8.astype(np.float32) / np.float32(255), visualize=True)
    assert [a.dtype for a in ours] == [np.float32, np.float32]
    ref = _skimage_hog(skimage, camera8.astype(np.float32) / np.float32(255), visualize=True)
    for a, b in zip(ours, ref):
        assert_close(a, b, 1e-5 * max(1.0, b.max()), "float32")


def test_a_vertical_edge_votes_in_the_horizontal_gradient_bin():
    image = np.zeros((16, 16))
    image[:, 8:] = 1.0
    descriptor = hog(image, orientations=4, pixels_per_cell=8, cells_per_block=1, feature_vector=False)
    # The gradient points along the columns: 0 degrees, bin 0, in the cells the edge crosses.
    cells = descriptor[:, :, 0, 0, :]
    assert np.all(cells[:, :, 1:] == 0) and np.all(cells[:, :, 0] > 0.99)


# ----------------------------------------------------------------------------- hue histogram

def _course_color_histogram(image, nbin):
    """CS231n's recipe: matplotlib's HSV on [0, 1] scaled to 255, density histogram times the bin widths."""
    from matplotlib.colors import rgb_to_hsv

    hsv = rgb_to_hsv(image) * 255
    hist, edges = np.histogram(hsv[:, :, 0], bins=np.linspace(0, 255, nbin + 1), density=True)
    return hist * np.diff(edges)


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea"])
@pytest.mark.parametrize("nbin", [1, 7, 10, 36])
def test_color_histogram_equals_the_course_recipe(skimage, name, nbin):
    image = _image(skimage, name)
    ours = color_histogram_hsv(image, nbin)
    assert ours.shape == (nbin,) and ours.sum() == pytest.approx(1.0)
    assert_close(ours, _course_color_histogram(image, nbin), 1e-12, f"{name} nbin={nbin}")
    # The hue is skimage's too (binned the same way).
    ref, _ = np.histogram(skimage.color.rgb2hsv(image)[..., 0] * 255, bins=np.linspace(0, 255, nbin + 1))
    assert_close(ours, ref / ref.sum(), 1e-12, "skimage hue")


def test_color_histogram_of_pure_colours_grays_and_scaled_images():
    pixels = np.array([[[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5]]], dtype=float)  # red green blue gray
    np.testing.assert_allclose(color_histogram_hsv(pixels, 3), [0.5, 0.25, 0.25])
    np.testing.assert_allclose(color_histogram_hsv(np.full((4, 5), 0.3), 4), [1, 0, 0, 0])
    rng = np.random.default_rng(1)
    image = rng.random((20, 30, 3))
    np.testing.assert_array_equal(color_histogram_hsv(image * 255, 12), color_histogram_hsv(image, 12))
    image8 = (image * 255).astype(np.uint8)
    np.testing.assert_array_equal(color_histogram_hsv(image8, 12), color_histogram_hsv(image8 / 255.0, 12))


# ----------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("kwargs, error, message", [
    (dict(pixels_per_cell=64), ValueError, r"hog: image must be at least 192x192 pixels .* got shape \(100, 120\)"),
    (dict(pixels_per_cell=(8, 50), cells_per_block=(1, 3)), ValueError, "hog: image must be at least 8x150 pixels"),
    (dict(orientations=0), ValueError, "hog: orientations must be an integer >= 1, got 0"),
    (dict(orientations=2.5), TypeError, "hog: orientations must be an integer, got 2.5"),
    (dict(block_norm="L3"), ValueError, "hog: block_norm must be one of 'L1', 'L1-sqrt', 'L2', 'L2-Hys', got 'L3'"),
    (dict(block_norm=None), ValueError, "hog: block_norm must be one of"),
    (dict(pixels_per_cell=(8, 0)), ValueError, r"hog: pixels_per_cell\[1\] must be an integer >= 1, got 0"),
    (dict(pixels_per_cell=(8, 8, 8)), ValueError, r"hog: pixels_per_cell must be an int or a pair \(rows, cols\)"),
    (dict(cells_per_block="2"), TypeError, "hog: cells_per_block must be an integer"),
    (dict(cells_per_block=0), ValueError, "hog: cells_per_block must be an integer >= 1, got 0"),
    (dict(visualize="yes"), TypeError, "hog: visualize must be True or False, got 'yes'"),
    (dict(feature_vector=1), TypeError, "hog: feature_vector must be True or False, got 1"),
])
def test_hog_refuses_bad_parameters(kwargs, error, message):
    with pytest.raises(error, match=message):
        hog(np.zeros((100, 120)), **kwargs)


@pytest.mark.parametrize("func", [hog, color_histogram_hsv])
@pytest.mark.parametrize("image, error, message", [
    (np.full((32, 32), np.nan), ValueError, "image must be finite"),
    (np.zeros((32, 32, 3)) + np.inf, ValueError, "image must be finite"),
    (np.zeros((0, 32)), ValueError, r"image must not be empty, got shape \(0, 32\)"),
    (np.zeros((32, 32, 4)), ValueError, r"image must be \(H, W\) or \(H, W, 3\), got shape \(32, 32, 4\)"),
    (np.zeros(32), ValueError, r"image must be 2-D or 3-D, got shape \(32,\)"),
    (np.zeros((32, 32), dtype=complex), TypeError, "image must have a real numeric dtype"),
    ([[0.0] * 32] * 32, TypeError, "image must be a numpy array, got list"),
])
def test_bad_images_are_refused(func, image, error, message):
    with pytest.raises(error, match=f"{func.__name__}: {message}"):
        func(image)


@pytest.mark.parametrize("nbin, error", [(0, ValueError), (-3, ValueError), (2.0, TypeError), (True, TypeError)])
def test_color_histogram_refuses_a_bad_nbin(nbin, error):
    with pytest.raises(error, match="color_histogram_hsv: nbin must be an integer"):
        color_histogram_hsv(np.zeros((4, 4, 3)), nbin)
