"""Sample quality of a generative model, judged in a trained classifier's feature space.

The Fréchet distance between two sets of features is that of the Gaussians
fitted to them (Heusel et al., 2017, with an Inception network's features;
here the ``cnn`` script's classifier's penultimate layer)::

    FD = |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))

0 for two identical sets; a set shifted by a vector v is |v|^2 away from itself.
"""
import warnings

import numpy as np
import scipy.linalg

import minigrad as mg
from minigrad.validation import check_finite, check_float_array


def frechet_distance(features_a, features_b):
    """Fréchet distance between Gaussians fitted to two sets of feature vectors.

    Parameters
    ----------
    features_a : (N, D) float array, N >= 2
    features_b : (M, D) float array, M >= 2
        Rows are samples; covariances are unbiased (``ddof=1``).

    Returns
    -------
    float >= 0
        The matrix square root is ``scipy.linalg.sqrtm``'s; its round-off
        imaginary part is dropped, and a slightly negative total (round-off
        on identical sets) becomes 0.
    """
    func = "frechet_distance"
    a = check_float_array(func, "features_a", features_a, ndim=2, layout="(N, D)").astype(np.float64)
    b = check_float_array(func, "features_b", features_b, ndim=2, layout="(M, D)").astype(np.float64)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{func}: features_a and features_b must have the same width D, "
                         f"got {a.shape[1]} and {b.shape[1]}")
    for name, x in (("features_a", a), ("features_b", b)):
        if len(x) < 2:
            raise ValueError(f"{func}: {name} must hold at least 2 rows to estimate a covariance, got {len(x)}")
        check_finite(func, name, x)
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    with warnings.catch_warnings():
        # Fewer samples than features make the covariances singular; the root stays well defined.
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        root = scipy.linalg.sqrtm(cov_a @ cov_b)
    if np.iscomplexobj(root):
        root = root.real
    distance = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * np.trace(root)
    return float(max(distance, 0.0))


def penultimate_features(model, X, batch_size=500):
    """The activations (N, hidden) feeding the last linear layer of a ``ConvNet`` (the
    ``cnn`` script's), for images ``X`` (N, C, H, W) in [0, 1]; the model's mode is kept."""
    head = list(model.classifier)[:-1]
    out = []
    with mg.no_grad():
        for i in range(0, len(X), batch_size):
            h = model.features(mg.Tensor(X[i:i + batch_size]))
            for layer in head:
                h = layer(h)
            out.append(h.data)
    return np.concatenate(out)
