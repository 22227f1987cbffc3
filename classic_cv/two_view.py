"""Two-view geometry: essential matrices, relative pose and triangulation.

Cameras are pinhole ``x ~ K [R | t] X``: a world point ``X`` seen by the first
camera ``P1 = K1 [I | 0]`` and the second ``P2 = K2 [R | t]``. Image points are
(x, y) = (column, row) pixels, one row per point. The fundamental matrix
``F`` (``x2^T F x1 = 0``) comes from :func:`classic_cv.ransac.find_fundamental`;
this module turns it into an essential matrix ``E = K2^T F K1 = [t]x R``,
splits ``E`` into the four candidate poses, picks the one that puts the points
in front of both cameras (:func:`recover_pose`, as ``cv2.recoverPose``) and
triangulates (:func:`triangulate`, the linear method of ``cv2.triangulatePoints``
with an optional reprojection-error refinement).
"""
from dataclasses import dataclass

import numpy as np

from minigrad.validation import check_bool, check_int, check_number

from ._kernels import two_view as _k
from ._validate import as_float_array
from .rotations import check_rotation_matrix

__all__ = [
    "RelativePose",
    "essential_from_fundamental",
    "essential_from_pose",
    "decompose_essential",
    "recover_pose",
    "triangulate",
]

# A 3x3 matrix whose second singular value is below this fraction of the first
# has rank < 2: no essential matrix, no relative pose.
_RANK_TOLERANCE = 1e-9

# Quarter turn about z: E = U diag(1, 1, 0) V^T gives R = U W V^T or U W^T V^T.
_W = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


@dataclass
class RelativePose:
    """Outcome of :func:`recover_pose`: the second camera is ``[R | t]``.

    Attributes
    ----------
    R : (3, 3) rotation matrix
    t : (3,) unit translation (the scale is not observable from two views)
    inliers : (N,) bool
        Points in front of both cameras, closer than ``max_depth``.
    points : (N, 3) float64
        The triangulated points in the first camera's frame (units of ``|t| = 1``).
    """

    R: np.ndarray
    t: np.ndarray
    inliers: np.ndarray
    points: np.ndarray

    @property
    def n_inliers(self):
        return int(self.inliers.sum())


# ------------------------------------------------------------------ checks


def _as_matrix(func, name, value, shape):
    """A finite float64 matrix of exactly ``shape``."""
    matrix = as_float_array(func, name, value, ndim=2)
    if matrix.shape != shape:
        raise ValueError(f"{func}: {name} must be {shape}, got shape {matrix.shape}")
    return matrix


def _as_camera_matrix(func, name, value):
    """An intrinsic matrix: (3, 3), finite, invertible."""
    K = _as_matrix(func, name, value, (3, 3))
    s = np.linalg.svd(K, compute_uv=False)
    if s[2] <= 1e-12 * s[0]:
        raise ValueError(f"{func}: {name} must be an invertible (3, 3) camera matrix, got singular values {s}")
    return K


def _as_rank2(func, name, value):
    """A (3, 3) matrix of rank 2 or more (a fundamental or essential matrix)."""
    M = _as_matrix(func, name, value, (3, 3))
    s = np.linalg.svd(M, compute_uv=False)
    if s[1] <= _RANK_TOLERANCE * s[0]:
        raise ValueError(f"{func}: {name} must have rank 2, got singular values {s}")
    return M


def _as_point_pair(func, x1, x2):
    """Two non-empty (N, 2) point arrays (x, y) of one shape."""
    x1, x2 = (as_float_array(func, name, x, ndim=2) for name, x in (("x1", x1), ("x2", x2)))
    for name, x in (("x1", x1), ("x2", x2)):
        if x.shape[1] != 2:
            raise ValueError(f"{func}: {name} must be (N, 2) points (x, y), got shape {x.shape}")
    if x1.shape != x2.shape:
        raise ValueError(f"{func}: x1 and x2 must have the same shape, got {x1.shape} and {x2.shape}")
    return x1, x2


# ---------------------------------------------------------- essential matrix


