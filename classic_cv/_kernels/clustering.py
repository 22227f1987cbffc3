"""Numba kernels for clustering: k-means assignment and centre update, mean-shift
iterations over a grid of cells, Prim's minimum spanning tree (single link),
the nearest-neighbour chain (complete, average, Ward) and flat cuts of a
merge list. Arrays in, arrays out; callers validated everything.

Points are rows of a C-contiguous float64 array ``X`` (N, D).
"""
import numpy as np
from numba import njit

# Metric codes shared by the linkage kernels.
EUCLIDEAN, CITYBLOCK, CHEBYSHEV = 0, 1, 2
# Linkage codes of ``nn_chain``.
COMPLETE, AVERAGE, WARD = 0, 1, 2
# Mean-shift kernels.
FLAT, GAUSSIAN = 0, 1
# Points per matrix product of ``lloyd_iteration``.
LLOYD_BLOCK = 1024


# ----------------------------------------------------------------------------- k-means
@njit(cache=True)
def assign_nearest(X, centers, labels, dist2):
    """``labels[i]`` the nearest centre of point ``i`` (the first on ties) and
    ``dist2[i]`` its squared distance, from the direct differences: exact
    for points far from the origin too (mean-shift labels)."""
    for i in range(X.shape[0]):
        best, best_d = 0, np.inf
        for c in range(centers.shape[0]):
            d = 0.0
            for j in range(X.shape[1]):
                t = X[i, j] - centers[c, j]
                d += t * t
            if d < best_d:
                best, best_d = c, d
        labels[i], dist2[i] = best, best_d


@njit(cache=True)
def lloyd_iteration(X, centers, labels, sums, counts):
    """One Lloyd step fused into one pass over ``X``: assign each point to its
    nearest centre (``labels`` updated in place) and accumulate the per-cluster
    coordinate ``sums`` (K, D) and ``counts`` (K,) of the new assignment.

    Returns the number of points whose label changed. The nearest centre
    minimises ``|c|^2 / 2 - x.c`` (the squared distance less the constant
    ``|x|^2``, halved), with the products for a block of points from one
    matrix product: 2.5x faster than the direct distances here, and what
    scikit-learn computes. Callers centre ``X`` so that the dropped ``|x|^2``
    costs no accuracy; ties within rounding may go either way.
    """
    n, d = X.shape
    k = centers.shape[0]
    sums[:] = 0.0
    counts[:] = 0
    changed = 0
    transposed = np.ascontiguousarray(centers.T)
    half_norm = np.empty(k)
    for c in range(k):
        half_norm[c] = 0.5 * (centers[c] ** 2).sum()
    for start in range(0, n, LLOYD_BLOCK):
        stop = min(start + LLOYD_BLOCK, n)
        products = np.dot(X[start:stop], transposed)
        for i in range(stop - start):
            best, best_c = half_norm[0] - products[i, 0], 0
            for c in range(1, k):
                v = half_norm[c] - products[i, c]
                if v < best:
                    best, best_c = v, c
            p = start + i
            if best_c != labels[p]:
                changed += 1
                labels[p] = best_c
            counts[best_c] += 1
            for j in range(d):
                sums[best_c, j] += X[p, j]
    return changed


@njit(cache=True)
def inertia(X, centers, labels):
    """Sum of the squared distances of the points to their centres."""
    total = 0.0
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            t = X[i, j] - centers[labels[i], j]
            total += t * t
    return total


# -------------------------------------------------------------------------- mean shift
@njit(cache=True)
def _key_position(keys, key):
    """Index of ``key`` in the sorted ``keys``, or -1."""
    pos = np.searchsorted(keys, key)
    if pos < keys.shape[0] and keys[pos] == key:
        return pos
    return -1


