"""Gaussian and Laplacian image pyramids (blur, subsample by 2; expand bilinearly)."""
import numpy as np

from .filters import gaussian_blur
from .warp import _warp
from ._validate import as_float_image, check_positive

# skimage's pyramid_reduce rule for a factor-2 reduction: sigma = 2 * 2 / 6.
DEFAULT_SIGMA = 2.0 / 3.0


def _max_levels(shape):
    """Number of levels until the shorter side would drop below 1 pixel."""
    return int(np.floor(np.log2(min(shape[:2])))) + 1


def pyrdown(image, sigma=DEFAULT_SIGMA):
    """Blur with ``sigma`` then keep every second row and column.

    (H, W[, C]) -> (ceil(H/2), ceil(W/2)[, C]).
    """
    return gaussian_blur(image, sigma)[::2, ::2]


def pyrup(image, shape):
    """Bilinear expansion of ``image`` to ``shape`` (H, W), inverse of ``pyrdown``'s
    sampling grid (output pixel 2i sits on input pixel i)."""
    image = as_float_image(image, "image", "pyrup")
    m = np.diag([2.0, 2.0, 1.0])
    return _warp(image, m, tuple(shape[:2]), "nearest", 0.0, "pyrup")


def gaussian_pyramid(image, levels=None, sigma=DEFAULT_SIGMA):
    """List of images, finest first: ``[image, pyrdown(image), ...]``.

    Parameters
    ----------
    image : (H, W) or (H, W, C)
    levels : int >= 1, default as many as fit (down to a 1-pixel side)

    Returns
    -------
    pyramid : list of float arrays, level k has shape ceil(H / 2^k), ceil(W / 2^k)
    """
    func = "gaussian_pyramid"
    image = as_float_image(image, "image", func)
    levels = _max_levels(image.shape) if levels is None else check_positive(levels, "levels", func, integer=True)
    check_positive(sigma, "sigma", func, allow_zero=True)
    pyramid = [image]
    for _ in range(levels - 1):
        if min(pyramid[-1].shape[:2]) == 1:
            break
        pyramid.append(pyrdown(pyramid[-1], sigma))
    return pyramid


def laplacian_pyramid(image, levels=None, sigma=DEFAULT_SIGMA):
    """Band-pass levels ``G_k - pyrup(G_{k+1})`` followed by the coarsest Gaussian level.

    ``reconstruct_laplacian(laplacian_pyramid(x))`` returns ``x`` up to rounding.
    """
    gauss = gaussian_pyramid(image, levels, sigma)
    bands = [g - pyrup(g_next, g.shape) for g, g_next in zip(gauss[:-1], gauss[1:])]
    return bands + [gauss[-1]]


def reconstruct_laplacian(pyramid):
    """Collapse a Laplacian pyramid (list, finest first) back into an image."""
    if not isinstance(pyramid, (list, tuple)) or not pyramid:
        raise ValueError("reconstruct_laplacian: pyramid must be a non-empty list of images")
    image = as_float_image(pyramid[-1], "pyramid[-1]", "reconstruct_laplacian")
    for band in reversed(pyramid[:-1]):
        image = band + pyrup(image, band.shape)
    return image
