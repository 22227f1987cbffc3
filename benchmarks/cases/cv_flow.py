"""Optical flow: KLT tracking against OpenCV, dense Lucas-Kanade against scikit-image.

The frames are the camera image (512^2) and the same image moved by a smooth
flow (affine plus a sinusoid, at most 4 px), built with SciPy so that neither
side's code runs in the other's worker. Tracked points: Shi-Tomasi corners
from scikit-image (300 strongest, 7 px apart), the same array for both sides.
Our functions get the frames as float32 in [0, 1]; OpenCV's tracker takes only
8-bit frames, so it gets the uint8 originals.
"""
import numpy as np

from benchmarks.harness import Case


def _frames():
    """(frame0, frame1) uint8, 512x512: frame0(x) = frame1(x + flow(x)) for a smooth flow."""
    from scipy import ndimage
    from skimage import data

    frame1 = data.camera().astype(np.float64)
    h, w = frame1.shape
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w])[:, None, None]
    u = 1.5 + 0.8 * (x - 0.5) + np.sin(2 * np.pi * y)
    v = -1.0 + 0.5 * (y - 0.5) + np.cos(2 * np.pi * x)
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    frame0 = ndimage.map_coordinates(frame1, [rows + v, cols + u], order=3, mode="nearest")
    return np.clip(np.round(frame0), 0, 255).astype(np.uint8), frame1.astype(np.uint8)


def _corners(frame):
    from skimage.feature import corner_peaks, corner_shi_tomasi

    rc = corner_peaks(corner_shi_tomasi(frame, sigma=1.5), min_distance=7, threshold_rel=0.01, num_peaks=300)
    return np.ascontiguousarray(rc[:, ::-1], dtype=np.float32)  # (x, y)


def cases(quick):
    try:
        import cv2
        from skimage.registration import optical_flow_ilk
    except ImportError:
        return []
    from classic_cv.flow import lucas_kanade, track_points

    frame0, frame1 = _frames()
    float0, float1 = (f.astype(np.float32) / np.float32(255) for f in (frame0, frame1))
    points = _corners(frame0)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 30, 0.01)
    out = [Case(
        "track_points 300 pts camera 512",
        lambda: track_points(float0, float1, points, win_size=21, levels=4, iterations=30, epsilon=0.01),
        {"cv2": lambda: cv2.calcOpticalFlowPyrLK(frame0, frame1, points, None, winSize=(21, 21), maxLevel=3,
                                                 criteria=criteria)},
        note="21x21 window, 4 levels; cv2 on uint8, ours on float32",
    )]
    window_radius = 7
    out.append(Case(
        "lucas_kanade dense camera 512",
        lambda: lucas_kanade(float0, float1, window=2 * window_radius + 1, iterations=10),
        {"skimage": lambda: optical_flow_ilk(float0, float1, radius=window_radius, num_warp=10)},
        note="15x15 window, 10 warps per level, pyramid to 16 px",
    ))
    return out
