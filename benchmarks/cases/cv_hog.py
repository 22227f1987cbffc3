"""HOG descriptors against scikit-image (camera 512^2 and, unless quick, a 2048^2 image).

Both sides get the same float32 image in [0, 1] and skimage's default
parameters (9 orientations, 8x8 cells, 3x3 blocks, L2-Hys).
"""
import numpy as np

from benchmarks.cases.cv_canny import images
from benchmarks.harness import Case
from classic_cv.hog import hog


def cases(quick):
    from skimage import feature

    out = []
    for label, img8 in images(quick):
        img = (img8 / np.float32(255)).astype(np.float32)
        out.append(Case(f"hog {label}", lambda img=img: hog(img),
                        {"skimage": lambda img=img: feature.hog(img)},
                        note="9 bins, 8x8 cells, 3x3 blocks, L2-Hys"))
    return out
