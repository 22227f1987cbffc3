"""Two-image panorama: SIFT matches -> RANSAC homography -> warp and blend."""
import numpy as np

from minigrad.validation import check_int, check_number

from ._validate import as_float_image, as_gray, luminance
from .matching import _match_descriptors
from .ransac import HomographyModel, _apply_homography, _ransac
from .sift import _sift, check_sift_size
from .warp import _warp

__all__ = ["estimate_homography", "stitch"]


def estimate_homography(img1, img2, ratio=0.75, threshold=3.0, min_inliers=10):
    """Homography mapping pixel (x, y) of ``img2`` onto ``img1``.

    Parameters
    ----------
    img1, img2 : (H, W) or (H, W, 3), each at least 8x8
    ratio : float in (0, 1], Lowe ratio for matching SIFT descriptors
    threshold : float > 0, RANSAC reprojection threshold in pixels
    min_inliers : int >= 0, fewer inliers than this raise ValueError (and fewer than
        max(4, min_inliers) matches)

    Returns
    -------
    H : (3, 3) float64
    n_inliers : int
    """
    func = "estimate_homography"
    gray1, gray2 = (_sift_gray(func, name, as_gray(func, name, img)) for name, img in (("img1", img1), ("img2", img2)))
    return _estimate_homography(func, gray1, gray2, *_check_options(func, ratio, threshold),
                                check_int(func, "min_inliers", min_inliers, low=0))


def _check_options(func, ratio, threshold):
    return (check_number(func, "ratio", ratio, low=0, low_open=True, high=1),
            check_number(func, "threshold", threshold, low=0, low_open=True))


def _sift_gray(func, name, image):
    """SIFT's input, (H, W) float32 luminance at least 8x8, from a checked float (H, W[, 3]) image."""
    gray = image if image.ndim == 2 else luminance(image)
    check_sift_size(func, name, gray)
    return gray.astype(np.float32)


def _estimate_homography(func, gray1, gray2, ratio, threshold, min_inliers):
    """``estimate_homography`` on checked (H, W) float32 images; ``func`` names the caller in errors."""
    kp1, d1 = _sift(gray1)
    kp2, d2 = _sift(gray2)
    matches, _ = _match_descriptors(d2.astype(np.float64), d1.astype(np.float64), ratio, cross_check=True)
    if len(matches) < max(4, min_inliers):
        raise ValueError(f"{func}: img1 and img2 must overlap, got {len(matches)} matches")
    result = _ransac(func, (kp2.xy[matches[:, 0]], kp1.xy[matches[:, 1]]), HomographyModel, threshold, 0.99,
                     10_000, 3, np.random.default_rng(0))
    if result.params is None or result.n_inliers < min_inliers:
        raise ValueError(f"{func}: img1 and img2 must overlap, got {result.n_inliers} consistent matches")
    return result.params, result.n_inliers


def stitch(img1, img2, ratio=0.75, threshold=3.0):
    """Stitch ``img2`` onto ``img1``'s plane into one panorama.

    The canvas is the bounding box of ``img1`` and the warped corners of ``img2``;
    where both images cover a pixel they are averaged with weights that fall off
    towards each image's border (feathering), hiding exposure seams.

    Parameters
    ----------
    img1, img2 : (H, W) or (H, W, 3), same number of channels, each at least 8x8
    ratio, threshold : see :func:`estimate_homography`

    Returns
    -------
    panorama : (H_p, W_p[, 3]) float64 (integer inputs scaled to [0, 1]); pixels
        covered by neither image are 0.
    """
    func = "stitch"
    a = as_float_image(func, "img1", img1, dtype=np.float64)
    b = as_float_image(func, "img2", img2, dtype=np.float64)
    if a.shape[2:] != b.shape[2:] or a.shape[2:] not in ((), (3,)):
        raise ValueError(f"{func}: img1 and img2 must have the same channels (none or 3), "
                         f"got shapes {a.shape} and {b.shape}")
    grays = [_sift_gray(func, name, im) for name, im in (("img1", a), ("img2", b))]
    H, _ = _estimate_homography(func, *grays, *_check_options(func, ratio, threshold), 10)
    if abs(np.linalg.det(H)) < 1e-12:  # the warp below inverts it
        raise ValueError(f"{func}: img2 must map onto img1 by an invertible homography, got determinant "
                         f"{np.linalg.det(H):.3g}")
    h1, w1 = a.shape[:2]
    h2, w2 = b.shape[:2]
    corners2 = _apply_homography(H, np.array([[0, 0], [w2 - 1, 0], [0, h2 - 1], [w2 - 1, h2 - 1]], float))
    if not np.isfinite(corners2).all():
        raise ValueError(f"{func}: img2 must map to a finite region of img1, got a homography sending it to infinity")
    corners = np.vstack([corners2, [[0, 0], [w1 - 1, h1 - 1]]])
    # Round to the nearest pixel centre: a sliver of a pixel is not worth a new row.
    lo = np.round(corners.min(axis=0))
    hi = np.round(corners.max(axis=0))
    size = hi - lo + 1
    if size.prod() > 25 * (h1 * w1 + h2 * w2):
        raise ValueError(f"{func}: img2 must overlap img1 without extreme distortion, "
                         f"got a canvas of {size[1]:.0f}x{size[0]:.0f}")
    shape = (int(size[1]), int(size[0]))
    T = np.array([[1.0, 0.0, -lo[0]], [0.0, 1.0, -lo[1]], [0.0, 0.0, 1.0]])
    acc = np.zeros(shape + a.shape[2:])
    total = np.zeros(shape)
    for image, M in ((a, T), (b, T @ H)):
        weight = _warp(_feather(image.shape[:2]), M, shape, "constant", 0.0)
        warped = _warp(image, M, shape, "constant", 0.0)
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
