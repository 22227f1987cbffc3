"""Harris / Shi-Tomasi: kernels equal their twins; responses and peaks equal skimage's."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classic_cv import filters, harris
from classic_cv._kernels import harris as kern
from classic_cv.naive import harris as naive
from tests.conftest import assert_close

IMAGES = ["camera", "coins", "checkerboard", "astronaut"]


def _gray(skimage, name):
    img = getattr(skimage.data, name)()
    return skimage.color.rgb2gray(img) if img.ndim == 3 else img / 255.0


def _relative(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


@settings(max_examples=20)
@given(h=st.integers(1, 20), w=st.integers(1, 20), r=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_peak_kernels_equal_naive_twins(h, w, r, seed):
    rng = np.random.default_rng(seed)
    # Quantised values make ties (plateaus) likely, which the peak rules must handle.
    img = np.round(rng.random((h, w)) * 4)
    out = np.empty((h, w))
    kern.max_filter(img, r, out)
    assert_close(out, naive.max_filter(img, r), 0, "max filter")
    rows, cols = rng.integers(0, h, 30), rng.integers(0, w, 30)
    keep = kern.greedy_spacing(rows, cols, (h, w), r, 10)
    np.testing.assert_array_equal(keep, naive.greedy_spacing(rows, cols, r, 10))


@settings(max_examples=25)
@given(h=st.integers(1, 15), w=st.integers(1, 15), sigma=st.sampled_from([0.0, 0.4, 1.0, 2.2]),
       mode=st.sampled_from(filters.MODES), seed=st.integers(0, 2**16))
def test_streamed_corner_kernel_equals_naive_twin(h, w, sigma, mode, seed):
    img = np.random.default_rng(seed).random((h, w))
    window = filters.gaussian_kernel1d(sigma)
    r = len(window) // 2
    maps = (filters.border_index(h, 1, 1, mode), filters.border_index(w, 1, 1, mode),
            filters.border_index(h, r, r, mode), filters.border_index(w, r, r, mode))
    tensor = naive.structure_tensor(img, window, mode, 0.3)
    out = [np.empty((h, w)) for _ in range(3)]
    kern.corner_response(img, window, *maps, 0.3, kern.TENSOR, 0.0, 0.0, *out)
    for ours, ref in zip(out, tensor):
        assert_close(ours, ref, 1e-12, "tensor")
    expected = {kern.HARRIS_K: naive.harris_response(*tensor, True, 0.04, 1e-6),
                kern.HARRIS_EPS: naive.harris_response(*tensor, False, 0.04, 1e-6),
                kern.MIN_EIGENVALUE: naive.min_eigenvalue(*tensor)}
    for what, ref in expected.items():
        kern.corner_response(img, window, *maps, 0.3, what, 0.04, 1e-6, *out)
        assert_close(out[0], ref, 1e-9 * max(1.0, np.abs(ref).max()), f"response {what}")


@pytest.mark.parametrize("name", IMAGES)
@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.5])
def test_responses_equal_skimage(skimage, name, sigma):
    img = _gray(skimage, name)
    assert _relative(harris.corner_harris(img, sigma=sigma), skimage.feature.corner_harris(img, sigma=sigma)) < 1e-6
    ref = skimage.feature.corner_harris(img, method="eps", eps=1e-4, sigma=sigma)
    assert _relative(harris.corner_harris(img, method="eps", eps=1e-4, sigma=sigma), ref) < 1e-6
    ref = skimage.feature.corner_shi_tomasi(img, sigma=sigma)
    assert _relative(harris.corner_shi_tomasi(img, sigma=sigma), ref) < 1e-6


def test_structure_tensor_and_modes_equal_skimage(skimage):
    img = _gray(skimage, "coins")
    for ours, ref in zip(harris.structure_tensor(img, 1.5, mode="reflect"),
                         skimage.feature.structure_tensor(img, 1.5, mode="reflect", order="rc")):
        assert _relative(ours, ref) < 1e-12


def _skimage_peaks(skimage, response, **kwargs):
    """skimage's corner_peaks as (x, y) points: it returns (row, col)."""
    return skimage.feature.corner_peaks(response, **kwargs)[:, ::-1]


