"""Numba kernels for SIFT (plain NumPy twins: ``classic_cv.naive.sift``).

Conventions: images are (H, W) float32 of one octave; positions are (row, col);
angles are radians in image coordinates (x right, y down), ``atan2(dy, dx)``.
"""
import numpy as np
from numba import njit


@njit(cache=True)
def find_extrema(dog, threshold, border):
    """Candidates (K, 3) int64 ``(layer, row, col)``: samples of ``dog`` (S+2, H, W)
    in layers 1..S, at least ``border`` from the image edge, with ``|value| > threshold``
    and >= (maxima) or <= (minima) all 26 neighbours in space and scale."""
    n, h, w = dog.shape
    out = []
    for s in range(1, n - 1):
        for r in range(border, h - border):
            for c in range(border, w - border):
                v = dog[s, r, c]
                if abs(v) <= threshold:
                    continue
                is_max = v > 0
                is_min = v < 0
                for ds in range(-1, 2):
                    for dr in range(-1, 2):
                        for dc in range(-1, 2):
                            u = dog[s + ds, r + dr, c + dc]
                            if u > v:
                                is_max = False
                            if u < v:
                                is_min = False
                    if not (is_max or is_min):
                        break
                if is_max or is_min:
                    out.append((s, r, c))
    res = np.empty((len(out), 3), dtype=np.int64)
    for i in range(len(out)):
        res[i, 0], res[i, 1], res[i, 2] = out[i]
    return res


@njit(cache=True)
def _derivatives(dog, s, r, c):
    """Gradient (3,) and Hessian (3, 3) of ``dog`` at (s, r, c) by central differences,
    ordered (col, row, scale)."""
    v2 = 2.0 * dog[s, r, c]
    g = np.empty(3)
    g[0] = 0.5 * (dog[s, r, c + 1] - dog[s, r, c - 1])
    g[1] = 0.5 * (dog[s, r + 1, c] - dog[s, r - 1, c])
    g[2] = 0.5 * (dog[s + 1, r, c] - dog[s - 1, r, c])
    H = np.empty((3, 3))
    H[0, 0] = dog[s, r, c + 1] + dog[s, r, c - 1] - v2
    H[1, 1] = dog[s, r + 1, c] + dog[s, r - 1, c] - v2
    H[2, 2] = dog[s + 1, r, c] + dog[s - 1, r, c] - v2
    H[0, 1] = H[1, 0] = 0.25 * (dog[s, r + 1, c + 1] - dog[s, r + 1, c - 1] - dog[s, r - 1, c + 1] + dog[s, r - 1, c - 1])
    H[0, 2] = H[2, 0] = 0.25 * (dog[s + 1, r, c + 1] - dog[s + 1, r, c - 1] - dog[s - 1, r, c + 1] + dog[s - 1, r, c - 1])
    H[1, 2] = H[2, 1] = 0.25 * (dog[s + 1, r + 1, c] - dog[s + 1, r - 1, c] - dog[s - 1, r + 1, c] + dog[s - 1, r - 1, c])
    return g, H