def essential_from_fundamental(F, K1, K2=None):
    """Essential matrix ``E = K2^T F K1``, projected onto the essential matrices.

    An essential matrix has two equal singular values and a zero one; a
    fundamental matrix estimated from noisy points does not give exactly that,
    so the singular values are replaced by (1, 1, 0): the closest essential
    matrix in Frobenius norm, scaled to ``|E| = sqrt(2)``.

    Parameters
    ----------
    F : (3, 3) fundamental matrix, ``x2^T F x1 = 0`` for pixel points; rank >= 2
    K1 : (3, 3) intrinsic matrix of the first camera
    K2 : (3, 3) intrinsic matrix of the second camera (None: same as ``K1``)

    Returns
    -------
    E : (3, 3) float64 with ``xn2^T E xn1 = 0`` for normalised points ``xn = K^-1 [x, y, 1]``
    """
    func = "essential_from_fundamental"
    F = _as_rank2(func, "F", F)
    K1 = _as_camera_matrix(func, "K1", K1)
    K2 = K1 if K2 is None else _as_camera_matrix(func, "K2", K2)
    return _project_essential(K2.T @ F @ K1)


def _project_essential(M):
    u, _, vt = np.linalg.svd(M)
    return u @ np.diag([1.0, 1.0, 0.0]) @ vt


def essential_from_pose(R, t):
    """Essential matrix ``E = [t]x R`` of the camera pair ``[I | 0]``, ``[R | t]``.

    Parameters
    ----------
    R : (3, 3) rotation matrix
    t : (3,) translation, nonzero (its length only scales ``E``)

    Returns
    -------
    E : (3, 3) float64
    """
    func = "essential_from_pose"
    R = _as_matrix(func, "R", R, (3, 3))
    check_rotation_matrix(func, "R", R[None])
    t = as_float_array(func, "t", t, ndim=1)
    if t.shape != (3,):
        raise ValueError(f"{func}: t must be (3,), got shape {t.shape}")
    if not np.linalg.norm(t) > 0:
        raise ValueError(f"{func}: t must be nonzero (a pure rotation has no essential matrix), got {t}")
    # Column j of [t]x R is t x R[:, j].
    return np.cross(t, R.T).T


def decompose_essential(E):
    """The four poses an essential matrix allows: ``(R1, t), (R1, -t), (R2, t), (R2, -t)``.

    With ``E = U diag(1, 1, 0) V^T`` (``U``, ``V`` rotations), ``R1 = U W V^T``,
    ``R2 = U W^T V^T`` and ``t = U[:, 2]``, ``W`` a quarter turn about z; only
    one of the four puts the scene in front of both cameras (see
    :func:`recover_pose`). Same outputs as ``cv2.decomposeEssentialMat``, up to
    the sign of ``t`` and the order of ``R1``, ``R2``.

    Parameters
    ----------
    E : (3, 3) essential matrix (rank 2; any scale)

    Returns
    -------
    R1, R2 : (3, 3) rotation matrices
    t : (3,) unit vector
    """
    return _decompose_essential(_as_rank2("decompose_essential", "E", E))


def _decompose_essential(E):
    u, _, vt = np.linalg.svd(E)
    # E's null directions may come with either sign; flipping one keeps E and makes U, V rotations.
    u = u if np.linalg.det(u) > 0 else -u
    vt = vt if np.linalg.det(vt) > 0 else -vt
    return u @ _W @ vt, u @ _W.T @ vt, u[:, 2].copy()


# ----------------------------------------------------------- relative pose


