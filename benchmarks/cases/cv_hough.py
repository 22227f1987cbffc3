"""Hough transforms against scikit-image and OpenCV on Canny edges of camera."""
import numpy as np

from benchmarks.cases.cv_canny import images
from benchmarks.harness import Case
from classic_cv.hough import hough_circle, hough_line, hough_line_peaks, probabilistic_hough_line


def cases(quick):
    import cv2
    from skimage import feature, transform

    out = []
    for label, img8 in images(quick):
        edges = feature.canny(img8 / 255.0, 2.0)
        edges8 = edges.astype(np.uint8) * 255
        theta = np.linspace(-np.pi / 2, np.pi / 2, 180, endpoint=False)
        out.append(Case(
            f"hough_line+peaks {label}",
            lambda e=edges: hough_line_peaks(*hough_line(e, theta), num_peaks=20),
            {"skimage": lambda e=edges: transform.hough_line_peaks(*transform.hough_line(e, theta), num_peaks=20),
             "cv2": lambda e=edges8: cv2.HoughLines(e, 1, np.pi / 180, 150)},
            note=f"{int(edges.sum())} edge px, 180 angles",
        ))
        out.append(Case(
            f"probabilistic_hough {label}",
            lambda e=edges: probabilistic_hough_line(e, threshold=10, line_length=50, line_gap=10, rng=0),
            {"skimage": lambda e=edges: transform.probabilistic_hough_line(e, 10, 50, 10, rng=0),
             "cv2": lambda e=edges8: cv2.HoughLinesP(e, 1, np.pi / 180, 10, minLineLength=50, maxLineGap=10)},
        ))
        if label.endswith("512"):
            radii = np.arange(20, 40)
            out.append(Case(
                f"hough_circle r=20..39 {label}",
                lambda e=edges: hough_circle(e, radii),
                {"skimage": lambda e=edges: transform.hough_circle(e, radii)},
            ))
    return out
