"""Segmentation and image-quality metrics: mask IoU, Dice, confusion matrix and mean IoU,
PSNR and SSIM.

Masks are arrays of any real dtype read as "nonzero is inside"; label maps
are integer arrays of class ids. IoU and Dice count an empty union as no
overlap (0), like ``classic_cv.boxes``.

PSNR and SSIM measure images in the units they are given in: ``data_range``
is the distance between the smallest and the largest value the images can
take (255 for uint8). Both metrics only depend on the ratio of the values to
``data_range``, so an 8-bit image gives the same score as the same image
scaled to [0, 1] with ``data_range=1``.
"""
import numpy as np

from minigrad.validation import check_bool, check_choice, check_int, check_int_array, check_number

from ._validate import as_float_image, check_image
from .filters import _gaussian_kernel1d, _separable


# ----------------------------------------------------------------- masks
def _check_mask_pair(func, mask1, mask2, ndim):
    """Two non-empty masks of ``ndim`` dimensions as bool arrays (trailing shapes checked by caller)."""
    return tuple(check_image(func, name, value, ndim) != 0 for name, value in (("mask1", mask1), ("mask2", mask2)))


def mask_iou(mask1, mask2):
    """Intersection over union of binary masks.

    Parameters
    ----------
    mask1, mask2 : (H, W) arrays, or (N, H, W) and (M, H, W) stacks of masks
        Any real dtype; nonzero pixels are inside the mask.

    Returns
    -------
    iou : float, or (N, M) float64 for stacks
        ``|A & B| / |A | B|``, 0 where the union is empty.
    """
    func = "mask_iou"
    mask1, mask2 = _check_mask_pair(func, mask1, mask2, (2, 3))
    if mask1.ndim != mask2.ndim or mask1.shape[-2:] != mask2.shape[-2:]:
        raise ValueError(f"{func}: mask2 must match mask1: both (H, W), or (N, H, W) and (M, H, W) with "
                         f"the same H and W; got shapes {mask1.shape} and {mask2.shape}")
    if mask1.ndim == 2:
        return float(_ratio(np.count_nonzero(mask1 & mask2), np.count_nonzero(mask1 | mask2)))
    flat1 = mask1.reshape(len(mask1), -1).astype(np.float64)
    flat2 = mask2.reshape(len(mask2), -1).astype(np.float64)
    inter = flat1 @ flat2.T  # exact: integer counts far below 2**53
    return _ratio(inter, flat1.sum(1)[:, None] + flat2.sum(1)[None, :] - inter)


def dice(mask1, mask2):
    """Dice coefficient (F1 score) of two binary masks of the same shape.

    Parameters
    ----------
    mask1, mask2 : (H, W) or (H, W, D) arrays of the same shape
        Any real dtype; nonzero pixels are inside the mask.

    Returns
    -------
    dice : float
        ``2 |A & B| / (|A| + |B|)``, 0 when both masks are empty.
    """
    func = "dice"
    mask1, mask2 = _check_mask_pair(func, mask1, mask2, (2, 3))
    if mask1.shape != mask2.shape:
        raise ValueError(f"{func}: mask2 must have the shape of mask1 {mask1.shape}, got {mask2.shape}")
    total = np.count_nonzero(mask1) + np.count_nonzero(mask2)
    return float(_ratio(2 * np.count_nonzero(mask1 & mask2), total))


def _ratio(num, den):
    """num / den, and 0 where den is 0 (an empty union or total)."""
    num, den = np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


# ------------------------------------------------------------ label maps
def confusion_matrix(pred, target, num_classes, ignore_index=None):
    """Pixel counts of each (true class, predicted class) pair.

    Parameters
    ----------
    pred, target : integer arrays of the same shape (label maps, any shape)
        Predicted and true class of each pixel, in ``[0, num_classes)``.
    num_classes : int >= 1
    ignore_index : int or None
        Pixels whose *target* is this value are left out (their prediction is
        not looked at); it may lie outside ``[0, num_classes)`` (e.g. 255).

    Returns
    -------
    confusion : (num_classes, num_classes) int64
        ``confusion[i, j]`` = number of pixels of true class ``i`` predicted as
        ``j`` (rows: truth, as in ``sklearn.metrics.confusion_matrix``).
    """
    return _confusion_matrix("confusion_matrix", pred, target, num_classes, ignore_index)


