"""Gaussian and Laplacian image pyramids (blur, subsample by 2; expand bilinearly)."""
import numpy as np

from minigrad.validation import check_int

from ._validate import as_float_image
from .filters import _gaussian_blur, check_sigma
from .warp import _warp

# skimage's pyramid_reduce rule for a factor-2 reduction: sigma = 2 * 2 / 6.
DEFAULT_SIGMA = 2.0 / 3.0


def _max_levels(shape):
    """Number of levels until the shorter side would drop below 1 pixel."""
    return int(np.floor(np.log2(min(shape[:2])))) + 1


def _pyrdown(image, sigma):
    """Blur with ``sigma`` then keep every second row and column.

    (H, W[, C]) -> (ceil(H/2), ceil(W/2)[, C]).
    """
    return _gaussian_blur(image, sigma)[::2, ::2]


def _pyrup(image, shape):
    """Bilinear expansion of a float ``image`` to ``shape`` (H, W), inverse of
    ``_pyrdown``'s sampling grid (output pixel 2i sits on input pixel i)."""
    return _warp(image, np.diag([2.0, 2.0, 1.0]), tuple(shape[:2]), "nearest", 0.0)


def gaussian_pyramid(image, levels=None, sigma=DEFAULT_SIGMA):
    """List of images, finest first: ``[image, down(image), down(down(image)), ...]``,
    where ``down`` blurs with ``sigma`` and keeps every second row and column.

    Parameters
    ----------
    image : (H, W) or (H, W, C)
    levels : int >= 1, default as many as fit (down to a 1-pixel side)
    sigma : float in [0, 1e5], blur before each subsampling

    Returns
    -------
    pyramid : list of float arrays, level k has shape ceil(H / 2^k), ceil(W / 2^k)
    """
    return _gaussian_pyramid(*_check_args("gaussian_pyramid", image, levels, sigma))


def _check_args(func, image, levels, sigma):
    image = as_float_image(func, "image", image)
    levels = _max_levels(image.shape) if levels is None else check_int(func, "levels", levels, low=1)
    return image, levels, check_sigma(func, "sigma", sigma)


def _gaussian_pyramid(image, levels, sigma):
    pyramid = [image]
    for _ in range(levels - 1):
        if min(pyramid[-1].shape[:2]) == 1:
            break
        pyramid.append(_pyrdown(pyramid[-1], sigma))
    return pyramid


def laplacian_pyramid(image, levels=None, sigma=DEFAULT_SIGMA):
    """Band-pass levels ``G_k - up(G_{k+1})`` followed by the coarsest Gaussian level,
    where ``G`` is ``gaussian_pyramid(image)`` and ``up`` expands a level bilinearly
    to the size of the one above.

    Arguments as ``gaussian_pyramid``.
    ``reconstruct_laplacian(laplacian_pyramid(x))`` returns ``x`` up to rounding.
    """
    gauss = _gaussian_pyramid(*_check_args("laplacian_pyramid", image, levels, sigma))
    bands = [g - _pyrup(g_next, g.shape) for g, g_next in zip(gauss[:-1], gauss[1:])]
    return bands + [gauss[-1]]


def reconstruct_laplacian(pyramid):
    """Collapse a Laplacian pyramid (list, finest first) back into an image.

    Each level must have the channels of the coarsest one and, going up, a
    size of about twice the level below (any size is accepted: the coarser
    image is stretched onto it).
    """
    func = "reconstruct_laplacian"
    if not isinstance(pyramid, (list, tuple)):
        raise TypeError(f"{func}: pyramid must be a list of images, got {type(pyramid).__name__}")
    if not pyramid:
        raise ValueError(f"{func}: pyramid must hold at least one image, got an empty {type(pyramid).__name__}")
    levels = [as_float_image(func, f"pyramid[{i}]", level) for i, level in enumerate(pyramid)]
    for i, level in enumerate(levels[:-1]):
        if level.shape[2:] != levels[-1].shape[2:]:
            raise ValueError(f"{func}: pyramid[{i}] must have the channels of pyramid[-1] "
                             f"{levels[-1].shape[2:]}, got shape {level.shape}")
    image = levels[-1]
    for band in reversed(levels[:-1]):
        image = band + _pyrup(image, band.shape)
    return image
