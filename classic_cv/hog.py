"""Histograms of oriented gradients (HOG) and the hue histogram: the features of CS231n's
features exercise.

``hog`` computes the descriptor ``skimage.feature.hog`` computes, with the same
parameters and the same rules, so the two can be compared directly:

1. Gradients by central differences ``I[r+1] - I[r-1]`` (zero on the first and
   last row and column). In an RGB image each pixel takes the gradient of the
   channel where its magnitude is largest (skimage's ``channel_axis=-1``).
2. Cell histograms: the image is tiled by cells of ``pixels_per_cell`` from the
   top-left corner (rows and columns left over at the bottom and right are
   ignored); each pixel adds its gradient magnitude to the bin of its unsigned
   orientation (degrees in [0, 180), ``orientations`` equal bins), and each
   histogram is divided by the number of pixels of a cell.
3. Blocks of ``cells_per_block`` cells, overlapping with a stride of one cell,
   each normalised on its own (``block_norm``, with ``eps = 1e-5``).

Two differences: integer images are scaled to [0, 1] first (the package's rule;
skimage works on the raw integer values, which changes the weight of ``eps``),
and skimage sums each cell in single precision, so the two agree to about
1e-7, not to the last bit. ``color_histogram_hsv`` is CS231n's hue histogram.
"""
import numpy as np

from minigrad.validation import check_bool, check_choice, check_int, check_int_sequence

from ._kernels import hog as _k
from ._validate import as_float_image

BLOCK_NORMS = ("L1", "L1-sqrt", "L2", "L2-Hys")
# Keeps an empty block (a flat patch) from dividing by zero; skimage's value.
EPS = 1e-5
# L2-Hys clips the L2-normalised block at this value before normalising again
# (Dalal & Triggs), so that no single strong edge dominates a block.
HYS_CLIP = 0.2
# CS231n's color_histogram_hsv bins the hue scaled from [0, 1] to [0, 255].
HUE_SCALE = 255.0


