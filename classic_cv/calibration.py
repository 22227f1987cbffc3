"""Camera calibration: DLT, projection-matrix decomposition, Zhang's planar
method with radial distortion, K from vanishing points, checkerboard corners.

The camera model is OpenCV's with two radial terms. A world point ``X`` goes to
camera coordinates ``Xc = R X + t``, to the normalised image point
``(x, y) = (Xc / Zc, Yc / Zc)``, is distorted radially,
``(x_d, y_d) = (x, y) (1 + k1 r^2 + k2 r^4)`` with ``r^2 = x^2 + y^2``, and
lands on the pixel ``(u, v, 1) = K (x_d, y_d, 1)`` with
``K = [[fx, s, cx], [0, fy, cy], [0, 0, 1]]``. Points are (x, y) = (column,
row), as everywhere in ``classic_cv``; rotations come as matrices and as
rotation vectors (axis times angle in radians, OpenCV's ``rvec``).
"""
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from scipy.spatial import ConvexHull, QhullError
from scipy.spatial.transform import Rotation

from minigrad.validation import check_bool, check_int, check_number

from ._kernels import calibration as _k
from ._validate import as_float_array, as_gray, check_min_size
from .filters import _gaussian_blur
from .harris import _corner_subpix, corner_peaks
from .ransac import HomographyModel, _normalise

__all__ = [
    "CameraCalibration",
    "calibrate_camera",
    "calibrate_dlt",
    "calibrate_from_vanishing_points",
    "checkerboard_points",
    "decompose_projection",
    "find_checkerboard_corners",
    "project_points",
]

# Relative size below which a singular value counts as zero: coplanar points
# for the DLT, too few independent constraints for Zhang's closed form.
_DEGENERATE = 1e-6
# Largest relative standard deviation of a focal length that calibrate_camera
# returns; beyond it the views (nearly) leave K undetermined.
_MAX_FOCAL_UNCERTAINTY = 0.05


@dataclass
class CameraCalibration:
    """Outcome of :func:`calibrate_camera`.

    Attributes
    ----------
    K : (3, 3) float64
        Intrinsic matrix ``[[fx, s, cx], [0, fy, cy], [0, 0, 1]]``.
    dist : (2,) float64
        Radial distortion ``(k1, k2)``.
    rvecs : (V, 3) float64
        Rotation of each view as a rotation vector (axis times angle).
    R : (V, 3, 3) float64
        The same rotations as matrices (det +1).
    t : (V, 3) float64
        Translation of each view: the target's point ``X`` is at ``R X + t``
        in camera coordinates.
    rms : float
        Root-mean-square reprojection error in pixels over all points of all
        views (per point, the Euclidean distance; OpenCV's convention).
    per_view_rms : (V,) float64
        The same for each view.
    intrinsics_std : (4,) float64, or (5,) when the skew is estimated
        Estimated standard deviations of (fx, fy, cx, cy[, s]) in pixels,
        from the Jacobian at the solution and the residual variance (zero for
        noise-free points).
    """

    K: np.ndarray
    dist: np.ndarray
    rvecs: np.ndarray
    R: np.ndarray
    t: np.ndarray
    rms: float
    per_view_rms: np.ndarray
    intrinsics_std: np.ndarray


# ------------------------------------------------------------------ validation
def _check_points(func, name, value, dim, allow_empty=False):
    """(N, dim) finite float64 points."""
    points = as_float_array(func, name, value, ndim=2, allow_empty=allow_empty)
    if points.shape[1] != dim:
        what = "(x, y)" if dim == 2 else "(X, Y, Z)"
        raise ValueError(f"{func}: {name} must be (N, {dim}) points {what}, got shape {points.shape}")
    return points


def _check_matrix(func, name, value, shape):
    matrix = as_float_array(func, name, value, ndim=len(shape))
    if matrix.shape != shape:
        raise ValueError(f"{func}: {name} must have shape {shape}, got {matrix.shape}")
    return matrix


def _check_intrinsics(func, K):
    """A (3, 3) upper-triangular K with positive focal lengths and K[2, 2] = 1."""
    K = _check_matrix(func, "K", K, (3, 3))
    if K[1, 0] != 0 or K[2, 0] != 0 or K[2, 1] != 0 or K[2, 2] != 1:
        raise ValueError(f"{func}: K must be upper triangular with K[2, 2] = 1, got {K.tolist()}")
    if K[0, 0] <= 0 or K[1, 1] <= 0:
        raise ValueError(f"{func}: K must have positive focal lengths, got fx={K[0, 0]}, fy={K[1, 1]}")
    return K