def _match_fraction(a, b, tol=1.5):
    """Fraction of points in ``a`` with a point of ``b`` within ``tol`` px."""
    dist = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)).min(axis=1)
    return (dist <= tol).mean()


@pytest.mark.parametrize("name", IMAGES)
@pytest.mark.parametrize("kwargs", [
    dict(min_distance=1),
    dict(min_distance=1, threshold_rel=0.01, exclude_border=5),
    dict(min_distance=1, threshold_abs=1e-3, exclude_border=False, num_peaks=50),
])
def test_corner_peaks_equal_skimage_at_unit_distance(skimage, name, kwargs):
    # With min_distance=1 skimage's two spacing passes reduce to our single one.
    response = skimage.feature.corner_harris(_gray(skimage, name))
    np.testing.assert_array_equal(harris.corner_peaks(response, **kwargs), _skimage_peaks(skimage, response, **kwargs))


@pytest.mark.parametrize("name", IMAGES)
@pytest.mark.parametrize("kwargs", [dict(min_distance=5, threshold_rel=0.01), dict(min_distance=8, exclude_border=False)])
def test_corner_peaks_spacing_against_skimage(skimage, name, kwargs):
    response = skimage.feature.corner_harris(_gray(skimage, name))
    ours = harris.corner_peaks(response, **kwargs)
    ref = _skimage_peaks(skimage, response, **kwargs)
    d = kwargs["min_distance"]
    cheb = np.abs(ours[:, None, :] - ours[None, :, :]).max(-1) + np.eye(len(ours), dtype=int) * (d + 1)
    assert cheb.min() > d, "kept peaks must be more than min_distance apart"
    # Nearly a superset: the passes differ only where a rejection cascades.
    assert _match_fraction(ref, ours) >= 0.95
    assert len(ours) <= 1.2 * len(ref)


@pytest.mark.parametrize("name", IMAGES)
def test_top_corners_agree_within_1_5_px(skimage, name):
    img = _gray(skimage, name)
    # threshold_rel drops the zero-response plateaus whose order among ties is arbitrary.
    kwargs = dict(min_distance=5, threshold_rel=0.01)
    ref = _skimage_peaks(skimage, skimage.feature.corner_harris(img), num_peaks=100, **kwargs)
    ours = harris.corner_peaks(harris.corner_harris(img), num_peaks=len(ref), **kwargs)
    assert len(ref) >= 40
    assert _match_fraction(ref, ours) >= 0.95 and _match_fraction(ours, ref) >= 0.95


def test_synthetic_corners_found():
    img = np.zeros((80, 80))
    img[20:60, 30:70] = 1.0
    coords = harris.corner_peaks(harris.corner_harris(img), min_distance=5, threshold_rel=0.1)
    found = {tuple(c) for c in coords}
    assert len(found) == 4
    for corner in [(30, 20), (69, 20), (30, 59), (69, 59)]:  # (x, y)
        assert min(max(abs(a - b) for a, b in zip(corner, f)) for f in found) <= 1
    assert len(harris.corner_peaks(np.ones((10, 10)))) == 0


def test_errors():
    img = np.zeros((10, 10))
    with pytest.raises(ValueError, match="corner_harris: method must be one of"):
        harris.corner_harris(img, method="x")
    with pytest.raises(ValueError, match=r"corner_harris: k must be in \[0, 0.25\]"):
        harris.corner_harris(img, k=0.5)
    with pytest.raises(ValueError, match="corner_harris: image must be finite"):
        harris.corner_harris(np.full((5, 5), np.nan))
    with pytest.raises(ValueError, match="corner_peaks: response must be 2-D"):
        harris.corner_peaks(np.zeros((5, 5, 3)))
    with pytest.raises(ValueError, match="corner_peaks: min_distance must be an integer >= 1"):
        harris.corner_peaks(img, min_distance=0)
    with pytest.raises(ValueError, match=r"corner_peaks: threshold_rel must be in \[0, 1\]"):
        harris.corner_peaks(img, threshold_rel=2.0)
    with pytest.raises(TypeError, match="corner_peaks: num_peaks must be an integer"):
        harris.corner_peaks(img, num_peaks=2.5)
