"""Point-set registration: rigid and similarity alignment, iterative closest point.

Point sets are (N, D) arrays, one point per row, D = 2 or 3. Every function
returns the transform mapping a source point ``p`` to ``scale * R @ p + t`` near
its destination point, in an :class:`Alignment` (``icp`` adds how it converged).

- :func:`rigid_transform` (Kabsch) and :func:`umeyama` solve the least-squares
  problem in closed form from known correspondences (row i of ``src`` with row
  i of ``dst``), with the reflection fix that keeps ``det R = +1``;
- :func:`icp` finds the correspondences itself: nearest neighbours in the
  target (a KD-tree), refit, repeat.
"""
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from minigrad.validation import check_bool, check_int, check_number

from ._validate import as_float_array
from .rotations import check_rotation_matrix

__all__ = ["Alignment", "IcpResult", "rigid_transform", "umeyama", "icp"]

# Singular values of a centred point set below this fraction of the largest
# count as zero when deciding whether the points are collinear.
_DEGENERATE = 1e-10


@dataclass
class Alignment:
    """A similarity ``p -> scale * R @ p + t`` and how well it fits.

    Attributes
    ----------
    R : (D, D) rotation matrix (``det R = +1``)
    t : (D,) translation
    scale : float (1.0 for rigid transforms)
    rmse : float
        Root mean square distance between the mapped source points and their
        destinations (for ``icp``, over the pairs used in the last fit).
    """

    R: np.ndarray
    t: np.ndarray
    scale: float
    rmse: float

    @property
    def matrix(self):
        """The (D + 1, D + 1) homogeneous matrix of the transform."""
        d = len(self.t)
        M = np.eye(d + 1)
        M[:d, :d], M[:d, d] = self.scale * self.R, self.t
        return M

    def apply(self, points):
        """Map ``points`` (N, D) through the transform; returns (N, D) float64."""
        points = _as_points("Alignment.apply", "points", points, min_points=0)
        if points.shape[1] != len(self.t):
            raise ValueError(f"Alignment.apply: points must be (N, {len(self.t)}), got shape {points.shape}")
        return _transform(self, points)


def _transform(fit, points):
    """``fit`` applied to checked (N, D) points."""
    return fit.scale * points @ fit.R.T + fit.t


@dataclass
class IcpResult(Alignment):
    """:class:`Alignment` found by :func:`icp`, with its convergence.

    Attributes
    ----------
    iterations : int
        Number of nearest-neighbour / refit rounds run.
    converged : bool
        The correspondences stopped changing, or the rmse changed by less than
        ``tolerance`` (relative), before ``max_iterations``.
    n_pairs : int
        Number of correspondences used in the last fit (after ``max_distance``).
    """

    iterations: int = 0
    converged: bool = False
    n_pairs: int = 0


# ------------------------------------------------------------------ checks


def _as_points(func, name, value, min_points):
    """A finite float64 (N, 2) or (N, 3) point array with N >= ``min_points``."""
    points = as_float_array(func, name, value, ndim=2, allow_empty=min_points == 0)
    if points.shape[1] not in (2, 3):
        raise ValueError(f"{func}: {name} must be (N, 2) or (N, 3) points, got shape {points.shape}")
    if len(points) < min_points:
        raise ValueError(f"{func}: {name} must hold at least {min_points} points in {points.shape[1]}-D, "
                         f"got {len(points)}")
    return points


def _check_spread(func, name, points):
    """Raise unless ``points`` (N, D) span at least D - 1 dimensions: in 3-D, points
    on one line leave the rotation about that line free; in 2-D, one point repeated."""
    d = points.shape[1]
    s = np.linalg.svd(points - points.mean(axis=0), compute_uv=False)
    if s[d - 2] <= _DEGENERATE * max(s[0], np.finfo(float).tiny):
        shape = "collinear" if d == 3 else "all the same point"
        raise ValueError(f"{func}: {name} must not be {shape} (the rotation is undetermined), "
                         f"got singular values {s} of the centred points")


