"""Plain NumPy twins of ``classic_cv._kernels.stereo``: whole cost volumes, one
disparity plane at a time, and path costs pixel by pixel."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def census_transform(image, radius):
    """(H, W) uint64 signatures: one bit per neighbour (row-major, centre
    skipped), set when the neighbour is darker; edges repeat."""
    h, w = image.shape
    padded = np.pad(image, radius, mode="edge")
    sig = np.zeros((h, w), np.uint64)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy == 0 and dx == 0:
                continue
            neighbour = padded[radius + dy : radius + dy + h, radius + dx : radius + dx + w]
            sig = (sig << np.uint64(1)) | (neighbour < image).astype(np.uint64)
    return sig


def _window_sum(plane, window):
    """Sum over every window x window block of an image padded by window // 2."""
    return sliding_window_view(plane, (window, window)).sum(axis=(2, 3))


def cost_volume(left, right, max_disparity, window, cost, census_radius=2):
    """(H, W, max_disparity + 1) float32 window costs (entries d > x are 0).

    Each disparity plane compares the edge-padded left image with the padded
    right image shifted by d (pixel costs 0 where the shifted pixel falls off),
    summed over the window in float64; NCC uses the zero-mean formula.
    """
    h, w = left.shape
    r = window // 2
    if cost == "census":
        left, right = census_transform(left, census_radius), census_transform(right, census_radius)
    lp, rp = np.pad(left, r, mode="edge"), np.pad(right, r, mode="edge")
    if cost != "census":
        lp, rp = lp.astype(np.float64), rp.astype(np.float64)
    out = np.zeros((h, w, max_disparity + 1), np.float32)
    for d in range(min(max_disparity, w - 1) + 1):
        shifted = np.zeros_like(rp)
        shifted[:, d:] = rp[:, : rp.shape[1] - d]
        if cost == "census":
            diff = np.vectorize(lambda v: bin(int(v)).count("1"), otypes=[np.float64])(lp ^ shifted)
        elif cost == "sad":
            diff = np.abs(lp - shifted)
        elif cost == "ssd":
            diff = (lp - shifted) ** 2
        else:
            diff = lp * shifted
        diff[:, :d] = 0
        plane = _window_sum(diff, window)
        if cost == "ncc":
            plane = _ncc(plane, lp, rp, d, window)
        out[:, d:, d] = plane[:, d:]
    return out


def _ncc(products, lp, rp, d, window):
    """1 - zero-mean NCC (at least 0) from the window sums of L * R(shifted by d);
    1 where a window is flat."""
    n = window * window
    mean_l = _window_sum(lp, window) / n
    mean_r = _window_sum(rp, window) / n
    norm_l = np.sqrt(np.maximum(_window_sum(lp**2, window) - n * mean_l**2, 0))
    norm_r = np.sqrt(np.maximum(_window_sum(rp**2, window) - n * mean_r**2, 0))
    out = np.ones_like(products)
    w = products.shape[1]
    cov = products[:, d:] - n * mean_l[:, d:] * mean_r[:, : w - d]
    den = norm_l[:, d:] * norm_r[:, : w - d]
    with np.errstate(invalid="ignore", divide="ignore"):
        out[:, d:] = np.where(den > 0, np.maximum(1 - cov / den, 0.0), 1.0)
    return out


def flat_windows(image, window):
    """Windows of the edge-padded image whose pixels are all equal."""
    blocks = sliding_window_view(np.pad(image, window // 2, mode="edge"), (window, window))
    return blocks.max(axis=(2, 3)) == blocks.min(axis=(2, 3))


def select(costs, subpixel, lr_check, flat):
    """Winner-take-all per pixel over d <= x (ties to the smaller d), left-right
    check within 1 px, parabola refinement; NaN where invalid."""
    h, w, nd = costs.shape
    out = np.empty((h, w), np.float32)
    for y in range(h):
        best_l = [int(np.argmin(costs[y, x, : min(x, nd - 1) + 1])) for x in range(w)]
        best_r = [int(np.argmin([costs[y, xr + d, d] for d in range(min(w - xr, nd))])) for xr in range(w)]
        for x in range(w):
            d = best_l[x]
            if flat[y, x] or (lr_check and abs(best_r[x - d] - d) > 1):
                out[y, x] = np.nan
                continue
            value = np.float32(d)
            if subpixel and 0 < d < min(x, nd - 1):
                c0, c1, c2 = costs[y, x, d - 1 : d + 2]
                curvature = c0 - c1 - c1 + c2
                if curvature > 0:
                    value += (c0 - c2) / (curvature + curvature)
            out[y, x] = value
    return out


def fill_out_of_image(costs):
    """Entries d > x take the largest cost of d <= x at their pixel."""
    out = costs.copy()
    for x in range(min(costs.shape[1], costs.shape[2] - 1)):
        out[:, x, x + 1 :] = costs[:, x, : x + 1].max(axis=1, keepdims=True)
    return out


DIRECTIONS = {4: [(0, 1), (1, 0), (0, -1), (-1, 0)],
              8: [(0, 1), (1, 0), (1, 1), (1, -1), (0, -1), (-1, 0), (-1, -1), (-1, 1)]}


def sgm_aggregate(costs, p1, p2, paths):
    """Sum of the path costs over the directions (dy, dx) of travel, each path
    computed pixel by pixel in an order where its predecessor comes first."""
    h, w, nd = costs.shape
    costs = costs.astype(np.float64)
    total = np.zeros_like(costs)
    for dy, dx in DIRECTIONS[paths]:
        path = np.zeros_like(costs)
        rows = range(h) if dy >= 0 else range(h - 1, -1, -1)
        cols = range(w) if dx >= 0 else range(w - 1, -1, -1)
        for y in rows:
            for x in cols:
                qy, qx = y - dy, x - dx
                if not (0 <= qy < h and 0 <= qx < w):
                    path[y, x] = costs[y, x]
                    continue
                prev = path[qy, qx]
                low = prev.min()
                step = np.full(nd, np.inf)
                step[1:] = prev[:-1] + p1
                step[:-1] = np.minimum(step[:-1], prev[1:] + p1)
                path[y, x] = costs[y, x] + np.minimum.reduce([prev, step, np.full(nd, low + p2)]) - low
        total += path
    return total
