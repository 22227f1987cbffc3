"""Filters, warps and pyramids: Numba kernels equal their NumPy twins and the references."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from classic_cv import filters, pyramids, warp
from classic_cv._kernels import filters as kern
from classic_cv.naive import filters as naive
from tests.conftest import assert_close

modes = st.sampled_from(filters.MODES)


@settings(max_examples=40)
@given(
    h=st.integers(1, 12), w=st.integers(1, 12), kh=st.integers(1, 9), kw=st.integers(1, 9),
    mode=modes, seed=st.integers(0, 2**16),
)
def test_kernels_equal_naive_twins(h, w, kh, kw, mode, seed):
    rng = np.random.default_rng(seed)
    x, k2, kr, kc = rng.random((h, w)), rng.standard_normal((kh, kw)), rng.random(kh), rng.random(kw)
    idx_r = filters.border_index(h, kh // 2, (kh - 1) // 2, mode)
    idx_c = filters.border_index(w, kw // 2, (kw - 1) // 2, mode)
    out = np.empty_like(x)
    kern.correlate_separable(x, kr, kc, idx_r, idx_c, 0.25, out)
    assert_close(out, naive.correlate_separable(x, kr, kc, mode, 0.25), 1e-12, "separable")
    kern.correlate2d(x, k2, idx_r, idx_c, kw // 2, 0.25, out)
    assert_close(out, naive.correlate2d(x, k2, kh // 2, kw // 2, mode, 0.25), 1e-12, "2-D")


@settings(max_examples=30)
@given(h=st.integers(1, 15), w=st.integers(1, 15), kh=st.integers(1, 6), kw=st.integers(1, 6),
       mode=modes, seed=st.integers(0, 2**16))
def test_correlate_and_convolve_match_scipy(h, w, kh, kw, mode, seed):
    rng = np.random.default_rng(seed)
    x, k = rng.random((h, w)), rng.standard_normal((kh, kw))
    assert_close(filters.correlate2d(x, k, mode, 0.5), ndi.correlate(x, k, mode=mode, cval=0.5), 1e-12, "corr")
    assert_close(filters.convolve2d(x, k, mode, 0.5), ndi.convolve(x, k, mode=mode, cval=0.5), 1e-12, "conv")


@pytest.mark.parametrize("sigma", [0.0, 0.5, 1.0, 1.6, 3.3])
@pytest.mark.parametrize("mode", filters.MODES)
def test_gaussian_blur_matches_scipy_and_skimage(skimage, sigma, mode):
    img = skimage.data.camera()[100:180, 200:300] / 255.0
    out = filters.gaussian_blur(img, sigma, mode=mode, cval=0.2)
    assert_close(out, ndi.gaussian_filter(img, sigma, mode=mode, cval=0.2), 1e-12, "scipy")
    ref = skimage.filters.gaussian(img, sigma=sigma, mode=mode, cval=0.2, preserve_range=True)
    assert_close(out, ref, 1e-12, "skimage")


def test_gaussian_kernel_radius_rule():
    for sigma, truncate in [(1.0, 4.0), (1.6, 4.0), (0.3, 4.0), (2.0, 3.0), (1.125, 4.0)]:
        k = filters.gaussian_kernel1d(sigma, truncate)
        assert len(k) == 2 * int(truncate * sigma + 0.5) + 1
        assert abs(k.sum() - 1.0) < 1e-15 and np.all(k[: len(k) // 2] < k[1 : len(k) // 2 + 1])
    assert filters.gaussian_kernel1d(0.0).tolist() == [1.0]


def test_gaussian_blur_rgb_float32_and_anisotropic(skimage):
    img = skimage.data.astronaut()[:64, :80]
    out = filters.gaussian_blur(img.astype(np.float32) / 255, 1.5)
    assert out.dtype == np.float32 and out.shape == img.shape
    ref = ndi.gaussian_filter(img / 255.0, (1.5, 1.5, 0))
    assert_close(out, ref, 2e-6, "float32 rgb")
    assert_close(filters.gaussian_blur(img[..., 0], (2.0, 0.7)), ndi.gaussian_filter(img[..., 0] / 255.0, (2.0, 0.7)),
                 1e-12, "anisotropic")


def test_gaussian_blur_into_out():
    rng = np.random.default_rng(5)
    stack = np.zeros((2, 20, 30), dtype=np.float32)
    stack[0] = rng.random((20, 30))
    got = filters.gaussian_blur(stack[0], 1.5, mode="mirror", out=stack[1])
    assert np.shares_memory(got, stack[1])
    assert_close(stack[1], filters.gaussian_blur(stack[0], 1.5, mode="mirror"), 0.0, "out")
    with pytest.raises(ValueError, match="gaussian_blur: out must be a C-contiguous float32"):
        filters.gaussian_blur(stack[0], 1.0, out=np.empty((20, 30)))
    with pytest.raises(ValueError, match="gaussian_blur: out must not share memory"):
        filters.gaussian_blur(stack[0], 1.0, out=stack[0])
    with pytest.raises(TypeError, match="gaussian_blur: out must be a numpy array"):
        filters.gaussian_blur(stack[0], 1.0, out=[0.0])


def test_sobel_and_scharr_match_references(skimage, cv2):
    img = skimage.data.coins()[:90, :120] / 255.0
    gx, gy = filters.sobel(img)
    assert_close(gx, ndi.sobel(img, axis=1), 1e-12, "sobel x")
    assert_close(gy, ndi.sobel(img, axis=0), 1e-12, "sobel y")
    sx, sy = filters.scharr(img)
    assert_close(sx, cv2.Scharr(img, cv2.CV_64F, 1, 0, borderType=cv2.BORDER_REFLECT), 1e-12, "scharr x")
    assert_close(sy, cv2.Scharr(img, cv2.CV_64F, 0, 1, borderType=cv2.BORDER_REFLECT), 1e-12, "scharr y")


def test_rgb2gray_matches_skimage(skimage):
    img = skimage.data.astronaut()
    assert_close(filters.rgb2gray(img), skimage.color.rgb2gray(img), 1e-12, "rgb2gray")
    with pytest.raises(ValueError, match=r"rgb2gray: image must be \(H, W\) or \(H, W, 3\)"):
        filters.rgb2gray(np.zeros((4, 4, 2)))


def test_filter_input_errors():
    with pytest.raises(ValueError, match="gaussian_blur: image must be 2-D or 3-D"):
        filters.gaussian_blur(np.zeros(4), 1.0)
    with pytest.raises(ValueError, match=r"gaussian_blur: sigma must be in \[0, 100000\], got -1"):
        filters.gaussian_blur(np.zeros((4, 4)), -1.0)
    with pytest.raises(ValueError, match=r"gaussian_blur: sigma must be a number or \(sigma_y, sigma_x\)"):
        filters.gaussian_blur(np.zeros((4, 4)), (1.0, 2.0, 3.0))
    with pytest.raises(ValueError, match="gaussian_blur: mode must be one of"):
        filters.gaussian_blur(np.zeros((4, 4)), 1.0, mode="edge")
    with pytest.raises(ValueError, match="correlate2d: kernel must be 2-D"):
        filters.correlate2d(np.zeros((4, 4)), np.ones(3))
    with pytest.raises(ValueError, match="sobel: image must be finite"):
        filters.sobel(np.full((4, 4), np.nan))


@settings(max_examples=15)
@given(seed=st.integers(0, 2**16), nearest=st.booleans(), channels=st.sampled_from([1, 3]))
def test_warp_kernel_equals_naive_twin(seed, nearest, channels):
    rng = np.random.default_rng(seed)
    img = rng.random((9, 11, channels))
    m = np.eye(3) + 0.3 * rng.standard_normal((3, 3)) * [[1, 1, 10], [1, 1, 10], [0.02, 0.02, 0]]
    inv = np.linalg.inv(m)
    out = np.empty((8, 13, channels))
    kern.warp_bilinear(img, inv, 8, 13, 0.3, nearest, out)
    assert_close(out, naive.warp_bilinear(img, inv, 8, 13, 0.3, nearest), 1e-12, "warp")


@settings(max_examples=25)
@given(h=st.integers(1, 9), w=st.integers(1, 9), out_h=st.integers(1, 20), out_w=st.integers(1, 20),
       mode=st.sampled_from(warp.WARP_MODES), channels=st.sampled_from([0, 1, 3]), seed=st.integers(0, 2**16))
def test_resize_kernel_equals_naive_twin_and_warp(h, w, out_h, out_w, mode, channels, seed):
    rng = np.random.default_rng(seed)
    img = rng.random((h, w, channels) if channels else (h, w))
    fast = warp.resize(img, (out_h, out_w), mode=mode, cval=0.3)
    assert fast.shape == (out_h, out_w) + img.shape[2:]
    sy, sx = out_h / h, out_w / w
    m = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]])
    # The separable kernel takes the same samples as the general projective warp.
    assert_close(fast, warp.warp_perspective(img, m, (out_h, out_w), mode=mode, cval=0.3), 1e-12, "resize vs warp")
    nearest = mode == "nearest"
    y0, y1, fy = warp._resize_taps(h, out_h, nearest, img.dtype)
    x0, x1, fx = warp._resize_taps(w, out_w, nearest, img.dtype)
    out = np.empty((out_h, out_w))
    plane = np.ascontiguousarray(img[..., 0] if channels else img)
    kern.resize_bilinear(plane, y0, y1, fy, x0, x1, fx, 0.3, out)
    assert_close(out, naive.resize_bilinear(plane, y0, y1, fy, x0, x1, fx, 0.3), 1e-12, "resize twin")


def test_warps_match_skimage(skimage):
    img = skimage.data.camera() / 255.0
    m = np.array([[0.9, 0.2, 10.0], [-0.15, 1.1, -5.0]])
    ref = skimage.transform.warp(img, skimage.transform.AffineTransform(matrix=np.vstack([m, [0, 0, 1]])).inverse,
                                 order=1, mode="constant", cval=0.1, preserve_range=True)
    assert_close(warp.warp_affine(img, m, cval=0.1), ref, 1e-12, "affine")
    hom = np.array([[1.0, 0.1, 5.0], [0.05, 0.95, 3.0], [2e-4, -1e-4, 1.0]])
    ref = skimage.transform.warp(img, skimage.transform.ProjectiveTransform(hom).inverse, output_shape=(400, 600),
                                 order=1, mode="edge", preserve_range=True)
    assert_close(warp.warp_perspective(img, hom, (400, 600), mode="nearest"), ref, 1e-12, "perspective")


def test_resize_matches_opencv(skimage, cv2):
    img = skimage.data.astronaut()[:100, :150] / 255.0
    for shape in [(50, 75), (233, 97)]:
        ref = cv2.resize(img, shape[::-1], interpolation=cv2.INTER_LINEAR)
        assert_close(warp.resize(img, shape), ref, 1e-9, f"resize {shape}")


def test_warp_errors():
    img = np.zeros((4, 4))
    with pytest.raises(ValueError, match=r"warp_affine: matrix must have shape \(2, 3\), got \(3, 3\)"):
        warp.warp_affine(img, np.eye(3))
    with pytest.raises(ValueError, match="warp_perspective: matrix must be invertible"):
        warp.warp_perspective(img, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="warp_perspective: mode must be one of"):
        warp.warp_perspective(img, np.eye(3), mode="wrap")


def test_pyramids(skimage):
    img = skimage.data.camera()[:200, :300] / 255.0
    gauss = pyramids.gaussian_pyramid(img, levels=4)
    assert [g.shape for g in gauss] == [(200, 300), (100, 150), (50, 75), (25, 38)]
    assert_close(gauss[1], ndi.gaussian_filter(img, 2 / 3, mode="reflect")[::2, ::2], 1e-12, "level 1")
    lap = pyramids.laplacian_pyramid(img, levels=4)
    assert_close(pyramids.reconstruct_laplacian(lap), img, 1e-12, "reconstruction")
    # Band-pass levels have (almost) no DC: their mean is tiny next to the image's.
    assert abs(lap[0].mean()) < 0.01 * img.mean()
    assert len(pyramids.gaussian_pyramid(np.ones((5, 9)))) == 3