def _confusion_matrix(func, pred, target, num_classes, ignore_index):
    """``confusion_matrix``, checking its arguments on behalf of ``func``."""
    pred = check_int_array(func, "pred", pred)
    target = check_int_array(func, "target", target)
    if pred.shape != target.shape:
        raise ValueError(f"{func}: pred must have the shape of target {target.shape}, got {pred.shape}")
    num_classes = check_int(func, "num_classes", num_classes, low=1)
    if ignore_index is not None:
        ignore_index = check_int(func, "ignore_index", ignore_index)
        keep = target != ignore_index
        pred, target = pred[keep], target[keep]
    for name, labels in (("target", target), ("pred", pred)):
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            also = " or ignore_index" if name == "target" and ignore_index is not None else ""
            raise ValueError(f"{func}: {name} must hold labels in [0, {num_classes}) (num_classes){also}, "
                             f"got values from {labels.min()} to {labels.max()}")
    pairs = target.astype(np.int64).ravel() * num_classes + pred.astype(np.int64).ravel()
    return np.bincount(pairs, minlength=num_classes**2).reshape(num_classes, num_classes)


def class_iou(confusion):
    """IoU of each class from a confusion matrix (``confusion_matrix``, or a sum of them
    over a data set).

    Parameters
    ----------
    confusion : (K, K) array of non-negative counts, rows the true class

    Returns
    -------
    iou : (K,) float64
        ``TP / (TP + FP + FN)`` per class; NaN for a class that appears neither in
        the truth nor in the predictions.
    """
    func = "class_iou"
    confusion = check_int_array(func, "confusion", confusion, ndim=2, layout="(K, K)")
    if confusion.shape[0] != confusion.shape[1] or confusion.size == 0:
        raise ValueError(f"{func}: confusion must be a non-empty square (K, K) matrix, got shape {confusion.shape}")
    if (confusion < 0).any():
        raise ValueError(f"{func}: confusion must hold counts >= 0, got {confusion.min()}")
    return _class_iou(confusion)


def _class_iou(confusion):
    tp = np.diag(confusion).astype(np.float64)
    union = confusion.sum(axis=0) + confusion.sum(axis=1) - tp
    with np.errstate(invalid="ignore"):
        return np.where(union > 0, tp / np.maximum(union, 1), np.nan)


def mean_iou(pred, target, num_classes, ignore_index=None):
    """Mean over classes of the IoU of two label maps (the segmentation "mIoU").

    Parameters
    ----------
    pred, target, num_classes, ignore_index
        As in ``confusion_matrix``.

    Returns
    -------
    miou : float
        Mean of ``class_iou`` over the classes present in ``target`` or
        ``pred``; NaN when every pixel is ignored. For a data set, sum the
        confusion matrices of its images and take ``np.nanmean(class_iou(total))``.
    """
    iou = _class_iou(_confusion_matrix("mean_iou", pred, target, num_classes, ignore_index))
    present = iou[~np.isnan(iou)]
    return float(present.mean()) if present.size else float("nan")


# ------------------------------------------------------ image quality
def _check_image_pair(func, image1, image2, names, data_range):
    """Two float64 images of one shape (values as given) and their data range."""
    images = []
    for name, value in zip(names, (image1, image2)):
        images.append(as_float_image(func, name, value, dtype=np.float64, scale_integers=False))
    if images[0].shape != images[1].shape:
        raise ValueError(f"{func}: {names[1]} must have the shape of {names[0]} {images[0].shape}, "
                         f"got {images[1].shape}")
    if data_range is not None:
        return (*images, check_number(func, "data_range", data_range, low=0, low_open=True))
    dtypes = {np.asarray(image1).dtype, np.asarray(image2).dtype}
    (dtype,) = dtypes if len(dtypes) == 1 else (None,)
    if dtype is not None and dtype.kind in "bui":
        return (*images, 1.0 if dtype.kind == "b" else float(np.iinfo(dtype).max) - float(np.iinfo(dtype).min))
    if all(dtype.kind == "f" for dtype in dtypes) and all(0 <= im.min() and im.max() <= 1 for im in images):
        return (*images, 1.0)
    raise ValueError(f"{func}: data_range must be given unless both images share an integer dtype or "
                     f"are floats in [0, 1], got None for dtypes {sorted(map(str, dtypes))} with values "
                     f"from {min(im.min() for im in images):g} to {max(im.max() for im in images):g}")


def psnr(image_true, image_test, data_range=None):
    """Peak signal-to-noise ratio ``10 log10(data_range**2 / MSE)`` in decibels.

    Parameters
    ----------
    image_true, image_test : (H, W) or (H, W, C) arrays of the same shape
        Reference and distorted image, any real dtype (values taken as they are).
    data_range : float > 0 or None
        Distance between the smallest and largest possible value. None: the
        range of the images' integer dtype (255 for uint8), or 1 for float images
        in [0, 1]; anything else must say it.

    Returns
    -------
    psnr : float
        In dB; inf for identical images.
    """
    func = "psnr"
    true, test, data_range = _check_image_pair(func, image_true, image_test, ("image_true", "image_test"), data_range)
    mse = np.mean((true - test) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(data_range**2 / mse))


