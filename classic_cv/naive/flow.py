"""Plain NumPy twins of ``classic_cv._kernels.flow``: whole-array bilinear
sampling, ``np.gradient``, window sums by slicing, ``np.linalg`` solves."""
import numpy as np


def bilinear(image, x, y):
    """``image`` (H, W) at arrays of coordinates ``x``, ``y``, clamped to the image."""
    h, w = image.shape
    x = np.clip(np.asarray(x, dtype=np.float64), 0, w - 1)
    y = np.clip(np.asarray(y, dtype=np.float64), 0, h - 1)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = x - x0, y - y0
    return ((1 - fy) * ((1 - fx) * image[y0, x0] + fx * image[y0, x1])
            + fy * ((1 - fx) * image[y1, x0] + fx * image[y1, x1]))


def mirrored_bilinear(image, x, y):
    """``bilinear`` of the image mirrored past its border (``d c b | a b c d | c b a``):
    the same as ``bilinear`` at the coordinates folded back into the image."""
    h, w = image.shape
    return bilinear(image, _fold(x, w), _fold(y, h))


def _fold(x, n):
    if n == 1:
        return np.zeros_like(x)
    m = np.mod(x, 2 * (n - 1))
    return np.where(m > n - 1, 2 * (n - 1) - m, m)


def warp_by_flow(image, flow, cval, nearest):
    """(H, W, C) image sampled at (x + u, y + v); outside sources are cval unless ``nearest``."""
    h, w = flow.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    xs, ys = x + flow[..., 0], y + flow[..., 1]
    out = np.stack([bilinear(image[..., c], xs, ys) for c in range(image.shape[2])], axis=-1)
    if not nearest:
        out[(xs < 0) | (xs > w - 1) | (ys < 0) | (ys > h - 1)] = cval
    return out


def linearize(image0, image1, flow):
    """(gx, gy, residual): mean ``np.gradient`` of both frames after warping ``image1`` back."""
    h, w = image0.shape
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    warped = bilinear(image1, x + flow[..., 0], y + flow[..., 1])
    gy0, gx0 = _gradient(image0)
    gy1, gx1 = _gradient(warped)
    gx, gy = (gx0 + gx1) / 2, (gy0 + gy1) / 2
    return gx, gy, warped - image0 - gx * flow[..., 0] - gy * flow[..., 1]


def _gradient(image):
    """``np.gradient`` along rows and columns, a zero derivative along an axis of length 1."""
    return [np.gradient(image, axis=a) if image.shape[a] > 1 else np.zeros_like(image) for a in (0, 1)]


def lucas_kanade_solve(gx, gy, residual, radius, min_eigenvalue, flow):
    """Per pixel: window means by slicing, smallest eigenvalue by ``eigvalsh``, ``np.linalg.solve``.

    Returns (new flow, valid)."""
    h, w = gx.shape
    flow = flow.copy()
    valid = np.zeros((h, w), dtype=bool)
    for i in range(h):
        for j in range(w):
            win = (slice(max(i - radius, 0), i + radius + 1), slice(max(j - radius, 0), j + radius + 1))
            x, y, t = gx[win], gy[win], residual[win]
            a = np.array([[np.mean(x * x), np.mean(x * y)], [np.mean(x * y), np.mean(y * y)]])
            if np.linalg.eigvalsh(a)[0] >= min_eigenvalue:
                valid[i, j] = True
                flow[i, j] = np.linalg.solve(a, -np.array([np.mean(x * t), np.mean(y * t)]))
    return flow, valid


def median_filter_flow(flow):
    """``np.median`` of every edge-padded run of 5 along rows, then down columns."""
    h, w = flow.shape[:2]
    padded = np.pad(flow, ((0, 0), (2, 2), (0, 0)), mode="edge")
    rows = np.median(np.stack([padded[:, b:b + w] for b in range(5)]), axis=0)
    padded = np.pad(rows, ((2, 2), (0, 0), (0, 0)), mode="edge")
    return np.median(np.stack([padded[a:a + h] for a in range(5)]), axis=0)


def horn_schunck_sweeps(gx, gy, residual, alpha2, iterations, flow):
    """Jacobi sweeps with the neighbour mean as a 3x3 stencil on the edge-padded flow."""
    stencil = np.array([[1, 2, 1], [2, 0, 2], [1, 2, 1]]) / 12.0
    h, w = gx.shape
    flow = flow.copy()
    for _ in range(iterations):
        padded = np.pad(flow, ((1, 1), (1, 1), (0, 0)), mode="edge")
        mean = sum(stencil[a, b] * padded[a:a + h, b:b + w] for a in range(3) for b in range(3))
        t = (gx * mean[..., 0] + gy * mean[..., 1] + residual) / (alpha2 + gx**2 + gy**2)
        flow = mean - np.stack([gx * t, gy * t], axis=-1)
    return flow


_SCHARR_X = np.array([[-3, 0, 3], [-10, 0, 10], [-3, 0, 3]]) / 32.0


def track_level(image0, image1, points, scale, radius, iterations, epsilon, min_eigenvalue, finest,
                displacement, lost):
    """One KLT level, point by point, windows sampled by ``mirrored_bilinear`` at every offset.

    Returns (displacement, lost, error) as new arrays (error NaN unless set at the finest level)."""
    h, w = image0.shape
    displacement, lost = displacement.copy(), lost.copy()
    error = np.full(len(points), np.nan)
    offsets = np.arange(-radius - 1, radius + 2, dtype=np.float64)
    inner = slice(1, -1)
    for k, (px, py) in enumerate(points * scale):
        if lost[k]:
            continue
        patch = mirrored_bilinear(image0, px + offsets[None, :], py + offsets[:, None])
        gx = sum(_SCHARR_X[a, b] * patch[a:a + 2 * radius + 1, b:b + 2 * radius + 1]
                 for a in range(3) for b in range(3))
        gy = sum(_SCHARR_X.T[a, b] * patch[a:a + 2 * radius + 1, b:b + 2 * radius + 1]
                 for a in range(3) for b in range(3))
        template = patch[inner, inner]
        outside = ((px + offsets[None, inner] < 0) | (px + offsets[None, inner] > w - 1)
                   | (py + offsets[inner, None] < 0) | (py + offsets[inner, None] > h - 1))
        gx, gy = np.where(outside, 0.0, gx), np.where(outside, 0.0, gy)
        a = np.array([[np.mean(gx * gx), np.mean(gx * gy)], [np.mean(gx * gy), np.mean(gy * gy)]])
        if np.linalg.eigvalsh(a)[0] < min_eigenvalue:
            lost[k] = finest
            continue
        d = displacement[k].copy()
        for _ in range(iterations):
            qx, qy = px + d[0], py + d[1]
            if not (-radius <= qx <= w - 1 + radius and -radius <= qy <= h - 1 + radius):
                break
            e = mirrored_bilinear(image1, qx + offsets[None, inner], qy + offsets[inner, None]) - template
            step = np.linalg.solve(a, -np.array([np.mean(e * gx), np.mean(e * gy)]))
            d += step
            if np.hypot(*step) < epsilon:
                break
        qx, qy = px + d[0], py + d[1]
        margin = 0 if finest else radius
        if not (-margin <= qx <= w - 1 + margin and -margin <= qy <= h - 1 + margin):
            lost[k] = finest
            continue
        displacement[k] = d
        if finest:
            e = mirrored_bilinear(image1, qx + offsets[None, inner], qy + offsets[inner, None]) - template
            error[k] = np.mean(np.abs(e))
    return displacement, lost, error
