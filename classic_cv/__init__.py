"""Classic computer vision: filters, edges, corners, SIFT, Hough, RANSAC, seam carving,
HOG, segmentation by clustering, optical flow, camera calibration, two-view geometry,
rotations and point-set registration, stereo, and detection and segmentation metrics.

Functions take ``np.ndarray`` images, ``(H, W)`` grey or ``(H, W, 3)`` colour
(integers are scaled to [0, 1]), validate them once at the entry, and return
arrays or small dataclasses. Points are (x, y) = (column, row) everywhere
(``Keypoints.xy``, ``corner_peaks``, RANSAC and homographies, Hough results,
the drawing helpers of ``classic_cv.io``); an array of (row, column) pairs would
say so in its name. ``python -m classic_cv --help`` runs each algorithm on
image files.
"""
from .boxes import (
    DetectionScores,
    average_precision,
    batched_nms,
    box_convert,
    box_iou,
    detection_pr_curves,
    mean_average_precision,
    nms,
    precision_recall_curve,
    soft_nms,
)
from .calibration import (
    CameraCalibration,
    calibrate_camera,
    calibrate_dlt,
    calibrate_from_vanishing_points,
    checkerboard_points,
    decompose_projection,
    find_checkerboard_corners,
    project_points,
)
from .canny import canny
from .clustering import AgglomerativeResult, KMeansResult, MeanShiftResult, agglomerative, kmeans, mean_shift
from .filters import convolve2d, correlate2d, gaussian_blur, gaussian_kernel1d, rgb2gray, scharr, sobel
from .flow import flow_to_rgb, horn_schunck, interpolate_frame, lucas_kanade, track_points, warp_by_flow
from .harris import corner_harris, corner_peaks, corner_shi_tomasi, corner_subpix, structure_tensor
from .hog import color_histogram_hsv, hog
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
from .metrics import class_iou, confusion_matrix, dice, mask_iou, mean_iou, psnr, ssim
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
from .registration import Alignment, IcpResult, icp, rigid_transform, umeyama
from .rotations import (
    euler_to_matrix,
    matrix_to_euler,
    matrix_to_quaternion,
    matrix_to_rotvec,
    quaternion_to_matrix,
    rodrigues,
    rotvec_to_matrix,
)
from .seam_carving import energy_map, find_seam, remove_object, seam_carve
from .segmentation import label_to_rgb, mark_boundaries, pixel_features, segment
from .sift import Keypoints, sift
from .stereo import block_match, colorize_disparity, disparity_to_depth, sgm
from .stitching import stitch
from .two_view import (
    RelativePose,
    decompose_essential,
    essential_from_fundamental,
    essential_from_pose,
    recover_pose,
    triangulate,
)
from .warp import resize, warp_affine, warp_perspective

__all__ = [
    # camera calibration
    "CameraCalibration", "calibrate_camera", "calibrate_dlt", "calibrate_from_vanishing_points",
    "checkerboard_points", "corner_subpix", "decompose_projection", "find_checkerboard_corners", "project_points",
    # rotations, two-view geometry, point-set registration
    "Alignment", "IcpResult", "RelativePose", "decompose_essential", "essential_from_fundamental",
    "essential_from_pose", "euler_to_matrix", "icp", "matrix_to_euler", "matrix_to_quaternion", "matrix_to_rotvec",
    "quaternion_to_matrix", "recover_pose", "rigid_transform", "rodrigues", "rotvec_to_matrix", "triangulate",
    "umeyama",
    # HOG and colour features
    "color_histogram_hsv", "hog",
    # optical flow and frame interpolation
    "flow_to_rgb", "horn_schunck", "interpolate_frame", "lucas_kanade", "track_points", "warp_by_flow",
    # clustering and segmentation
    "AgglomerativeResult", "KMeansResult", "MeanShiftResult", "agglomerative", "kmeans", "label_to_rgb",
    "mark_boundaries", "mean_shift", "pixel_features", "segment",
    # stereo
    "block_match", "colorize_disparity", "disparity_to_depth", "sgm",
    # boxes and metrics
    "DetectionScores", "average_precision", "batched_nms", "box_convert", "box_iou", "class_iou", "confusion_matrix",
    "detection_pr_curves", "dice", "mask_iou", "mean_average_precision", "mean_iou", "nms", "precision_recall_curve",
    "psnr", "soft_nms",
    "ssim",
    "AffineModel", "Circles", "FundamentalModel", "HomographyModel", "Keypoints", "LineModel", "Lines",
    "RansacResult", "canny", "convolve2d", "corner_harris", "corner_peaks", "corner_shi_tomasi",
    "correlate2d", "energy_map", "find_fundamental", "find_homography", "find_seam", "gaussian_blur",
    "gaussian_kernel1d", "gaussian_pyramid", "hough_circle", "hough_circle_peaks", "hough_line",
    "hough_line_peaks", "laplacian_pyramid", "match_descriptors", "probabilistic_hough_line", "ransac",
    "read_image", "reconstruct_laplacian", "remove_object", "resize", "rgb2gray", "scharr", "seam_carve",
    "sift", "sobel", "stitch", "structure_tensor", "warp_affine", "warp_perspective", "write_image",
]
