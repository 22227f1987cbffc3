"""Camera geometry: triangulation against OpenCV, rotation conversions against scipy
(batches of rotations), and ICP against a plain scipy loop (KD-tree query + Kabsch
from ``Rotation.align_vectors``, the same number of rounds)."""
import numpy as np

from benchmarks.harness import Case
from classic_cv.registration import icp
from classic_cv.rotations import matrix_to_euler, matrix_to_quaternion, matrix_to_rotvec, rotvec_to_matrix
from classic_cv.two_view import triangulate


def _stereo(n, seed=0):
    """Two cameras and n noisy correspondences of points 4-8 units in front of them."""
    rng = np.random.default_rng(seed)
    K = np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]])
    a = 0.2
    R = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    P1, P2 = K @ np.eye(3, 4), K @ np.column_stack([R, [-1.0, 0.2, 0.1]])
    X = np.column_stack([rng.uniform(-2, 2, n), rng.uniform(-2, 2, n), rng.uniform(4, 8, n), np.ones(n)])
    u1, u2 = X @ P1.T, X @ P2.T
    x1 = u1[:, :2] / u1[:, 2:] + rng.normal(0, 0.5, (n, 2))
    x2 = u2[:, :2] / u2[:, 2:] + rng.normal(0, 0.5, (n, 2))
    return P1, P2, x1, x2


def _rotvecs(n, seed=1):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, 3))
    return v * (rng.uniform(0, np.pi, n) / np.linalg.norm(v, axis=1))[:, None]


def _cloud_pair(seed=2):
    """A height field of skimage's camera image (4096 points) and a 20-degree rotated, noisy copy."""
    from skimage import data

    image = data.camera()[::8, ::8] / 255.0
    h, w = image.shape
    rows, cols = np.mgrid[0:h, 0:w]
    cloud = np.column_stack([cols.ravel() / w, rows.ravel() / w, 0.3 * image.ravel()])
    rng = np.random.default_rng(seed)
    R = rotvec_to_matrix(np.deg2rad(20) * np.array([0.6, -0.48, 0.64]))
    return cloud, cloud @ R.T + [0.1, -0.05, 0.08] + rng.normal(0, 0.002, cloud.shape)


def _plain_icp(source, target, rounds):
    """Point-to-point ICP from scipy's pieces: KD-tree matches, Kabsch by align_vectors."""
    from scipy.spatial import cKDTree
    from scipy.spatial.transform import Rotation

    tree = cKDTree(target)
    R, t = np.eye(3), np.zeros(3)
    for _ in range(rounds):
        nearest = target[tree.query(source @ R.T + t)[1]]
        mean_s, mean_t = source.mean(axis=0), nearest.mean(axis=0)
        R = Rotation.align_vectors(nearest - mean_t, source - mean_s)[0].as_matrix()
        t = mean_t - R @ mean_s
    return R, t


def cases(quick):
    from scipy.spatial.transform import Rotation

    n_points = 2_000 if quick else 10_000
    n_rotations = 20_000 if quick else 100_000
    P1, P2, x1, x2 = _stereo(n_points)
    x1t, x2t = x1.T.copy(), x2.T.copy()
    v = _rotvecs(n_rotations)
    R = Rotation.from_rotvec(v).as_matrix()
    out = [
        Case(f"geometry rotvec->matrix {n_rotations // 1000}k", lambda: rotvec_to_matrix(v),
             {"scipy": lambda: Rotation.from_rotvec(v).as_matrix()}),
        Case(f"geometry matrix->rotvec {n_rotations // 1000}k", lambda: matrix_to_rotvec(R),
             {"scipy": lambda: Rotation.from_matrix(R).as_rotvec()}, note="ours checks R is a rotation"),
        Case(f"geometry matrix->quaternion {n_rotations // 1000}k", lambda: matrix_to_quaternion(R),
             {"scipy": lambda: Rotation.from_matrix(R).as_quat(canonical=True)}, note="ours checks R is a rotation"),
        Case(f"geometry matrix->euler XYZ {n_rotations // 1000}k", lambda: matrix_to_euler("XYZ", R),
             {"scipy": lambda: Rotation.from_matrix(R).as_euler("XYZ")}),
    ]
    try:
        import cv2

        out.append(Case(f"geometry triangulate {n_points // 1000}k", lambda: triangulate(P1, P2, x1, x2),
                        {"cv2": lambda: cv2.triangulatePoints(P1, P2, x1t, x2t)},
                        note="linear DLT; cv2's output not dehomogenised"))
    except ImportError:
        pass
    source, target = _cloud_pair()
    rounds = 10 if quick else 20  # fewer than convergence needs, so both sides run exactly this many
    out.append(Case(f"geometry icp 4096 points {rounds} rounds",
                    lambda: icp(source, target, max_iterations=rounds, tolerance=0.0),
                    {"scipy": lambda: _plain_icp(source, target, rounds)}, note="plain loop of scipy calls"))
    return out
