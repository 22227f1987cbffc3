"""Image segmentation by clustering pixels, and two ways to look at the result.

``segment`` turns each pixel into a feature vector (its colour, optionally
followed by its weighted position) and clusters the vectors with k-means or
mean shift (``classic_cv.clustering``); the clusters are the segments.
``label_to_rgb`` paints each segment with its mean colour (as
``skimage.color.label2rgb(..., kind="avg")``) and ``mark_boundaries`` draws
the borders between segments (as ``skimage.segmentation.mark_boundaries``
with ``mode="thick"``).
"""
import numpy as np

from minigrad.validation import as_generator, check_choice, check_int, check_int_array, check_number, check_positive

from . import clustering
from ._validate import as_float_array, as_float_image

METHODS = ("kmeans", "mean_shift")
FEATURES = ("color", "color+position")


def _check_image(func, image):
    """(H, W) or (H, W, 3) image as float, integers scaled to [0, 1]."""
    image = as_float_image(func, "image", image)
    if image.ndim == 3 and image.shape[2] != 3:
        raise ValueError(f"{func}: image must be (H, W) or (H, W, 3), got shape {image.shape}")
    return image


def _check_labels(func, labels, image):
    labels = check_int_array(func, "labels", labels, ndim=2, layout="(H, W)")
    if labels.shape != image.shape[:2]:
        raise ValueError(f"{func}: labels must have the image's shape {image.shape[:2]}, got {labels.shape}")
    return labels


def pixel_features(image, features="color", position_weight=1.0):
    """One feature vector per pixel, in raster order.

    Parameters
    ----------
    image : (H, W) gray or (H, W, 3) RGB (integers scaled to [0, 1])
    features : {'color', 'color+position'}
        The pixel's intensity or RGB colour, optionally followed by its
        position (x, y) = (column, row) scaled so that the longer image side
        spans ``position_weight``: with colours in [0, 1], a weight of 1 makes
        crossing the image count as much as going from black to white.
    position_weight : float >= 0

    Returns
    -------
    X : (H*W, C) float64
        C = 1 or 3 channels, plus 2 with positions.
    """
    func = "pixel_features"
    image = _check_image(func, image)
    check_choice(func, "features", features, FEATURES)
    position_weight = check_number(func, "position_weight", position_weight, low=0)
    return _pixel_features(image, features, position_weight)


def _pixel_features(image, features, position_weight):
    h, w = image.shape[:2]
    color = image.reshape(h * w, -1).astype(np.float64)
    if features == "color":
        return np.ascontiguousarray(color)
    rows, cols = np.divmod(np.arange(h * w), w)
    scale = position_weight / max(h, w)
    return np.column_stack([color, cols * scale, rows * scale])


def segment(image, method="kmeans", features="color", k=8, bandwidth=0.1, position_weight=1.0, kernel="flat",
            max_iter=300, rng=None):
    """Segment an image by clustering its pixels.

    Parameters
    ----------
    image : (H, W) gray or (H, W, 3) RGB
        Integers are scaled to [0, 1].
    method : {'kmeans', 'mean_shift'}
        k-means with k-means++ seeding (one run), or mean shift seeded from
        the occupied bins of a grid of edge ``bandwidth``.
    features : {'color', 'color+position'}
        What each pixel contributes (see ``pixel_features``): positions make
        segments compact rather than scattered over the image.
    k : int in [1, H*W]
        Number of segments for k-means.
    bandwidth : float > 0
        Mean-shift window in feature units (colours span [0, 1]): smaller
        gives more segments.
    position_weight : float >= 0
        Span of the position features across the longer image side.
    kernel : {'flat', 'gaussian'}
        Mean-shift kernel (see ``clustering.mean_shift``).
    max_iter : int >= 1
        Iteration limit of the clustering.
    rng : numpy Generator, int seed or None
        Seeds k-means++.

    Returns
    -------
    labels : (H, W) int64
        Segment of each pixel: 0 .. k-1 for k-means; for mean shift the index
        of its mode, strongest mode first.
    """
    func = "segment"
    image = _check_image(func, image)
    check_choice(func, "method", method, METHODS)
    check_choice(func, "features", features, FEATURES)
    position_weight = check_number(func, "position_weight", position_weight, low=0)
    max_iter = check_int(func, "max_iter", max_iter, low=1)
    X = _pixel_features(image, features, position_weight)
    if method == "kmeans":
        k = check_int(func, "k", k, low=1, high=len(X))
        rng = as_generator(func, "rng", rng)
        labels = clustering._kmeans(X, k, "k-means++", 1, max_iter, 1e-4, rng).labels
    else:
        bandwidth = check_positive(func, "bandwidth", bandwidth)
        check_choice(func, "kernel", kernel, clustering.MEAN_SHIFT_KERNELS)
        seeds = clustering._bin_seeds(X, bandwidth, 1)
        labels = clustering._mean_shift(X, seeds, bandwidth, kernel, True, max_iter, func).labels
    return labels.reshape(image.shape[:2])


def label_to_rgb(labels, image):
    """Paint each segment with its mean colour.

    Parameters
    ----------
    labels : (H, W) int
        Segment of each pixel; negative labels mean "no segment" and are
        painted black (0).
    image : (H, W) gray or (H, W, 3) RGB
        Integers are scaled to [0, 1].

    Returns
    -------
    out : float array of the image's shape
        Every pixel replaced by the mean of its segment (gray stays gray).
    """
    func = "label_to_rgb"
    image = _check_image(func, image)
    labels = _check_labels(func, labels, image)
    pixels = image.reshape(labels.size, -1)
    flat = labels.ravel()
    valid = flat >= 0
    segments, index = np.unique(flat[valid], return_inverse=True)
    counts = np.bincount(index, minlength=len(segments))
    means = np.stack([np.bincount(index, weights=pixels[valid, c], minlength=len(segments)) / counts
                      for c in range(pixels.shape[1])], axis=1)
    out = np.zeros_like(pixels)
    out[valid] = means[index]
    return out.reshape(image.shape)


def mark_boundaries(image, labels, color=(1.0, 1.0, 0.0)):
    """Draw the borders between segments.

    A pixel is on a border when one of its 4 neighbours inside the image has
    another label, so each border is two pixels thick (one on either side).

    Parameters
    ----------
    image : (H, W) gray or (H, W, 3) RGB
        Integers are scaled to [0, 1].
    labels : (H, W) int
        Segment of each pixel.
    color : (3,) floats
        RGB colour of the borders, in the image's [0, 1] scale.

    Returns
    -------
    out : (H, W, 3) float
        A copy of the image (gray turned to RGB) with the borders painted.
    """
    func = "mark_boundaries"
    image = _check_image(func, image)
    labels = _check_labels(func, labels, image)
    color = as_float_array(func, "color", color, ndim=1)
    if color.shape != (3,):
        raise ValueError(f"{func}: color must be 3 numbers (R, G, B), got shape {color.shape}")
    out = np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image.copy()
    out[_boundaries(labels)] = color
    return out


def _boundaries(labels):
    """(H, W) bool: pixels with a 4-neighbour of another label."""
    border = np.zeros(labels.shape, dtype=bool)
    down = labels[1:] != labels[:-1]
    border[1:] |= down
    border[:-1] |= down
    right = labels[:, 1:] != labels[:, :-1]
    border[:, 1:] |= right
    border[:, :-1] |= right
    return border
