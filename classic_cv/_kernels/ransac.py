"""Numba RANSAC trial loop for the homography and fundamental-matrix models.

The twins are the NumPy models in ``classic_cv.ransac`` (``HomographyModel``,
``FundamentalModel``) driven by the generic Python loop there: given the same
random samples, both visit the same trials and pick the same best sample.
"""
import numpy as np
from numba import njit

HOMOGRAPHY = 0
FUNDAMENTAL = 1


@njit(cache=True)
def required_trials(inlier_ratio, min_samples, confidence):
    """Trials needed to draw one all-inlier sample with probability ``confidence``:
    ``k = log(1 - p) / log(1 - w**n)`` (inf when w = 0)."""
    good = inlier_ratio**min_samples
    if good >= 1.0:
        return 1.0
    if good <= 0.0:
        return np.inf
    return np.ceil(np.log(1.0 - confidence) / np.log1p(-good))


@njit(cache=True)
def _normalise(points):
    """Hartley normalisation: (ok, T (3, 3), normalised points (N, 2))."""
    n = points.shape[0]
    mx = 0.0
    my = 0.0
    for i in range(n):
        mx += points[i, 0]
        my += points[i, 1]
    mx /= n
    my /= n
    dist = 0.0
    for i in range(n):
        dist += np.sqrt((points[i, 0] - mx) ** 2 + (points[i, 1] - my) ** 2)
    dist /= n
    T = np.eye(3)
    out = np.empty((n, 2))
    if dist < 1e-12:
        return False, T, out
    s = np.sqrt(2.0) / dist
    T[0, 0] = s
    T[1, 1] = s
    T[0, 2] = -s * mx
    T[1, 2] = -s * my
    for i in range(n):
        out[i, 0] = (points[i, 0] - mx) * s
        out[i, 1] = (points[i, 1] - my) * s
    return True, T, out


@njit(cache=True)
def null_vector(A, tol):
    """Unit null vector of a full-row-rank ``A`` (m, m + 1) by Gaussian elimination
    with complete pivoting: (ok, v). ``ok`` is False when the last pivot falls below
    ``tol`` times the first (rank < m). Exact minimal samples have a one-dimensional
    null space, so this equals the SVD's last right singular vector up to sign, at a
    fraction of the cost."""
    M = A.copy()
    m, n = M.shape
    cols = np.arange(n)
    v = np.zeros(n)
    first = 0.0
    for k in range(m):
        p, q, best = k, k, -1.0
        for i in range(k, m):
            for j in range(k, n):
                if abs(M[i, j]) > best:
                    best, p, q = abs(M[i, j]), i, j
        if k == 0:
            first = best
        if best <= tol * first or best == 0.0:
            return False, v
        for j in range(n):
            M[k, j], M[p, j] = M[p, j], M[k, j]
        for i in range(m):
            M[i, k], M[i, q] = M[i, q], M[i, k]
        cols[k], cols[q] = cols[q], cols[k]
        for i in range(k + 1, m):
            f = M[i, k] / M[k, k]
            for j in range(k, n):
                M[i, j] -= f * M[k, j]
    x = np.zeros(n)
    x[m] = 1.0
    for k in range(m - 1, -1, -1):
        acc = 0.0
        for j in range(k + 1, n):
            acc += M[k, j] * x[j]
        x[k] = -acc / M[k, k]
    norm = np.sqrt((x * x).sum())
    for j in range(n):
        v[cols[j]] = x[j] / norm
    return True, v


@njit(cache=True)
def fit_homography(src, dst):
    """Normalised DLT on a minimal sample src, dst (4, 2), as ``HomographyModel.fit``
    (null vector by elimination instead of SVD): (ok, H (3, 3))."""
    H = np.zeros((3, 3))
    ok1, T1, p = _normalise(src)
    ok2, T2, q = _normalise(dst)
    if not (ok1 and ok2):
        return False, H
    n = p.shape[0]
    A = np.zeros((2 * n, 9))
    for i in range(n):
        x, y, u, v = p[i, 0], p[i, 1], q[i, 0], q[i, 1]
        A[2 * i, 0], A[2 * i, 1], A[2 * i, 2] = -x, -y, -1.0
        A[2 * i, 6], A[2 * i, 7], A[2 * i, 8] = u * x, u * y, u
        A[2 * i + 1, 3], A[2 * i + 1, 4], A[2 * i + 1, 5] = -x, -y, -1.0
        A[2 * i + 1, 6], A[2 * i + 1, 7], A[2 * i + 1, 8] = v * x, v * y, v
    ok, h = null_vector(A, 1e-10)
    if not ok:
        return False, H  # three of the four points are (nearly) collinear
    Hn = h.reshape(3, 3)
    H = np.linalg.solve(T2, Hn @ T1)
    if abs(H[2, 2]) > 1e-12:
        return True, H / H[2, 2]
    return True, H / np.sqrt((H * H).sum())