def recover_pose(E, x1, x2, K, *, max_depth=50.0):
    """Relative pose ``[R | t]`` of the second camera from an essential matrix.

    Each of the four decompositions of ``E`` triangulates every correspondence
    (linear DLT in normalised coordinates); the one with the most points in
    front of both cameras (positive depth, below ``max_depth``) wins. This is
    the cheirality test of ``cv2.recoverPose``, which gives the same ``R``, ``t``.

    Parameters
    ----------
    E : (3, 3) essential matrix (e.g. from :func:`essential_from_fundamental`)
    x1, x2 : (N, 2) arrays, N >= 1
        Matching pixel points (x, y) in the first and second image (inliers
        only: every point votes).
    K : (3, 3) intrinsic matrix shared by both cameras
    max_depth : float > 0
        Points farther than this (in units of the baseline ``|t| = 1``) in
        either camera are treated as at infinity and do not vote; 50 as in OpenCV.

    Returns
    -------
    RelativePose
        ``R``, unit ``t``, the inlier mask and the triangulated points.

    Raises
    ------
    ValueError
        If no decomposition puts any point in front of both cameras (the points
        do not fit ``E``).
    """
    func = "recover_pose"
    E = _as_rank2(func, "E", E)
    x1, x2 = _as_point_pair(func, x1, x2)
    K = _as_camera_matrix(func, "K", K)
    max_depth = check_number(func, "max_depth", max_depth, low=0, low_open=True)
    n1, n2 = _normalise_points(K, x1), _normalise_points(K, x2)
    R1, R2, t = _decompose_essential(E)
    best = None
    for R, tt in ((R1, t), (R1, -t), (R2, t), (R2, -t)):
        X = _dlt(np.hstack([np.eye(3), np.zeros((3, 1))]), np.column_stack([R, tt]), n1, n2)
        inliers = _in_front(X, R, tt, max_depth)
        if best is None or inliers.sum() > best.inliers.sum():
            best = RelativePose(R, tt, inliers, _dehomogenise(X))
    if not best.inliers.any():
        raise ValueError(f"{func}: no decomposition of E puts any point in front of both cameras; "
                         f"x1, x2 must be correspondences that satisfy E")
    return best


def _normalise_points(K, x):
    """Pixel points (N, 2) -> normalised image coordinates K^-1 [x, y, 1] (N, 2)."""
    h = np.linalg.solve(K, np.vstack([x.T, np.ones(len(x))])).T
    return h[:, :2] / h[:, 2:]


def _in_front(X, R, t, max_depth):
    """Homogeneous points X (N, 4) in the frame of camera 1 that lie in front of
    both cameras [I | 0] and [R | t], closer than ``max_depth`` in both."""
    w = X[:, 3]
    with np.errstate(divide="ignore", invalid="ignore"):
        depth1 = X[:, 2] / w
        depth2 = (X[:, :3] @ R[2] + t[2] * w) / w
    return (depth1 > 0) & (depth1 < max_depth) & (depth2 > 0) & (depth2 < max_depth)


# ------------------------------------------------------------ triangulation


def triangulate(P1, P2, x1, x2, *, refine=False, max_iterations=10):
    """3-D points seen at ``x1`` by camera ``P1`` and at ``x2`` by camera ``P2``.

    The linear method (DLT): each view gives two rows ``x P[2] - P[0]``,
    ``y P[2] - P[1]`` of a 4 x 4 system ``A X = 0``; ``X`` is ``A``'s right
    singular vector of the smallest singular value, dehomogenised. This is
    what ``cv2.triangulatePoints`` computes. With ``refine=True`` each point is
    then moved to minimise its reprojection error in both images
    (Levenberg-Marquardt, a step is kept only if it lowers that point's error).

    Parameters
    ----------
    P1, P2 : (3, 4) camera matrices ``K [R | t]`` of rank 3
    x1, x2 : (N, 2) arrays, N >= 1
        Matching pixel points (x, y).
    refine : bool
        Refine the linear estimate by minimising the reprojection error.
    max_iterations : int >= 1
        Refinement iterations (used only with ``refine=True``).

    Returns
    -------
    X : (N, 3) float64
        Points in the world frame; a point whose homogeneous coordinate is 0
        (at infinity) comes back as inf.
    """
    func = "triangulate"
    P1, P2 = (_as_matrix(func, name, P, (3, 4)) for name, P in (("P1", P1), ("P2", P2)))
    for name, P in (("P1", P1), ("P2", P2)):
        s = np.linalg.svd(P, compute_uv=False)
        if s[2] <= 1e-12 * s[0]:
            raise ValueError(f"{func}: {name} must be a camera matrix of rank 3, got singular values {s}")
    x1, x2 = _as_point_pair(func, x1, x2)
    refine = check_bool(func, "refine", refine)
    max_iterations = check_int(func, "max_iterations", max_iterations, low=1)
    X = _dehomogenise(_dlt(P1, P2, x1, x2))
    return _refine_points(P1, P2, x1, x2, X, max_iterations) if refine else X


