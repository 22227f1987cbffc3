"""RANSAC robust estimation and the models it is used with.

The estimator is generic: a model is anything with ``min_samples``, ``fit(*data)``
and ``residuals(params, *data)``, where ``data`` are arrays sharing their first axis
(one row per observation, e.g. ``src (N, 2)`` and ``dst (N, 2)``); a model may also
declare ``data_shapes`` (one shape per array, ``None`` for any length), which
``ransac`` checks before any fit. Four models are
provided: 2-D line, affine transform, homography (normalised DLT) and fundamental
matrix (normalised 8-point with rank-2 enforcement). Points are (x, y) = (column,
row), as everywhere in ``classic_cv`` (and OpenCV): a homography maps [x, y, 1].
"""
from dataclasses import dataclass

import numpy as np

from minigrad.validation import as_generator, check_int, check_number

from ._kernels import ransac as _k
from ._kernels.ransac import required_trials
from ._validate import as_float_array

# Minimal samples are drawn this many at a time (one NumPy call per batch).
_BATCH = 64

__all__ = [
    "RansacResult",
    "ransac",
    "required_trials",
    "LineModel",
    "AffineModel",
    "HomographyModel",
    "FundamentalModel",
    "find_homography",
    "find_fundamental",
    "apply_homography",
]


@dataclass
class RansacResult:
    """Outcome of :func:`ransac`.

    Attributes
    ----------
    params : ndarray or None
        Model parameters refitted on all inliers (None if no model was found).
    inliers : (N,) bool
        Observations whose residual is below the threshold under ``params``.
    residuals : (N,) float64
        Residual of every observation under ``params``.
    n_trials : int
        Number of random minimal samples drawn.
    """

    params: object
    inliers: np.ndarray
    residuals: np.ndarray
    n_trials: int

    @property
    def n_inliers(self):
        return int(self.inliers.sum())


def ransac(data, model, threshold, *, confidence=0.99, max_trials=10_000, refine_steps=3, rng=0):
    """Robustly fit ``model`` to ``data`` with RANSAC.

    Each trial fits the model to a random minimal sample and counts the observations
    with residual < ``threshold`` (in a Numba loop when the model names a ``kernel``);
    the number of trials adapts to the best inlier ratio ``w`` seen so far as
    ``k = log(1 - confidence) / log(1 - w**n)``. The best
    model is then refitted on all its inliers, re-scored, and refitted again (up to
    ``refine_steps`` times, until the inlier set stops changing).

    Parameters
    ----------
    data : array or tuple of arrays, each (N, ...)
        Observations; row ``i`` of every array belongs to observation ``i``
        (points as (x, y) rows). Finite numbers; converted to float64.
    model : object or class
        Provides ``min_samples`` (int >= 1), ``fit(*data) -> params or None`` and
        ``residuals(params, *data) -> (N,) float``, e.g. ``HomographyModel``;
        optionally ``data_shapes``, a tuple of one shape per data array with
        None for free axes (the built-in models declare theirs, e.g.
        ``((None, 2), (None, 2))``), checked against ``data``.
    threshold : float
        Inlier threshold on the residual (> 0).
    confidence : float
        Desired probability ``p`` in (0, 1) of drawing at least one clean sample.
    max_trials : int
        Upper bound on the number of trials.
    refine_steps : int >= 0
        Maximum number of refit / re-score rounds on the inliers (0 acts as 1).
    rng : numpy.random.Generator, int seed >= 0 or None
        Randomness for sampling (None: fresh entropy); the default seed 0
        makes results reproducible.

    Returns
    -------
    RansacResult
    """
    func = "ransac"
    data = data if isinstance(data, (tuple, list)) else (data,)
    if not data:
        raise ValueError(f"{func}: data must hold at least one array, got an empty {type(data).__name__}")
    data = tuple(as_float_array(func, _data_name(data, i), d, ndim=(1, 2, 3)) for i, d in enumerate(data))
    _check_model(func, model, data)
    if any(d.shape[0] != data[0].shape[0] for d in data):
        raise ValueError(f"{func}: data arrays must share their first dimension, got shapes {[d.shape for d in data]}")
    return _ransac(func, data, model, *_check_options(func, threshold, confidence, max_trials, refine_steps, rng))


