"""Canny: kernels equal their twins; edge maps agree with skimage.feature.canny."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from classic_cv.canny import canny
from classic_cv._kernels import canny as kern
from classic_cv.naive import canny as naive
from tests.conftest import assert_close


def f1_with_tolerance(ours, ref, tol=1):
    """F1 where an edge pixel counts as matched if the other map has one within ``tol`` px (Chebyshev)."""
    grow = np.ones((2 * tol + 1, 2 * tol + 1), bool)
    precision = (ours & ndi.binary_dilation(ref, grow)).sum() / max(ours.sum(), 1)
    recall = (ref & ndi.binary_dilation(ours, grow)).sum() / max(ref.sum(), 1)
    return 2 * precision * recall / max(precision + recall, 1e-12)


def _gray(skimage, name):
    img = getattr(skimage.data, name)()
    return skimage.color.rgb2gray(img) if img.ndim == 3 else img / 255.0


@settings(max_examples=20)
@given(h=st.integers(3, 24), w=st.integers(3, 24), seed=st.integers(0, 2**16), low=st.floats(0, 2))
def test_kernels_equal_naive_twins(h, w, seed, low):
    rng = np.random.default_rng(seed)
    img = ndi.gaussian_filter(rng.random((h, w)), 0.7)
    gy, gx, mag = np.empty_like(img), np.empty_like(img), np.empty_like(img)
    kern.sobel_magnitude(img, gy, gx, mag)
    ngy, ngx, nmag = naive.sobel_magnitude(img)
    assert_close(gy, ngy, 1e-12, "gy")
    assert_close(gx, ngx, 1e-12, "gx")
    assert_close(mag, nmag, 1e-12, "mag")
    valid = np.zeros((h, w), bool)
    valid[1:-1, 1:-1] = rng.random((h - 2, w - 2)) < 0.9
    high = low + rng.random()
    labels = np.empty((h, w), np.uint8)
    # Random data: ties between a pixel and its interpolated neighbours have probability ~0.
    for use_mask in (True, False):
        count = kern.gradient_nms(img, valid, use_mask, low, high, labels)
        nms = naive.nonmax_suppression(ngy, ngx, nmag, valid if use_mask else np.ones((h, w), bool), low)
        np.testing.assert_array_equal(labels, (nms > 0).astype(np.uint8) + (nms >= high) * (nms > 0))
        assert count == (nms > 0).sum()
    edges = np.empty((h, w), bool)
    expected = naive.hysteresis(labels)
    kern.hysteresis(labels, count, edges)
    np.testing.assert_array_equal(edges, expected)


@pytest.mark.parametrize("name", ["camera", "coins", "astronaut", "brick"])
@pytest.mark.parametrize("sigma", [1.0, 2.0, 3.0])
def test_matches_skimage(skimage, name, sigma):
    img = _gray(skimage, name)
    ours = canny(img, sigma)
    ref = skimage.feature.canny(img, sigma)
    assert ref.sum() > 1000
    assert f1_with_tolerance(ours, ref) >= 0.95
    # In float64 the pipelines are the same algorithm: nearly every pixel agrees exactly.
    assert (ours != ref).mean() < 1e-4


@pytest.mark.parametrize("kwargs", [
    dict(low_threshold=0.05, high_threshold=0.3, mode="reflect"),
    dict(low_threshold=0.7, high_threshold=0.9, use_quantiles=True),
    dict(low_threshold=0.2, high_threshold=0.2, mode="nearest"),
])
def test_thresholds_and_modes_match_skimage(skimage, kwargs):
    img = _gray(skimage, "coins")
    ours, ref = canny(img, 1.5, **kwargs), skimage.feature.canny(img, 1.5, **kwargs)
    assert f1_with_tolerance(ours, ref) >= 0.95 and (ours != ref).mean() < 1e-4


def test_mask_matches_skimage(skimage):
    img = _gray(skimage, "camera")
    mask = np.zeros(img.shape, bool)
    mask[50:400, 100:450] = True
    ours, ref = canny(img, 2.0, mask=mask), skimage.feature.canny(img, 2.0, mask=mask)
    assert not ours[~mask].any()
    assert f1_with_tolerance(ours, ref) >= 0.95 and (ours != ref).mean() < 1e-4


def test_uint8_float32_and_rgb_inputs(skimage):
    img = skimage.data.camera()
    as_float = canny(img / 255.0)
    assert (canny(img) == as_float).all()
    f32 = canny((img / 255.0).astype(np.float32))
    assert f1_with_tolerance(f32, as_float) >= 0.99
    rgb = skimage.data.astronaut()
    assert (canny(rgb) == canny(skimage.color.rgb2gray(rgb))).mean() > 0.999


def test_synthetic_square_edges_are_where_expected():
    img = np.zeros((60, 60))
    img[20:40, 20:40] = 1.0
    edges = canny(img, 1.0)
    rows, cols = np.nonzero(edges)
    # Edges hug the square's boundary (within a pixel of the step) and close the contour.
    on_boundary = (np.minimum(np.abs(rows - 19.5), np.abs(rows - 39.5)) <= 1) | (
        np.minimum(np.abs(cols - 19.5), np.abs(cols - 39.5)) <= 1)
    assert on_boundary.all() and edges.sum() >= 4 * 18
    assert not canny(np.full((30, 30), 0.5)).any()


def test_errors():
    img = np.zeros((10, 10))
    with pytest.raises(ValueError, match="canny: low_threshold must be <= high_threshold"):
        canny(img, low_threshold=0.5, high_threshold=0.1)
    with pytest.raises(ValueError, match=r"canny: high_threshold must be in \[0, 1\]"):
        canny(img, low_threshold=0.5, high_threshold=1.5, use_quantiles=True)
    with pytest.raises(ValueError, match="canny: low_threshold must be >= 0"):
        canny(img, low_threshold=-0.5)
    with pytest.raises(ValueError, match=r"canny: mask must have shape \(10, 10\), got \(9, 10\)"):
        canny(img, mask=np.ones((9, 10), bool))
    with pytest.raises(ValueError, match="canny: image must be finite"):
        canny(np.full((10, 10), np.inf))
    with pytest.raises(ValueError, match="canny: image must be 2-D or 3-D"):
        canny(np.zeros(10))
    with pytest.raises(ValueError, match=r"canny: sigma must be in \[0, 100000\], got -1"):
        canny(img, sigma=-1)