def hog(image, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(3, 3), block_norm="L2-Hys",
        visualize=False, feature_vector=True):
    """Histogram of Oriented Gradients descriptor of an image.

    Parameters
    ----------
    image : (H, W) gray or (H, W, 3) RGB
        Any real dtype; integers are scaled to [0, 1]. For RGB, each pixel
        uses the gradient of its channel with the largest gradient magnitude.
    orientations : int >= 1
        Number of orientation bins, splitting [0, 180) degrees evenly
        (gradient directions are unsigned).
    pixels_per_cell : int or (int, int)
        Size (rows, columns) of a cell in pixels; an int for square cells.
    cells_per_block : int or (int, int)
        Size (rows, columns) of a block in cells; an int for square blocks.
        The image must hold at least one block.
    block_norm : {'L1', 'L1-sqrt', 'L2', 'L2-Hys'}
        How each block ``v`` is normalised (``eps = 1e-5``):

        ``L1``
            ``v / (sum(v) + eps)``.
        ``L1-sqrt``
            ``sqrt(v / (sum(v) + eps))``.
        ``L2``
            ``v / sqrt(sum(v**2) + eps**2)``.
        ``L2-Hys``
            ``L2``, then values clipped at 0.2, then ``L2`` again (default).
    visualize : bool
        Also return the HOG picture.
    feature_vector : bool
        Return the descriptor flattened to one dimension.

    Returns
    -------
    descriptor : (n_blocks_rows, n_blocks_cols, block_rows, block_cols, orientations), or flattened
        ``n_blocks_* = H // cell_* - block_* + 1`` (``W`` for the columns).
        float32 for a float32 image, else float64.
    picture : (H, W), only when ``visualize``
        For each cell and bin, a segment through the cell centre, along the
        edge direction of the bin's middle orientation (perpendicular to the
        gradient), of half-length ``min(pixels_per_cell) // 2 - 1`` pixels,
        whose pixels get the bin's (unnormalised) histogram value added.
        For cells under 3 pixels wide the segment is a dot (skimage's
        negative half-length draws it mirrored, off the cell).
    """
    func = "hog"
    image = _check_image(func, image)
    orientations = check_int(func, "orientations", orientations, low=1)
    cell = _check_pair(func, "pixels_per_cell", pixels_per_cell)
    block = _check_pair(func, "cells_per_block", cells_per_block)
    check_choice(func, "block_norm", block_norm, BLOCK_NORMS)
    visualize = check_bool(func, "visualize", visualize)
    feature_vector = check_bool(func, "feature_vector", feature_vector)
    n_cells = (image.shape[0] // cell[0], image.shape[1] // cell[1])
    if n_cells[0] < block[0] or n_cells[1] < block[1]:
        raise ValueError(f"{func}: image must be at least {block[0] * cell[0]}x{block[1] * cell[1]} pixels "
                         f"to hold one block of {block[0]}x{block[1]} cells of {cell[0]}x{cell[1]} pixels, "
                         f"got shape {image.shape}")

    hist = np.empty((*n_cells, orientations))
    _k.cell_histograms(*_gradient_field(image), *cell, hist)
    descriptor = _normalize_blocks(hist, block, block_norm).astype(image.dtype, copy=False)
    if feature_vector:
        descriptor = descriptor.ravel()
    if not visualize:
        return descriptor
    picture = np.zeros(image.shape[:2])
    _k.hog_picture(hist, *cell, max(min(cell) // 2 - 1, 0), picture)
    return descriptor, picture.astype(image.dtype, copy=False)


def _gradient_field(image):
    """Gradient (g_row, g_col) and its direction ``atan2(g_row, g_col)`` in radians of a
    checked image, (H, W) float64 each.

    Central differences are taken in the image's dtype; in an RGB image each
    pixel keeps the channel with the largest magnitude (the first among
    equals). NumPy computes the angles rather than the kernel because on some
    CPUs its vectorised ``arctan2`` and the C library's differ in the last bit,
    which moves a gradient lying next to a bin bound across it (a gradient a
    hair off the diagonal comes out as exactly 45 degrees, or just under), and
    such a gradient must land in the bin skimage, which uses NumPy, gives.
    """
    g_row = np.zeros_like(image)
    g_col = np.zeros_like(image)
    g_row[1:-1] = image[2:] - image[:-2]
    g_col[:, 1:-1] = image[:, 2:] - image[:, :-2]
    if image.ndim == 3:
        strongest = np.argmax(np.hypot(g_row, g_col), axis=2)[..., None]
        g_row, g_col = (np.take_along_axis(g, strongest, axis=2)[..., 0] for g in (g_row, g_col))
    g_row = g_row.astype(np.float64, copy=False)
    g_col = g_col.astype(np.float64, copy=False)
    return g_row, g_col, np.arctan2(g_row, g_col)


def _check_image(func, image):
    """(H, W) or (H, W, 3) float image."""
    image = as_float_image(func, "image", image, ndim=(2, 3))
    if image.ndim == 3 and image.shape[2] != 3:
        raise ValueError(f"{func}: image must be (H, W) or (H, W, 3), got shape {image.shape}")
    return image


def _check_pair(func, name, value):
    """An int >= 1 or a pair of them -> (rows, cols)."""
    if np.isscalar(value):
        return (check_int(func, name, value, low=1),) * 2
    pair = check_int_sequence(func, name, value, low=1)
    if len(pair) != 2:
        raise ValueError(f"{func}: {name} must be an int or a pair (rows, cols), got {value!r}")
    return pair


def _normalize_blocks(hist, block, method):
    """Normalise every block of cells of ``hist`` (n_rows, n_cols, n_bins), stride one cell.

    ``block`` is (rows, cols) in cells, ``method`` one of ``BLOCK_NORMS`` (no
    checks: ``hog`` validated them). Returns (n_rows - rows + 1, n_cols - cols
    + 1, rows, cols, n_bins) float64.
    """
    out = np.empty((hist.shape[0] - block[0] + 1, hist.shape[1] - block[1] + 1, *block, hist.shape[2]))
    _k.normalize_blocks(hist, BLOCK_NORMS.index(method), EPS, HYS_CLIP, out)
    return out


def color_histogram_hsv(image, nbin=10):
    """Hue histogram of an image: the colour feature of CS231n's features exercise.

    Each pixel's hue (the H of HSV, in [0, 1): 0 red, 1/3 green, 2/3 blue) is
    counted in ``nbin`` equal bins over [0, 1], and the counts are divided by
    the number of pixels, so the histogram sums to 1. This is the course's
    normalisation (``np.histogram(..., density=True)`` times the bin width).
    As in the course, the hue is scaled to [0, 255] and binned there, which
    decides the side of a hue that lies on a bin bound up to rounding (8-bit
    colours put many there), so the result equals the course's bit for bit.
    Pixels without colour (r = g = b, grays) have hue 0, so a gray image puts
    all its mass in the first bin. The hue does not change when the image is
    scaled, so floats in [0, 255] give the same histogram as [0, 1].

    Parameters
    ----------
    image : (H, W, 3) RGB or (H, W) gray
        Any real dtype (integers are scaled to [0, 1]).
    nbin : int >= 1
        Number of bins.

    Returns
    -------
    hist : (nbin,) float64, fractions of the pixels, summing to 1.
    """
    func = "color_histogram_hsv"
    image = _check_image(func, image)
    nbin = check_int(func, "nbin", nbin, low=1)
    if image.ndim == 2:
        return np.eye(1, nbin).ravel()  # hue 0 everywhere: all in the first bin
    hue = _hue(image)
    # Binned on the course's scale: 8-bit colours put many hues exactly on a
    # bound k / nbin, and which side a rounded hue falls must be the course's.
    counts, _ = np.histogram(hue * HUE_SCALE, bins=np.linspace(0.0, HUE_SCALE, nbin + 1))
    return counts / hue.size


def _hue(rgb):
    """(H, W, 3) -> (H, W) hue in [0, 1] (1 only by rounding), 0 where the chroma is 0.

    The hexcone: the largest channel picks the sector (blue before green before
    red when they tie, which gives the same hue), the other two place the hue
    within it.
    """
    r, g, b = (rgb[..., k].astype(np.float64) for k in range(3))
    high = np.maximum(np.maximum(r, g), b)
    chroma = high - np.minimum(np.minimum(r, g), b)
    safe = np.where(chroma > 0, chroma, 1.0)
    sector = np.where(b == high, 4.0 + (r - g) / safe,
                      np.where(g == high, 2.0 + (b - r) / safe, (g - b) / safe))
    return np.where(chroma > 0, (sector / 6.0) % 1.0, 0.0)
