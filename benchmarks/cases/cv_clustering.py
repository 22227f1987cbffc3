"""Clustering the pixels of chelsea (colour + position, 5-D) against scikit-learn and SciPy.

k-means runs from the same initial centres on both sides (so both do the same
Lloyd iterations); mean shift from the same bin seeds with the same
bandwidth; single link on the same 5000 pixels. scikit-learn's mean shift
takes about a minute on the full 135k pixels (and the harness calls each side
about 25 times), so it runs on every third pixel of each axis (every fourth
with --quick).
"""
import numpy as np

from benchmarks.harness import Case
from classic_cv.clustering import agglomerative, kmeans, mean_shift
from classic_cv.segmentation import pixel_features


def _pixels(step=1):
    from skimage import data

    return pixel_features(data.chelsea()[::step, ::step], "color+position", 1.0)


def cases(quick):
    try:
        from scipy.cluster import hierarchy
        from sklearn.cluster import KMeans, MeanShift
    except ImportError:
        return []
    X = _pixels()
    k = 8
    init = X[np.random.default_rng(0).choice(len(X), k, replace=False)]
    out = [Case(
        "kmeans chelsea 5-D k=8",
        lambda: kmeans(X, k, init=init),
        {"sklearn": lambda: KMeans(k, init=init, n_init=1, algorithm="lloyd").fit(X)},
        note=f"{len(X)} points, same init, lloyd",
    )]
    Xm = _pixels(4 if quick else 3)
    bandwidth = 0.15
    out.append(Case(
        "mean_shift chelsea 5-D",
        lambda: mean_shift(Xm, bandwidth, bin_seeding=True),
        {"sklearn": lambda: MeanShift(bandwidth=bandwidth, bin_seeding=True).fit(Xm)},
        note=f"{len(Xm)} points, bandwidth {bandwidth}, bin seeds",
    ))
    Xs = X[np.random.default_rng(1).choice(len(X), 5000, replace=False)]
    out.append(Case(
        "single link 5k pixels",
        lambda: agglomerative(Xs, n_clusters=8, linkage="single"),
        {"scipy": lambda: hierarchy.fcluster(hierarchy.linkage(Xs, "single"), 8, "maxclust")},
        note="5000 points, cut into 8 clusters",
    ))
    return out
