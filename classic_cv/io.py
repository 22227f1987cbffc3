"""Image files in and out (Pillow), and drawing results onto images for output.

In memory an image is float64 in [0, 1], (H, W) gray or (H, W, 3) RGB; on disk
it is 8-bit. ``read_image`` divides by 255, ``write_image`` clips to [0, 1],
multiplies by 255 and rounds, so a uint8 image survives a round trip exactly.
Points are (x, y) = (column, row), as everywhere in ``classic_cv``: the
drawing helpers take ``Keypoints.xy``, ``corner_peaks`` output, segments of
``probabilistic_hough_line`` and ``Circles.xy`` as they come.
"""
import os

import numpy as np
from PIL import Image, ImageDraw

from minigrad.validation import check_bool, check_int, check_number

from ._validate import as_float_array, check_image, check_mask, luminance, to_float


def _check_path(func, path):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{func}: path must be a str or path-like, got {type(path).__name__}")
    return path


def read_image(path, gray=False):
    """Read an image file.

    Parameters
    ----------
    path : str or path-like
    gray : bool
        Convert to luminance (``rgb2gray`` weights) instead of RGB.

    Returns
    -------
    image : (H, W) float64 when ``gray`` or the file is single-channel,
        else (H, W, 3) float64, values in [0, 1]. Alpha is dropped.

    Raises
    ------
    OSError
        The file is missing, unreadable or not an image Pillow knows.
    """
    path = _check_path("read_image", path)
    gray = check_bool("read_image", "gray", gray)
    with Image.open(path) as im:
        if im.mode.startswith("I;16"):
            data = np.asarray(im, dtype=np.float64) / 65535.0
        elif im.mode in ("L", "1"):
            data = np.asarray(im.convert("L"), dtype=np.float64) / 255.0
        else:
            data = np.asarray(im.convert("RGB"), dtype=np.float64) / 255.0
    if gray and data.ndim == 3:
        # Pillow's own "L" conversion uses BT.601 weights; keep the library's BT.709.
        data = luminance(data)
    return data


def to_uint8(image):
    """(H, W) or (H, W, 3) image -> uint8: floats clipped to [0, 1] and scaled,
    booleans to 0/255, uint8 unchanged."""
    return _to_uint8(_check_drawable("to_uint8", image))


def _check_drawable(func, image):
    image = check_image(func, "image", image)
    if image.ndim == 3 and image.shape[2] != 3:
        raise ValueError(f"{func}: image must be (H, W) or (H, W, 3), got shape {image.shape}")
    return image


def _to_uint8(image):
    """``to_uint8`` of a checked image."""
    if image.dtype == np.uint8:
        return image
    return np.round(np.clip(to_float(image), 0.0, 1.0) * 255.0).astype(np.uint8)


def write_image(path, image):
    """Write an (H, W) or (H, W, 3) image; the format follows the file extension (.png, .jpg, ...)."""
    func = "write_image"
    path = _check_path(func, path)
    img = _to_uint8(_check_drawable(func, image))
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension not in Image.registered_extensions():
        raise ValueError(f"{func}: path must end in an image file extension such as .png, got {os.fspath(path)!r}")
    Image.fromarray(img).save(path)


def _canvas(func, image):
    """RGB Pillow image of a checked ``image`` to draw on in colour."""
    img = _to_uint8(_check_drawable(func, image))
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return Image.fromarray(img)


def _check_color(func, color):
    """(R, G, B) ints in 0..255 as a tuple."""
    if not isinstance(color, (tuple, list)):
        raise TypeError(f"{func}: color must be an (R, G, B) tuple, got {color!r}")
    if len(color) != 3:
        raise ValueError(f"{func}: color must be an (R, G, B) tuple of 3 values, got {color!r}")
    return tuple(check_int(func, "color", c, low=0, high=255) for c in color)


