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


def resize(image, output_shape, mode="nearest"):
    """Bilinear resize to ``output_shape`` (H_out, W_out), aligning pixel *areas*
    (centre of output pixel i samples input ``(i + 0.5) * H / H_out - 0.5``).

    No anti-aliasing: blur first when shrinking by a large factor.
    """
    func = "resize"
    image = as_float_image(image, "image", func)
    if len(output_shape) != 2:
        raise ValueError(f"{func}: output_shape must be (H, W), got {output_shape!r}")
    out_h = check_positive(output_shape[0], "output_shape[0]", func, integer=True)
    out_w = check_positive(output_shape[1], "output_shape[1]", func, integer=True)
    sy, sx = out_h / image.shape[0], out_w / image.shape[1]
    # Input -> output: x' = sx * (x + 0.5) - 0.5.
    m = np.array([[sx, 0.0, 0.5 * sx - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]])
    return _warp(image, m, (out_h, out_w), mode, 0.0, func)
