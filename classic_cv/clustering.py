"""Clustering of points: k-means (Lloyd), mean shift and agglomerative clustering.

Points are the rows of ``X`` (N, D), any real dtype, computed in float64.
The algorithms follow the references so results can be compared directly:

- ``kmeans`` runs Lloyd's iterations as ``sklearn.cluster.KMeans(algorithm="lloyd")``
  does: the same stopping rules (labels unchanged, or the summed squared
  centre shift at most ``tol`` times the mean per-feature variance of ``X``),
  the same greedy k-means++ seeding (2 + log k candidates per centre) and the
  same rescue of empty clusters (they take the points farthest from their
  centres). Labels and inertia from a given initial ``init`` array match it.
- ``mean_shift`` climbs from each seed as ``sklearn.cluster.MeanShift`` does
  (flat kernel: the mean of the points within ``bandwidth``, inclusive; stop
  when a step moves at most ``bandwidth / 1000``), then merges modes within
  ``bandwidth`` of a stronger one. Neighbours come from a grid of cells, so a
  step visits only the few cells around the current estimate.
- ``agglomerative`` builds the same merge tree as
  ``scipy.cluster.hierarchy.linkage`` (single link as a minimum spanning tree,
  complete/average/Ward by the nearest-neighbour chain) and cuts it as
  ``fcluster`` with ``criterion="maxclust"`` or ``"distance"`` would.
"""
from dataclasses import dataclass

import numpy as np

from minigrad.validation import as_generator, check_bool, check_choice, check_int, check_number, check_positive

from ._kernels import clustering as _k
from ._validate import as_float_array

KMEANS_INITS = ("k-means++", "random")
MEAN_SHIFT_KERNELS = ("flat", "gaussian")
LINKAGES = ("single", "complete", "average", "ward")
METRICS = ("euclidean", "cityblock", "chebyshev")

# The Gaussian kernel ignores points beyond this many bandwidths (weight < 1.2e-2).
GAUSSIAN_SUPPORT = 3.0
# At most this many axes carry the mean-shift grid, and a window visits about
# this many cells (see ``_grid``).
MAX_GRID_DIMS = 5
GRID_VISITS = 1000


@dataclass
class KMeansResult:
    """Result of ``kmeans``.

    Attributes
    ----------
    labels : (N,) int64
        Cluster of each point, in ``0 .. k-1``.
    centers : (k, D) float64
        Cluster centres.
    inertia : float
        Sum of squared distances of the points to their centres.
    n_iter : int
        Lloyd iterations of the run that was kept.
    """

    labels: np.ndarray
    centers: np.ndarray
    inertia: float
    n_iter: int


@dataclass
class MeanShiftResult:
    """Result of ``mean_shift``.

    Attributes
    ----------
    labels : (N,) int64
        Cluster of each point (the nearest centre), or -1 for points farther
        than ``bandwidth`` from every centre when ``cluster_all`` is False.
    centers : (C, D) float64
        The modes kept, strongest (most points in the window) first.
    n_iter : int
        Largest number of mean-shift steps of any seed.
    """

    labels: np.ndarray
    centers: np.ndarray
    n_iter: int


@dataclass
class AgglomerativeResult:
    """Result of ``agglomerative``.

    Attributes
    ----------
    labels : (N,) int64
        Flat cluster of each point, numbered 0, 1, ... in order of the first
        point of each cluster.
    merges : (N-1, 4) float64
        The whole merge tree as a SciPy linkage matrix: row m joins clusters
        ``merges[m, 0]`` and ``merges[m, 1]`` (ids below N are points, id N + m
        is the cluster made by row m) at distance ``merges[m, 2]`` into a
        cluster of ``merges[m, 3]`` points. Rows are in increasing distance.
    """

    labels: np.ndarray
    merges: np.ndarray


def _check_points(func, X):
    """(N, D) finite points, N, D >= 1, as a C-contiguous float64 array."""
    return as_float_array(func, "X", X, ndim=2)