def draw_points(image, xy, radius=3, color=(255, 0, 0)):
    """Circles of ``radius`` px around points.

    Parameters
    ----------
    image : (H, W) or (H, W, 3)
    xy : (N, 2) points (x, y), e.g. ``corner_peaks`` output or ``Keypoints.xy``
    radius : float > 0
    color : (R, G, B) ints in 0..255

    Returns
    -------
    drawn : (H, W, 3) uint8
    """
    func = "draw_points"
    canvas = _canvas(func, image)
    xy = _check_xy(func, "xy", xy)
    radius = check_number(func, "radius", radius, low=0, low_open=True)
    color = _check_color(func, color)
    pen = ImageDraw.Draw(canvas)
    for x, y in xy:
        pen.ellipse([x - radius, y - radius, x + radius, y + radius], outline=color)
    return np.asarray(canvas)


def _check_xy(func, name, xy):
    """(N, 2) float64 points; no points at all (``[]``) is (0, 2)."""
    xy = as_float_array(func, name, xy, ndim=(1, 2), allow_empty=True)
    xy = xy.reshape(0, 2) if xy.size == 0 else xy
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"{func}: {name} must be (N, 2) points (x, y), got shape {xy.shape}")
    return xy


def draw_segments(image, segments, color=(255, 0, 0), width=1):
    """Line segments ``((x0, y0), (x1, y1))``, shape (K, 2, 2); returns (H, W, 3) uint8.

    ``width`` is the line width in px (int >= 1); ``color`` as ``draw_points``.
    """
    func = "draw_segments"
    canvas = _canvas(func, image)
    segments = as_float_array(func, "segments", segments, ndim=3, allow_empty=True)
    if segments.shape[1:] != (2, 2):
        raise ValueError(f"{func}: segments must be (K, 2, 2) end points (x, y), got shape {segments.shape}")
    color, width = _check_color(func, color), check_int(func, "width", width, low=1)
    pen = ImageDraw.Draw(canvas)
    for (x0, y0), (x1, y1) in segments:
        pen.line([(x0, y0), (x1, y1)], fill=color, width=width)
    return np.asarray(canvas)


def line_segments(theta, rho, shape):
    """Clip lines ``x cos(theta) + y sin(theta) = rho`` to an image of ``shape`` (H, W).

    Parameters
    ----------
    theta, rho : (K,) line parameters, e.g. of ``hough_line_peaks``
    shape : (H, W[, C])

    Returns
    -------
    segments : (K', 2, 2) float64 end points (x, y) on the image border (lines
        that miss the image are left out)
    """
    func = "line_segments"
    theta = as_float_array(func, "theta", theta, ndim=1, allow_empty=True)
    rho = as_float_array(func, "rho", rho, ndim=1, allow_empty=True)
    if theta.shape != rho.shape:
        raise ValueError(f"{func}: theta and rho must have the same shape, got {theta.shape} and {rho.shape}")
    if not isinstance(shape, (tuple, list, np.ndarray)):
        raise TypeError(f"{func}: shape must be a tuple (H, W) or (H, W, C), got {type(shape).__name__}")
    if np.ndim(shape) != 1 or len(shape) not in (2, 3):
        raise ValueError(f"{func}: shape must be (H, W) or (H, W, C), got {shape!r}")
    h, w = (check_int(func, "shape", n, low=1) for n in shape[:2])
    out = []
    for t, r in zip(theta, rho):
        c, s = np.cos(t), np.sin(t)
        pts = []
        # Intersections with the four borders x = 0, x = w - 1, y = 0, y = h - 1.
        if abs(s) > 1e-12:
            pts += [(x, (r - x * c) / s) for x in (0.0, w - 1.0)]
        if abs(c) > 1e-12:
            pts += [((r - y * s) / c, y) for y in (0.0, h - 1.0)]
        pts = [(x, y) for x, y in pts if -1e-6 <= x <= w - 1 + 1e-6 and -1e-6 <= y <= h - 1 + 1e-6]
        if len(pts) >= 2:
            pts.sort()
            out.append([pts[0], pts[-1]])
    return np.array(out, dtype=np.float64).reshape(-1, 2, 2)


