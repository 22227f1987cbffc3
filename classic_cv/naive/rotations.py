"""Plain NumPy twins of ``classic_cv._kernels.rotations`` (whole-array formulas)."""
import numpy as np


def rotation_defects(R):
    """(max |R R^T - I|, det R) for each matrix of R (N, D, D)."""
    off = np.abs(R @ np.swapaxes(R, 1, 2) - np.eye(R.shape[1])).max(axis=(1, 2))
    return off, np.linalg.det(R)


def skew(v):
    """Cross-product matrices [v]x (N, 3, 3)."""
    K = np.zeros((len(v), 3, 3))
    K[:, 0, 1], K[:, 0, 2], K[:, 1, 2] = -v[:, 2], v[:, 1], -v[:, 0]
    K[:, 1, 0], K[:, 2, 0], K[:, 2, 1] = v[:, 2], -v[:, 1], v[:, 0]
    return K


def rotvec_to_matrix(v):
    """Rodrigues' formula I + sin(t)/t K + (1 - cos t)/t^2 K^2, K = [v]x (sinc avoids 0/0)."""
    theta = np.linalg.norm(v, axis=1)[:, None, None]
    K = skew(v)
    return np.eye(3) + np.sinc(theta / np.pi) * K + 0.5 * np.sinc(theta / (2 * np.pi)) ** 2 * (K @ K)


def quaternion_to_matrix(q):
    """The textbook matrix of a unit quaternion (x, y, z, w)."""
    x, y, z, w = q.T
    return np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
                     2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
                     2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], axis=1).reshape(-1, 3, 3)


def matrix_to_quaternion(R):
    """All four Shepperd candidates (4 q_m times the quaternion) for every matrix; keep
    the one whose own component is largest, normalise, make w >= 0."""
    trace = np.trace(R, axis1=1, axis2=2)
    candidates = np.empty((len(R), 4, 4))
    candidates[:, 3] = np.stack([R[:, 2, 1] - R[:, 1, 2], R[:, 0, 2] - R[:, 2, 0], R[:, 1, 0] - R[:, 0, 1],
                                 1 + trace], axis=1)
    for i in range(3):
        j, k = (i + 1) % 3, (i + 2) % 3
        candidates[:, i, i] = 1 - trace + 2 * R[:, i, i]
        candidates[:, i, j] = R[:, j, i] + R[:, i, j]
        candidates[:, i, k] = R[:, k, i] + R[:, i, k]
        candidates[:, i, 3] = R[:, k, j] - R[:, j, k]
    pivot = np.argmax(np.stack([candidates[:, m, m] for m in (3, 0, 1, 2)], axis=1), axis=1)  # ties go to w
    q = candidates[np.arange(len(R)), (pivot + 3) % 4]
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return np.where(q[:, 3:] < 0, -q, q)


def quaternion_to_rotvec(q):
    """xyz * angle / sin(angle / 2), angle = 2 atan2(|xyz|, w)."""
    half = np.arctan2(np.linalg.norm(q[:, :3], axis=1), q[:, 3])
    return q[:, :3] * (2.0 / np.sinc(half / np.pi))[:, None]