# ----------------------------------------------------------------------------- k-means
def kmeans(X, k, init="k-means++", n_init=None, max_iter=300, tol=1e-4, rng=None):
    """Lloyd's k-means: alternate assigning points to the nearest centre and
    moving each centre to the mean of its points.

    Parameters
    ----------
    X : (N, D) array_like
        Points, one per row (finite, N >= 1).
    k : int in [1, N]
        Number of clusters.
    init : {'k-means++', 'random'} or (k, D) array_like
        Initial centres: greedy k-means++ seeding (each new centre is the best
        of 2 + log k candidates drawn with probability proportional to the
        squared distance to the nearest centre so far), ``k`` distinct points
        drawn at random, or the given centres.
    n_init : int >= 1, optional
        Number of runs from different initialisations; the run with the
        lowest inertia is kept. Default 10 for 'random', else 1. Must be 1
        when ``init`` is an array.
    max_iter : int >= 1
        Maximum number of Lloyd iterations per run.
    tol : float >= 0
        A run stops when the summed squared shift of the centres in one
        iteration is at most ``tol`` times the mean variance of the features
        of ``X`` (or earlier, when no label changes).
    rng : numpy Generator, int seed or None
        Source of the random initialisations.

    Returns
    -------
    KMeansResult
        ``labels`` (N,), ``centers`` (k, D), ``inertia`` and ``n_iter``.
    """
    func = "kmeans"
    X = _check_points(func, X)
    n, d = X.shape
    k = check_int(func, "k", k, low=1)
    if k > n:
        raise ValueError(f"{func}: k must be at most the number of points ({n}), got {k}")
    if isinstance(init, str):
        check_choice(func, "init", init, KMEANS_INITS)
        n_init = (10 if init == "random" else 1) if n_init is None else check_int(func, "n_init", n_init, low=1)
    else:
        init = as_float_array(func, "init", init, ndim=2)
        if init.shape != (k, d):
            raise ValueError(f"{func}: init must have shape (k, D) = {(k, d)}, got {init.shape}")
        if n_init is not None and check_int(func, "n_init", n_init, low=1) != 1:
            raise ValueError(f"{func}: n_init must be 1 when init is an array, got {n_init}")
        n_init = 1
    max_iter = check_int(func, "max_iter", max_iter, low=1)
    tol = check_number(func, "tol", tol, low=0)
    rng = as_generator(func, "rng", rng)
    return _kmeans(X, k, init, n_init, max_iter, tol, rng)


def _kmeans(X, k, init, n_init, max_iter, tol, rng):
    """``kmeans`` on validated arguments (``init`` a name or a (k, D) float64 array)."""
    # Centring keeps the squared distances of far-from-origin data accurate.
    offset = X.mean(axis=0)
    X = X - offset
    tol_abs = tol * np.einsum("ij,ij->", X, X) / X.size  # tol times the mean variance of the features
    best = None
    for _ in range(n_init):
        if isinstance(init, str):
            centers = _kmeans_plusplus(X, k, rng) if init == "k-means++" else X[rng.choice(len(X), k, replace=False)]
        else:
            centers = init - offset
        run = _lloyd(X, centers, max_iter, tol_abs)
        if best is None or run.inertia < best.inertia:
            best = run
    best.centers += offset
    return best


def _kmeans_plusplus(X, k, rng):
    """Greedy k-means++ seeding of (centred) ``X``; returns (k, D) centres."""
    n = len(X)
    trials = 2 + int(np.log(k))
    sq_norms = np.einsum("ij,ij->i", X, X)
    centers = np.empty((k, X.shape[1]))
    first = rng.integers(n)
    centers[0] = X[first]
    closest = np.maximum(sq_norms - 2 * X @ X[first] + sq_norms[first], 0)
    potential = closest.sum()
    for c in range(1, k):
        draws = rng.random(trials) * potential
        candidates = np.minimum(np.searchsorted(np.cumsum(closest), draws), n - 1)
        # Squared distances of every point to each candidate, (N, T), through one GEMM.
        to_candidates = np.maximum(sq_norms[:, None] - 2 * X @ X[candidates].T + sq_norms[candidates], 0)
        np.minimum(to_candidates, closest[:, None], out=to_candidates)
        potentials = to_candidates.sum(axis=0)
        best = np.argmin(potentials)
        centers[c] = X[candidates[best]]
        closest = to_candidates[:, best].copy()
        potential = potentials[best]
    return centers


