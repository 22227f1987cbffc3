"""Numba kernel for camera calibration: sub-pixel corner refinement
(``classic_cv.harris.corner_subpix``), one point at a time."""
import numpy as np
from numba import njit


@njit(cache=True)
def _bilinear(image, x, y):
    """Bilinear sample of (H, W) ``image`` at (x, y), clamped to the image (H, W >= 2)."""
    h, w = image.shape
    x = min(max(x, 0.0), w - 1.0)
    y = min(max(y, 0.0), h - 1.0)
    x0 = min(int(x), w - 2)
    y0 = min(int(y), h - 2)
    fx, fy = x - x0, y - y0
    top = image[y0, x0] * (1 - fx) + image[y0, x0 + 1] * fx
    bottom = image[y0 + 1, x0] * (1 - fx) + image[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy


@njit(cache=True)
def _sample_patch(image, qx, qy, radius, patch):
    """Bilinear samples of ``image`` at (qx + j - radius, qy + i - radius) into
    ``patch`` (2 radius + 1)^2, borders replicated. The samples are one pixel
    apart, so they share their interpolation weights."""
    h, w = image.shape
    size = patch.shape[0]
    x0, y0 = int(np.floor(qx)) - radius, int(np.floor(qy)) - radius
    if x0 < 0 or y0 < 0 or x0 + size >= w or y0 + size >= h:  # near the border: clamp each sample
        for i in range(size):
            for j in range(size):
                patch[i, j] = _bilinear(image, qx + (j - radius), qy + (i - radius))
        return
    fx, fy = qx - np.floor(qx), qy - np.floor(qy)
    for i in range(size):
        for j in range(size):
            top = image[y0 + i, x0 + j] * (1 - fx) + image[y0 + i, x0 + j + 1] * fx
            bottom = image[y0 + i + 1, x0 + j] * (1 - fx) + image[y0 + i + 1, x0 + j + 1] * fx
            patch[i, j] = top * (1 - fy) + bottom * fy


@njit(cache=True)
def corner_subpix(image, points, window, max_iter, tol, out):
    """Gradient-orthogonality refinement of ``points`` (K, 2) into ``out`` (K, 2);
    the arguments are ``corner_subpix``'s, checked."""
    size = 2 * window + 3  # the window plus one ring for the central differences
    patch = np.empty((size, size))
    weight = np.empty((size - 2, size - 2))
    for i in range(size - 2):
        for j in range(size - 2):
            dy, dx = i - window, j - window
            weight[i, j] = np.exp(-(dx * dx + dy * dy) / window**2)
    for k in range(points.shape[0]):
        qx, qy = points[k, 0], points[k, 1]
        for _ in range(max_iter):
            _sample_patch(image, qx, qy, window + 1, patch)
            gxx = gxy = gyy = bx = by = 0.0
            for i in range(1, size - 1):
                dy = i - window - 1
                for j in range(1, size - 1):
                    dx = j - window - 1
                    gx = patch[i, j + 1] - patch[i, j - 1]
                    gy = patch[i + 1, j] - patch[i - 1, j]
                    wt = weight[i - 1, j - 1]
                    wxx, wxy, wyy = wt * gx * gx, wt * gx * gy, wt * gy * gy
                    gxx += wxx
                    gxy += wxy
                    gyy += wyy
                    bx += wxx * dx + wxy * dy
                    by += wxy * dx + wyy * dy
            det = gxx * gyy - gxy * gxy
            if not det > 1e-12 * (gxx + gyy) ** 2 + 1e-300:
                break  # no two gradient directions: no corner to refine
            sx = (gyy * bx - gxy * by) / det
            sy = (gxx * by - gxy * bx) / det
            qx += sx
            qy += sy
            if sx * sx + sy * sy <= tol * tol:
                break
        if abs(qx - points[k, 0]) > window or abs(qy - points[k, 1]) > window:
            qx, qy = points[k, 0], points[k, 1]
        out[k, 0] = qx
        out[k, 1] = qy


@njit(cache=True)
def saddle_response(smooth, out):
    """``max(0, -det H)`` of (H, W) ``smooth`` (H, W >= 3) into ``out``, H by three-point
    second differences; the one-pixel border is 0."""
    h, w = smooth.shape
    out[0, :] = 0.0
    out[h - 1, :] = 0.0
    out[:, 0] = 0.0
    out[:, w - 1] = 0.0
    for i in range(1, h - 1):
        for j in range(1, w - 1):
            centre = smooth[i, j]
            gxx = smooth[i, j + 1] - 2 * centre + smooth[i, j - 1]
            gyy = smooth[i + 1, j] - 2 * centre + smooth[i - 1, j]
            gxy = (smooth[i + 1, j + 1] - smooth[i + 1, j - 1] - smooth[i - 1, j + 1] + smooth[i - 1, j - 1]) / 4
            out[i, j] = max(gxy * gxy - gxx * gyy, 0.0)
