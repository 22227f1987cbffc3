"""Classic computer vision: filters, edges, corners, SIFT, Hough, RANSAC, seam carving.

Functions take ``np.ndarray`` images, ``(H, W)`` grey or ``(H, W, 3)`` colour
(integers are scaled to [0, 1]), validate them once at the entry, and return
arrays or small dataclasses. Points are (x, y) = (column, row) everywhere
(``Keypoints.xy``, ``corner_peaks``, RANSAC and homographies, Hough results,
the drawing helpers of ``classic_cv.io``); an array of (row, column) pairs would
say so in its name. ``python -m classic_cv --help`` runs each algorithm on
image files.
"""
from .canny import canny
from .filters import convolve2d, correlate2d, gaussian_blur, gaussian_kernel1d, rgb2gray, scharr, sobel
from .harris import corner_harris, corner_peaks, corner_shi_tomasi, structure_tensor
from .hough import (
    Circles,
    Lines,
    hough_circle,
    hough_circle_peaks,
    hough_line,
    hough_line_peaks,
    probabilistic_hough_line,
)
from .io import read_image, write_image
from .matching import match_descriptors
from .pyramids import gaussian_pyramid, laplacian_pyramid, reconstruct_laplacian
from .ransac import (
    AffineModel,
    FundamentalModel,
    HomographyModel,
    LineModel,
    RansacResult,
    find_fundamental,
    find_homography,
    ransac,
)
from .seam_carving import energy_map, find_seam, remove_object, seam_carve
from .sift import Keypoints, sift
from .stitching import stitch
from .warp import resize, warp_affine, warp_perspective

__all__ = [
    "AffineModel", "Circles", "FundamentalModel", "HomographyModel", "Keypoints", "LineModel", "Lines",
    "RansacResult", "canny", "convolve2d", "corner_harris", "corner_peaks", "corner_shi_tomasi",
    "correlate2d", "energy_map", "find_fundamental", "find_homography", "find_seam", "gaussian_blur",
    "gaussian_kernel1d", "gaussian_pyramid", "hough_circle", "hough_circle_peaks", "hough_line",
    "hough_line_peaks", "laplacian_pyramid", "match_descriptors", "probabilistic_hough_line", "ransac",
    "read_image", "reconstruct_laplacian", "remove_object", "resize", "rgb2gray", "scharr", "seam_carve",
    "sift", "sobel", "stitch", "structure_tensor", "warp_affine", "warp_perspective", "write_image",
]