def _as_correspondences(func, src, dst):
    """Checked ``src``, ``dst``: same shape (N, D), N >= D, neither degenerate."""
    src = _as_points(func, "src", src, min_points=1)
    dst = _as_points(func, "dst", dst, min_points=1)
    if src.shape != dst.shape:
        raise ValueError(f"{func}: src and dst must have the same shape, got {src.shape} and {dst.shape}")
    d = src.shape[1]
    if len(src) < d:
        raise ValueError(f"{func}: need at least {d} correspondences in {d}-D, got {len(src)}")
    for name, points in (("src", src), ("dst", dst)):
        _check_spread(func, name, points)
    return src, dst


# ------------------------------------------------------------ closed forms


def rigid_transform(src, dst):
    """Rotation and translation that best map ``src`` onto ``dst`` (Kabsch).

    Minimises ``sum |R src_i + t - dst_i|^2`` over rotations ``R`` (never
    reflections) and translations ``t``: :func:`umeyama` with ``with_scale=False``.

    Parameters
    ----------
    src, dst : (N, D) arrays, D = 2 or 3, N >= D
        Corresponding points (row i of ``src`` goes to row i of ``dst``); in
        3-D they must not all lie on one line.

    Returns
    -------
    Alignment
        ``R``, ``t``, ``scale = 1.0`` and the rmse of the fit.
    """
    src, dst = _as_correspondences("rigid_transform", src, dst)
    return _umeyama(src, dst, with_scale=False)


def umeyama(src, dst, with_scale=True):
    """Similarity (rotation, translation, uniform scale) that best maps ``src`` onto ``dst``.

    Umeyama's closed form (1991): with centred sets and the cross-covariance
    ``S = dst_c^T src_c / N = U diag(s) V^T``, ``R = U D V^T`` where ``D`` flips
    the last axis when ``det(U) det(V) < 0`` (the best rotation, not a
    reflection), ``scale = trace(diag(s) D) / var(src)`` and
    ``t = mean(dst) - scale R mean(src)``.

    Parameters
    ----------
    src, dst : (N, D) arrays, D = 2 or 3, N >= D
        Corresponding points; neither set may be collinear in 3-D (or a single
        repeated point in 2-D).
    with_scale : bool
        Estimate the scale; False fixes it to 1 (a rigid transform).

    Returns
    -------
    Alignment
    """
    func = "umeyama"
    src, dst = _as_correspondences(func, src, dst)
    return _umeyama(src, dst, check_bool(func, "with_scale", with_scale))


def _umeyama(src, dst, with_scale):
    """``umeyama`` on checked arrays."""
    mean_src, mean_dst = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - mean_src, dst - mean_dst
    u, s, vt = np.linalg.svd(dst_c.T @ src_c / len(src))
    flip = np.ones(len(s))
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        flip[-1] = -1.0
    R = (u * flip) @ vt
    scale = float((s * flip).sum() / (src_c**2).sum(axis=1).mean()) if with_scale else 1.0
    t = mean_dst - scale * R @ mean_src
    fit = Alignment(R, t, scale, 0.0)
    fit.rmse = float(np.sqrt(((_transform(fit, src) - dst) ** 2).sum(axis=1).mean()))
    return fit


# --------------------------------------------------------------------- ICP