@njit(cache=True)
def _window_sums(p, points, keys, starts, cell_sums, origin, cell, grid_dims, strides, extents, offsets,
                 radius, bandwidth, kernel, sums, home):
    """Kernel-weighted sums of the points within ``radius`` of ``p``.

    The points are sorted by grid cell (edge ``cell`` along each of
    ``grid_dims``; the cell keys ``keys`` are sorted, the points of cell
    ``keys[c]`` are ``starts[c]:starts[c+1]`` and sum to ``cell_sums[c]``).
    Only the cells at the ``offsets`` around the cell of ``p`` are visited,
    and only those whose box comes within ``radius`` of it. With the flat
    kernel, a cell whose box lies wholly inside the window (possible when
    every axis is gridded) adds its precomputed sum instead of its points.
    Writes the weighted coordinate sums to ``sums`` (``home`` (G,) is scratch);
    returns (number of points inside, total weight).
    """
    g = grid_dims.shape[0]
    d = points.shape[1]
    whole_cells = kernel == FLAT and g == d
    for t in range(g):
        home[t] = np.int64(np.floor((p[grid_dims[t]] - origin[grid_dims[t]]) / cell))
    r2 = radius * radius
    inv = -0.5 / (bandwidth * bandwidth)
    sums[:] = 0.0
    count = 0
    weight = 0.0
    for o in range(offsets.shape[0]):
        key = 0
        near2 = 0.0  # squared distance from p to the cell's box (gridded axes), and to its far corner
        far2 = 0.0
        in_grid = True
        for t in range(g):
            c = home[t] + offsets[o, t]
            if c < 0 or c >= extents[t]:
                in_grid = False
                break
            x = p[grid_dims[t]]
            low = origin[grid_dims[t]] + c * cell
            below, above = low - x, x - (low + cell)
            near2 += max(below, above, 0.0) ** 2
            far2 += max(abs(below), abs(above)) ** 2
            key += c * strides[t]
        if not in_grid or near2 > r2:
            continue
        pos = _key_position(keys, key)
        if pos < 0:
            continue
        if whole_cells and far2 <= r2:
            n_cell = starts[pos + 1] - starts[pos]
            count += n_cell
            weight += n_cell
            for j in range(d):
                sums[j] += cell_sums[pos, j]
            continue
        for i in range(starts[pos], starts[pos + 1]):
            d2 = 0.0
            for j in range(d):
                d2 += (points[i, j] - p[j]) ** 2
            if d2 <= r2:
                w = 1.0 if kernel == FLAT else np.exp(d2 * inv)
                count += 1
                weight += w
                for j in range(d):
                    sums[j] += w * points[i, j]
    return count, weight


@njit(cache=True)
def _climb_one(mean, points, keys, starts, cell_sums, origin, cell, grid_dims, strides, extents, offsets, radius,
               bandwidth, kernel, max_iter, stop_thresh):
    """Climb from ``mean`` (D,), updated in place, to a mode; returns (steps, intensity)."""
    d = points.shape[1]
    sums = np.empty(d)
    home = np.empty(grid_dims.shape[0], dtype=np.int64)
    it = 0
    while True:
        count, total = _window_sums(mean, points, keys, starts, cell_sums, origin, cell, grid_dims, strides,
                                    extents, offsets, radius, bandwidth, kernel, sums, home)
        if count == 0:
            return it, 0.0
        step2 = 0.0
        for j in range(d):
            new = sums[j] / total
            step2 += (new - mean[j]) ** 2
            mean[j] = new
        if np.sqrt(step2) <= stop_thresh or it == max_iter:
            return it, total
        it += 1


