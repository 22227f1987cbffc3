"""Numba kernels for rotation conversions, one rotation per loop iteration.

Measured on 20k rotations: NumPy's vectorised forms (``classic_cv.naive.rotations``)
spend their time in passes over short strided axes and in ``np.sinc`` (1 ms
alone), 8-15x slower than scipy's compiled loops; these loops keep the nine
entries of a matrix in registers.
"""
import numpy as np
from numba import njit


@njit(cache=True)
def rotation_defects(R, off, det):
    """For each matrix of R (N, D, D): ``off`` = max |R R^T - I|, ``det`` = det R."""
    d = R.shape[1]
    for n in range(R.shape[0]):
        worst = 0.0
        for i in range(d):
            for j in range(i, d):
                dot = 0.0
                for k in range(d):
                    dot += R[n, i, k] * R[n, j, k]
                worst = max(worst, abs(dot - (1.0 if i == j else 0.0)))
        off[n] = worst
        if d == 2:
            det[n] = R[n, 0, 0] * R[n, 1, 1] - R[n, 0, 1] * R[n, 1, 0]
        else:
            det[n] = (R[n, 0, 0] * (R[n, 1, 1] * R[n, 2, 2] - R[n, 1, 2] * R[n, 2, 1])
                      - R[n, 0, 1] * (R[n, 1, 0] * R[n, 2, 2] - R[n, 1, 2] * R[n, 2, 0])
                      + R[n, 0, 2] * (R[n, 1, 0] * R[n, 2, 1] - R[n, 1, 1] * R[n, 2, 0]))


@njit(cache=True)
def rotvec_to_matrix(v, out):
    """Rodrigues: out[n] = cos(t) I + a [v]x + b v v^T, a = sin(t)/t, b = (1 - cos t)/t^2,
    all from s = sin(t/2), h = cos(t/2): sin t = 2 s h and 1 - cos t = 2 s^2, so
    no coefficient cancels near t = 0 (and two trigonometric calls do for three)."""
    for n in range(v.shape[0]):
        x, y, z = v[n, 0], v[n, 1], v[n, 2]
        theta = np.sqrt(x * x + y * y + z * z)
        s, h = np.sin(0.5 * theta), np.cos(0.5 * theta)
        if theta > 0.0:
            sinc_half = s / (0.5 * theta)
            a, b = sinc_half * h, 0.5 * sinc_half * sinc_half
        else:
            a, b = 1.0, 0.5
        c = 1.0 - 2.0 * s * s
        out[n, 0, 0], out[n, 0, 1], out[n, 0, 2] = c + b * x * x, b * x * y - a * z, b * x * z + a * y
        out[n, 1, 0], out[n, 1, 1], out[n, 1, 2] = b * x * y + a * z, c + b * y * y, b * y * z - a * x
        out[n, 2, 0], out[n, 2, 1], out[n, 2, 2] = b * x * z - a * y, b * y * z + a * x, c + b * z * z


@njit(cache=True)
def quaternion_to_matrix(q, out):
    """Matrices of unit quaternions q (N, 4), scalar last."""
    for n in range(q.shape[0]):
        x, y, z, w = q[n, 0], q[n, 1], q[n, 2], q[n, 3]
        out[n, 0, 0], out[n, 0, 1], out[n, 0, 2] = 1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)
        out[n, 1, 0], out[n, 1, 1], out[n, 1, 2] = 2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)
        out[n, 2, 0], out[n, 2, 1], out[n, 2, 2] = 2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)


@njit(cache=True)
def matrix_to_quaternion(R, out):
    """Shepperd's method: unit quaternions (N, 4), scalar last, w >= 0.

    Of 4 q_m^2 for m = x, y, z (1 - trace + 2 R_mm) and w (1 + trace), the
    largest is the pivot; every other component times 4 q_m is an off-diagonal
    sum or difference, so the division is never by a small number."""
    for n in range(R.shape[0]):
        trace = R[n, 0, 0] + R[n, 1, 1] + R[n, 2, 2]
        pivot, best = 3, 1.0 + trace
        for m in range(3):
            value = 1.0 - trace + 2.0 * R[n, m, m]
            if value > best:
                pivot, best = m, value
        if pivot == 3:
            out[n, 0] = R[n, 2, 1] - R[n, 1, 2]
            out[n, 1] = R[n, 0, 2] - R[n, 2, 0]
            out[n, 2] = R[n, 1, 0] - R[n, 0, 1]
            out[n, 3] = best
        else:
            i, j, k = pivot, (pivot + 1) % 3, (pivot + 2) % 3
            out[n, i] = best
            out[n, j] = R[n, j, i] + R[n, i, j]
            out[n, k] = R[n, k, i] + R[n, i, k]
            out[n, 3] = R[n, k, j] - R[n, j, k]
        norm = np.sqrt(out[n, 0] ** 2 + out[n, 1] ** 2 + out[n, 2] ** 2 + out[n, 3] ** 2)
        if out[n, 3] < 0:
            norm = -norm
        for c in range(4):
            out[n, c] /= norm


@njit(cache=True)
def quaternion_to_rotvec(q, out):
    """Rotation vectors of unit quaternions (N, 4) with w >= 0: angle 2 atan2(|xyz|, w),
    vector xyz * angle / |xyz| (2 xyz at the identity, the limit)."""
    for n in range(q.shape[0]):
        norm = np.sqrt(q[n, 0] ** 2 + q[n, 1] ** 2 + q[n, 2] ** 2)
        half = np.arctan2(norm, q[n, 3])
        scale = 2.0 * half / norm if norm > 0.0 else 2.0
        for c in range(3):
            out[n, c] = scale * q[n, c]
