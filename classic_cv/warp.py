"""Geometric warps with bilinear sampling: ``warp_affine``, ``warp_perspective``, ``resize``.

Coordinates are (x, y) = (column, row) with pixel centres at integers, and a
matrix maps *input* coordinates to *output* coordinates (OpenCV's convention);
each output pixel is pulled from ``inverse(matrix) @ (x, y, 1)``.
"""
import numpy as np

from ._kernels import filters as _k
from ._validate import as_float_image, check_choice, check_number, check_positive

WARP_MODES = ("constant", "nearest")


def _check_matrix(matrix, shape, func):
    if not isinstance(matrix, np.ndarray) and not isinstance(matrix, (list, tuple)):
        raise TypeError(f"{func}: matrix must be an array of shape {shape}, got {type(matrix).__name__}")
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != shape:
        raise ValueError(f"{func}: matrix must have shape {shape}, got {m.shape}")
    if not np.isfinite(m).all():
        raise ValueError(f"{func}: matrix must be finite, got NaN or inf values")
    return m


def _warp(image, matrix3, output_shape, mode, cval, func):
    """Validated images and (3, 3) forward matrix -> warped image."""
    image = as_float_image(image, "image", func)
    check_choice(mode, "mode", func, WARP_MODES)
    cval = check_number(cval, "cval", func)
    if output_shape is None:
        output_shape = image.shape[:2]
    if len(output_shape) != 2:
        raise ValueError(f"{func}: output_shape must be (H, W), got {output_shape!r}")
    out_h = check_positive(output_shape[0], "output_shape[0]", func, integer=True)
    out_w = check_positive(output_shape[1], "output_shape[1]", func, integer=True)
    if abs(np.linalg.det(matrix3)) < 1e-12:
        raise ValueError(f"{func}: matrix must be invertible, got determinant {np.linalg.det(matrix3):.3g}")
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
    m = _check_matrix(matrix, (2, 3), "warp_affine")
    return _warp(image, np.vstack([m, [0.0, 0.0, 1.0]]), output_shape, mode, cval, "warp_affine")


def warp_perspective(image, matrix, output_shape=None, mode="constant", cval=0.0):
    """Projective warp (homography) with bilinear interpolation.

    ``matrix`` (3, 3) maps input homogeneous (x, y, 1) to output; other
    arguments and the result as ``warp_affine``.
    """
    m = _check_matrix(matrix, (3, 3), "warp_perspective")
    return _warp(image, m, output_shape, mode, cval, "warp_perspective")


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
    image = as_float_image(image, "image", func)
    check_choice(mode, "mode", func, WARP_MODES)
    cval = check_number(cval, "cval", func)
    if len(output_shape) != 2:
        raise ValueError(f"{func}: output_shape must be (H, W), got {output_shape!r}")
    out_h = check_positive(output_shape[0], "output_shape[0]", func, integer=True)
    out_w = check_positive(output_shape[1], "output_shape[1]", func, integer=True)
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
