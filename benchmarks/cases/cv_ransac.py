"""RANSAC homography / fundamental matrix against OpenCV and scikit-image
(1,000 synthetic matches, 50% outliers, 1 px noise)."""
import numpy as np

from benchmarks.harness import Case
from classic_cv.ransac import apply_homography, find_fundamental, find_homography


def _matches(seed=0, n=1000):
    rng = np.random.default_rng(seed)
    H = np.array([[0.9, 0.1, 20.0], [-0.15, 1.1, -10.0], [2e-4, -1e-4, 1.0]])
    src = rng.uniform(0, 512, (n, 2))
    dst = apply_homography(H, src) + rng.normal(0, 1, (n, 2))
    out = rng.random(n) < 0.5
    dst[out] = rng.uniform(0, 512, (out.sum(), 2))
    return src, dst


def _stereo(seed=0, n=1000):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(-2, 2, n), rng.uniform(-2, 2, n), rng.uniform(4, 8, n)])
    K = np.array([[500.0, 0, 256], [0, 500, 256], [0, 0, 1]])
    a = 0.2
    R = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    p1, p2 = X @ K.T, (X @ R.T + np.array([-1.0, 0.2, 0.1])) @ K.T
    x1 = p1[:, :2] / p1[:, 2:] + rng.normal(0, 1, (n, 2))
    x2 = p2[:, :2] / p2[:, 2:] + rng.normal(0, 1, (n, 2))
    out = rng.random(n) < 0.5
    x2[out] = rng.uniform(0, 512, (out.sum(), 2))
    return x1, x2


def cases(quick):
    try:
        import cv2
    except ImportError:
        return []
    src, dst = _matches()
    x1, x2 = _stereo()
    refs = {"cv2": lambda: cv2.findHomography(src, dst, cv2.RANSAC, 4.0)}
    try:
        from skimage.measure import ransac
        from skimage.transform import ProjectiveTransform

        refs["skimage"] = lambda: ransac((src, dst), ProjectiveTransform, 4, 4.0, rng=0)
    except ImportError:
        pass
    return [
        Case("ransac_homography_1000", lambda: find_homography(src, dst, threshold=4.0), refs, note="50% outliers"),
        Case(
            "ransac_fundamental_1000",
            lambda: find_fundamental(x1, x2, threshold=3.0),
            {"cv2": lambda: cv2.findFundamentalMat(x1, x2, cv2.FM_RANSAC, 3.0, 0.99)},
            note="50% outliers",
        ),
    ]
