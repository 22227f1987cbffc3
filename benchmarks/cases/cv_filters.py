"""Gaussian blur, Sobel gradients, a 2x bilinear resize and a bilinear perspective warp against
scikit-image and OpenCV (float32 images)."""
import numpy as np

from benchmarks.cases.cv_canny import images
from benchmarks.harness import Case
from classic_cv.filters import gaussian_blur, sobel
from classic_cv.warp import resize, warp_perspective


def cases(quick):
    import cv2
    from skimage import filters, transform

    out = []
    for label, img8 in images(quick):
        img = (img8 / np.float32(255)).astype(np.float32)
        for sigma in (1.0, 3.0):
            ksize = 2 * int(4 * sigma + 0.5) + 1
            out.append(Case(
                f"gaussian s={sigma:g} {label}",
                lambda img=img, s=sigma: gaussian_blur(img, s),
                {"skimage": lambda img=img, s=sigma: filters.gaussian(img, sigma=s, mode="reflect"),
                 "cv2": lambda img=img, s=sigma, k=ksize: cv2.GaussianBlur(img, (k, k), s,
                                                                           borderType=cv2.BORDER_REFLECT)},
                note=f"same {ksize}x{ksize} kernel, reflect border",
            ))
        out.append(Case(
            f"sobel gx+gy {label}",
            lambda img=img: sobel(img),
            {"skimage": lambda img=img: (filters.sobel_h(img), filters.sobel_v(img)),
             "cv2": lambda img=img: (cv2.Sobel(img, cv2.CV_32F, 1, 0, borderType=cv2.BORDER_REFLECT),
                                     cv2.Sobel(img, cv2.CV_32F, 0, 1, borderType=cv2.BORDER_REFLECT))},
        ))
        size = (2 * img.shape[0], 2 * img.shape[1])
        out.append(Case(
            f"resize 2x {label}",
            lambda img=img, size=size: resize(img, size),
            {"skimage": lambda img=img, size=size: transform.resize(img, size, order=1, mode="edge",
                                                                    anti_aliasing=False, preserve_range=True),
             "cv2": lambda img=img, size=size: cv2.resize(img, size[::-1], interpolation=cv2.INTER_LINEAR)},
            note="bilinear upsample (SIFT's first step)",
        ))
        hom = np.array([[1.0, 0.1, 5.0], [0.05, 0.95, 3.0], [2e-4, -1e-4, 1.0]])
        inverse = transform.ProjectiveTransform(hom).inverse
        out.append(Case(
            f"warp_perspective {label}",
            lambda img=img: warp_perspective(img, hom),
            {"skimage": lambda img=img: transform.warp(img, inverse, order=1, preserve_range=True),
             "cv2": lambda img=img: cv2.warpPerspective(img, hom, img.shape[::-1], flags=cv2.INTER_LINEAR)},
            note="bilinear, constant border",
        ))
    return out