def _lloyd(X, centers, max_iter, tol_abs):
    """One k-means run from ``centers`` (k, D) on (centred) ``X``."""
    n, d = X.shape
    k = len(centers)
    centers = np.array(centers, dtype=np.float64)
    labels = np.full(n, -1, dtype=np.int64)
    sums = np.empty((k, d))
    counts = np.empty(k, dtype=np.int64)
    converged = False
    for it in range(max_iter):
        changed = _k.lloyd_iteration(X, centers, labels, sums, counts)
        new = _new_centers(X, centers, labels, sums, counts)
        shift2 = ((new - centers) ** 2).sum()
        centers = new
        if changed == 0:
            converged = True  # the labels are those of the final centres already
            break
        if shift2 <= tol_abs:
            break
    if not converged:  # label the points by the final centres (the sums are not needed)
        _k.lloyd_iteration(X, centers, labels, sums, counts)
    return KMeansResult(labels, centers, _k.inertia(X, centers, labels), it + 1)


def _new_centers(X, centers, labels, sums, counts):
    """Cluster means from the sums of ``lloyd_iteration``; an empty cluster
    takes the point farthest from its own centre, as long as that point's
    cluster keeps at least one other point (otherwise the centre stays)."""
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        sums, counts = sums.copy(), counts.copy()
        dist2 = ((X - centers[labels]) ** 2).sum(axis=1)
        donors = iter(np.argsort(-dist2, kind="stable"))
        for c in empty:
            for i in donors:
                if dist2[i] == 0:
                    break
                if counts[labels[i]] > 1:
                    sums[labels[i]] -= X[i]
                    counts[labels[i]] -= 1
                    sums[c], counts[c] = X[i], 1
                    break
    new = centers.copy()
    filled = counts > 0
    new[filled] = sums[filled] / counts[filled, None]
    return new


# -------------------------------------------------------------------------- mean shift
def mean_shift(X, bandwidth, kernel="flat", seeds=None, bin_seeding=False, min_bin_freq=1, cluster_all=True,
               max_iter=300):
    """Mean-shift clustering: climb from seeds to the modes of the point density.

    Each step moves an estimate to the kernel-weighted mean of the points
    near it, until a step moves at most ``bandwidth / 1000`` (or after
    ``max_iter + 1`` steps). Modes are then sorted by strength (the window's
    weight at the last step, ties by coordinates, larger first) and a mode
    within ``bandwidth`` of a stronger kept one is dropped. Each point joins
    the nearest kept mode.

    Parameters
    ----------
    X : (N, D) array_like
        Points, one per row (finite).
    bandwidth : float > 0
        Window radius (flat kernel) or standard deviation (Gaussian kernel),
        in the units of ``X``; also the distance within which modes merge.
    kernel : {'flat', 'gaussian'}
        'flat' averages the points within ``bandwidth`` (distance <=
        bandwidth, as scikit-learn); 'gaussian' weights points by
        ``exp(-d^2 / (2 bandwidth^2))`` up to 3 bandwidths away.
    seeds : (S, D) array_like, optional
        Starting points. Default: the bins of ``bin_seeding``, or every point.
    bin_seeding : bool
        Without ``seeds``, start from the centres of the occupied cells of a
        grid of edge ``bandwidth`` (``round(X / bandwidth) * bandwidth``)
        holding at least ``min_bin_freq`` points: far fewer climbs.
    min_bin_freq : int >= 1
        Fewest points a bin needs to become a seed.
    cluster_all : bool
        False labels -1 the points farther than ``bandwidth`` from every mode.
    max_iter : int >= 1
        Step limit per seed (one more step is taken, as in scikit-learn).

    Returns
    -------
    MeanShiftResult
        ``labels`` (N,), ``centers`` (C, D) and ``n_iter``.
    """
    func = "mean_shift"
    X = _check_points(func, X)
    bandwidth = check_positive(func, "bandwidth", bandwidth)
    check_choice(func, "kernel", kernel, MEAN_SHIFT_KERNELS)
    bin_seeding = check_bool(func, "bin_seeding", bin_seeding)
    min_bin_freq = check_int(func, "min_bin_freq", min_bin_freq, low=1)
    cluster_all = check_bool(func, "cluster_all", cluster_all)
    max_iter = check_int(func, "max_iter", max_iter, low=1)
    if seeds is not None:
        seeds = as_float_array(func, "seeds", seeds, ndim=2)
        if seeds.shape[1] != X.shape[1]:
            raise ValueError(f"{func}: seeds must have shape (S, {X.shape[1]}) like X, got {seeds.shape}")
    elif bin_seeding:
        seeds = _bin_seeds(X, bandwidth, min_bin_freq)
        if len(seeds) == 0:
            raise ValueError(f"{func}: min_bin_freq must be at most the largest bin's point count, got {min_bin_freq}")
    else:
        seeds = X
    return _mean_shift(X, seeds, bandwidth, kernel, cluster_all, max_iter, func)


