"""Two-image panorama: SIFT matches -> RANSAC homography -> warp and blend."""
import numpy as np

from ._validate import as_float_image, as_gray
from .matching import match_descriptors
from .ransac import apply_homography, find_homography
from .sift import sift
from .warp import warp_perspective

__all__ = ["estimate_homography", "stitch"]


def estimate_homography(img1, img2, ratio=0.75, threshold=3.0, min_inliers=10):
    """Homography mapping pixel (x, y) of ``img2`` onto ``img1``.

    Parameters
    ----------
    img1, img2 : (H, W) or (H, W, 3)
    ratio : float, Lowe ratio for matching SIFT descriptors
    threshold : float, RANSAC reprojection threshold in pixels
    min_inliers : int, fewer inliers than this raise ValueError

    Returns
    -------
    H : (3, 3) float64
    n_inliers : int
    """
    kp1, d1 = sift(as_gray(img1, "img1", "stitch"))
    kp2, d2 = sift(as_gray(img2, "img2", "stitch"))
    matches, _ = match_descriptors(d2, d1, ratio=ratio, cross_check=True)
    if len(matches) < max(4, min_inliers):
        raise ValueError(f"stitch: images do not overlap enough, got {len(matches)} matches")
    result = find_homography(kp2.xy[matches[:, 0]], kp1.xy[matches[:, 1]], threshold=threshold)
    if result.params is None or result.n_inliers < min_inliers:
        raise ValueError(f"stitch: images do not overlap enough, got {result.n_inliers} consistent matches")
    return result.params, result.n_inliers


def stitch(img1, img2, ratio=0.75, threshold=3.0):
    """Stitch ``img2`` onto ``img1``'s plane into one panorama.

    The canvas is the bounding box of ``img1`` and the warped corners of ``img2``;
    where both images cover a pixel they are averaged with weights that fall off
    towards each image's border (feathering), hiding exposure seams.

    Parameters
    ----------
    img1, img2 : (H, W) or (H, W, 3), same number of channels
    ratio, threshold : see :func:`estimate_homography`

    Returns
    -------
    panorama : (H_p, W_p[, 3]) float64 (integer inputs scaled to [0, 1]); pixels
        covered by neither image are 0.
    """
    func = "stitch"
    a = as_float_image(img1, "img1", func, dtype=np.float64)
    b = as_float_image(img2, "img2", func, dtype=np.float64)
    if a.ndim != b.ndim or a.shape[2:] != b.shape[2:]:
        raise ValueError(f"stitch: img1 and img2 must have the same channels, got shapes {a.shape} and {b.shape}")
    H, _ = estimate_homography(a, b, ratio, threshold)
    h1, w1 = a.shape[:2]
    h2, w2 = b.shape[:2]
    corners2 = apply_homography(H, np.array([[0, 0], [w2 - 1, 0], [0, h2 - 1], [w2 - 1, h2 - 1]], float))
    if not np.isfinite(corners2).all():
        raise ValueError("stitch: the estimated homography sends img2 to infinity")
    corners = np.vstack([corners2, [[0, 0], [w1 - 1, h1 - 1]]])
    # Round to the nearest pixel centre: a sliver of a pixel is not worth a new row.
    lo = np.round(corners.min(axis=0))
    hi = np.round(corners.max(axis=0))
    size = hi - lo + 1
    if size.prod() > 25 * (h1 * w1 + h2 * w2):
        raise ValueError("stitch: the estimated homography distorts img2 too much to stitch")
    shape = (int(size[1]), int(size[0]))
    T = np.array([[1.0, 0.0, -lo[0]], [0.0, 1.0, -lo[1]], [0.0, 0.0, 1.0]])
    acc = np.zeros(shape + a.shape[2:])
    total = np.zeros(shape)
    for image, M in ((a, T), (b, T @ H)):
        weight = warp_perspective(_feather(image.shape[:2]), M, shape, mode="constant", cval=0.0)
        warped = warp_perspective(image, M, shape, mode="constant", cval=0.0)
        acc += warped * (weight if image.ndim == 2 else weight[:, :, None])
        total += weight
    covered = total > 1e-12
    out = np.zeros_like(acc)
    out[covered] = acc[covered] / (total[covered] if acc.ndim == 2 else total[covered][:, None])
    return out


def _feather(shape):
    """Weights (H, W) growing linearly from the border (1 at the edge pixels) inwards."""
    h, w = shape
    wy = np.minimum(np.arange(1, h + 1), np.arange(h, 0, -1))
    wx = np.minimum(np.arange(1, w + 1), np.arange(w, 0, -1))
    return np.minimum(wy[:, None], wx[None, :]).astype(np.float64)