@njit(cache=True)
def refine_extrema(dog, cands, n_scales, contrast_threshold, edge_ratio, border, max_steps):
    """Sub-pixel / sub-scale refinement by fitting a quadratic (Brown & Lowe), with
    contrast and edge (principal curvature ratio) rejection.

    Returns
    -------
    out : (K', 7) float64 rows ``(layer, row, col, d_layer, d_row, d_col, value)``:
        integer sample plus offset in [-0.5, 0.5] and the interpolated DoG value.
    """
    n, h, w = dog.shape
    out = np.empty((len(cands), 7))
    k = 0
    for i in range(len(cands)):
        s, r, c = cands[i, 0], cands[i, 1], cands[i, 2]
        ok = False
        x = np.zeros(3)
        g = np.zeros(3)
        for _ in range(max_steps):
            g, H = _derivatives(dog, s, r, c)
            if abs(np.linalg.det(H)) < 1e-12:
                break
            x = -np.linalg.solve(H, g)
            if abs(x[0]) < 0.5 and abs(x[1]) < 0.5 and abs(x[2]) < 0.5:
                ok = True
                break
            if abs(x[0]) > 1e6 or abs(x[1]) > 1e6 or abs(x[2]) > 1e6:
                break
            c += int(np.round(x[0]))
            r += int(np.round(x[1]))
            s += int(np.round(x[2]))
            if s < 1 or s > n - 2 or r < border or r >= h - border or c < border or c >= w - border:
                break
        if not ok:
            continue
        value = dog[s, r, c] + 0.5 * (g[0] * x[0] + g[1] * x[1] + g[2] * x[2])
        if abs(value) * n_scales < contrast_threshold:
            continue
        _, H = _derivatives(dog, s, r, c)
        tr = H[0, 0] + H[1, 1]
        det = H[0, 0] * H[1, 1] - H[0, 1] * H[0, 1]
        if det <= 0 or tr * tr * edge_ratio >= (edge_ratio + 1) ** 2 * det:
            continue
        out[k, 0], out[k, 1], out[k, 2] = s, r, c
        out[k, 3], out[k, 4], out[k, 5] = x[2], x[1], x[0]
        out[k, 6] = value
        k += 1
    return out[:k]


@njit(cache=True)
def fast_atan2(y, x):
    """``arctan2(y, x)`` to within 2.5e-4 rad (0.015 degree) by a polynomial in
    min/max on [0, 1]: an order of magnitude faster than the libm call here, and the
    error is far below the 10-degree orientation bins."""
    ax, ay = abs(x), abs(y)
    big = max(ax, ay)
    if big == 0.0:
        return 0.0
    a = min(ax, ay) / big
    s = a * a
    r = ((-0.0464964749 * s + 0.15931422) * s - 0.327622764) * s * a + a
    if ay > ax:
        r = 0.5 * np.pi - r
    if x < 0:
        r = np.pi - r
    if y < 0:
        r = -r
    return r


@njit(cache=True)
def gradient_polar(img):
    """Central-difference gradient magnitude and angle of ``img`` (H, W); zero on the border."""
    h, w = img.shape
    mag = np.zeros((h, w), dtype=np.float32)
    ang = np.zeros((h, w), dtype=np.float32)
    for r in range(1, h - 1):
        for c in range(1, w - 1):
            dx = img[r, c + 1] - img[r, c - 1]
            dy = img[r + 1, c] - img[r - 1, c]
            mag[r, c] = np.sqrt(dx * dx + dy * dy)
            ang[r, c] = fast_atan2(dy, dx)
    return mag, ang


@njit(cache=True)
def _separable_gaussian(radius, dr, dc, exp_scale):
    """Row and column factors of ``exp(((i - dr)^2 + (j - dc)^2) * exp_scale)`` for
    offsets i, j in [-radius, radius]: the window weight is their outer product, so
    each patch needs 2 (2 radius + 1) exponentials instead of (2 radius + 1)^2."""
    wy = np.empty(2 * radius + 1)
    wx = np.empty(2 * radius + 1)
    for k in range(-radius, radius + 1):
        wy[k + radius] = np.exp((k - dr) ** 2 * exp_scale)
        wx[k + radius] = np.exp((k - dc) ** 2 * exp_scale)
    return wy, wx


