"""Harris response (+ corner peaks) against scikit-image and OpenCV (float32 images).

OpenCV's cornerHarris sums the structure tensor over a box window; it gets the
box as wide as our Gaussian window (9x9 for sigma=1), so both do the same work.
"""
import numpy as np

from benchmarks.cases.cv_canny import images
from benchmarks.harness import Case
from classic_cv.harris import corner_harris, corner_peaks


def cases(quick):
    import cv2
    from skimage import feature

    out = []
    for label, img8 in images(quick):
        img = (img8 / np.float32(255)).astype(np.float32)
        out.append(Case(
            f"harris response {label}",
            lambda img=img: corner_harris(img, k=0.05, sigma=1.0),
            {"skimage": lambda img=img: feature.corner_harris(img, k=0.05, sigma=1.0),
             "cv2": lambda img=img: cv2.cornerHarris(img, 9, 3, 0.05)},
            note="sigma=1 Gaussian vs cv2 9x9 box",
        ))
        response = feature.corner_harris(img)
        out.append(Case(
            f"corner_peaks d=5 {label}",
            lambda r=response: corner_peaks(r, min_distance=5, threshold_rel=0.01),
            {"skimage": lambda r=response: feature.corner_peaks(r, min_distance=5, threshold_rel=0.01)},
        ))
    return out
