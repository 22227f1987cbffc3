"""Plain NumPy/loop twins of ``classic_cv._kernels.canny``."""
import numpy as np
from scipy import ndimage as ndi


def sobel_magnitude(image):
    """(gy, gx, mag) from scipy's Sobel with the same 'reflect' border."""
    gy = ndi.sobel(image, axis=0)
    gx = ndi.sobel(image, axis=1)
    return gy, gx, np.sqrt(gy * gy + gx * gx)


def nonmax_suppression(gy, gx, mag, mask, low):
    """Per-pixel loop: interpolate the magnitude one step forward and back along
    the gradient (bilinear on the 3x3 ring) and keep strict-enough maxima."""
    h, w = mag.shape
    out = np.zeros_like(mag)
    for i in range(1, h - 1):  # never on the image border
        for j in range(1, w - 1):
            m = mag[i, j]
            if not (mask[i, j] and m > 0 and m >= low):
                continue
            # Unit step along the gradient scaled so the larger component is 1 pixel.
            dy, dx = gy[i, j], gx[i, j]
            s = max(abs(dy), abs(dx))
            vals = []
            for sign in (1, -1):
                y, x = i + sign * dy / s, j + sign * dx / s
                y0, x0 = int(np.floor(y)), int(np.floor(x))
                fy, fx = y - y0, x - x0
                v = (mag[y0, x0] * (1 - fy) * (1 - fx) + mag[y0, min(x0 + 1, w - 1)] * (1 - fy) * fx
                     + mag[min(y0 + 1, h - 1), x0] * fy * (1 - fx)
                     + mag[min(y0 + 1, h - 1), min(x0 + 1, w - 1)] * fy * fx)
                vals.append(v)
            if vals[0] <= m and vals[1] <= m:
                out[i, j] = m
    return out


def hysteresis(labels):
    """Dilate the strong set (label 2) inside the weak set (label > 0) until nothing changes."""
    weak = labels > 0
    edges = labels == 2
    while True:
        grown = ndi.binary_dilation(edges, np.ones((3, 3), bool)) & weak
        if (grown == edges).all():
            return edges
        edges = grown