def _data_name(data, i):
    """How the message names array ``i`` of ``data``: ``data`` alone, else ``data[i]``."""
    return "data" if len(data) == 1 else f"data[{i}]"


def _check_options(func, threshold, confidence, max_trials, refine_steps, rng):
    """RANSAC's options, checked: (threshold, confidence, max_trials, refine_steps, rng)."""
    return (check_number(func, "threshold", threshold, low=0, low_open=True),
            check_number(func, "confidence", confidence, low=0, low_open=True, high=1, high_open=True),
            check_int(func, "max_trials", max_trials, low=1), check_int(func, "refine_steps", refine_steps, low=0),
            as_generator(func, "rng", rng))


def _check_model(func, model, data):
    """A model names ``min_samples`` (int >= 1) and callable ``fit`` and ``residuals``;
    when it declares ``data_shapes``, ``data`` (a tuple of arrays) must match them."""
    if not all(callable(getattr(model, attr, None)) for attr in ("fit", "residuals")):
        raise TypeError(f"{func}: model must provide min_samples, fit(*data) and residuals(params, *data), "
                        f"got {type(model).__name__}")
    check_int(func, "model.min_samples", getattr(model, "min_samples", None), low=1)
    shapes = getattr(model, "data_shapes", None)
    if shapes is None:
        return
    name = _model_name(model)
    if len(data) != len(shapes):
        wanted = " and ".join(_describe_shape(s) for s in shapes)
        raise ValueError(f"{func}: data must be {len(shapes)} array{'s' if len(shapes) > 1 else ''} {wanted} "
                         f"for {name}, got {len(data)} of shape{'s' if len(data) > 1 else ''} "
                         f"{', '.join(str(d.shape) for d in data)}")
    for i, (array, shape) in enumerate(zip(data, shapes)):
        if array.ndim != len(shape) or any(n is not None and n != got for n, got in zip(shape, array.shape)):
            raise ValueError(f"{func}: {_data_name(data, i)} must have shape {_describe_shape(shape)} for {name}, "
                             f"got {array.shape}")


def _model_name(model):
    return model.__name__ if isinstance(model, type) else type(model).__name__


def _describe_shape(shape):
    """``(None, 2)`` -> ``"(N, 2)"``: free axes are the number of observations."""
    dims = ["N" if n is None else str(n) for n in shape]
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"


def _ransac(func, data, model, threshold, confidence, max_trials, refine_steps, rng):
    """``ransac`` on checked arguments: float64 ``data`` arrays sharing their first axis."""
    n, k = len(data[0]), model.min_samples
    if n < k:
        raise ValueError(f"{func}: data must hold at least {k} observations for {_model_name(model)}, got {n}")
    kernel = getattr(model, "kernel", None)
    best_count, best_sample = -1, None
    needed, trials = float(max_trials), 0
    while trials < needed:
        batch = _draw_samples(rng, n, k, _BATCH)
        if kernel is not None:
            trials, best_count, row, needed = _k.run_trials(
                kernel, batch, data[0], data[1], threshold, confidence, best_count, needed, trials
            )
        else:
            trials, best_count, row, needed = _trials(model, batch, data, threshold, confidence, best_count, needed, trials)
        if row >= 0:
            best_sample = batch[row]

    first = None if best_sample is None else model.fit(*(d[best_sample] for d in data))
    if first is None:
        return RansacResult(None, np.zeros(n, bool), np.full(n, np.inf), trials)
    best_inliers = model.residuals(first, *data) < threshold
    # Local optimisation: the minimal-sample model is noisy; refitting on the
    # whole consensus set and re-scoring typically recovers borderline inliers.
    inliers, params, res = best_inliers, None, None
    for _ in range(max(1, refine_steps)):
        refit = model.fit(*(d[inliers] for d in data))
        if refit is None:
            break
        new_res = model.residuals(refit, *data)
        new_inliers = new_res < threshold
        if new_inliers.sum() < k or (params is not None and new_inliers.sum() < inliers.sum()):
            break
        changed = not np.array_equal(new_inliers, inliers)
        params, res, inliers = refit, new_res, new_inliers
        if not changed:
            break
    if params is None:
        # The consensus set was degenerate for a full fit: keep the minimal-sample model.
        return RansacResult(first, best_inliers, model.residuals(first, *data), trials)
    return RansacResult(params, inliers, res, trials)