@njit(cache=True)
def orientation_histogram(mag, ang, r, c, dr, dc, scale, n_bins):
    """Smoothed histogram (n_bins,) of gradient angles around (r, c), weighted by
    magnitude and a Gaussian of sigma ``1.5 * scale`` centred on (r + dr, c + dc)
    within radius ``3 * sigma``. Bin b is centred on angle ``b * 2 pi / n_bins``;
    each gradient is shared linearly between the two bins around its angle."""
    h, w = mag.shape
    sigma = 1.5 * scale
    radius = int(np.round(3.0 * sigma))
    raw = np.zeros(n_bins)
    wy, wx = _separable_gaussian(radius, dr, dc, -1.0 / (2.0 * sigma * sigma))
    bins_per_rad = n_bins / (2 * np.pi)
    for i in range(-radius, radius + 1):
        y = r + i
        if y <= 0 or y >= h - 1:
            continue
        for j in range(-radius, radius + 1):
            x = c + j
            if x <= 0 or x >= w - 1:
                continue
            # Rounding to the nearest bin would move a gradient by up to half a
            # bin and split near-equal angles across bins; that noise makes or
            # breaks secondary peaks near the 80 % line. Sharing (as VLFeat does)
            # made orientations more repeatable under rotation and scaling and
            # gave more correct matches (measured in test_sift.py).
            pos = ang[y, x] * bins_per_rad  # in [-n_bins / 2, n_bins / 2]
            if pos < 0.0:
                pos += n_bins
            b = int(pos)
            frac = pos - b
            b %= n_bins
            v = wy[i + radius] * wx[j + radius] * mag[y, x]
            raw[b] += v * (1.0 - frac)
            raw[(b + 1) % n_bins] += v * frac
    hist = np.empty(n_bins)
    for b in range(n_bins):
        hist[b] = (
            (raw[(b - 2) % n_bins] + raw[(b + 2) % n_bins]) / 16.0
            + (raw[(b - 1) % n_bins] + raw[(b + 1) % n_bins]) * 4.0 / 16.0
            + raw[b] * 6.0 / 16.0
        )
    return hist


@njit(cache=True)
def histogram_peaks(hist, peak_ratio):
    """Angles (radians in [0, 2pi)) of local maxima >= ``peak_ratio`` * max, each
    refined by a parabola through the peak bin and its neighbours."""
    n = len(hist)
    top = hist.max()
    out = []
    for b in range(n):
        left, right = hist[(b - 1) % n], hist[(b + 1) % n]
        if hist[b] > left and hist[b] > right and hist[b] >= peak_ratio * top:
            offset = 0.5 * (left - right) / (left - 2.0 * hist[b] + right)
            out.append(((b + offset) % n) * 2.0 * np.pi / n)
    return out