@njit(cache=True)
def mean_shift_seeds(points, keys, starts, cell_sums, origin, cell, grid_dims, strides, extents, reach, seeds,
                     radius, bandwidth, kernel, max_iter, stop_thresh, modes, intensity, n_iter):
    """Climb from each seed to a mode of the kernel density.

    Each step moves the estimate to the kernel-weighted mean of the points
    within ``radius`` of it (found among the cells up to ``reach`` cells away
    along each gridded axis, see ``_window_sums``); a climb stops when a step
    moves at most ``stop_thresh`` or after ``max_iter + 1`` steps, or when no
    point is near (intensity 0). Writes ``modes`` (S, D), ``intensity`` (S,)
    (the window's total weight at the last step: the point count for the flat
    kernel) and ``n_iter`` (S,).

    Serial on purpose: climbs are independent, but a ``prange`` over seeds
    gained nothing measurable on the loaded 2-core machines and added about
    half a second to the first call of a process (loading the threading layer).
    """
    g = grid_dims.shape[0]
    side = 2 * reach + 1
    offsets = np.empty((side**g, g), dtype=np.int64)
    for o in range(side**g):
        rest = o
        for t in range(g):
            offsets[o, t] = rest % side - reach
            rest //= side
    for s in range(seeds.shape[0]):
        mean = seeds[s].copy()
        n_iter[s], intensity[s] = _climb_one(mean, points, keys, starts, cell_sums, origin, cell, grid_dims,
                                             strides, extents, offsets, radius, bandwidth, kernel, max_iter,
                                             stop_thresh)
        modes[s] = mean


# ------------------------------------------------------------------------ hierarchical
@njit(cache=True)
def _distance(X, i, j, metric):
    """Distance between rows ``i`` and ``j``; squared for EUCLIDEAN (callers take the root)."""
    d = 0.0
    for t in range(X.shape[1]):
        diff = X[i, t] - X[j, t]
        if metric == EUCLIDEAN:
            d += diff * diff
        elif metric == CITYBLOCK:
            d += abs(diff)
        else:
            d = max(d, abs(diff))
    return d


@njit(cache=True)
def prim_mst(X, metric):
    """Minimum spanning tree of the complete graph on the rows of ``X`` (Prim, O(N^2) time,
    O(N) memory: distances are computed as needed, never stored).

    Returns ``(a, b, length)``, the N-1 edges in the order they join the tree.
    Single linkage merges are exactly these edges taken by increasing length.
    """
    n = X.shape[0]
    best = np.full(n, np.inf)      # distance of each outside point to the tree
    link = np.zeros(n, dtype=np.int64)  # its nearest tree point
    outside = np.arange(1, n)      # points not yet in the tree, compacted by swap-removal
    m = n - 1
    a = np.empty(n - 1, dtype=np.int64)
    b = np.empty(n - 1, dtype=np.int64)
    length = np.empty(n - 1)
    newest = 0
    for e in range(n - 1):
        pick, pick_d = 0, np.inf
        for q in range(m):
            j = outside[q]
            d = _distance(X, newest, j, metric)
            if d < best[j]:
                best[j] = d
                link[j] = newest
            if best[j] < pick_d:
                pick, pick_d = q, best[j]
        newest = outside[pick]
        outside[pick] = outside[m - 1]
        m -= 1
        a[e] = link[newest]
        b[e] = newest
        length[e] = np.sqrt(pick_d) if metric == EUCLIDEAN else pick_d
    return a, b, length


@njit(cache=True)
def _condensed(n, i, j):
    """Index of the pair (i, j), i != j, in a condensed distance matrix."""
    if i > j:
        i, j = j, i
    return n * i - (i * (i + 1)) // 2 + j - i - 1


