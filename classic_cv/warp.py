"""Geometric warps with bilinear sampling: ``warp_affine``, ``warp_perspective``, ``resize``.

Coordinates are (x, y) = (column, row) with pixel centres at integers, and a
matrix maps *input* coordinates to *output* coordinates (OpenCV's convention);
each output pixel is pulled from ``inverse(matrix) @ (x, y, 1)``.
"""
import numpy as np

from minigrad.validation import check_choice, check_int

from ._kernels import filters as _k
from ._validate import as_float_array, as_float_image
from .filters import check_cval

WARP_MODES = ("constant", "nearest")


def _check_matrix(func, matrix, shape):
    """A finite float64 matrix of ``shape`` whose (3, 3) completion is invertible; returns the (3, 3)."""
    m = as_float_array(func, "matrix", matrix, ndim=2)
    if m.shape != shape:
        raise ValueError(f"{func}: matrix must have shape {shape}, got {m.shape}")
    m = np.vstack([m, [0.0, 0.0, 1.0]]) if shape == (2, 3) else m
    if abs(np.linalg.det(m)) < 1e-12:
        raise ValueError(f"{func}: matrix must be invertible, got determinant {np.linalg.det(m):.3g}")
    return m


def _check_args(func, image, output_shape, mode, cval):
    """The arguments every warp shares: float image, (H_out, W_out) of ints >= 1, cval."""
    image = as_float_image(func, "image", image)
    check_choice(func, "mode", mode, WARP_MODES)
    cval = check_cval(func, cval, image)
    if output_shape is None:
        return image, image.shape[:2], cval
    return image, _check_output_shape(func, output_shape), cval


def _check_output_shape(func, output_shape):
    """(H, W) as a tuple of ints >= 1, from a tuple, list or 1-D array of two integers."""
    if isinstance(output_shape, np.ndarray):
        if output_shape.ndim != 1:
            raise ValueError(f"{func}: output_shape must be (H, W), got an array of shape {output_shape.shape}")
        output_shape = output_shape.tolist()
    if not isinstance(output_shape, (tuple, list)):
        raise TypeError(f"{func}: output_shape must be a tuple (H, W), got {type(output_shape).__name__}")
    if len(output_shape) != 2:
        raise ValueError(f"{func}: output_shape must be (H, W), got {output_shape!r}")
    return tuple(check_int(func, f"output_shape[{i}]", n, low=1) for i, n in enumerate(output_shape))


def _warp(image, matrix3, output_shape, mode, cval):
    """Checked float image and invertible (3, 3) forward matrix -> warped image of ``output_shape`` (H, W)."""
    out_h, out_w = output_shape
    inv = np.linalg.inv(matrix3)
    src = image if image.ndim == 3 else image[:, :, None]
    out = np.empty((out_h, out_w, src.shape[2]), dtype=image.dtype)
    _k.warp_bilinear(np.ascontiguousarray(src), inv, out_h, out_w, image.dtype.type(cval), mode == "nearest", out)
    return out if image.ndim == 3 else out[:, :, 0]


def warp_affine(image, matrix, output_shape=None, mode="constant", cval=0.0):
    """Affine warp with bilinear interpolation.

    Parameters
    ----------
    image : (H, W) or (H, W, C)
    matrix : (2, 3)
        Maps input (x, y) to output (x, y): ``[x', y'] = A @ [x, y] + t``.
    output_shape : (H_out, W_out), default the input's (H, W)
    mode : 'constant' (samples outside read ``cval``) or 'nearest' (clamp)

    Returns
    -------
    warped : (H_out, W_out[, C]) float
    """
    func = "warp_affine"
    image, output_shape, cval = _check_args(func, image, output_shape, mode, cval)
    return _warp(image, _check_matrix(func, matrix, (2, 3)), output_shape, mode, cval)


def warp_perspective(image, matrix, output_shape=None, mode="constant", cval=0.0):
    """Projective warp (homography) with bilinear interpolation.

    ``matrix`` (3, 3) maps input homogeneous (x, y, 1) to output; other
    arguments and the result as ``warp_affine``.
    """
    func = "warp_perspective"
    image, output_shape, cval = _check_args(func, image, output_shape, mode, cval)
    return _warp(image, _check_matrix(func, matrix, (3, 3)), output_shape, mode, cval)


def _resize_taps(n_in, n_out, nearest, dtype):
    """Per output index along one axis: the two source taps and the weight of the
    second. Output i samples input ``(i + 0.5) * n_in / n_out - 0.5``; ``nearest``
    clamps that coordinate into the image (as ``warp_bilinear`` does), otherwise a
    tap outside reads cval and is marked -1."""
    pos = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    if nearest:
        pos = np.clip(pos, 0.0, n_in - 1.0)
    i0 = np.floor(pos).astype(np.int64)
    frac = (pos - i0).astype(dtype)
    i1 = i0 + 1
    if nearest:
        i1 = np.minimum(i1, n_in - 1)
    i0[(i0 < 0) | (i0 >= n_in)] = -1
    i1[(i1 < 0) | (i1 >= n_in)] = -1
    return i0, i1, frac


def resize(image, output_shape, mode="nearest", cval=0.0):
    """Bilinear resize to ``output_shape`` (H_out, W_out), aligning pixel *areas*
    (centre of output pixel i samples input ``(i + 0.5) * H / H_out - 0.5``).

    Parameters
    ----------
    image : (H, W) or (H, W, C)
    output_shape : (H_out, W_out)
    mode : 'nearest' (clamp to the border) or 'constant' (outside reads ``cval``)

    Returns
    -------
    resized : (H_out, W_out[, C]) float32 or float64. Equals ``warp_perspective``
    with the scaling matrix (same samples, one separable pass instead of a
    per-pixel projective map). No anti-aliasing: blur first when shrinking a lot.
    """
    func = "resize"
    image, _, cval = _check_args(func, image, None, mode, cval)
    # Required here: None does not mean "the input's shape" as it does for the warps.
    return _resize(image, _check_output_shape(func, output_shape), mode, cval)


def _resize(image, output_shape, mode, cval):
    """``resize`` of a checked float image to ``output_shape`` (H_out, W_out) of ints."""
    out_h, out_w = output_shape
    nearest = mode == "nearest"
    y0, y1, fy = _resize_taps(image.shape[0], out_h, nearest, image.dtype)
    x0, x1, fx = _resize_taps(image.shape[1], out_w, nearest, image.dtype)
    # Channels interleave along each row: view (H, W, C) as (H, W * C) and give
    # every channel its own column taps.
    nc = 1 if image.ndim == 2 else image.shape[2]
    chan = np.arange(nc)
    x0 = np.where(x0[:, None] >= 0, x0[:, None] * nc + chan, -1).ravel()
    x1 = np.where(x1[:, None] >= 0, x1[:, None] * nc + chan, -1).ravel()
    fx = np.repeat(fx, nc)
    src = image.reshape(image.shape[0], -1)
    out = np.empty((out_h, out_w * nc), dtype=image.dtype)
    _k.resize_bilinear(src, y0, y1, fy, x0, x1, fx, image.dtype.type(cval), out)
    return out.reshape((out_h, out_w) + image.shape[2:])
