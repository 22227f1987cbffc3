"""Plain NumPy twins of ``classic_cv._kernels.calibration`` (corner_subpix refines all points together)."""
import numpy as np


def saddle_response(smooth):
    """``max(0, -det H)`` by three-point second differences on the interior; border 0."""
    centre = smooth[1:-1, 1:-1]
    gxx = smooth[1:-1, 2:] - 2 * centre + smooth[1:-1, :-2]
    gyy = smooth[2:, 1:-1] - 2 * centre + smooth[:-2, 1:-1]
    gxy = (smooth[2:, 2:] - smooth[2:, :-2] - smooth[:-2, 2:] + smooth[:-2, :-2]) / 4
    response = np.zeros_like(smooth)
    response[1:-1, 1:-1] = np.maximum(gxy * gxy - gxx * gyy, 0.0)
    return response


def corner_subpix(image, points, window, max_iter, tol):
    """``classic_cv.harris.corner_subpix`` on a checked (H, W) float64 image and (K, 2) float64 points."""
    offsets = np.arange(-window - 1, window + 2, dtype=np.float64)  # one extra ring for the gradients
    inner = offsets[1:-1]
    weight = np.exp(-(inner[:, None] ** 2 + inner[None, :] ** 2) / window**2)
    q = points.copy()
    active = np.ones(len(q), dtype=bool)
    for _ in range(max_iter):
        if not active.any():
            break
        cur = q[active]
        patch = _sample_bilinear(image, cur[:, None, None, 0] + offsets[None, None, :],
                                 cur[:, None, None, 1] + offsets[None, :, None])
        gx = patch[:, 1:-1, 2:] - patch[:, 1:-1, :-2]  # central differences (the scale cancels)
        gy = patch[:, 2:, 1:-1] - patch[:, :-2, 1:-1]
        wxx, wxy, wyy = weight * gx * gx, weight * gx * gy, weight * gy * gy
        gxx, gxy, gyy = wxx.sum((1, 2)), wxy.sum((1, 2)), wyy.sum((1, 2))
        # Right-hand side relative to the current estimate: sum w g g^T (p - q).
        bx = (wxx * inner + wxy * inner[:, None]).sum((1, 2))
        by = (wxy * inner + wyy * inner[:, None]).sum((1, 2))
        det = gxx * gyy - gxy**2
        solvable = det > 1e-12 * (gxx + gyy) ** 2 + 1e-300
        safe = np.where(solvable, det, 1.0)
        step = np.stack([(gyy * bx - gxy * by) / safe, (gxx * by - gxy * bx) / safe], axis=1)
        step[~solvable] = 0.0
        idx = np.flatnonzero(active)
        q[idx] = cur + step
        active[idx] = solvable & ((step**2).sum(axis=1) > tol**2)
    drifted = (np.abs(q - points) > window).any(axis=1)
    q[drifted] = points[drifted]
    return q


def _sample_bilinear(image, x, y):
    """Bilinear samples of (H, W) ``image`` at float arrays ``x``, ``y`` (same shape),
    coordinates clamped to the image (border replicated)."""
    h, w = image.shape
    x = np.clip(x, 0.0, w - 1.0)
    y = np.clip(y, 0.0, h - 1.0)
    x0 = np.minimum(x.astype(np.intp), w - 2)
    y0 = np.minimum(y.astype(np.intp), h - 2)
    fx, fy = x - x0, y - y0
    top = image[y0, x0] * (1 - fx) + image[y0, x0 + 1] * fx
    bottom = image[y0 + 1, x0] * (1 - fx) + image[y0 + 1, x0 + 1] * fx
    return top * (1 - fy) + bottom * fy
