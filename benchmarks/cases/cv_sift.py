"""SIFT detection + description against OpenCV's and scikit-image's SIFT (same grey input).

OpenCV's detector is created in the reference's worker only (``deferred``): running OpenCV
code in our worker starts its thread pool there, which slowed our kernels 2.5x in the stereo
case. The 2048 x 2048 image is camera upsampled 4x with our own bilinear ``resize`` for the
same reason.
"""
import importlib.util

import numpy as np

from benchmarks.harness import Case, deferred
from classic_cv.sift import sift
from classic_cv.warp import resize


def _skimage_sift(image):
    from skimage.feature import SIFT

    extractor = SIFT()
    extractor.detect_and_extract(image)
    return extractor.descriptors


def _opencv_sift(image):
    def build():
        import cv2

        detector = cv2.SIFT_create()
        return lambda: detector.detectAndCompute(image, None)

    return deferred(build)


def cases(quick):
    if importlib.util.find_spec("cv2") is None or importlib.util.find_spec("skimage") is None:
        return []
    from skimage import data

    camera = data.camera()
    images = {"camera_512": camera}
    if not quick:
        images["camera_2048"] = (resize(camera / 255.0, (2048, 2048)) * 255).round().astype(np.uint8)
    out = []
    for name, image in images.items():
        refs = {"cv2": _opencv_sift(image)}
        if not quick and image.shape[0] <= 512:  # scikit-image takes seconds per call
            refs["skimage"] = lambda image=image: _skimage_sift(image)
        out.append(Case(f"sift_{name}", lambda image=image: sift(image), refs, note=f"{image.shape[0]}x{image.shape[1]}"))
    return out