def _draw_samples(rng, n, k, size):
    """Up to ``size`` random samples (rows of k distinct indices in [0, n))."""
    idx = rng.integers(0, n, size=(size, k))
    s = np.sort(idx, axis=1)
    return idx[(s[:, 1:] != s[:, :-1]).all(axis=1)]


def _trials(model, samples, data, threshold, confidence, best_count, needed, trials_done):
    """Python trial loop for any model; same contract as ``_kernels.ransac.run_trials``."""
    n = len(data[0])
    best_row = -1
    for row, idx in enumerate(samples):
        if trials_done >= needed:
            break
        trials_done += 1
        params = model.fit(*(d[idx] for d in data))
        if params is None:
            continue
        count = int((model.residuals(params, *data) < threshold).sum())
        if count > best_count:
            best_count, best_row = count, row
            needed = min(needed, required_trials(count / n, len(idx), confidence))
    return trials_done, best_count, best_row, needed


# --------------------------------------------------------------------------- models


def _normalise(points):
    """Similarity ``T`` (3, 3) moving ``points`` (N, 2) to zero mean and mean distance
    sqrt(2) from the origin (Hartley), and the normalised points (N, 2); None if all coincide."""
    mean = points.mean(axis=0)
    dist = np.sqrt(((points - mean) ** 2).sum(axis=1)).mean()
    if dist < 1e-12:
        return None, None
    s = np.sqrt(2.0) / dist
    T = np.array([[s, 0.0, -s * mean[0]], [0.0, s, -s * mean[1]], [0.0, 0.0, 1.0]])
    return T, (points - mean) * s


def _null_vector(A):
    """Unit vector ``v`` minimising ``|A v|`` for ``A`` (M, 9), and ``A``'s singular
    values in descending order (``None`` for tall systems, which skip the SVD).

    Tall systems (refits on all inliers) go through the 9 x 9 normal matrix: an SVD
    of the tall matrix itself is no more accurate after Hartley normalisation, and
    its multithreaded LAPACK path cost ~20 ms per call on a loaded 2-core machine."""
    if A.shape[0] <= 2 * A.shape[1]:
        _, s, vt = np.linalg.svd(A)
        return vt[-1], s
    _, vecs = np.linalg.eigh(A.T @ A)
    return vecs[:, 0], None


def apply_homography(H, points):
    """Map ``points`` (N, 2), rows (x, y), through the homography ``H`` (3, 3);
    points sent to infinity come back as inf. N may be 0 (returns (0, 2))."""
    func = "apply_homography"
    H = as_float_array(func, "H", H, ndim=2)
    points = as_float_array(func, "points", points, ndim=2, allow_empty=True)
    if H.shape != (3, 3):
        raise ValueError(f"{func}: H must be (3, 3), got shape {H.shape}")
    if points.shape[1] != 2:
        raise ValueError(f"{func}: points must be (N, 2) points (x, y), got shape {points.shape}")
    return _apply_homography(H, points)