@njit(cache=True)
def descriptor(mag, ang, r, c, dr, dc, scale, theta, d, n_bins, mag_clip):
    """SIFT descriptor (d * d * n_bins,) float32 of the patch centred on the sub-pixel
    point (r + dr, c + dc) (r, c integers), rotated by ``theta``; trilinear interpolation into a d x d grid of n_bins-bin
    orientation histograms, each cell 3 * ``scale`` pixels wide, Gaussian weight of
    sigma d / 2 cells; then normalise, clip at ``mag_clip`` and renormalise."""
    h, w = mag.shape
    cell = 3.0 * scale
    cos_t = np.cos(theta) / cell
    sin_t = np.sin(theta) / cell
    radius = int(np.round(cell * np.sqrt(2.0) * (d + 1) * 0.5))
    radius = min(radius, int(np.sqrt(h * h + w * w)))
    hist = np.zeros((d + 2, d + 2, n_bins + 2))
    # The weight exp(-(u^2 + v^2) / (d^2 / 2)) in cell units is rotation invariant:
    # a separable Gaussian in pixel offsets.
    wy, wx = _separable_gaussian(radius, dr, dc, -1.0 / (0.5 * d * d * cell * cell))
    bins_per_rad = n_bins / (2 * np.pi)
    two_pi = 2 * np.pi
    for i in range(-radius, radius + 1):
        y = r + i
        if y <= 0 or y >= h - 1:
            continue
        for j in range(-radius, radius + 1):
            x = c + j
            if x <= 0 or x >= w - 1:
                continue
            # Offset from the sub-pixel centre in the keypoint frame, in cells.
            fi, fj = i - dr, j - dc
            c_rot = fj * cos_t + fi * sin_t
            r_rot = -fj * sin_t + fi * cos_t
            rbin = r_rot + 0.5 * d - 0.5
            cbin = c_rot + 0.5 * d - 0.5
            if rbin <= -1 or rbin >= d or cbin <= -1 or cbin >= d:
                continue
            rel = ang[y, x] - theta  # in (-3 pi, pi]: bring into [0, 2 pi)
            while rel < 0.0:
                rel += two_pi
            obin = rel * bins_per_rad
            v = mag[y, x] * wy[i + radius] * wx[j + radius]
            # rbin, cbin > -1 and obin >= 0: truncation after a shift is floor.
            r0 = int(rbin + 1.0) - 1
            c0 = int(cbin + 1.0) - 1
            o0 = int(obin)
            fr, fc, fo = rbin - r0, cbin - c0, obin - o0
            o0 = o0 % n_bins
            for a in range(2):
                va = v * (fr if a else 1.0 - fr)
                for b in range(2):
                    vb = va * (fc if b else 1.0 - fc)
                    hist[r0 + 1 + a, c0 + 1 + b, o0] += vb * (1.0 - fo)
                    hist[r0 + 1 + a, c0 + 1 + b, o0 + 1] += vb * fo
    out = np.empty(d * d * n_bins, dtype=np.float32)
    k = 0
    norm = 0.0
    for a in range(d):
        for b in range(d):
            # Orientation bins n_bins and n_bins + 1 wrap around to 0 and 1.
            hist[a + 1, b + 1, 0] += hist[a + 1, b + 1, n_bins]
            hist[a + 1, b + 1, 1] += hist[a + 1, b + 1, n_bins + 1]
            for o in range(n_bins):
                out[k] = hist[a + 1, b + 1, o]
                norm += out[k] * out[k]
                k += 1
    limit = mag_clip * np.sqrt(norm)
    norm = 0.0
    for k in range(len(out)):
        out[k] = min(out[k], limit)
        norm += out[k] * out[k]
    norm = max(np.sqrt(norm), 1e-12)
    for k in range(len(out)):
        out[k] /= norm
    return out


@njit(cache=True)
def describe_octave(mags, angs, kps, n_scales, sigma, n_bins_ori, peak_ratio, d, n_bins, mag_clip):
    """Orientations and descriptors for the refined keypoints ``kps`` (K, 7) of one
    octave (rows as from ``refine_extrema``), on the gradient stacks ``mags``/``angs``
    (S+3, H, W). Secondary orientations make extra keypoints.

    Returns ``(index (M,) int64 into kps, angle (M,), descriptors (M, d*d*n_bins))``.
    """
    index = []
    angles = []
    for i in range(len(kps)):
        s, r, c = int(kps[i, 0]), int(kps[i, 1]), int(kps[i, 2])
        scale = sigma * 2.0 ** ((kps[i, 0] + kps[i, 3]) / n_scales)
        hist = orientation_histogram(mags[s], angs[s], r, c, kps[i, 4], kps[i, 5], scale, n_bins_ori)
        for theta in histogram_peaks(hist, peak_ratio):
            index.append(i)
            angles.append(theta)
    m = len(index)
    idx = np.empty(m, dtype=np.int64)
    ang_out = np.empty(m)
    desc = np.empty((m, d * d * n_bins), dtype=np.float32)
    for k in range(m):
        i = index[k]
        idx[k] = i
        ang_out[k] = angles[k]
        s, r, c = int(kps[i, 0]), int(kps[i, 1]), int(kps[i, 2])
        scale = sigma * 2.0 ** ((kps[i, 0] + kps[i, 3]) / n_scales)
        desc[k] = descriptor(mags[s], angs[s], r, c, kps[i, 4], kps[i, 5], scale, angles[k], d, n_bins, mag_clip)
    return idx, ang_out, desc