def _dlt(P1, P2, x1, x2):
    """Homogeneous points (N, 4), unit norm: the null vectors of the DLT systems."""
    out = np.empty((len(x1), 4))
    _k.dlt_points(P1, P2, x1, x2, out)
    return out


def _dehomogenise(X):
    with np.errstate(divide="ignore", invalid="ignore"):
        out = X[:, :3] / X[:, 3:]
    out[~np.isfinite(out).all(axis=1)] = np.inf
    return out


def _reprojection(P1, P2, X):
    """Projections (N, 4), rows (x1, y1, x2, y2), of points X (N, 3) into both views."""
    u1, u2 = X @ P1[:, :3].T + P1[:, 3], X @ P2[:, :3].T + P2[:, 3]
    return np.hstack([u1[:, :2] / u1[:, 2:], u2[:, :2] / u2[:, 2:]])


def _refine_points(P1, P2, x1, x2, X, max_iterations):
    """Levenberg-Marquardt on each point's squared reprojection error, all points at once."""
    observed = np.hstack([x1, x2])
    ok = np.isfinite(X).all(axis=1)
    X = X.copy()
    Xo, obs = X[ok], observed[ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        proj = _reprojection(P1, P2, Xo)
    cost = np.where(np.isfinite(proj).all(axis=1), ((proj - obs) ** 2).sum(axis=1), np.inf)
    damping = np.full(len(Xo), 1e-3)
    for _ in range(max_iterations):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            J = _reprojection_jacobian(P1, P2, Xo)
        # A point on a camera's principal plane has no finite Jacobian: it stays put.
        rows = np.flatnonzero(np.isfinite(J).all(axis=(1, 2)) & np.isfinite(cost))
        J, r = J[rows], proj[rows] - obs[rows]
        JtJ = np.einsum("nki,nkj->nij", J, J)
        g = np.einsum("nki,nk->ni", J, r)
        # Damping scaled by JtJ's diagonal: Gauss-Newton when it works, gradient
        # descent when not; the tiny multiple of the trace keeps every system solvable.
        trace = np.trace(JtJ, axis1=1, axis2=2)
        A = JtJ + damping[rows, None, None] * (JtJ * np.eye(3)) + (1e-14 * trace + 1e-300)[:, None, None] * np.eye(3)
        candidate = Xo[rows] - np.linalg.solve(A, g[..., None])[..., 0]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            new_proj = _reprojection(P1, P2, candidate)
            new_cost = ((new_proj - obs[rows]) ** 2).sum(axis=1)
        better = np.isfinite(new_cost) & (new_cost < cost[rows])
        kept = rows[better]
        Xo[kept], proj[kept], cost[kept] = candidate[better], new_proj[better], new_cost[better]
        damping[rows] = np.clip(np.where(better, damping[rows] * 0.1, damping[rows] * 10.0), 1e-15, 1e15)
    X[ok] = Xo
    return X


def _reprojection_jacobian(P1, P2, X):
    """d(projections)/dX (N, 4, 3): for u = P[:, :3] X + P[:, 3], d(u_k / u_2) = (P_k - (u_k / u_2) P_2) / u_2."""
    J = np.empty((len(X), 4, 3))
    for view, P in enumerate((P1, P2)):
        u = X @ P[:, :3].T + P[:, 3]
        for k in range(2):
            J[:, 2 * view + k] = (P[k, :3] - (u[:, k] / u[:, 2])[:, None] * P[2, :3]) / u[:, 2:]
    return J