def draw_circles(image, xy, radius, color=(255, 0, 0), width=1):
    """Circles with centres ``xy`` (K, 2) as (x, y), e.g. ``Circles.xy``, and
    ``radius`` (a float or (K,), > 0); returns (H, W, 3) uint8.

    ``color`` and ``width`` as ``draw_segments``.
    """
    func = "draw_circles"
    canvas = _canvas(func, image)
    xy = _check_xy(func, "xy", xy)
    radius = as_float_array(func, "radius", radius, ndim=1, allow_empty=True)
    radius = np.repeat(radius, len(xy)) if len(radius) == 1 else radius
    if radius.shape != (len(xy),) or (radius <= 0).any():
        raise ValueError(f"{func}: radius must be > 0, one value or one per centre ({len(xy)}), got {radius}")
    color, width = _check_color(func, color), check_int(func, "width", width, low=1)
    pen = ImageDraw.Draw(canvas)
    for (cx, cy), r in zip(xy, radius):
        pen.ellipse([cx - r, cy - r, cx + r, cy + r], outline=color, width=width)
    return np.asarray(canvas)


def draw_keypoints(image, xy, scale, orientation, magnify=1.0, color=(0, 255, 0), width=1):
    """Keypoints with their scale and orientation, like OpenCV's rich keypoints:
    a circle of radius ``magnify * scale`` around each point and a line from its
    centre to the circle along the orientation.

    Parameters
    ----------
    image : (H, W) or (H, W, 3)
    xy : (N, 2) points (x, y), e.g. ``Keypoints.xy``
    scale : (N,) > 0, e.g. ``Keypoints.scale`` (the Gaussian sigma in px)
    orientation : (N,) radians, x right and y down, e.g. ``Keypoints.orientation``
    magnify : float > 0, circle radius in units of ``scale`` (OpenCV draws SIFT
        keypoints at 1 sigma)
    color : (R, G, B) ints in 0..255
    width : int >= 1, line width in px

    Returns
    -------
    drawn : (H, W, 3) uint8
    """
    func = "draw_keypoints"
    canvas = _canvas(func, image)
    xy = _check_xy(func, "xy", xy)
    scale = as_float_array(func, "scale", scale, ndim=1, allow_empty=True)
    orientation = as_float_array(func, "orientation", orientation, ndim=1, allow_empty=True)
    if scale.shape != (len(xy),) or orientation.shape != (len(xy),):
        raise ValueError(f"{func}: scale and orientation must have one value per point ({len(xy)}), "
                         f"got shapes {scale.shape} and {orientation.shape}")
    if (scale <= 0).any():
        raise ValueError(f"{func}: scale must be > 0, got {scale.min()}")
    magnify = check_number(func, "magnify", magnify, low=0, low_open=True)
    color, width = _check_color(func, color), check_int(func, "width", width, low=1)
    pen = ImageDraw.Draw(canvas)
    radius = magnify * scale
    tips = xy + radius[:, None] * np.column_stack([np.cos(orientation), np.sin(orientation)])
    for (x, y), r, (tx, ty) in zip(xy, radius, tips):
        pen.ellipse([x - r, y - r, x + r, y + r], outline=color, width=width)
        pen.line([(x, y), (tx, ty)], fill=color, width=width)
    return np.asarray(canvas)


def overlay_mask(image, mask, color=(255, 0, 0)):
    """Paint the True pixels of an (H, W) mask in ``color``; returns (H, W, 3) uint8."""
    func = "overlay_mask"
    out = np.array(_canvas(func, image))
    out[check_mask(func, "mask", mask, out.shape[:2])] = _check_color(func, color)
    return out
