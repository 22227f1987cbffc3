"""Stereo matching on the Middlebury motorcycle pair (500x741) against OpenCV.

Both sides get the same grey uint8 pair and search disparities 0..63 (OpenCV's
numDisparities=64) with the same window. Block matching: our default census
cost with left-right check and sub-pixel refinement against cv2.StereoBM's
defaults. SGM: our 8 paths against StereoSGBM's full 8-path mode (MODE_HH),
our 4 paths against its default single-pass 5-path mode, with OpenCV's
documented penalties P1 = 8 w^2, P2 = 32 w^2. The accuracy of the same
settings is held by tests/classic_cv/test_stereo.py.

The grey pair is made with NumPy and the OpenCV matchers are built inside the
reference worker only: running any OpenCV function in our worker starts its
thread pool, whose spinning threads slowed our Numba threads by 2.5x.
"""
import importlib.util

import numpy as np

from benchmarks.harness import Case, deferred
from classic_cv.filters import rgb2gray
from classic_cv.stereo import block_match, sgm

MAX_DISPARITY = 63


def _gray_pair():
    from skimage import data

    return tuple(np.round(rgb2gray(im) * 255).astype(np.uint8) for im in data.stereo_motorcycle()[:2])


def _opencv(make_matcher, left, right):
    """A deferred reference: builds the OpenCV matcher in its own worker."""
    def build():
        matcher = make_matcher()
        return lambda: matcher.compute(left, right)

    return deferred(build)


def _stereo_bm():
    import cv2

    return cv2.StereoBM_create(numDisparities=MAX_DISPARITY + 1, blockSize=9)


def _stereo_sgbm(full_8_paths):
    import cv2

    mode = cv2.STEREO_SGBM_MODE_HH if full_8_paths else cv2.STEREO_SGBM_MODE_SGBM
    return cv2.StereoSGBM_create(0, MAX_DISPARITY + 1, 5, P1=8 * 25, P2=32 * 25, mode=mode)


def cases(quick):
    if importlib.util.find_spec("cv2") is None or importlib.util.find_spec("skimage") is None:
        return []
    left, right = _gray_pair()
    out = [Case("stereo block_match census w9",
                lambda: block_match(left, right, MAX_DISPARITY, 9),
                {"cv2": _opencv(_stereo_bm, left, right)},
                note="500x741, d 0..63, cv2.StereoBM")]
    for paths in (8,) if quick else (8, 4):
        out.append(Case(f"stereo sgm {paths} paths w5",
                        lambda paths=paths: sgm(left, right, MAX_DISPARITY, 5, paths=paths),
                        {"cv2": _opencv(lambda paths=paths: _stereo_sgbm(paths == 8), left, right)},
                        note=f"500x741, d 0..63, cv2.StereoSGBM {'MODE_HH' if paths == 8 else 'MODE_SGBM'}"))
    return out
