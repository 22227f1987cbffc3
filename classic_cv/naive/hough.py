"""Plain NumPy/loop twins of ``classic_cv._kernels.hough``."""
import numpy as np


def _round(v):
    """C-style rounding, halves away from zero."""
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def line_votes(ys, xs, cos_t, sin_t, offset, n_rho):
    """Scatter-add every (point, angle) vote with ``np.add.at``."""
    accum = np.zeros((n_rho, len(cos_t)), dtype=np.uint64)
    r = _round(np.outer(xs, cos_t) + np.outer(ys, sin_t)).astype(np.int64) + offset
    np.add.at(accum, (r, np.broadcast_to(np.arange(len(cos_t)), r.shape)), 1)
    return accum


def circle_votes(ys, xs, offsets, shape):
    """One plane per radius; ``offsets`` is a list of (P, 2) (dx, dy) arrays."""
    accum = np.zeros((len(offsets),) + tuple(shape))
    for k, off in enumerate(offsets):
        cx = (xs[:, None] + off[None, :, 0]).ravel()
        cy = (ys[:, None] + off[None, :, 1]).ravel()
        inside = (cy >= 0) & (cy < shape[0]) & (cx >= 0) & (cx < shape[1])
        np.add.at(accum[k], (cy[inside], cx[inside]), 1.0)
    return accum


def line_peak_mask(accum, rho, theta, min_rho, min_theta, threshold):
    """Compare each bin above ``threshold`` with the maximum over a boolean mask of its
    whole neighbourhood (direct and across the wrap), built by broadcasting."""
    mask = np.zeros(accum.shape, dtype=bool)
    dt = np.abs(theta[:, None] - theta[None, :])  # (T, T)
    for r, t in zip(*np.nonzero(accum > threshold)):
        direct = (np.abs(rho - rho[r]) <= min_rho)[:, None] & (dt[t] <= min_theta)[None, :]
        flipped = (np.abs(rho + rho[r]) <= min_rho)[:, None] & (np.abs(dt[t] - np.pi) <= min_theta)[None, :]
        mask[r, t] = accum[direct | flipped].max() <= accum[r, t]
    return mask


def circle_window_peaks(accum, ks, ys, xs, radii, min_distance, min_radius_distance):
    """Each candidate against the maximum of its window cut out by slicing."""
    out = []
    for k, y, x in zip(ks, ys, xs):
        planes = np.abs(radii - radii[k]) <= min_radius_distance
        window = accum[planes, max(y - min_distance, 0):y + min_distance + 1,
                       max(x - min_distance, 0):x + min_distance + 1]
        out.append(window.max() <= accum[k, y, x])
    return np.array(out, dtype=bool)


def suppress_lines(rho, theta, min_rho, min_theta, max_count):
    """Keep a line unless a kept one is within the window, directly or across the wrap."""
    kept = []
    for c in range(len(rho)):
        if len(kept) >= max_count:
            break
        near = any(
            (abs(theta[c] - theta[o]) <= min_theta and abs(rho[c] - rho[o]) <= min_rho)
            or (abs(abs(theta[c] - theta[o]) - np.pi) <= min_theta and abs(rho[c] + rho[o]) <= min_rho)
            for o in kept
        )
        if not near:
            kept.append(c)
    return np.array(kept, dtype=np.int64)


def probabilistic_lines(mask, order_y, order_x, cos_t, sin_t, offset, n_rho, threshold, line_length, line_gap):
    """Same progressive probabilistic Hough transform, written with Python loops."""
    mask = mask.copy()
    h, w = mask.shape
    accum = np.zeros((n_rho, len(cos_t)), dtype=np.int64)
    voted = np.zeros_like(mask)
    cols = np.arange(len(cos_t))

    def bins(x, y):
        return _round(cos_t * x + sin_t * y).astype(np.int64) + offset

    def at(x, y, step, sx, sy):
        return int(_round(x + step * sx)), int(_round(y + step * sy))

    segments = []
    for y, x in zip(order_y, order_x):
        if not mask[y, x]:
            continue
        accum[bins(x, y), cols] += 1
        voted[y, x] = True
        t = int(np.argmax(accum[bins(x, y), cols]))
        if accum[bins(x, y)[t], t] < threshold:
            continue
        dx, dy = -sin_t[t], cos_t[t]
        sx, sy = dx / max(abs(dx), abs(dy)), dy / max(abs(dx), abs(dy))
        reach = []
        for sign in (-1, 1):
            last, gap, step = 0, 0, 1
            while True:
                px, py = at(x, y, sign * step, sx, sy)
                if not (0 <= px < w and 0 <= py < h):
                    break
                if mask[py, px]:
                    last, gap = step, 0
                else:
                    gap += 1
                    if gap > line_gap:
                        break
                step += 1
            reach.append(last)
        (x0, y0), (x1, y1) = at(x, y, -reach[0], sx, sy), at(x, y, reach[1], sx, sy)
        good = np.hypot(x1 - x0, y1 - y0) >= line_length
        for step in range(-reach[0], reach[1] + 1):
            px, py = at(x, y, step, sx, sy)
            if mask[py, px]:
                if good and voted[py, px]:
                    accum[bins(px, py), cols] -= 1
                mask[py, px] = False
        if good:
            segments.append((x0, y0, x1, y1))
    return np.array(segments, dtype=np.int64).reshape(-1, 4)