def _mean_shift(X, seeds, bandwidth, kernel, cluster_all, max_iter, func):
    """``mean_shift`` on validated arguments and resolved (S, D) ``seeds``."""
    modes, intensity, n_iter = _climb(X, seeds, bandwidth, kernel, max_iter, func)
    found = intensity > 0
    if not found.any():
        raise ValueError(f"{func}: seeds must have a point within the kernel's reach, got none "
                         f"(bandwidth={bandwidth:g})")
    centers = _merge_modes(modes[found], intensity[found], bandwidth)
    labels = np.empty(len(X), dtype=np.int64)
    dist2 = np.empty(len(X))
    _k.assign_nearest(X, centers, labels, dist2)
    if not cluster_all:
        labels[dist2 > bandwidth**2] = -1
    return MeanShiftResult(labels, centers, int(n_iter.max()))


def _bin_seeds(X, bandwidth, min_bin_freq):
    """Centres of the occupied ``bandwidth`` grid bins holding >= ``min_bin_freq`` points."""
    bins, counts = np.unique(np.round(X / bandwidth), axis=0, return_counts=True)
    return np.ascontiguousarray(bins[counts >= min_bin_freq] * bandwidth)


def _climb(X, seeds, bandwidth, kernel, max_iter, func="mean_shift"):
    """Run the mean-shift kernel from every seed over a grid of cells; returns
    (modes (S, D), intensity (S,), steps (S,))."""
    radius = bandwidth * (GAUSSIAN_SUPPORT if kernel == "gaussian" else 1.0)
    origin = X.min(axis=0)
    grid = _grid(X.max(axis=0) - origin, radius)
    if grid is None:
        raise ValueError(f"{func}: bandwidth must be more than 2^-62 of the spread of X, got {bandwidth:g}")
    grid_dims, reach, extents = grid
    cell = radius / reach
    strides = np.cumprod(np.concatenate([[1], extents[:-1]])).astype(np.int64)
    cells = np.floor((X[:, grid_dims] - origin[grid_dims]) / cell).astype(np.int64)
    # Rounding can put a point at the far edge one cell out; clamp it in.
    np.minimum(cells, extents - 1, out=cells)
    keys = cells @ strides
    order = np.argsort(keys, kind="stable")
    points = np.ascontiguousarray(X[order])
    keys, first = np.unique(keys[order], return_index=True)
    starts = np.append(first, len(X)).astype(np.int64)
    cell_sums = np.add.reduceat(points, first, axis=0)
    s = len(seeds)
    modes, intensity, n_iter = np.empty((s, X.shape[1])), np.empty(s), np.empty(s, dtype=np.int64)
    _k.mean_shift_seeds(points, keys, starts, cell_sums, origin, cell, grid_dims, strides, extents, reach,
                        np.ascontiguousarray(seeds), radius, bandwidth,
                        _k.FLAT if kernel == "flat" else _k.GAUSSIAN, max_iter, 1e-3 * bandwidth,
                        modes, intensity, n_iter)
    return modes, intensity, n_iter


