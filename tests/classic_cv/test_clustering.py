"""k-means, mean shift, agglomerative: kernels equal their twins; results equal
scikit-learn's and SciPy's on the pixels of real images."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classic_cv import clustering
from classic_cv._kernels import clustering as kern
from classic_cv.naive import clustering as naive
from classic_cv.segmentation import pixel_features
from tests.conftest import assert_close

METRIC_CODES = {"euclidean": kern.EUCLIDEAN, "cityblock": kern.CITYBLOCK, "chebyshev": kern.CHEBYSHEV}
LINKAGE_CASES = [("single", "euclidean"), ("single", "cityblock"), ("single", "chebyshev"),
                 ("complete", "euclidean"), ("complete", "cityblock"), ("complete", "chebyshev"),
                 ("average", "euclidean"), ("average", "cityblock"), ("average", "chebyshev"),
                 ("ward", "euclidean")]


@pytest.fixture(scope="module")
def sklearn():
    """scikit-learn on one thread: its OpenMP loops stall on a loaded 2-core machine."""
    sklearn = pytest.importorskip("sklearn.cluster")
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1):
        yield sklearn


@pytest.fixture(scope="module")
def hierarchy():
    return pytest.importorskip("scipy.cluster.hierarchy")


def _pixels(skimage, name, step, features="color+position"):
    """Pixel features of a real image, every ``step``-th row and column."""
    return pixel_features(getattr(skimage.data, name)()[::step, ::step], features, 1.0)


def _same_partition(a, b):
    """Labels ``a`` and ``b`` split the points alike (up to renaming clusters)."""
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


# ----------------------------------------------------------------------- kernel twins
@settings(max_examples=20)
@given(n=st.integers(1, 60), d=st.integers(1, 6), k=st.integers(1, 8), seed=st.integers(0, 2**16))
def test_kmeans_kernels_equal_naive_twins(n, d, k, seed):
    rng = np.random.default_rng(seed)
    X, centers = rng.random((n, d)), rng.random((k, d))
    labels, dist2 = np.empty(n, dtype=np.int64), np.empty(n)
    kern.assign_nearest(X, centers, labels, dist2)
    ref_labels, ref_dist2 = naive.assign_nearest(X, centers)
    np.testing.assert_array_equal(labels, ref_labels)
    assert_close(dist2, ref_dist2, 1e-12, "dist2")
    previous = rng.integers(0, k, n)
    fused = previous.copy()
    sums, counts = np.empty((k, d)), np.empty(k, dtype=np.int64)
    changed = kern.lloyd_iteration(X, centers, fused, sums, counts)
    np.testing.assert_array_equal(fused, ref_labels)
    assert changed == (previous != ref_labels).sum()
    ref_sums, ref_counts = naive.update_centers(X, ref_labels, k)
    assert_close(sums, ref_sums, 1e-12, "sums")
    np.testing.assert_array_equal(counts, ref_counts)
    assert kern.inertia(X, centers, fused) == pytest.approx(naive.inertia(X, centers, fused), rel=1e-12)


@settings(max_examples=15)
@given(n=st.integers(1, 80), d=st.integers(1, 7), kernel=st.sampled_from(["flat", "gaussian"]),
       bandwidth=st.floats(0.05, 0.6), seed=st.integers(0, 2**16))
def test_mean_shift_kernel_equals_naive_twin(n, d, kernel, bandwidth, seed):
    rng = np.random.default_rng(seed)
    # Clumps, so windows hold several points and some cells lie wholly inside a window.
    X = np.repeat(rng.random((4, d)), n // 4 + 1, axis=0)[:n] + 0.05 * rng.standard_normal((n, d))
    seeds = np.concatenate([X[:5], rng.random((3, d)) * 3 - 1])  # some seeds far from every point
    modes, intensity, steps = clustering._climb(X, seeds, bandwidth, kernel, 50)
    radius = bandwidth * (clustering.GAUSSIAN_SUPPORT if kernel == "gaussian" else 1.0)
    for s, seed_point in enumerate(seeds):
        mode, weight, it = naive.mean_shift_seed(X, seed_point, bandwidth, radius, kernel == "gaussian", 50,
                                                 1e-3 * bandwidth)
        assert steps[s] == it
        assert abs(intensity[s] - weight) <= 1e-9 * max(1.0, weight)
        assert_close(modes[s], mode, 1e-9, f"mode of seed {s}")


@settings(max_examples=15)
@given(n=st.integers(1, 40), d=st.integers(1, 4), metric=st.sampled_from(list(METRIC_CODES)),
       seed=st.integers(0, 2**16))
def test_prim_mst_equals_kruskal_twin(n, d, metric, seed):
    X = np.random.default_rng(seed).random((n, d))
    a, b, length = kern.prim_mst(X, METRIC_CODES[metric])
    ref_a, ref_b, ref_length = naive.minimum_spanning_tree(X, METRIC_CODES[metric])
    assert_close(np.sort(length), ref_length, 1e-12, "edge lengths")
    # Random data: distinct distances, so the tree is unique.
    edges = {frozenset(e) for e in zip(a.tolist(), b.tolist())}
    assert edges == {frozenset(e) for e in zip(ref_a.tolist(), ref_b.tolist())}


@settings(max_examples=15)
@given(n=st.integers(1, 25), d=st.integers(1, 4), method=st.sampled_from([kern.COMPLETE, kern.AVERAGE, kern.WARD]),
       metric=st.sampled_from(list(METRIC_CODES)), seed=st.integers(0, 2**16))
def test_nn_chain_equals_greedy_twin(n, d, method, metric, seed):
    if method == kern.WARD:
        metric = "euclidean"
    X = np.random.default_rng(seed).random((n, d))
    dist = kern.pairwise_condensed(X, METRIC_CODES[metric])
    square = naive.pairwise(X, METRIC_CODES[metric])
    assert_close(dist, square[np.triu_indices(n, 1)], 1e-12, "condensed distances")
    a, b, height = kern.nn_chain(dist, n, method)
    order = np.argsort(height, kind="stable")
    a, b, height = a[order], b[order], height[order]
    ref_a, ref_b, ref_height = naive.greedy_linkage(X, square, method)
    assert_close(height, ref_height, 1e-9, "merge heights")
    for n_merges in range(n):
        np.testing.assert_array_equal(kern.cut_labels(a, b, n, n_merges), naive.cut_labels(ref_a, ref_b, n, n_merges))


@settings(max_examples=20)
@given(n=st.integers(1, 30), seed=st.integers(0, 2**16))
def test_tree_kernels_equal_naive_twins(n, seed):
    rng = np.random.default_rng(seed)
    # Random merges of a random forest: each joins two points of different groups.
    group, a, b = list(range(n)), [], []
    for _ in range(n - 1):
        i, j = rng.choice(n, 2, replace=False)
        while group[i] == group[j]:
            i, j = rng.choice(n, 2, replace=False)
        a.append(i), b.append(j)
        group = [group[i] if g == group[j] else g for g in group]
    a, b, height = np.array(a, dtype=np.int64), np.array(b, dtype=np.int64), np.sort(rng.random(n - 1))
    np.testing.assert_array_equal(kern.merge_tree(a, b, height, n), naive.merge_tree(a, b, height, n))
    for n_merges in range(n):
        np.testing.assert_array_equal(kern.cut_labels(a, b, n, n_merges), naive.cut_labels(a, b, n, n_merges))


# --------------------------------------------------------------------- against sklearn
@pytest.mark.parametrize("name, features, k, tol", [
    ("chelsea", "color+position", 8, 1e-4), ("chelsea", "color", 5, 0.0), ("astronaut", "color+position", 12, 1e-3)])
def test_kmeans_from_same_centres_equals_sklearn(skimage, sklearn, name, features, k, tol):
    X = _pixels(skimage, name, 2, features)
    init = X[np.random.default_rng(1).choice(len(X), k, replace=False)]
    ours = clustering.kmeans(X, k, init=init, tol=tol)
    ref = sklearn.KMeans(k, init=init, n_init=1, algorithm="lloyd", tol=tol).fit(X)
    np.testing.assert_array_equal(ours.labels, ref.labels_)
    assert abs(ours.inertia - ref.inertia_) <= 1e-9 * ref.inertia_
    assert_close(ours.centers, ref.cluster_centers_, 1e-9, "centres")
    assert ours.n_iter == ref.n_iter_


def test_kmeans_plusplus_inertia_matches_sklearn_over_seeds(skimage, sklearn):
    X = _pixels(skimage, "astronaut", 4, "color")
    ours = np.mean([clustering.kmeans(X, 8, rng=seed).inertia for seed in range(10)])
    ref = np.mean([sklearn.KMeans(8, n_init=1, random_state=seed).fit(X).inertia_ for seed in range(10)])
    assert abs(ours - ref) <= 0.005 * ref


def test_kmeans_keeps_best_of_n_init_and_random_init(rng):
    X = np.concatenate([rng.normal(c, 0.3, (50, 2)) for c in ((0, 0), (4, 0), (0, 4), (4, 4), (8, 8))])
    best = clustering.kmeans(X, 5, init="random", n_init=6, rng=np.random.default_rng(0))
    # The same six random initialisations, drawn from the same generator, run one by one.
    draws = np.random.default_rng(0)
    runs = [clustering.kmeans(X, 5, init=X[draws.choice(len(X), 5, replace=False)]).inertia for _ in range(6)]
    assert best.inertia == min(runs)
    assert np.bincount(best.labels, minlength=5).min() > 0
    # The labels are the nearest centres and the inertia their squared distances.
    ref_labels, dist2 = naive.assign_nearest(X, best.centers)
    np.testing.assert_array_equal(best.labels, ref_labels)
    assert best.inertia == pytest.approx(dist2.sum(), rel=1e-12)


def test_kmeans_refills_empty_clusters_as_sklearn(sklearn, rng):
    # Duplicate or badly placed initial centres leave clusters empty after the
    # first assignment; they take the points farthest from their centres.
    tiny = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [10.0, 10.0], [10.1, 10.0], [10.0, 10.1]])
    blobs = np.concatenate([rng.normal(0, 1, (200, 2)), rng.normal(20, 1, (50, 2))])
    for X, init in ((tiny, tiny[[0, 0, 1]]), (blobs, blobs[:6])):
        ours = clustering.kmeans(X, len(init), init=init)
        ref = sklearn.KMeans(len(init), init=init, n_init=1, algorithm="lloyd").fit(X)
        assert len(np.unique(ours.labels)) == len(init)
        np.testing.assert_array_equal(ours.labels, ref.labels_)
        assert ours.inertia == pytest.approx(ref.inertia_, rel=1e-9)


def test_kmeans_with_duplicate_points_stays_finite():
    X = np.zeros((5, 2))
    result = clustering.kmeans(X, 3, rng=0)
    assert np.isfinite(result.centers).all() and result.inertia == 0


@pytest.mark.parametrize("name, bandwidth", [("chelsea", 0.12), ("coffee", 0.15)])
def test_mean_shift_equals_sklearn_with_same_seeds(skimage, sklearn, name, bandwidth):
    X = _pixels(skimage, name, 8)
    seeds = X[np.random.default_rng(2).choice(len(X), 60, replace=False)]
    ours = clustering.mean_shift(X, bandwidth, seeds=seeds)
    ref = sklearn.MeanShift(bandwidth=bandwidth, seeds=seeds).fit(X)
    assert ours.centers.shape == ref.cluster_centers_.shape
    assert_close(ours.centers, ref.cluster_centers_, 1e-6, "centres")
    np.testing.assert_array_equal(ours.labels, ref.labels_)
    assert ours.n_iter == ref.n_iter_


def test_mean_shift_bin_seeding_and_cluster_all_equal_sklearn(skimage, sklearn):
    X = _pixels(skimage, "chelsea", 8)
    ours = clustering.mean_shift(X, 0.1, bin_seeding=True, min_bin_freq=10, cluster_all=False)
    ref = sklearn.MeanShift(bandwidth=0.1, bin_seeding=True, min_bin_freq=10, cluster_all=False).fit(X)
    assert_close(ours.centers, ref.cluster_centers_, 1e-6, "centres")
    np.testing.assert_array_equal(ours.labels, ref.labels_)
    assert (ours.labels == -1).any()


def test_mean_shift_gaussian_finds_the_blobs(rng):
    centres = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
    X = np.concatenate([rng.normal(c, 0.2, (100, 2)) for c in centres])
    result = clustering.mean_shift(X, 0.5, kernel="gaussian", bin_seeding=True)
    assert len(result.centers) == 3
    found = result.centers[np.argsort(result.centers @ [1.0, 10.0])]
    assert_close(found, centres[np.argsort(centres @ [1.0, 10.0])], 0.1, "modes")
    assert _same_partition(result.labels, np.repeat(np.arange(3), 100))


# ----------------------------------------------------------------------- against SciPy
@pytest.mark.parametrize("linkage, metric", LINKAGE_CASES)
def test_agglomerative_equals_scipy(skimage, hierarchy, linkage, metric):
    X = _pixels(skimage, "chelsea", 15)
    # Pixel colours repeat; a tiny jitter removes tied distances, whose merge order is arbitrary.
    X = X + 1e-7 * np.random.default_rng(3).standard_normal(X.shape)
    Z = hierarchy.linkage(X, linkage, metric)
    for n_clusters in (1, 2, 7, 40, len(X)):
        ours = clustering.agglomerative(X, n_clusters=n_clusters, linkage=linkage, metric=metric)
        assert _same_partition(ours.labels, hierarchy.fcluster(Z, n_clusters, "maxclust"))
    np.testing.assert_array_equal(ours.merges[:, [0, 1, 3]], Z[:, [0, 1, 3]])
    assert_close(ours.merges[:, 2], Z[:, 2], 1e-9 * Z[-1, 2], "merge heights")
    for q in (0.3, 0.9, 0.99):
        m = int(q * (len(Z) - 1))
        threshold = (Z[m, 2] + Z[m + 1, 2]) / 2  # between two heights: no tie at the cut
        ours = clustering.agglomerative(X, distance_threshold=threshold, linkage=linkage, metric=metric)
        assert _same_partition(ours.labels, hierarchy.fcluster(Z, threshold, "distance"))


def test_agglomerative_single_point_and_labels_order():
    one = clustering.agglomerative([[1.0, 2.0]], n_clusters=1)
    assert one.labels.tolist() == [0] and one.merges.shape == (0, 4)
    labels = clustering.agglomerative([[0.0], [10.0], [0.1], [10.1]], n_clusters=2, linkage="single").labels
    assert labels.tolist() == [0, 1, 0, 1]


# ----------------------------------------------------------------------------- bad input
X_OK = np.random.default_rng(0).random((10, 2))


@pytest.mark.parametrize("call, error, match", [
    (lambda: clustering.kmeans(np.empty((0, 2)), 1), ValueError, "X must not be empty"),
    (lambda: clustering.kmeans(np.empty((3, 0)), 1), ValueError, r"X must not be empty, got shape \(3, 0\)"),
    (lambda: clustering.kmeans([[0.0, np.nan], [1.0, 1.0]], 1), ValueError, "X must be finite"),
    (lambda: clustering.kmeans(X_OK[0], 1), ValueError, "X must be 2-D"),
    (lambda: clustering.kmeans(X_OK.astype(object), 1), TypeError, "X must have a real numeric dtype"),
    (lambda: clustering.kmeans(X_OK, 11), ValueError, r"k must be at most the number of points \(10\)"),
    (lambda: clustering.kmeans(X_OK, 0), ValueError, "k must be an integer >= 1"),
    (lambda: clustering.kmeans(X_OK, 2.0), TypeError, "k must be an integer"),
    (lambda: clustering.kmeans(X_OK, 2, init="kmeans++"), ValueError, "init must be one of"),
    (lambda: clustering.kmeans(X_OK, 2, init=np.zeros((3, 2))), ValueError, r"init must have shape \(k, D\)"),
    (lambda: clustering.kmeans(X_OK, 2, init=[[0, 0], [np.inf, 0]]), ValueError, "init must be finite"),
    (lambda: clustering.kmeans(X_OK, 2, init=X_OK[:2], n_init=3), ValueError, "n_init must be 1 when init"),
    (lambda: clustering.kmeans(X_OK, 2, n_init=0), ValueError, "n_init must be an integer >= 1"),
    (lambda: clustering.kmeans(X_OK, 2, max_iter=0), ValueError, "max_iter must be"),
    (lambda: clustering.kmeans(X_OK, 2, tol=-1), ValueError, "tol must be >= 0"),
    (lambda: clustering.kmeans(X_OK, 2, tol=np.nan), ValueError, "tol must be"),
    (lambda: clustering.kmeans(X_OK, 2, rng="seed"), TypeError, "rng must be"),
    (lambda: clustering.mean_shift(np.empty((0, 2)), 1.0), ValueError, "X must not be empty"),
    (lambda: clustering.mean_shift([[np.nan, 0.0]], 1.0), ValueError, "X must be finite"),
    (lambda: clustering.mean_shift(X_OK, 0.0), ValueError, "bandwidth must be > 0"),
    (lambda: clustering.mean_shift(X_OK, -1.0), ValueError, "bandwidth must be > 0"),
    (lambda: clustering.mean_shift(X_OK, np.inf), ValueError, "bandwidth must be"),
    (lambda: clustering.mean_shift(X_OK, 1e-300), ValueError, "bandwidth must be more than"),
    (lambda: clustering.mean_shift(X_OK, 0.5, kernel="epanechnikov"), ValueError, "kernel must be one of"),
    (lambda: clustering.mean_shift(X_OK, 0.5, seeds=np.zeros((2, 3))), ValueError, r"seeds must have shape \(S, 2\)"),
    (lambda: clustering.mean_shift(X_OK, 0.5, seeds=[[5.0, 5.0]]), ValueError, "seeds must have a point within"),
    (lambda: clustering.mean_shift(X_OK, 0.5, bin_seeding=1), TypeError, "bin_seeding must be True or False"),
    (lambda: clustering.mean_shift(X_OK, 0.01, bin_seeding=True, min_bin_freq=5), ValueError, "min_bin_freq must be"),
    (lambda: clustering.mean_shift(X_OK, 0.5, min_bin_freq=0), ValueError, "min_bin_freq must be an integer >= 1"),
    (lambda: clustering.mean_shift(X_OK, 0.5, cluster_all="no"), TypeError, "cluster_all must be True or False"),
    (lambda: clustering.agglomerative(np.empty((0, 2)), n_clusters=1), ValueError, "X must not be empty"),
    (lambda: clustering.agglomerative([[0.0, np.inf]], n_clusters=1), ValueError, "X must be finite"),
    (lambda: clustering.agglomerative(X_OK, n_clusters=2, linkage="centroid"), ValueError, "linkage must be one of"),
    (lambda: clustering.agglomerative(X_OK, n_clusters=2, metric="cosine"), ValueError, "metric must be one of"),
    (lambda: clustering.agglomerative(X_OK, n_clusters=2, metric="cityblock"), ValueError,
     "metric must be 'euclidean' with linkage='ward'"),
    (lambda: clustering.agglomerative(X_OK), ValueError, "exactly one of n_clusters and distance_threshold"),
    (lambda: clustering.agglomerative(X_OK, n_clusters=2, distance_threshold=1.0), ValueError, "exactly one of"),
    (lambda: clustering.agglomerative(X_OK, n_clusters=11), ValueError, "n_clusters must be at most"),
    (lambda: clustering.agglomerative(X_OK, n_clusters=0), ValueError, "n_clusters must be an integer >= 1"),
    (lambda: clustering.agglomerative(X_OK, distance_threshold=-0.5), ValueError, "distance_threshold must be >= 0"),
    (lambda: clustering.agglomerative(X_OK, distance_threshold=np.nan), ValueError, "distance_threshold must be"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