@njit(cache=True)
def fit_fundamental(x1, x2):
    """Normalised 8-point on a minimal sample x1, x2 (8, 2) with rank-2 enforcement,
    as ``FundamentalModel.fit`` (null vector by elimination): (ok, F)."""
    F = np.zeros((3, 3))
    ok1, T1, p = _normalise(x1)
    ok2, T2, q = _normalise(x2)
    if not (ok1 and ok2):
        return False, F
    n = p.shape[0]
    A = np.empty((n, 9))
    for i in range(n):
        A[i, 0] = q[i, 0] * p[i, 0]
        A[i, 1] = q[i, 0] * p[i, 1]
        A[i, 2] = q[i, 0]
        A[i, 3] = q[i, 1] * p[i, 0]
        A[i, 4] = q[i, 1] * p[i, 1]
        A[i, 5] = q[i, 1]
        A[i, 6] = p[i, 0]
        A[i, 7] = p[i, 1]
        A[i, 8] = 1.0
    ok, f = null_vector(A, 1e-10)
    if not ok:
        return False, F
    Fn = f.reshape(3, 3)
    u, s, vt2 = np.linalg.svd(Fn)
    if s[1] < 1e-12:
        return False, F
    D = np.zeros((3, 3))
    D[0, 0] = s[0]
    D[1, 1] = s[1]
    F = T2.T @ (u @ D @ vt2) @ T1
    return True, F / np.sqrt((F * F).sum())


@njit(cache=True)
def count_inliers(model, P, a, b, threshold):
    """Number of rows whose residual (reprojection distance for a homography,
    Sampson distance for a fundamental matrix) is below ``threshold``."""
    count = 0
    for i in range(a.shape[0]):
        x, y = a[i, 0], a[i, 1]
        u, v = b[i, 0], b[i, 1]
        if model == HOMOGRAPHY:
            w = P[2, 0] * x + P[2, 1] * y + P[2, 2]
            if w == 0.0:
                continue
            px = (P[0, 0] * x + P[0, 1] * y + P[0, 2]) / w
            py = (P[1, 0] * x + P[1, 1] * y + P[1, 2]) / w
            d = np.sqrt((px - u) ** 2 + (py - v) ** 2)
        else:
            l0 = P[0, 0] * x + P[0, 1] * y + P[0, 2]
            l1 = P[1, 0] * x + P[1, 1] * y + P[1, 2]
            l2 = P[2, 0] * x + P[2, 1] * y + P[2, 2]
            m0 = P[0, 0] * u + P[1, 0] * v + P[2, 0]
            m1 = P[0, 1] * u + P[1, 1] * v + P[2, 1]
            den = l0 * l0 + l1 * l1 + m0 * m0 + m1 * m1
            if den == 0.0:
                continue
            d = abs(u * l0 + v * l1 + l2) / np.sqrt(den)
        if d < threshold:
            count += 1
    return count


@njit(cache=True)
def run_trials(model, samples, a, b, threshold, confidence, best_count, needed, trials_done):
    """Evaluate minimal samples (B, k) in order until ``trials_done`` reaches ``needed``.

    Returns ``(trials_done, best_count, best_row, needed)``; ``best_row`` is -1 when
    no sample of this batch beat ``best_count``.
    """
    k = samples.shape[1]
    n = a.shape[0]
    best_row = -1
    sa = np.empty((k, 2))
    sb = np.empty((k, 2))
    for row in range(samples.shape[0]):
        if trials_done >= needed:
            break
        trials_done += 1
        for j in range(k):
            sa[j] = a[samples[row, j]]
            sb[j] = b[samples[row, j]]
        if model == HOMOGRAPHY:
            ok, P = fit_homography(sa, sb)
        else:
            ok, P = fit_fundamental(sa, sb)
        if not ok:
            continue
        count = count_inliers(model, P, a, b, threshold)
        if count > best_count:
            best_count = count
            best_row = row
            needed = min(needed, required_trials(count / n, k, confidence))
    return trials_done, best_count, best_row, needed
