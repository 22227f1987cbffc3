"""Fill Numba's on-disk cache with every classic_cv kernel: ``python -m classic_cv.precompile``.

The companion of ``python -m layers.precompile`` (see its docstring for why):
a first ``python -m classic_cv sift`` took 12 s compiling and 1.2 s after.
Each algorithm runs once on a small synthetic photograph-like image, in
float32 and in float64 (integer images and image files become float64), with
each option that changes a kernel's argument types.
"""
import sys
import time

import numpy as np

from . import (
    AffineModel, LineModel, canny, convolve2d, corner_harris, corner_peaks, corner_shi_tomasi, energy_map,
    find_fundamental, find_homography, find_seam, gaussian_pyramid, hough_circle, hough_circle_peaks, hough_line,
    hough_line_peaks, laplacian_pyramid, match_descriptors, probabilistic_hough_line, ransac, reconstruct_laplacian,
    remove_object, resize, rgb2gray, scharr, seam_carve, sift, sobel, stitch, structure_tensor, warp_affine,
    warp_perspective,
)
from .filters import _gaussian_blur


def scene(size=96, dtype=np.float64, rng=0):
    """A (size, size) test image with what every detector needs: blurred noise for
    texture and blobs, a filled square for corners and straight edges, and a ring."""
    rng = np.random.default_rng(rng)
    image = _gaussian_blur(rng.random((size, size)), 2.0) * 0.5
    y, x = np.mgrid[:size, :size]
    image[size // 5:size // 2, size // 5:size // 2] += 0.4
    radius = np.hypot(x - 0.65 * size, y - 0.65 * size)
    image[np.abs(radius - size / 6) < 1.5] = 1.0
    return image.astype(dtype)


def _features(image):
    """Edges, corners, lines and circles."""
    canny(image, 1.0)
    canny(image, 1.0, 0.1, 0.9, use_quantiles=True)
    for mode in ("constant", "reflect", "nearest", "wrap"):
        sobel(image, mode=mode)
    scharr(image)
    convolve2d(image, np.ones((3, 5), image.dtype) / 15)
    structure_tensor(image)
    corner_peaks(corner_harris(image), min_distance=3)
    corner_peaks(corner_harris(image, method="eps"), min_distance=3, num_peaks=5)
    corner_shi_tomasi(image)
    edges = canny(image, 1.0)
    hough_line_peaks(*hough_line(edges), num_peaks=3)
    probabilistic_hough_line(edges, line_length=10, rng=0)
    radii = np.arange(10, 20)
    hough_circle_peaks(hough_circle(edges, radii), radii, num_peaks=2)


def _geometry(image, rng):
    """SIFT, matching, RANSAC, warps, pyramids and stitching between two views."""
    shifted = warp_affine(image, np.array([[1.0, 0.05, -6.0], [-0.05, 1.0, -4.0]]), mode="nearest")
    warp_perspective(image, np.array([[1.0, 0.02, 1.0], [0.01, 1.0, 2.0], [1e-4, 0.0, 1.0]]))
    for mode in ("constant", "nearest"):
        resize(image, (50, 70), mode=mode)
    laplacian = laplacian_pyramid(image, levels=3)
    reconstruct_laplacian(laplacian)
    gaussian_pyramid(image, levels=3)
    (kp1, desc1), (kp2, desc2) = sift(image), sift(shifted)
    match_descriptors(desc1, desc2, ratio=0.9, cross_check=True)
    src = rng.random((30, 2)) * 90
    dst = src @ np.array([[1.0, 0.1], [-0.1, 1.0]]) + 3.0
    find_homography(src, dst, rng=0)
    find_fundamental(src, dst + rng.random((30, 2)), rng=0)
    ransac((src,), LineModel(), 1.0, rng=0)
    ransac((src, dst), AffineModel(), 1.0, rng=0)
    colour = np.stack([image, shifted, image], axis=2)
    stitch(colour, np.roll(colour, -12, axis=1))


def _seams(image):
    for energy in ("backward", "forward"):
        seam_carve(image, width=90, height=92, energy=energy)
        seam_carve(image, width=100, energy=energy)
    find_seam(energy_map(image))
    mask = np.zeros(image.shape, bool)
    mask[40:50, 40:44] = True
    remove_object(image, mask)


def precompile(dtypes=(np.float32, np.float64)):
    """Run every algorithm once per dtype; returns the seconds it took."""
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    for dtype in dtypes:
        image = scene(dtype=dtype)
        _features(image)
        _features(rgb2gray(np.stack([image] * 3, axis=2)))
        _geometry(image, rng)
        _seams(image)
    return time.perf_counter() - start


if __name__ == "__main__":
    print(f"classic_cv: kernels compiled or loaded from cache in {precompile():.1f} s", file=sys.stderr)
