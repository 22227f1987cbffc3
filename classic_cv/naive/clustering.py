"""Plain NumPy/Python twins of ``classic_cv._kernels.clustering``."""
import numpy as np


def assign_nearest(X, centers):
    """Nearest centre of every point by broadcasting all (N, K) squared distances."""
    dist2 = ((X[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    labels = np.argmin(dist2, axis=1)
    return labels, dist2[np.arange(len(X)), labels]


def update_centers(X, labels, k):
    """Per-cluster coordinate sums (k, D) and point counts (k,)."""
    sums = np.zeros((k, X.shape[1]))
    np.add.at(sums, labels, X)
    return sums, np.bincount(labels, minlength=k)


def inertia(X, centers, labels):
    return ((X - centers[labels]) ** 2).sum()


def mean_shift_seed(X, seed, bandwidth, radius, gaussian, max_iter, stop_thresh):
    """One climb, looking at every point at every step; returns (mode, intensity, steps)."""
    mean = np.array(seed, dtype=np.float64)
    it = 0
    while True:
        dist2 = ((X - mean) ** 2).sum(axis=1)
        inside = dist2 <= radius**2
        if not inside.any():
            return mean, 0.0, it
        weight = np.exp(-dist2[inside] / (2 * bandwidth**2)) if gaussian else np.ones(inside.sum())
        old, mean = mean, (weight[:, None] * X[inside]).sum(axis=0) / weight.sum()
        if np.linalg.norm(mean - old) <= stop_thresh or it == max_iter:
            return mean, weight.sum(), it
        it += 1


def pairwise(X, metric):
    """(N, N) distance matrix; metric 0 Euclidean, 1 city block, 2 Chebyshev."""
    diff = np.abs(X[:, None, :] - X[None, :, :])
    if metric == 0:
        return np.sqrt((diff**2).sum(axis=2))
    return diff.sum(axis=2) if metric == 1 else diff.max(axis=2)


def minimum_spanning_tree(X, metric):
    """Kruskal's algorithm over all pairs; returns the N-1 edges (a, b, length) by length."""
    n = len(X)
    dist = pairwise(X, metric)
    group = list(range(n))
    edges = sorted((dist[i, j], i, j) for i in range(n) for j in range(i + 1, n))
    a, b, length = [], [], []
    for d, i, j in edges:
        gi, gj = group[i], group[j]
        if gi != gj:
            group = [gi if g == gj else g for g in group]
            a.append(i), b.append(j), length.append(d)
    return np.array(a, dtype=np.int64), np.array(b, dtype=np.int64), np.array(length)


def _cluster_distance(X, dist, p, q, method):
    """Linkage distance between point lists ``p`` and ``q`` from its definition."""
    block = dist[np.ix_(p, q)]
    if method == 0:
        return block.max()
    if method == 1:
        return block.mean()
    gap = X[p].mean(axis=0) - X[q].mean(axis=0)
    return np.sqrt(2 * len(p) * len(q) / (len(p) + len(q))) * np.linalg.norm(gap)


def greedy_linkage(X, dist, method):
    """Merge the closest pair of clusters, recomputed from scratch each time
    (method 0 complete, 1 average, 2 Ward); returns merges (a, b, height) in
    merge order, each naming the first point of each cluster."""
    clusters = [[i] for i in range(len(X))]
    a, b, height = [], [], []
    while len(clusters) > 1:
        d, s, t = min((_cluster_distance(X, dist, p, q, method), s, t)
                      for s, p in enumerate(clusters) for t, q in enumerate(clusters) if s < t)
        a.append(clusters[s][0]), b.append(clusters[t][0]), height.append(d)
        clusters[s] = clusters[s] + clusters.pop(t)
    return np.array(a, dtype=np.int64), np.array(b, dtype=np.int64), np.array(height)


def cut_labels(a, b, n, n_merges):
    """Flat clusters after the first merges, by relabelling whole groups; labels
    numbered in order of each cluster's first point."""
    group = np.arange(n)
    for m in range(n_merges):
        group[group == group[b[m]]] = group[a[m]]
    _, first, inverse = np.unique(group, return_index=True, return_inverse=True)
    rank = np.argsort(np.argsort(first))
    return rank[inverse].astype(np.int64)


def merge_tree(a, b, height, n):
    """SciPy's linkage matrix from sorted merges, tracking member sets by id."""
    members = {i: {i} for i in range(n)}
    Z = []
    for m in range(len(a)):
        ia = next(c for c, s in members.items() if a[m] in s)
        ib = next(c for c, s in members.items() if b[m] in s)
        merged = members.pop(ia) | members.pop(ib)
        members[n + m] = merged
        Z.append([min(ia, ib), max(ia, ib), height[m], len(merged)])
    return np.array(Z, dtype=np.float64).reshape(-1, 4)