def _apply_homography(H, points):
    """``apply_homography`` on checked float64 arrays."""
    q = points @ H[:, :2].T + H[:, 2]
    w = q[:, 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = q[:, :2] / w
    out[~np.isfinite(out).all(axis=1)] = np.inf
    return out


class LineModel:
    """2-D line ``a x + b y + c = 0`` with ``a**2 + b**2 = 1`` fitted by total least
    squares to points (N, 2); residual = orthogonal distance. Params: (3,) array."""

    min_samples = 2
    data_shapes = ((None, 2),)

    @staticmethod
    def fit(points):
        mean = points.mean(axis=0)
        centred = points - mean
        # The normal is the direction of least spread (smallest singular vector).
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        if s[0] < 1e-12:
            return None
        a, b = vt[-1]
        return np.array([a, b, -(a * mean[0] + b * mean[1])])

    @staticmethod
    def residuals(params, points):
        return np.abs(points @ params[:2] + params[2])


class AffineModel:
    """Affine map ``dst ~ A @ [x, y, 1]`` between src (N, 2) and dst (N, 2), fitted
    by linear least squares; residual = distance from mapped src to dst. Params: (3, 3)."""

    min_samples = 3
    data_shapes = ((None, 2), (None, 2))

    @staticmethod
    def fit(src, dst):
        X = np.hstack([src, np.ones((len(src), 1))])
        if np.linalg.matrix_rank(X) < 3:
            return None
        sol, *_ = np.linalg.lstsq(X, dst, rcond=None)
        A = np.eye(3)
        A[:2] = sol.T
        return A

    @staticmethod
    def residuals(params, src, dst):
        mapped = src @ params[:2, :2].T + params[:2, 2]
        return np.sqrt(((mapped - dst) ** 2).sum(axis=1))


class HomographyModel:
    """Homography ``dst ~ H @ [x, y, 1]`` fitted by the normalised direct linear
    transform; residual = reprojection distance in the destination image.
    Params: (3, 3) with ``H[2, 2] = 1`` (or unit norm when that entry vanishes)."""

    min_samples = 4
    data_shapes = ((None, 2), (None, 2))
    kernel = _k.HOMOGRAPHY  # trials run in the Numba loop; fit/residuals are its twins

    @staticmethod
    def fit(src, dst):
        T1, p = _normalise(src)
        T2, q = _normalise(dst)
        if T1 is None or T2 is None:
            return None
        n = len(p)
        A = np.zeros((2 * n, 9))
        x, y, u, v = p[:, 0], p[:, 1], q[:, 0], q[:, 1]
        A[0::2, 0], A[0::2, 1], A[0::2, 2] = -x, -y, -1.0
        A[0::2, 6], A[0::2, 7], A[0::2, 8] = u * x, u * y, u
        A[1::2, 3], A[1::2, 4], A[1::2, 5] = -x, -y, -1.0
        A[1::2, 6], A[1::2, 7], A[1::2, 8] = v * x, v * y, v
        h, s = _null_vector(A)
        if n == 4 and s[7] < 1e-10 * s[0]:
            return None  # three of the four points are collinear
        Hn = h.reshape(3, 3)
        H = np.linalg.solve(T2, Hn @ T1)
        return H / H[2, 2] if abs(H[2, 2]) > 1e-12 else H / np.linalg.norm(H)

    @staticmethod
    def residuals(params, src, dst):
        d = np.sqrt(((_apply_homography(params, src) - dst) ** 2).sum(axis=1))
        return np.where(np.isfinite(d), d, np.inf)


class FundamentalModel:
    """Fundamental matrix with ``x2^T F x1 = 0`` for x1 in (N, 2), x2 in (N, 2),
    fitted by the normalised 8-point algorithm with rank-2 enforcement;
    residual = Sampson distance (first-order geometric error, in pixels).
    Params: (3, 3) of unit Frobenius norm."""

    min_samples = 8
    data_shapes = ((None, 2), (None, 2))
    kernel = _k.FUNDAMENTAL

    @staticmethod
    def fit(x1, x2):
        T1, p = _normalise(x1)
        T2, q = _normalise(x2)
        if T1 is None or T2 is None:
            return None
        A = np.column_stack(
            [
                q[:, 0] * p[:, 0], q[:, 0] * p[:, 1], q[:, 0],
                q[:, 1] * p[:, 0], q[:, 1] * p[:, 1], q[:, 1],
                p[:, 0], p[:, 1], np.ones(len(p)),
            ]
        )
        Fn = _null_vector(A)[0].reshape(3, 3)
        # A fundamental matrix has rank 2: zero its smallest singular value.
        u, s, vt2 = np.linalg.svd(Fn)
        if s[1] < 1e-12:
            return None
        Fn = u @ np.diag([s[0], s[1], 0.0]) @ vt2
        F = T2.T @ Fn @ T1
        return F / np.linalg.norm(F)

    @staticmethod
    def residuals(params, x1, x2):
        h1 = np.hstack([x1, np.ones((len(x1), 1))])
        h2 = np.hstack([x2, np.ones((len(x2), 1))])
        Fx1 = h1 @ params.T  # epipolar lines in image 2
        Ftx2 = h2 @ params  # epipolar lines in image 1
        num = np.einsum("ij,ij->i", h2, Fx1)
        den = Fx1[:, 0] ** 2 + Fx1[:, 1] ** 2 + Ftx2[:, 0] ** 2 + Ftx2[:, 1] ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.abs(num) / np.sqrt(den)
        return np.where(np.isfinite(d), d, np.inf)


def _fit_pairs(func, names, src, dst, model, threshold, confidence, max_trials, refine_steps, rng):
    """Check two (N, 2) point arrays and RANSAC's options; run ``model`` on them."""
    src, dst = (as_float_array(func, name, pts, ndim=2) for name, pts in zip(names, (src, dst)))
    for name, pts in zip(names, (src, dst)):
        if pts.shape[1] != 2:
            raise ValueError(f"{func}: {name} must be (N, 2) points (x, y), got shape {pts.shape}")
    if src.shape != dst.shape:
        raise ValueError(f"{func}: {names[0]} and {names[1]} must have the same shape, "
                         f"got {src.shape} and {dst.shape}")
    if len(src) < model.min_samples:
        raise ValueError(f"{func}: need at least {model.min_samples} correspondences, got {len(src)}")
    return _ransac(func, (src, dst), model, *_check_options(func, threshold, confidence, max_trials, refine_steps,
                                                            rng))


def find_homography(src, dst, threshold=3.0, *, confidence=0.99, max_trials=10_000, refine_steps=3, rng=0):
    """Homography mapping ``src`` (N, 2) onto ``dst`` (N, 2), points (x, y), robust to outliers.

    ``threshold`` is the inlier reprojection distance in pixels; the other
    options are :func:`ransac`'s. Returns a :class:`RansacResult` whose
    ``params`` is the (3, 3) homography.
    """
    return _fit_pairs("find_homography", ("src", "dst"), src, dst, HomographyModel, threshold, confidence,
                      max_trials, refine_steps, rng)


def find_fundamental(x1, x2, threshold=1.0, *, confidence=0.99, max_trials=10_000, refine_steps=3, rng=0):
    """Fundamental matrix ``F`` with ``x2^T F x1 = 0`` from x1 (N, 2), x2 (N, 2)
    (points (x, y)), robust to outliers; ``threshold`` is on the Sampson distance
    in pixels, the other options are :func:`ransac`'s. Returns a
    :class:`RansacResult` whose ``params`` is the (3, 3) rank-2 matrix."""
    return _fit_pairs("find_fundamental", ("x1", "x2"), x1, x2, FundamentalModel, threshold, confidence,
                      max_trials, refine_steps, rng)