# ------------------------------------------------------------------ projection
def project_points(points_3d, K, R, t, dist=None):
    """Pixel positions of world points seen by a calibrated camera.

    Parameters
    ----------
    points_3d : (N, 3) real, world points (X, Y, Z); N may be 0
    K : (3, 3) intrinsic matrix (upper triangular, K[2, 2] = 1)
    R : (3, 3) rotation matrix, or (3,) rotation vector, world to camera
    t : (3,) translation, world to camera (``Xc = R X + t``)
    dist : (2,) radial distortion (k1, k2), or None for none

    Returns
    -------
    xy : (N, 2) float64
        Pixel positions (x, y). Points at or behind the camera's centre
        plane (``Zc <= 0``) have no image and come back as NaN.
    """
    func = "project_points"
    points = _check_points(func, "points_3d", points_3d, 3, allow_empty=True)
    K = _check_intrinsics(func, K)
    R = as_float_array(func, "R", R, ndim=(1, 2))
    if R.shape == (3,):
        R = Rotation.from_rotvec(R).as_matrix()
    elif R.shape != (3, 3):
        raise ValueError(f"{func}: R must be a (3, 3) matrix or a (3,) rotation vector, got shape {R.shape}")
    elif not np.allclose(R @ R.T, np.eye(3), atol=1e-6) or np.linalg.det(R) < 0:
        raise ValueError(f"{func}: R must be a rotation matrix (orthonormal, det +1)")
    t = _check_matrix(func, "t", t, (3,))
    dist = np.zeros(2) if dist is None else _check_matrix(func, "dist", dist, (2,))
    xy = _project(points, K, dist, R[None], t[None])[0]
    in_front = points @ R[2] + t[2] > 0
    xy[~in_front] = np.nan
    return xy


