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
    AffineModel, LineModel, agglomerative, batched_nms, block_match, box_iou, calibrate_camera, canny,
    checkerboard_points, color_histogram_hsv, convolve2d, corner_harris, corner_peaks, corner_shi_tomasi,
    corner_subpix, energy_map, euler_to_matrix, find_checkerboard_corners, find_fundamental, find_homography,
    find_seam, flow_to_rgb, gaussian_pyramid, hog, horn_schunck, hough_circle, hough_circle_peaks, hough_line,
    hough_line_peaks, icp, interpolate_frame, kmeans, laplacian_pyramid, lucas_kanade, mark_boundaries,
    match_descriptors, matrix_to_euler, matrix_to_quaternion, matrix_to_rotvec, mean_average_precision, mean_iou,
    mean_shift, nms, probabilistic_hough_line, project_points, quaternion_to_matrix, ransac, reconstruct_laplacian,
    remove_object, resize, rgb2gray, rodrigues, rotvec_to_matrix, scharr, seam_carve, segment, sgm, sift, sobel,
    soft_nms, ssim, stitch, structure_tensor, track_points, triangulate, warp_affine, warp_by_flow,
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
    (_, desc1), (_, desc2) = sift(image), sift(shifted)
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


def _motion_and_stereo(image):
    """Optical flow, tracking, stereo and HOG between two shifted views."""
    shifted = np.roll(image, 2, axis=1)
    flow = lucas_kanade(image, shifted, window=9)
    horn_schunck(image, shifted, iterations=5)
    track_points(image, shifted, corner_peaks(corner_shi_tomasi(image), min_distance=5, num_peaks=20))
    flow_to_rgb(flow)
    interpolate_frame(image, warp_by_flow(shifted, flow), flow)
    for cost in ("sad", "ssd", "ncc", "census"):
        block_match(shifted, image, max_disparity=8, window=5, cost=cost)
    sgm(shifted, image, max_disparity=8, paths=8)
    sgm(shifted, image, max_disparity=8, paths=4, cost="sad")
    hog(image, visualize=True)
    colour = np.stack([image, shifted, image], axis=2)
    hog(colour)
    color_histogram_hsv(colour)
    mark_boundaries(colour, segment(colour, k=3, rng=0))
    ssim(image, shifted)


def _float64_only(rng):
    """The families whose kernels take float64 whatever the input: points, boxes, clusters, cameras."""
    X = rng.random((60, 5))
    kmeans(X, 3, rng=0)
    mean_shift(X, 0.3, bin_seeding=True)
    mean_shift(X, 0.3, kernel="gaussian")
    for linkage in ("single", "average", "complete", "ward"):
        agglomerative(X, n_clusters=3, linkage=linkage)
    boxes = np.hstack([X[:, :2] * 50, X[:, :2] * 50 + 5 + X[:, 2:4] * 20])
    box_iou(boxes, boxes)
    nms(boxes, X[:, 4], 0.5)
    batched_nms(boxes, X[:, 4], (X[:, 0] * 3).astype(int), 0.5)
    for method in ("linear", "gaussian"):
        soft_nms(boxes, X[:, 4], method=method)
    classes = (X[:, 0] * 3).astype(int)
    mean_average_precision([{"boxes": boxes, "scores": X[:, 4], "classes": classes}],
                           [{"boxes": boxes[::2], "classes": classes[::2]}])
    mean_iou(classes, classes[::-1], 3)
    rotations = rotvec_to_matrix(X[:, :3])
    rodrigues(rotations[0])
    matrix_to_rotvec(rotations)
    quaternion_to_matrix(matrix_to_quaternion(rotations))
    euler_to_matrix("xyz", matrix_to_euler("xyz", rotations))
    points = rng.random((40, 3)) + [0, 0, 4]
    P1, P2 = np.eye(3, 4), np.hstack([np.eye(3), [[-0.5], [0], [0]]])
    triangulate(P1, P2, points[:, :2] / points[:, 2:], (points[:, :2] - [0.5, 0]) / points[:, 2:], refine=True)
    icp(points, points @ rotations[0].T + 0.01)
    _cameras()


def _cameras():
    """Checkerboard corners found in a rendered view; calibration from projected views."""
    pattern, square = (5, 4), 12
    board = np.kron((np.indices((pattern[1] + 1, pattern[0] + 1)).sum(axis=0) % 2).astype(float),
                    np.ones((square, square)))
    board = np.pad(board, 2 * square, constant_values=0.5)
    view = warp_perspective(board, np.array([[1.0, 0.05, 0.0], [0.02, 1.0, 0.0], [2e-4, 0.0, 1.0]]),
                            mode="constant", cval=0.5)
    corner_subpix(view, find_checkerboard_corners(view, pattern))
    K = np.array([[400.0, 0.0, 160.0], [0.0, 400.0, 120.0], [0.0, 0.0, 1.0]])
    target = checkerboard_points(pattern, square)
    views = [project_points(target, K, rotvec_to_matrix(np.array(r)), np.array([-30.0, -20.0, 300.0]),
                            np.array([-0.1, 0.02]))
             for r in ([0.3, 0.1, 0.0], [-0.2, 0.35, 0.1], [0.1, -0.3, -0.2])]
    calibrate_camera(target, views)


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
        _motion_and_stereo(image)
    _float64_only(rng)
    return time.perf_counter() - start


if __name__ == "__main__":
    print(f"classic_cv: kernels compiled or loaded from cache in {precompile():.1f} s", file=sys.stderr)
