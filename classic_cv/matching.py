"""Descriptor matching: nearest neighbours with Lowe's ratio test and cross-check."""
import numpy as np

from minigrad.validation import check_bool, check_number

from ._validate import check_image

__all__ = ["match_descriptors"]


def _sq_distances(a, b):
    """Squared Euclidean distances (N, M) via one matrix product."""
    d = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * (a @ b.T)
    return np.maximum(d, 0.0)


def match_descriptors(desc1, desc2, ratio=0.8, cross_check=False):
    """Match each row of ``desc1`` to its nearest row of ``desc2``.

    A match is kept when its distance is below ``ratio`` times the distance to the
    second-nearest neighbour (Lowe's ratio test; ``ratio=1`` disables it) and, with
    ``cross_check``, when it is also the nearest neighbour the other way round.

    Parameters
    ----------
    desc1 : (N, D), desc2 : (M, D)
        Descriptors, one per row (e.g. of ``sift``); integer or float.
    ratio : float in (0, 1]
    cross_check : bool

    Returns
    -------
    matches : (K, 2) int64, rows ``(index into desc1, index into desc2)``
    distances : (K,) float64
    """
    func = "match_descriptors"
    # (N, D) numbers, N may be 0 (an image without keypoints), as float64.
    desc1, desc2 = (check_image(func, name, d, ndim=2, allow_empty=True).astype(np.float64)
                    for name, d in (("desc1", desc1), ("desc2", desc2)))
    if desc1.shape[1] != desc2.shape[1]:
        raise ValueError(f"{func}: desc1 and desc2 must have the same length, "
                         f"got {desc1.shape[1]} and {desc2.shape[1]}")
    ratio = check_number(func, "ratio", ratio, low=0, low_open=True, high=1)
    return _match_descriptors(desc1, desc2, ratio, check_bool(func, "cross_check", cross_check))


def _match_descriptors(desc1, desc2, ratio, cross_check):
    """``match_descriptors`` on checked float64 descriptors."""
    if len(desc1) == 0 or len(desc2) == 0:
        return np.zeros((0, 2), np.int64), np.zeros(0)
    d2 = _sq_distances(desc1, desc2)
    rows = np.arange(len(desc1))
    nearest = d2.argmin(axis=1)
    best = d2[rows, nearest]
    keep = np.ones(len(desc1), dtype=bool)
    if ratio < 1 and len(desc2) > 1:
        second = np.partition(d2, 1, axis=1)[:, 1]
        keep &= best < ratio**2 * second
    if cross_check:
        keep &= d2.argmin(axis=0)[nearest] == rows
    matches = np.column_stack([rows[keep], nearest[keep]]).astype(np.int64)
    return matches, np.sqrt(best[keep])