@njit(cache=True)
def pairwise_condensed(X, metric):
    """Condensed distance matrix (N(N-1)/2,) of the rows of ``X``, in SciPy's ``pdist`` order."""
    n = X.shape[0]
    out = np.empty(n * (n - 1) // 2)
    k = 0
    for i in range(n):
        for j in range(i + 1, n):
            d = _distance(X, i, j, metric)
            out[k] = np.sqrt(d) if metric == EUCLIDEAN else d
            k += 1
    return out


@njit(cache=True)
def nn_chain(dist, n, method):
    """Agglomerative clustering by the nearest-neighbour chain, O(N^2) time.

    ``dist`` is the condensed distance matrix, overwritten with the
    Lance-Williams updates. Follows nearest neighbours from an active cluster
    until two clusters are each other's nearest (ties go to the chain's
    previous element, so the chain never cycles), merges them and repeats:
    valid for the reducible linkages (complete, average, Ward).

    Returns ``(a, b, height)``: each merge names one point of each cluster;
    merges are not in height order.
    """
    size = np.ones(n)
    active = np.ones(n, dtype=np.bool_)
    chain = np.empty(n, dtype=np.int64)
    top = 0
    a = np.empty(n - 1, dtype=np.int64)
    b = np.empty(n - 1, dtype=np.int64)
    height = np.empty(n - 1)
    first = 0
    for m in range(n - 1):
        if top == 0:
            while not active[first]:
                first += 1
            chain[0] = first
            top = 1
        while True:
            x = chain[top - 1]
            y, best = -1, np.inf
            if top > 1:
                y = chain[top - 2]
                best = dist[_condensed(n, x, y)]
            for z in range(n):
                if active[z] and z != x:
                    d = dist[_condensed(n, x, z)]
                    if d < best:
                        y, best = z, d
            if top > 1 and y == chain[top - 2]:
                break
            chain[top] = y
            top += 1
        top -= 2
        a[m], b[m], height[m] = x, y, best
        # The merged cluster lives in slot y; x retires.
        nx, ny = size[x], size[y]
        for z in range(n):
            if not active[z] or z == x or z == y:
                continue
            dxz = dist[_condensed(n, x, z)]
            iyz = _condensed(n, y, z)
            dyz = dist[iyz]
            if method == COMPLETE:
                dist[iyz] = max(dxz, dyz)
            elif method == AVERAGE:
                dist[iyz] = (nx * dxz + ny * dyz) / (nx + ny)
            else:
                nz = size[z]
                dist[iyz] = np.sqrt(max(0.0, ((nx + nz) * dxz * dxz + (ny + nz) * dyz * dyz - nz * best * best)
                                        / (nx + ny + nz)))
        size[y] = nx + ny
        active[x] = False
    return a, b, height


@njit(cache=True)
def _root(parent, i):
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@njit(cache=True)
def merge_tree(a, b, height, n):
    """SciPy's linkage matrix from merges already sorted by height: row m joins
    clusters ``Z[m, 0] < Z[m, 1]`` (ids < N are points, id N + m is the
    cluster row m made) at ``Z[m, 2]``, giving a cluster of ``Z[m, 3]`` points."""
    parent = np.arange(n)
    cluster_id = np.arange(n)   # id of the cluster whose union-find root is this point
    size = np.ones(n)
    Z = np.empty((a.shape[0], 4))
    for m in range(a.shape[0]):
        ra, rb = _root(parent, a[m]), _root(parent, b[m])
        ia, ib = cluster_id[ra], cluster_id[rb]
        Z[m, 0], Z[m, 1] = min(ia, ib), max(ia, ib)
        Z[m, 2] = height[m]
        parent[ra] = rb
        size[rb] += size[ra]
        Z[m, 3] = size[rb]
        cluster_id[rb] = n + m
    return Z


@njit(cache=True)
def cut_labels(a, b, n, n_merges):
    """Flat clusters after the first ``n_merges`` merges (point pairs ``a``, ``b``):
    labels 0, 1, ... in order of each cluster's first point."""
    parent = np.arange(n)
    for m in range(n_merges):
        ra, rb = _root(parent, a[m]), _root(parent, b[m])
        parent[ra] = rb
    labels = np.full(n, -1, dtype=np.int64)
    label_of_root = np.full(n, -1, dtype=np.int64)
    k = 0
    for i in range(n):
        r = _root(parent, i)
        if label_of_root[r] < 0:
            label_of_root[r] = k
            k += 1
        labels[i] = label_of_root[r]
    return labels
