"""Canny edge detection against scikit-image and OpenCV (camera 512^2 and a 2048^2 image).

Every side gets the same image: ours and skimage the float32 image in [0, 1],
OpenCV its uint8 original (the only type cv2.Canny takes), with thresholds
scaled by 255 and the L2 gradient norm so the three compute the same map.
"""
import numpy as np

from benchmarks.harness import Case
from classic_cv.canny import canny


def images(quick):
    """(label, uint8 image) pairs: camera 512^2 and, unless quick, camera upscaled to 2048^2."""
    from skimage import data, transform

    camera = data.camera()
    yield "camera 512", camera
    if not quick:
        big = transform.resize(camera, (2048, 2048), order=1, preserve_range=True)
        yield "camera 2048", np.round(big).astype(np.uint8)


def cases(quick):
    import cv2
    from skimage import feature

    out = []
    for label, img8 in images(quick):
        img = (img8 / np.float32(255)).astype(np.float32)
        low, high = 0.1, 0.2
        # cv2.Canny's aperture-3 Sobel has the same scale as ours; it blurs nothing,
        # so it is given the Gaussian-smoothed image to do the same work.
        refs = {
            "skimage": lambda img=img: feature.canny(img, 1.0, low, high),
            "cv2": lambda img8=img8: cv2.Canny(cv2.GaussianBlur(img8, (9, 9), 1.0), 255 * low, 255 * high,
                                               L2gradient=True),
        }
        out.append(Case(f"canny {label}", lambda img=img: canny(img, 1.0, low, high), refs,
                        note="sigma=1; cv2 includes GaussianBlur(9x9)"))
    return out