def _project(points, K, dist, R, t):
    """(N, 3) world points seen by V views (R (V, 3, 3), t (V, 3)) -> (V, N, 2) pixels."""
    cam = np.einsum("vij,nj->vni", R, points) + t[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        xy = cam[..., :2] / cam[..., 2:]
    return _to_pixels(_distort(xy, dist), K)


def _distort(xy, dist):
    r2 = (xy**2).sum(axis=-1, keepdims=True)
    return xy * (1.0 + r2 * (dist[0] + dist[1] * r2))


def _to_pixels(xy, K):
    return xy @ K[:2, :2].T + K[:2, 2]


# ------------------------------------------------------------------ DLT
def calibrate_dlt(points_3d, points_2d):
    """Projection matrix from 3-D/2-D correspondences by the normalised DLT.

    Both point sets are normalised (Hartley: centred, mean distance sqrt(3) in
    3-D, sqrt(2) in 2-D), ``P`` is the null vector of the 2N x 12 linear system
    ``x_i ~ P X_i``, and the normalisation is undone. This minimises an
    algebraic error, not the reprojection error; lens distortion is ignored.

    Parameters
    ----------
    points_3d : (N, 3) real, N >= 6
        World points (X, Y, Z), not all on one plane (a plane leaves P
        undetermined: use :func:`calibrate_camera` for a planar target).
    points_2d : (N, 2) real
        Their images (x, y).

    Returns
    -------
    P : (3, 4) float64
        Scaled so that ``P[2, :3]`` has unit norm and ``det(P[:, :3]) > 0``;
        then ``P = K [R | t]`` with ``K[2, 2] = 1`` (see
        :func:`decompose_projection`), and ``P @ [X, 1]`` has the point's depth
        as third coordinate.
    """
    func = "calibrate_dlt"
    X = _check_points(func, "points_3d", points_3d, 3)
    x = _check_points(func, "points_2d", points_2d, 2)
    if len(X) != len(x):
        raise ValueError(f"{func}: points_3d and points_2d must hold as many points, got {len(X)} and {len(x)}")
    if len(X) < 6:
        raise ValueError(f"{func}: need at least 6 correspondences, got {len(X)}")
    T3, Xn = _normalise_3d(X)
    if T3 is None:
        raise ValueError(f"{func}: points_3d must not all lie on one plane (nor line)")
    T2, xn = _normalise(x)
    if T2 is None:
        raise ValueError(f"{func}: points_2d must not all coincide")
    Xh = np.hstack([Xn, np.ones((len(Xn), 1))])
    zeros = np.zeros_like(Xh)
    A = np.vstack([np.hstack([Xh, zeros, -xn[:, :1] * Xh]), np.hstack([zeros, Xh, -xn[:, 1:] * Xh])])
    _, s, vt = np.linalg.svd(A)
    if s[10] < _DEGENERATE * s[0]:
        raise ValueError(f"{func}: the correspondences do not determine P (degenerate configuration)")
    P = np.linalg.solve(T2, vt[-1].reshape(3, 4) @ T3)
    P /= np.linalg.norm(P[2, :3])
    return -P if np.linalg.det(P[:, :3]) < 0 else P


def _normalise_3d(points):
    """Similarity ``T`` (4, 4) centring ``points`` (N, 3) at mean distance sqrt(3)
    from the origin, and the normalised points; (None, None) when coplanar."""
    mean = points.mean(axis=0)
    centred = points - mean
    s = np.linalg.svd(centred, compute_uv=False)
    if s[2] < _DEGENERATE * s[0]:
        return None, None
    scale = np.sqrt(3.0) / np.sqrt((centred**2).sum(axis=1)).mean()
    T = np.diag([scale, scale, scale, 1.0])
    T[:3, 3] = -scale * mean
    return T, centred * scale


def decompose_projection(P):
    """Intrinsics and pose of a finite projective camera, ``P ~ K [R | t]``.

    The left 3x3 block is split by an RQ decomposition into an upper
    triangular ``K`` and a rotation ``R``; the signs are fixed so that ``K``
    has a positive diagonal and ``det R = +1`` (the overall sign of ``P``,
    which is free, is chosen accordingly).

    Parameters
    ----------
    P : (3, 4) real, with an invertible left 3x3 block

    Returns
    -------
    K : (3, 3) float64, upper triangular, positive diagonal, ``K[2, 2] = 1``
    R : (3, 3) float64, rotation (world to camera)
    t : (3,) float64, translation: ``P = lambda * K @ [R | t]`` for some lambda != 0;
        the camera centre is ``-R.T @ t``.
    """
    func = "decompose_projection"
    P = _check_matrix(func, "P", P, (3, 4))
    M = P[:, :3]
    det = np.linalg.det(M)
    if abs(det) <= 1e-12 * np.linalg.norm(M) ** 3:
        raise ValueError(f"{func}: P[:, :3] must be invertible (a finite camera), got determinant {det:.3g}")
    if det < 0:
        P = -P
    K, R = scipy.linalg.rq(P[:, :3])
    signs = np.sign(np.diag(K))
    K, R = K * signs, R * signs[:, None]  # K D, D R with D = diag(signs) = D^-1
    t = np.linalg.solve(K, P[:, 3])
    return K / K[2, 2], R, t


# ------------------------------------------------------------------ vanishing points
def calibrate_from_vanishing_points(v1, v2, v3):
    """Intrinsics from the vanishing points of three orthogonal directions.

    With square pixels and zero skew, the principal point is the orthocentre
    of the triangle of the three vanishing points and ``f^2 = -(v1 - p) . (v2 - p)``
    (the image of the absolute conic makes the back-projected rays of the
    three points mutually orthogonal).

    Parameters
    ----------
    v1, v2, v3 : (2,) real
        Vanishing points (x, y) in pixels of three mutually orthogonal
        directions. They must be finite: a direction parallel to the image
        plane (vanishing point at infinity) leaves the principal point
        undetermined. Their triangle must be acute (else no real focal length
        fits them).

    Returns
    -------
    K : (3, 3) float64, ``[[f, 0, cx], [0, f, cy], [0, 0, 1]]``
    """
    func = "calibrate_from_vanishing_points"
    v = np.stack([_check_matrix(func, name, p, (2,)) for name, p in (("v1", v1), ("v2", v2), ("v3", v3))])
    side1, side2 = v[2] - v[1], v[2] - v[0]
    area2 = abs(side1[0] * side2[1] - side1[1] * side2[0])
    if area2 <= 1e-9 * max((side1**2).sum(), (side2**2).sum()):
        raise ValueError(f"{func}: v1, v2, v3 must not be collinear (nor coincide)")
    # Orthocentre p: (p - v1) . (v3 - v2) = 0 and (p - v2) . (v3 - v1) = 0.
    A = np.stack([side1, side2])
    p = np.linalg.solve(A, [side1 @ v[0], side2 @ v[1]])
    f2 = -(v[0] - p) @ (v[1] - p)
    if f2 <= 0:
        raise ValueError(f"{func}: v1, v2, v3 must form an acute triangle, got one with an angle >= 90 degrees")
    f = np.sqrt(f2)
    return np.array([[f, 0.0, p[0]], [0.0, f, p[1]], [0.0, 0.0, 1.0]])


# ------------------------------------------------------------------ Zhang's planar method
def calibrate_camera(object_points, image_points, zero_skew=True):
    """Intrinsics, radial distortion and per-view poses from views of a planar target.

    Zhang's method: a homography per view (normalised DLT), the closed-form
    ``B = K^-T K^-1`` from the two constraints each homography puts on it
    (``h1^T B h2 = 0``, ``h1^T B h1 = h2^T B h2``), ``K`` by Cholesky, each
    view's pose from ``K^-1 H``, a linear least-squares start for ``(k1, k2)``,
    then Levenberg-Marquardt on the reprojection error of all points over all
    parameters (analytic Jacobian; rotations as rotation vectors).

    Parameters
    ----------
    object_points : (N, 2) or (N, 3) real, N >= 4
        The target's points (X, Y) on its plane, or (X, Y, 0); not all on one
        line. The same target is seen in every view; its unit (e.g. square
        size in mm) is the unit of the returned translations.
    image_points : (V, N, 2) real, or a sequence of V arrays (N, 2)
        The pixel positions (x, y) of the target's points in each view, in the
        order of ``object_points``.
    zero_skew : bool
        True (the usual model, and OpenCV's) fixes the skew ``s = K[0, 1]`` at
        0; it then takes V >= 2 views. False estimates it and needs V >= 3.

    Returns
    -------
    CameraCalibration
        ``K``, ``dist = (k1, k2)``, per-view ``rvecs``, ``R``, ``t``, and the
        RMS reprojection error.

    Raises
    ------
    ValueError
        Too few views or points, NaN/inf, counts that differ between views,
        collinear target points, or views that do not determine ``K``: all
        targets parallel (Zhang needs the plane to change orientation), or
        so little turning that the focal length's estimated standard
        deviation (``intrinsics_std``) exceeds 5 % of it.
    """
    func = "calibrate_camera"
    zero_skew = check_bool(func, "zero_skew", zero_skew)
    obj = _check_planar_target(func, object_points)
    img = _check_views(func, image_points, len(obj), 2 if zero_skew else 3)
    return _calibrate_camera(func, obj, img, zero_skew)


def _check_planar_target(func, object_points):
    """(N, 3) float64 target points with Z = 0 from (N, 2) or (N, 3)."""
    obj = as_float_array(func, "object_points", object_points, ndim=2)
    if obj.shape[1] == 2:
        obj = np.hstack([obj, np.zeros((len(obj), 1))])
    elif obj.shape[1] != 3:
        raise ValueError(f"{func}: object_points must be (N, 2) points (X, Y) or (N, 3) points (X, Y, 0), "
                         f"got shape {obj.shape}")
    elif (obj[:, 2] != 0).any():
        raise ValueError(f"{func}: object_points must lie on the plane Z = 0 (a planar target)")
    if len(obj) < 4:
        raise ValueError(f"{func}: object_points must hold at least 4 points, got {len(obj)}")
    s = np.linalg.svd(obj[:, :2] - obj[:, :2].mean(axis=0), compute_uv=False)
    if s[1] <= _DEGENERATE * s[0]:
        raise ValueError(f"{func}: object_points must not all lie on one line")
    return obj


def _check_views(func, image_points, n_points, min_views):
    """(V, N, 2) float64 image points, V >= ``min_views``, from an array or a sequence of (N, 2)."""
    if isinstance(image_points, np.ndarray):
        views = as_float_array(func, "image_points", image_points, ndim=3)
        names = [f"image_points[{i}]" for i in range(len(views))]
    else:
        if not isinstance(image_points, (list, tuple)):
            raise TypeError(f"{func}: image_points must be an array (V, N, 2) or a sequence of (N, 2) arrays, "
                            f"got {type(image_points).__name__}")
        names = [f"image_points[{i}]" for i in range(len(image_points))]
        views = [_check_points(func, name, view, 2) for name, view in zip(names, image_points)]
    if len(views) < min_views:
        raise ValueError(f"{func}: need at least {min_views} views, got {len(views)}")
    for name, view in zip(names, views):
        if view.shape != (n_points, 2):
            raise ValueError(f"{func}: {name} must be ({n_points}, 2), one (x, y) per object point, "
                             f"got shape {view.shape}")
    return np.stack(views)


def _calibrate_camera(func, obj, img, zero_skew):
    """``calibrate_camera`` on a checked (N, 3) target and (V, N, 2) views."""
    homographies = [HomographyModel.fit(obj[:, :2], view) for view in img]
    if any(H is None for H in homographies):
        raise ValueError(f"{func}: image_points must not all coincide in any view")
    K = _zhang_intrinsics(func, homographies, img.reshape(-1, 2), zero_skew)
    R, t = zip(*(_pose_from_homography(K, H) for H in homographies))
    R, t = np.stack(R), np.stack(t)
    dist = _initial_distortion(obj, img, K, R, t)
    K, dist, R, t, std = _refine(obj, img, K, dist, R, t, zero_skew)
    uncertainty = max(std[0] / K[0, 0], std[1] / K[1, 1])
    if uncertainty > _MAX_FOCAL_UNCERTAINTY:
        raise ValueError(f"{func}: the views do not determine the focal length (uncertain by "
                         f"{100 * uncertainty:.0f} %): the target must change orientation between views "
                         f"by more than a few degrees")
    errors = np.sqrt(((_project(obj, K, dist, R, t) - img) ** 2).sum(axis=-1))
    return CameraCalibration(K=K, dist=dist, rvecs=Rotation.from_matrix(R).as_rotvec(), R=R, t=t,
                             rms=float(np.sqrt((errors**2).mean())),
                             per_view_rms=np.sqrt((errors**2).mean(axis=1)), intrinsics_std=std)


def _zhang_intrinsics(func, homographies, all_points, zero_skew):
    """K from the homographies' constraints on ``B = K^-T K^-1`` (Zhang, 2000).

    The pixels are first mapped by a similarity ``N`` to about unit size (so the
    constraint matrix is well conditioned); its K is ``N K``."""
    N, _ = _normalise(all_points)
    rows = []
    for H in homographies:
        Hn = N @ H
        Hn /= np.linalg.norm(Hn)
        v01, v00, v11 = (_b_constraint(Hn[:, i], Hn[:, j]) for i, j in ((0, 1), (0, 0), (1, 1)))
        rows += [v01, v00 - v11]
    V = np.array(rows)
    if zero_skew:
        V = np.delete(V, 1, axis=1)  # B12 = 0
    _, s, vt = np.linalg.svd(V)
    if len(V) < V.shape[1] - 1 or s[V.shape[1] - 2] < _DEGENERATE * s[0]:
        raise ValueError(f"{func}: the views do not determine the intrinsics: the target must change "
                         f"orientation between views (not only move parallel to itself)")
    b = np.insert(vt[-1], 1, 0.0) if zero_skew else vt[-1]
    B = np.array([[b[0], b[1], b[3]], [b[1], b[2], b[4]], [b[3], b[4], b[5]]])
    try:
        L = np.linalg.cholesky(B if B[0, 0] > 0 else -B)
    except np.linalg.LinAlgError:
        raise ValueError(f"{func}: the views give no valid intrinsics (B = K^-T K^-1 is not definite): "
                         f"too noisy, or too little change of the target's orientation") from None
    Kn = np.linalg.inv(L.T)  # B = L L^T = K^-T K^-1
    K = np.linalg.solve(N, Kn)
    return K / K[2, 2]


def _b_constraint(hi, hj):
    """Row ``v`` with ``hi^T B hj = v . (B11, B12, B22, B13, B23, B33)``."""
    return np.array([hi[0] * hj[0], hi[0] * hj[1] + hi[1] * hj[0], hi[1] * hj[1],
                     hi[2] * hj[0] + hi[0] * hj[2], hi[2] * hj[1] + hi[1] * hj[2], hi[2] * hj[2]])


def _pose_from_homography(K, H):
    """(R, t) with ``H ~ K [r1 r2 t]``, the target in front of the camera (t_z > 0)."""
    A = np.linalg.solve(K, H)
    scale = 2.0 / (np.linalg.norm(A[:, 0]) + np.linalg.norm(A[:, 1]))
    if A[2, 2] < 0:
        scale = -scale
    r1, r2, t = scale * A.T
    u, _, vt = np.linalg.svd(np.column_stack([r1, r2, np.cross(r1, r2)]))
    R = u @ np.diag([1.0, 1.0, np.linalg.det(u @ vt)]) @ vt  # nearest rotation
    return R, t


def _initial_distortion(obj, img, K, R, t):
    """Linear least-squares (k1, k2) for fixed K and poses: observed minus ideal
    pixel is ``(ideal - c) (k1 r^2 + k2 r^4)``."""
    cam = np.einsum("vij,nj->vni", R, obj) + t[:, None, :]
    xy = cam[..., :2] / cam[..., 2:]
    r2 = (xy**2).sum(axis=-1, keepdims=True)
    ideal = _to_pixels(xy, K)
    offset = ideal - K[:2, 2]
    D = np.stack([(offset * r2).ravel(), (offset * r2**2).ravel()], axis=1)
    return np.linalg.lstsq(D, (img - ideal).ravel(), rcond=None)[0]


def _refine(obj, img, K, dist, R, t, zero_skew):
    """Levenberg-Marquardt on all parameters, ``(fx, fy, cx, cy[, s], k1, k2)``
    then ``(rvec, t)`` per view; returns the refined (K, dist, R, t) and the
    standard deviations of the intrinsics."""
    n_views, n_global = len(img), 6 if zero_skew else 7
    intrinsics = [K[0, 0], K[1, 1], K[0, 2], K[1, 2]] + ([] if zero_skew else [K[0, 1]])
    poses = np.hstack([Rotation.from_matrix(R).as_rotvec(), t])
    x0 = np.concatenate([intrinsics, dist, poses.ravel()])

    def unpack(x):
        skew = 0.0 if zero_skew else x[4]
        K = np.array([[x[0], skew, x[2]], [0.0, x[1], x[3]], [0.0, 0.0, 1.0]])
        poses = x[n_global:].reshape(n_views, 6)
        return K, x[n_global - 2:n_global], poses[:, :3], poses[:, 3:]

    def residuals(x):
        K, dist, rvecs, t = unpack(x)
        return (_project(obj, K, dist, Rotation.from_rotvec(rvecs).as_matrix(), t) - img).ravel()

    def normal_equations(x, r):
        return _normal_equations(*_jacobian(obj, *unpack(x), zero_skew), r.reshape(img.shape))

    x, r, A = _levenberg_marquardt(residuals, normal_equations, x0)
    K, dist, rvecs, t = unpack(x)
    return K, dist, Rotation.from_rotvec(rvecs).as_matrix(), t, _global_std(A, r, n_global)[:n_global - 2]


def _levenberg_marquardt(residuals, normal_equations, x, max_iter=100, tol=1e-12):
    """Minimise ``|residuals(x)|^2`` from ``x``; returns x, the residuals and ``J^T J`` there.

    ``normal_equations(x, r)`` gives ``(J^T J, J^T r)``. Each step solves
    ``(J^T J + mu diag(J^T J)) dx = -J^T r`` (Marquardt's scaling: the damping
    acts in each parameter's own units); a step that does not lower the cost
    is retried with 10x the damping, an accepted one divides it by 10. Stops
    when the cost or x change by less than ``tol`` (relative)."""
    r = residuals(x)
    cost, damping = r @ r, 1e-3
    A, g = normal_equations(x, r)
    for _ in range(max_iter):
        scale = np.maximum(np.diag(A), 1e-12 * np.diag(A).max())
        while True:
            try:
                step = np.linalg.solve(A + damping * np.diag(scale), -g)
            except np.linalg.LinAlgError:
                step = None
            if step is not None:
                r_new = residuals(x + step)
                cost_new = r_new @ r_new
                if cost_new < cost:  # False for NaN too
                    break
            damping *= 10.0
            if damping > 1e12:
                return x, r, A  # no step lowers the cost: a minimum, to rounding
        x, r, gain, cost = x + step, r_new, cost - cost_new, cost_new
        A, g = normal_equations(x, r)
        damping = max(damping / 10.0, 1e-12)
        if gain <= tol * cost or np.linalg.norm(step) <= tol * (np.linalg.norm(x) + tol):
            break
    return x, r, A


def _normal_equations(by_global, by_pose, r):
    """``J^T J`` and ``J^T r`` from the Jacobian's blocks (see ``_jacobian``) and
    the residuals r (V, N, 2). A view's pose moves only its own points, so the
    pose-pose part is block diagonal; the products run per view (small ones,
    which a threaded BLAS on a loaded machine made ~20x slower as one tall J^T J)."""
    n_views, n_global = len(by_pose), by_global.shape[-1]
    A = np.zeros((n_global + 6 * n_views,) * 2)
    A[:n_global, :n_global] = np.einsum("vnkg,vnkh->gh", by_global, by_global)
    cross = np.einsum("vnkg,vnki->vgi", by_global, by_pose)
    own = np.einsum("vnki,vnkj->vij", by_pose, by_pose)
    for v in range(n_views):
        block = slice(n_global + 6 * v, n_global + 6 * v + 6)
        A[:n_global, block], A[block, :n_global], A[block, block] = cross[v], cross[v].T, own[v]
    g = np.concatenate([np.einsum("vnkg,vnk->g", by_global, r), np.einsum("vnki,vnk->vi", by_pose, r).ravel()])
    return A, g


def _jacobian(obj, K, dist, rvecs, t, zero_skew):
    """Jacobian of the pixels of ``_project`` with respect to ``(fx, fy, cx, cy[, s],
    k1, k2)``, (V, N, 2, 6 or 7), and to each view's own ``(rvec, t)``, (V, N, 2, 6).

    The chain: pixel <- linear part of K <- radial distortion <- perspective
    division <- camera point ``R X + t``, whose derivative along the rotation
    vector is ``-R [X]_x J_r(rvec)`` (J_r: right Jacobian of SO(3))."""
    R = Rotation.from_rotvec(rvecs).as_matrix()
    cam = np.einsum("vij,nj->vni", R, obj) + t[:, None, :]
    inv_z = 1.0 / cam[..., 2]
    xy = cam[..., :2] * inv_z[..., None]
    r2 = (xy**2).sum(axis=-1)
    radial = 1.0 + r2 * (dist[0] + dist[1] * r2)
    xy_d = xy * radial[..., None]
    linear = K[:2, :2]
    zero, one = np.zeros_like(r2), np.ones_like(r2)
    by_global = [np.stack([xy_d[..., 0], zero], axis=-1), np.stack([zero, xy_d[..., 1]], axis=-1),
                 np.stack([one, zero], axis=-1), np.stack([zero, one], axis=-1)]
    if not zero_skew:
        by_global.append(np.stack([xy_d[..., 1], zero], axis=-1))
    by_global += [(xy * r2[..., None]) @ linear.T, (xy * (r2**2)[..., None]) @ linear.T]
    # d(x_d, y_d)/d(x, y) = radial I + (x, y)^T d radial/d(x, y), d radial/d(x, y) = 2 (k1 + 2 k2 r^2) (x, y)
    slope = 2.0 * (dist[0] + 2.0 * dist[1] * r2)
    d_distort = radial[..., None, None] * np.eye(2) + slope[..., None, None] * xy[..., :, None] * xy[..., None, :]
    d_divide = np.zeros(xy.shape[:-1] + (2, 3))
    d_divide[..., 0, 0] = d_divide[..., 1, 1] = inv_z
    d_divide[..., :, 2] = -xy * inv_z[..., None]
    by_cam = linear @ d_distort @ d_divide  # (V, N, 2, 3): pixel per camera point
    d_rotate = -np.einsum("vij,njk->vnik", R, _cross_matrix(obj)) @ _right_jacobian(rvecs)[:, None]

    return np.stack(by_global, axis=-1), np.concatenate([by_cam @ d_rotate, by_cam], axis=-1)


def _cross_matrix(v):
    """(..., 3) vectors -> (..., 3, 3) matrices ``[v]_x`` with ``[v]_x w = v x w``."""
    out = np.zeros(v.shape + (3,))
    out[..., 0, 1], out[..., 0, 2], out[..., 1, 2] = -v[..., 2], v[..., 1], -v[..., 0]
    out[..., 1, 0], out[..., 2, 0], out[..., 2, 1] = v[..., 2], -v[..., 1], v[..., 0]
    return out


def _right_jacobian(rvecs):
    """(V, 3) rotation vectors -> (V, 3, 3) ``J_r`` with
    ``exp(w + d) ~ exp(w) exp(J_r(w) d)`` for small d."""
    theta = np.linalg.norm(rvecs, axis=1)[:, None, None]
    small = theta < 1e-4  # the series, where the closed form would cancel
    safe = np.where(small, 1.0, theta)
    a = np.where(small, 0.5 - theta**2 / 24, (1.0 - np.cos(safe)) / safe**2)
    b = np.where(small, 1.0 / 6 - theta**2 / 120, (safe - np.sin(safe)) / safe**3)
    W = _cross_matrix(rvecs)
    return np.eye(3) - a * W + b * W @ W


def _global_std(A, residuals, n_global):
    """Standard deviations of the first ``n_global`` parameters at the minimum,
    from ``A = J^T J`` whose other parameters come 6 per view: the diagonal of
    ``sigma^2 S^-1``, ``sigma^2`` the residual variance and ``S`` the Schur
    complement of the block-diagonal pose part (the inverse of S is the
    global block of ``A^-1``). Inf when the points leave K undetermined.

    Small matrices only: a 66 x 66 LAPACK call took ~150 ms on a loaded
    2-core machine with a threaded BLAS."""
    n_views = (len(A) - n_global) // 6
    poses = n_global + 6 * np.arange(n_views)[:, None] + np.arange(6)
    own = A[poses[:, :, None], poses[:, None, :]]  # (V, 6, 6)
    cross = A[:n_global][:, poses].transpose(1, 0, 2)  # (V, n_global, 6)
    S = A[:n_global, :n_global] - np.einsum("vgi,vij,vhj->gh", cross, np.linalg.inv(own), cross)
    scale = np.sqrt(np.abs(np.diag(S)))
    scale[scale == 0] = 1.0
    # Unit diagonal first, so that the rank test does not depend on the parameters' units.
    values, vectors = np.linalg.eigh(S / np.outer(scale, scale))
    if values[0] <= 1e-12 * values[-1]:
        return np.full(n_global, np.inf)
    dof = max(len(residuals) - len(A), 1)
    variance = (vectors**2 / values).sum(axis=1) * (residuals @ residuals / dof)
    return np.sqrt(variance) / scale


# ------------------------------------------------------------------ checkerboards
def checkerboard_points(pattern_size, square_size=1.0):
    """The inner corners of a checkerboard target on the plane Z = 0.

    Parameters
    ----------
    pattern_size : (cols, rows) ints >= 2
        Inner corners per row and per column (a board of 10 x 7 squares has
        9 x 6 inner corners).
    square_size : float > 0
        Side of a square, in the unit wanted for the translations.

    Returns
    -------
    points : (rows * cols, 3) float64
        (X, Y, 0) row by row, ``X = col * square_size``, ``Y = row * square_size``:
        the order of :func:`find_checkerboard_corners`.
    """
    func = "checkerboard_points"
    cols, rows = _check_pattern(func, pattern_size)
    size = check_number(func, "square_size", square_size, low=0, low_open=True)
    return _checkerboard_points(cols, rows, size)


def _checkerboard_points(cols, rows, size):
    y, x = np.mgrid[0:rows, 0:cols].astype(np.float64) * size
    return np.stack([x.ravel(), y.ravel(), np.zeros(rows * cols)], axis=1)


def _check_pattern(func, pattern_size):
    if not isinstance(pattern_size, (tuple, list)) or len(pattern_size) != 2:
        raise TypeError(f"{func}: pattern_size must be a pair (cols, rows), got {pattern_size!r}")
    return tuple(check_int(func, f"pattern_size[{i}]", n, low=2) for i, n in enumerate(pattern_size))


def find_checkerboard_corners(image, pattern_size, window=5):
    """Inner corners of a checkerboard, sub-pixel and ordered along the grid.

    Candidates are the peaks of the saddle measure ``-det(Hessian)`` of the
    image smoothed at ``window / 2`` (large where two dark squares touch at a
    point), kept when a ring of radius ``window`` (or ``window / 2``) around
    them alternates dark, bright, dark, bright (which the board's outer
    corners are not), refined by :func:`corner_subpix`, and ordered by
    growing the grid from one of its corners: each next corner is looked for
    where the parallelogram of its three known neighbours predicts it, which
    tolerates perspective and lens distortion.

    Parameters
    ----------
    image : (H, W) gray or (H, W, 3) RGB, at least 16x16
    pattern_size : (cols, rows) ints >= 2
        Inner corners per row and per column, as :func:`checkerboard_points`.
    window : int >= 2
        Half-size in pixels of the sub-pixel window and radius of the ring
        test; squares must appear larger than about 2 ``window`` px.

    Returns
    -------
    corners : (rows * cols, 2) float64
        Positions (x, y) row by row, matching :func:`checkerboard_points`.
        Each row runs left to right in the image, and the labelling is not
        mirrored (along a row then down a column turns the same way as the
        image's x then y axes), so the first corner is the top-left one when
        the board is roughly upright. For a square pattern, rows are the
        grid's more horizontal direction.

    Raises
    ------
    ValueError
        When no complete ``cols x rows`` grid of corners is found.
    """
    func = "find_checkerboard_corners"
    gray = as_gray(func, "image", image, dtype=np.float64)
    check_min_size(func, "image", gray, 16)
    cols, rows = _check_pattern(func, pattern_size)
    window = check_int(func, "window", window, low=2)
    corners = _find_checkerboard_corners(gray, cols, rows, window)
    if corners is None:
        raise ValueError(f"{func}: image must show a checkerboard with {cols}x{rows} inner corners, "
                         f"none found (check pattern_size, or lower window for small squares)")
    return corners


def _find_checkerboard_corners(gray, cols, rows, window):
    """Ordered (rows * cols, 2) corners of a checked float64 image, or None."""
    candidates = corner_peaks(_saddle_response(gray, window / 2), min_distance=window, threshold_rel=0.05,
                              num_peaks=10 * cols * rows)
    smooth = _gaussian_blur(gray, 1.0)
    contrast = 0.1 * (gray.max() - gray.min())
    # A second, smaller ring for squares foreshortened to less than 2 window px.
    is_saddle = (_ring_alternations(smooth, candidates, window, contrast) == 4) | \
        (_ring_alternations(smooth, candidates, max(2, window // 2), contrast) == 4)
    saddles = candidates[is_saddle].astype(np.float64)
    if len(saddles) < cols * rows:
        return None
    points = _corner_subpix(gray, saddles, window, 40, 1e-3)
    # Two candidates may refine to one corner: keep the first (the stronger).
    same = np.linalg.norm(points[:, None] - points[None], axis=-1) < 1.0
    points = points[~np.triu(same, 1).any(axis=0)]
    grid = _order_grid(points, cols, rows)
    return None if grid is None else points[grid.ravel()]


def _saddle_response(gray, sigma):
    """``max(0, -det H)``, H the Hessian of the image smoothed by ``sigma``: peaks
    where two squares touch at a point (a saddle of the intensity), and is zero on
    straight edges and flat areas. Shi-Tomasi's window, as wide, mixes the
    corners of foreshortened squares and missed them at tilts of ~45 degrees.
    Three-point second differences; the one-pixel border is 0."""
    smooth = _gaussian_blur(gray, sigma)
    response = np.empty_like(smooth)
    _k.saddle_response(smooth, response)
    return response


def _ring_alternations(image, xy, radius, min_contrast, n_samples=32):
    """For each point of ``xy`` (K, 2) ints: how often the ring of ``radius``
    around it changes between dark and bright (4 at a saddle: dark, bright,
    dark, bright; 2 at the board's outer corners and on edges); 0 where bright
    and dark differ by less than ``min_contrast``."""
    angles = np.arange(n_samples) * (2 * np.pi / n_samples)
    x = np.clip(np.rint(xy[:, :1] + radius * np.cos(angles)).astype(np.intp), 0, image.shape[1] - 1)
    y = np.clip(np.rint(xy[:, 1:] + radius * np.sin(angles)).astype(np.intp), 0, image.shape[0] - 1)
    ring = image[y, x]  # (K, n_samples)
    low, high = ring.min(axis=1, keepdims=True), ring.max(axis=1, keepdims=True)
    # Hysteresis: samples near the middle grey (on an edge) get no class, and
    # take the class of the last classified sample before them around the ring.
    middle, margin = (low + high) / 2, (high - low) / 4
    classes = np.where(ring > middle + margin, 1, np.where(ring < middle - margin, -1, 0))
    last = np.maximum.accumulate(np.where(classes != 0, np.arange(n_samples), -1), axis=1)
    last = np.where(last < 0, last[:, -1:], last)  # before the first: wrap around
    filled = np.take_along_axis(classes, np.maximum(last, 0), axis=1)
    alternations = (filled != np.roll(filled, 1, axis=1)).sum(axis=1)
    return np.where(high[:, 0] - low[:, 0] >= max(min_contrast, 1e-3), alternations, 0)


def _order_grid(points, cols, rows):
    """Indices (rows, cols) into ``points`` of a complete grid, or None.

    The grid is grown from a corner of the points' convex hull (sharpest
    hull angles first: the grid's corners), along its two nearest neighbours."""
    try:
        hull = ConvexHull(points).vertices
    except QhullError:  # fewer than 3 points, or all collinear
        return None
    prev, nxt = points[np.roll(hull, 1)] - points[hull], points[np.roll(hull, -1)] - points[hull]
    cosine = (prev * nxt).sum(axis=1) / (np.linalg.norm(prev, axis=1) * np.linalg.norm(nxt, axis=1))
    distances = np.linalg.norm(points[:, None] - points[None], axis=-1)
    for start in hull[np.argsort(-cosine)][:8]:
        grid = _grow_grid(points, distances, start)
        if grid is not None and grid.shape == (cols, rows) and cols != rows:
            grid = grid.T
        if grid is not None and grid.shape == (rows, cols):
            return _canonical_labels(points, grid)
    return None


def _grow_grid(points, distances, start):
    """Grid of point indices grown from ``start`` along its two nearest neighbours, or None."""
    first, second = np.argsort(distances[start])[1:3]
    e1, e2 = points[first] - points[start], points[second] - points[start]
    sine = abs(e1[0] * e2[1] - e1[1] * e2[0]) / (np.linalg.norm(e1) * np.linalg.norm(e2))
    if sine < 0.3:  # not two grid directions
        return None
    top, left = _walk(points, start, first), _walk(points, start, second)
    grid = np.full((len(left), len(top)), -1, dtype=np.intp)
    grid[0], grid[:, 0] = top, left
    used = set(top) | set(left)
    for i in range(1, len(left)):
        for j in range(1, len(top)):
            corner, up, back = points[grid[i - 1, j - 1]], points[grid[i - 1, j]], points[grid[i, j - 1]]
            found = _nearest(points, up + back - corner,
                             0.3 * min(np.linalg.norm(up - corner), np.linalg.norm(back - corner)))
            if found is None or found in used:
                return None
            grid[i, j] = found
            used.add(found)
    return grid


def _walk(points, start, step):
    """Indices along the line start, step, ... while a point sits where linear extrapolation predicts."""
    line = [start, step]
    while True:
        last, before = points[line[-1]], points[line[-2]]
        found = _nearest(points, 2 * last - before, 0.3 * np.linalg.norm(last - before))
        if found is None or found in line:
            return line
        line.append(found)


def _nearest(points, xy, radius):
    """Index of the point nearest ``xy`` if within ``radius``, else None."""
    d = ((points - xy) ** 2).sum(axis=1)
    best = int(np.argmin(d))
    return best if d[best] <= radius**2 else None


def _canonical_labels(points, grid):
    """Flip the grid so that its labelling keeps the image's handedness and rows run
    left to right (a square grid is first turned so that its rows are the more
    horizontal direction)."""
    along_row = (points[grid[:, -1]] - points[grid[:, 0]]).mean(axis=0)
    along_col = (points[grid[-1]] - points[grid[0]]).mean(axis=0)
    if grid.shape[0] == grid.shape[1] and abs(along_row[0]) < abs(along_col[0]):
        grid = grid.T
        along_row, along_col = along_col, along_row
    if along_row[0] * along_col[1] - along_row[1] * along_col[0] < 0:
        grid = grid[::-1]
    if along_row[0] < 0:
        grid = grid[::-1, ::-1]
    return grid