def ssim(image1, image2, data_range=None, window="gaussian", sigma=1.5, win_size=7, k1=0.01, k2=0.03,
         use_sample_covariance=False, full=False):
    """Structural similarity index (Wang et al. 2004), mean over the image.

    Local means, variances and covariance are weighted by a sliding window
    (image borders reflected, scipy's 'reflect' mode); the SSIM map is
    ``(2 mu1 mu2 + C1)(2 cov12 + C2) / ((mu1^2 + mu2^2 + C1)(var1 + var2 + C2))``
    with ``C1 = (k1 data_range)^2``, ``C2 = (k2 data_range)^2``, and its mean is
    taken away from the borders (a margin of half a window). Colour images
    average their channels. Equal to ``skimage.metrics.structural_similarity``
    with ``gaussian_weights=True, sigma=1.5, use_sample_covariance=False``
    (defaults here, the paper's setting) or with ``gaussian_weights=False``
    for ``window='uniform'``. Computed in float64 whatever the input dtype
    (skimage keeps float32 images in float32).

    Parameters
    ----------
    image1, image2 : (H, W) or (H, W, C) arrays of the same shape
        Any real dtype (values taken as they are); each side at least as long as the window.
    data_range : float > 0 or None
        As in ``psnr``.
    window : {'gaussian', 'uniform'}
        'gaussian': weights ``exp(-d^2 / (2 sigma^2))`` truncated at 3.5 sigma
        (11x11 for sigma 1.5); 'uniform': a ``win_size`` x ``win_size`` box.
    sigma : float > 0
        Standard deviation of the Gaussian window.
    win_size : odd int >= 3
        Side of the uniform window (unused by 'gaussian').
    k1, k2 : float > 0
        Stabilising constants.
    use_sample_covariance : bool
        Scale the (co)variances by ``n / (n - 1)``, n the number of window
        pixels (skimage's default is True; the paper's is False).
    full : bool
        Also return the SSIM map.

    Returns
    -------
    mssim : float
        Mean SSIM, in [-1, 1]; 1 for identical images.
    ssim_map : ndarray, the shape of the images
        Only with ``full=True``: the local SSIM (borders included).
    """
    func = "ssim"
    x, y, data_range = _check_image_pair(func, image1, image2, ("image1", "image2"), data_range)
    check_choice(func, "window", window, ("gaussian", "uniform"))
    if window == "gaussian":
        kernel = _gaussian_kernel1d(check_number(func, "sigma", sigma, low=0, low_open=True, high=1e3), 3.5)
    else:
        win_size = check_int(func, "win_size", win_size, low=3)
        if win_size % 2 == 0:
            raise ValueError(f"{func}: win_size must be odd, got {win_size}")
        kernel = np.full(win_size, 1.0 / win_size)
    k1 = check_number(func, "k1", k1, low=0, low_open=True)
    k2 = check_number(func, "k2", k2, low=0, low_open=True)
    sample = check_bool(func, "use_sample_covariance", use_sample_covariance)
    full = check_bool(func, "full", full)
    if min(x.shape[:2]) < len(kernel):
        raise ValueError(f"{func}: image1 must be at least as large as the {len(kernel)}x{len(kernel)} window, "
                         f"got shape {x.shape}")
    ssim_map = _ssim_map(x, y, kernel, data_range, k1, k2, sample)
    margin = (len(kernel) - 1) // 2
    inner = ssim_map[margin:ssim_map.shape[0] - margin, margin:ssim_map.shape[1] - margin]
    mssim = float(inner.mean(dtype=np.float64))
    return (mssim, ssim_map) if full else mssim


def _ssim_map(x, y, kernel, data_range, k1, k2, sample_covariance):
    """Local SSIM of two clean float64 images with the separable window ``kernel``."""
    def blur(image):
        return _separable(image, kernel, kernel, "reflect", 0.0)

    n = len(kernel) ** 2
    norm = n / (n - 1) if sample_covariance else 1.0
    mu_x, mu_y = blur(x), blur(y)
    var_x = norm * (blur(x * x) - mu_x * mu_x)
    var_y = norm * (blur(y * y) - mu_y * mu_y)
    cov = norm * (blur(x * y) - mu_x * mu_y)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    return ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