def icp(source, target, *, initial=None, max_iterations=100, tolerance=1e-9, max_distance=None):
    """Rigid alignment of ``source`` onto ``target`` by point-to-point ICP.

    Each round maps ``source`` through the current transform, pairs every
    mapped point with its nearest target point (``scipy.spatial.cKDTree``,
    built once), drops pairs farther apart than ``max_distance``, and refits
    the rigid transform from the original source points to their partners
    (:func:`rigid_transform`). ICP converges to the nearest local minimum: the
    initial pose should be within some tens of degrees of the truth.

    Parameters
    ----------
    source : (N, D) array, D = 2 or 3
        The points to move.
    target : (M, D) array
        The points to align them to (need not correspond one to one).
    initial : (D + 1, D + 1) array or None
        Initial rigid transform as a homogeneous matrix (e.g.
        ``Alignment.matrix``); None starts from the identity.
    max_iterations : int >= 1
        Maximum number of rounds.
    tolerance : float >= 0
        Stop when the rmse changes by less than this fraction of itself (or
        when the correspondences repeat exactly).
    max_distance : float > 0 or None
        Ignore pairs farther apart than this (outliers, partial overlap);
        None keeps every pair.

    Returns
    -------
    IcpResult
        ``R``, ``t`` (``scale = 1``), the rmse over the pairs of the last fit,
        ``iterations``, ``converged`` and ``n_pairs``. If fewer than D + 1
        pairs survive ``max_distance``, the last transform is returned with
        ``converged=False``.
    """
    func = "icp"
    source = _as_points(func, "source", source, min_points=3)
    target = _as_points(func, "target", target, min_points=3)
    if source.shape[1] != target.shape[1]:
        raise ValueError(f"{func}: source and target must have the same dimension, "
                         f"got shapes {source.shape} and {target.shape}")
    for name, points in (("source", source), ("target", target)):
        _check_spread(func, name, points)
    R, t = _check_initial(func, initial, source.shape[1])
    max_iterations = check_int(func, "max_iterations", max_iterations, low=1)
    tolerance = check_number(func, "tolerance", tolerance, low=0)
    if max_distance is not None:
        max_distance = check_number(func, "max_distance", max_distance, low=0, low_open=True)
    return _icp(source, target, R, t, max_iterations, tolerance, max_distance)


def _check_initial(func, initial, d):
    """(R, t) of a homogeneous rigid matrix (D + 1, D + 1); identity for None."""
    if initial is None:
        return np.eye(d), np.zeros(d)
    M = as_float_array(func, "initial", initial, ndim=2)
    bottom = np.zeros(d + 1)
    bottom[-1] = 1.0
    if M.shape != (d + 1, d + 1) or not np.allclose(M[d], bottom):
        raise ValueError(f"{func}: initial must be a ({d + 1}, {d + 1}) homogeneous matrix with last row "
                         f"{bottom}, got shape {M.shape}")
    rotation = M[:d, :d]
    check_rotation_matrix(func, f"initial[:{d}, :{d}]", rotation[None])
    return rotation.copy(), M[:d, d].copy()


def _icp(source, target, R, t, max_iterations, tolerance, max_distance):
    """ICP on checked arrays from the initial pose (R, t)."""
    tree = cKDTree(target)
    d = source.shape[1]
    fit = Alignment(R, t, 1.0, np.inf)
    previous_pairs, n_pairs = None, 0
    for iteration in range(1, max_iterations + 1):
        distance, nearest = tree.query(_transform(fit, source))
        keep = np.ones(len(source), bool) if max_distance is None else distance <= max_distance
        n_pairs = int(keep.sum())
        if n_pairs <= d:
            return IcpResult(fit.R, fit.t, 1.0, fit.rmse, iteration, False, n_pairs)
        pairs = nearest[keep], keep
        if previous_pairs is not None and all(np.array_equal(a, b) for a, b in zip(pairs, previous_pairs)):
            # Same correspondences as the last fit: the fit would not move.
            return IcpResult(fit.R, fit.t, 1.0, fit.rmse, iteration, True, n_pairs)
        previous_pairs, last_rmse = pairs, fit.rmse
        fit = _umeyama(source[keep], target[nearest[keep]], with_scale=False)
        if abs(last_rmse - fit.rmse) <= tolerance * fit.rmse:
            return IcpResult(fit.R, fit.t, 1.0, fit.rmse, iteration, True, n_pairs)
    return IcpResult(fit.R, fit.t, 1.0, fit.rmse, max_iterations, False, n_pairs)
