"""Obviously-correct NumPy twins of the SIFT kernels in ``classic_cv._kernels.sift``."""
import numpy as np


def find_extrema(dog, threshold, border):
    """(K, 3) ``(layer, row, col)`` of samples >= / <= all 26 neighbours, |v| > threshold,
    by comparing the volume with its 26 shifted copies."""
    n, h, w = dog.shape
    centre = dog[1:-1, border : h - border, border : w - border]
    is_max = centre > threshold
    is_min = centre < -threshold
    for ds in (-1, 0, 1):
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                shifted = dog[1 + ds : n - 1 + ds, border + dr : h - border + dr, border + dc : w - border + dc]
                is_max &= centre >= shifted
                is_min &= centre <= shifted
    s, r, c = np.nonzero(is_max | is_min)
    return np.column_stack([s + 1, r + border, c + border]).astype(np.int64)


def _derivatives(dog, s, r, c):
    """Gradient and Hessian in (col, row, scale) order from a 3x3x3 cube by central differences."""
    cube = dog[s - 1 : s + 2, r - 1 : r + 2, c - 1 : c + 2].astype(np.float64)
    g = np.array([cube[1, 1, 2] - cube[1, 1, 0], cube[1, 2, 1] - cube[1, 0, 1], cube[2, 1, 1] - cube[0, 1, 1]]) / 2
    # Axis order of the cube is (scale, row, col); reverse it to (col, row, scale).
    cube = cube.transpose(2, 1, 0)
    H = np.empty((3, 3))
    for a in range(3):
        for b in range(3):
            if a == b:
                idx = [1, 1, 1]
                lo, hi = list(idx), list(idx)
                lo[a], hi[a] = 0, 2
                H[a, a] = cube[tuple(hi)] + cube[tuple(lo)] - 2 * cube[1, 1, 1]
            else:
                val = 0.0
                for da, db, sign in ((2, 2, 1), (2, 0, -1), (0, 2, -1), (0, 0, 1)):
                    idx = [1, 1, 1]
                    idx[a], idx[b] = da, db
                    val += sign * cube[tuple(idx)]
                H[a, b] = val / 4
    return g, H


def refine_extrema(dog, cands, n_scales, contrast_threshold, edge_ratio, border, max_steps):
    """Quadratic refinement with contrast and edge rejection, one candidate at a time."""
    n, h, w = dog.shape
    rows = []
    for s, r, c in cands:
        x = np.ones(3)  # "not converged" until a step says otherwise
        for _ in range(max_steps):
            g, H = _derivatives(dog, s, r, c)
            if abs(np.linalg.det(H)) < 1e-12:
                break
            x = -np.linalg.solve(H, g)
            if np.all(np.abs(x) < 0.5):
                break
            if np.any(np.abs(x) > 1e6):
                break
            c, r, s = c + int(np.round(x[0])), r + int(np.round(x[1])), s + int(np.round(x[2]))
            if not (1 <= s <= n - 2 and border <= r < h - border and border <= c < w - border):
                break
        else:
            continue
        if not np.all(np.abs(x) < 0.5):
            continue
        value = dog[s, r, c] + 0.5 * g @ x
        tr, det = H[0, 0] + H[1, 1], H[0, 0] * H[1, 1] - H[0, 1] ** 2
        if abs(value) * n_scales < contrast_threshold or det <= 0 or tr**2 * edge_ratio >= (edge_ratio + 1) ** 2 * det:
            continue
        rows.append((s, r, c, x[2], x[1], x[0], value))
    return np.array(rows, dtype=np.float64).reshape(-1, 7)


def gradient_polar(img):
    """Central-difference magnitude and angle, zero on the one-pixel border."""
    mag = np.zeros(img.shape, np.float32)
    ang = np.zeros(img.shape, np.float32)
    dx = img[1:-1, 2:] - img[1:-1, :-2]
    dy = img[2:, 1:-1] - img[:-2, 1:-1]
    mag[1:-1, 1:-1] = np.hypot(dx, dy)
    ang[1:-1, 1:-1] = np.arctan2(dy, dx)
    return mag, ang


def _window(shape, r, c, radius):
    """Offsets (i, j) of the square window whose pixels lie off the one-pixel border."""
    i, j = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    y, x = r + i, c + j
    inside = (y > 0) & (y < shape[0] - 1) & (x > 0) & (x < shape[1] - 1)
    return i[inside], j[inside], y[inside], x[inside]


def orientation_histogram(mag, ang, r, c, dr, dc, scale, n_bins):
    sigma = 1.5 * scale
    i, j, y, x = _window(mag.shape, r, c, int(np.round(3 * sigma)))
    weights = np.exp(-((i - dr) ** 2 + (j - dc) ** 2) / (2 * sigma**2)) * mag[y, x]
    pos = (ang[y, x].astype(np.float64) * (n_bins / (2 * np.pi))) % n_bins
    low = np.floor(pos)
    frac = pos - low
    low = low.astype(int)
    raw = (np.bincount(low % n_bins, weights * (1 - frac), minlength=n_bins)
           + np.bincount((low + 1) % n_bins, weights * frac, minlength=n_bins))
    kernel = np.array([1, 4, 6, 4, 1]) / 16.0
    return sum(kernel[k] * np.roll(raw, 2 - k) for k in range(5))


def descriptor(mag, ang, r, c, dr, dc, scale, theta, d, n_bins, mag_clip):
    cell = 3.0 * scale
    radius = min(int(np.round(cell * np.sqrt(2) * (d + 1) * 0.5)), int(np.hypot(*mag.shape)))
    i, j, y, x = _window(mag.shape, r, c, radius)
    fi, fj = i - dr, j - dc
    # Rotate offsets into the keypoint frame (x axis along theta), in cell units.
    u = (fj * np.cos(theta) + fi * np.sin(theta)) / cell
    v = (-fj * np.sin(theta) + fi * np.cos(theta)) / cell
    rbin, cbin = v + d / 2 - 0.5, u + d / 2 - 0.5
    keep = (rbin > -1) & (rbin < d) & (cbin > -1) & (cbin < d)
    rbin, cbin, u, v, y, x = rbin[keep], cbin[keep], u[keep], v[keep], y[keep], x[keep]
    obin = ((ang[y, x] - theta) % (2 * np.pi)) * n_bins / (2 * np.pi)
    weight = mag[y, x] * np.exp(-(u**2 + v**2) / (0.5 * d * d))
    hist = np.zeros((d + 2, d + 2, n_bins))
    r0, c0, o0 = np.floor(rbin).astype(int), np.floor(cbin).astype(int), np.floor(obin).astype(int)
    fr, fc, fo = rbin - r0, cbin - c0, obin - o0
    for a in (0, 1):
        for b in (0, 1):
            for e in (0, 1):
                wgt = weight * (fr if a else 1 - fr) * (fc if b else 1 - fc) * (fo if e else 1 - fo)
                np.add.at(hist, (r0 + 1 + a, c0 + 1 + b, (o0 + e) % n_bins), wgt)
    vec = hist[1:-1, 1:-1].ravel()
    vec = np.minimum(vec, mag_clip * np.linalg.norm(vec))
    return (vec / max(np.linalg.norm(vec), 1e-12)).astype(np.float32)