def _grid(span, radius):
    """The mean-shift grid for data spanning ``span`` (D,) and windows of ``radius``.

    The gridded axes are the ones the window divides most finely (at most
    ``MAX_GRID_DIMS``; an axis the window covers whole is useless). Cells are
    ``radius / reach`` wide, so a window reaches ``reach`` cells each way:
    with few axes, fine cells let whole cells inside the window count at
    once; with many, coarse cells keep the (2 reach + 1)^G visits few.
    Returns (grid_dims (G,), reach, extents (G,) cells per gridded axis), or
    None when even one axis would need more than 2^62 cells.
    """
    windows = np.floor(span / radius) + 1
    dims = [int(a) for a in np.argsort(-windows, kind="stable") if windows[a] >= 2][:MAX_GRID_DIMS] or [0]
    while True:
        reach = max(1, int((GRID_VISITS ** (1 / len(dims)) - 1) // 2))
        with np.errstate(over="ignore"):
            extents = np.floor(span[dims] / (radius / reach)) + 1
        if np.log2(extents).sum() <= 62:  # cell keys must fit in int64
            return np.array(dims, dtype=np.int64), reach, extents.astype(np.int64)
        if len(dims) == 1:
            return None
        dims.pop()


def _merge_modes(modes, intensity, bandwidth):
    """Modes sorted strongest first (ties: larger coordinates first) with those
    within ``bandwidth`` of a stronger kept mode removed."""
    modes, first = np.unique(modes, axis=0, return_index=True)
    intensity = intensity[first]
    # lexsort's last key is the primary one; reverse for descending order.
    order = np.lexsort(tuple(modes[:, j] for j in range(modes.shape[1] - 1, -1, -1)) + (intensity,))[::-1]
    modes = modes[order]
    keep = np.ones(len(modes), dtype=bool)
    for i in range(len(modes)):
        if keep[i]:
            near = ((modes[i + 1:] - modes[i]) ** 2).sum(axis=1) <= bandwidth**2
            keep[i + 1:] &= ~near
    return np.ascontiguousarray(modes[keep])


# ------------------------------------------------------------------------ hierarchical
def agglomerative(X, n_clusters=None, distance_threshold=None, linkage="ward", metric="euclidean"):
    """Agglomerative (hierarchical) clustering: merge the two closest clusters
    until one remains, then cut the merge tree.

    Parameters
    ----------
    X : (N, D) array_like
        Points, one per row (finite).
    n_clusters : int in [1, N], optional
        Cut the tree into this many clusters. Give exactly one of
        ``n_clusters`` and ``distance_threshold``.
    distance_threshold : float >= 0, optional
        Cut the tree so that clusters whose merge distance exceeds it stay
        apart (SciPy's ``fcluster(..., criterion="distance")``).
    linkage : {'single', 'complete', 'average', 'ward'}
        Distance between clusters: closest pair (computed as a minimum
        spanning tree, O(N) memory), farthest pair, mean over pairs, or Ward's
        ``sqrt(2 |A| |B| / (|A| + |B|)) * ||mean(A) - mean(B)||`` (the increase
        of within-cluster variance). The last three use the
        nearest-neighbour chain on a stored distance matrix: O(N^2) memory.
    metric : {'euclidean', 'cityblock', 'chebyshev'}
        Distance between points. Ward needs 'euclidean'.

    Returns
    -------
    AgglomerativeResult
        ``labels`` (N,) and the full merge tree ``merges`` (N-1, 4).
    """
    func = "agglomerative"
    X = _check_points(func, X)
    n = len(X)
    check_choice(func, "linkage", linkage, LINKAGES)
    check_choice(func, "metric", metric, METRICS)
    if linkage == "ward" and metric != "euclidean":
        raise ValueError(f"{func}: metric must be 'euclidean' with linkage='ward', got {metric!r}")
    if (n_clusters is None) == (distance_threshold is None):
        raise ValueError(f"{func}: exactly one of n_clusters and distance_threshold must be given, got "
                         f"n_clusters={n_clusters!r}, distance_threshold={distance_threshold!r}")
    if n_clusters is not None:
        n_clusters = check_int(func, "n_clusters", n_clusters, low=1)
        if n_clusters > n:
            raise ValueError(f"{func}: n_clusters must be at most the number of points ({n}), got {n_clusters}")
    else:
        distance_threshold = check_number(func, "distance_threshold", distance_threshold, low=0)
    a, b, height = _merge_list(X, linkage, metric)
    n_merges = n - n_clusters if n_clusters is not None else int(np.searchsorted(height, distance_threshold, "right"))
    return AgglomerativeResult(_k.cut_labels(a, b, n, n_merges), _k.merge_tree(a, b, height, n))


def _merge_list(X, linkage, metric):
    """All N-1 merges as (a, b, height), sorted by height (stable): ``a``/``b``
    name one point of each merged cluster."""
    code = {"euclidean": _k.EUCLIDEAN, "cityblock": _k.CITYBLOCK, "chebyshev": _k.CHEBYSHEV}[metric]
    if linkage == "single":
        a, b, height = _k.prim_mst(X, code)
    else:
        method = {"complete": _k.COMPLETE, "average": _k.AVERAGE, "ward": _k.WARD}[linkage]
        a, b, height = _k.nn_chain(_k.pairwise_condensed(X, code), len(X), method)
    order = np.argsort(height, kind="stable")
    return a[order], b[order], height[order]
