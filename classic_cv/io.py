"""Image files in and out (Pillow), and drawing results onto images for output.

In memory an image is float64 in [0, 1], (H, W) gray or (H, W, 3) RGB; on disk
it is 8-bit. ``read_image`` divides by 255, ``write_image`` clips to [0, 1],
multiplies by 255 and rounds, so a uint8 image survives a round trip exactly.
"""
import numpy as np
from PIL import Image, ImageDraw

from ._validate import RGB_WEIGHTS, as_float_image, check_positive


def read_image(path, gray=False):
    """Read an image file.

    Parameters
    ----------
    path : str or path-like
    gray : convert to luminance (``rgb2gray`` weights) instead of RGB

    Returns
    -------
    image : (H, W) float64 when ``gray`` or the file is single-channel,
        else (H, W, 3) float64, values in [0, 1]. Alpha is dropped.
    """
    with Image.open(path) as im:
        if im.mode.startswith("I;16"):
            data = np.asarray(im, dtype=np.float64) / 65535.0
        elif im.mode in ("L", "1"):
            data = np.asarray(im.convert("L"), dtype=np.float64) / 255.0
        else:
            data = np.asarray(im.convert("RGB"), dtype=np.float64) / 255.0
    if gray and data.ndim == 3:
        # Pillow's own "L" conversion uses BT.601 weights; keep the library's BT.709.
        data = data @ np.array(RGB_WEIGHTS)
    return data


def to_uint8(image):
    """(H, W) or (H, W, 3) image -> uint8: floats clipped to [0, 1] and scaled,
    booleans to 0/255, uint8 unchanged."""
    if isinstance(image, np.ndarray) and image.dtype == np.uint8:
        return image
    img = as_float_image(image, "image", "to_uint8")
    return np.round(np.clip(img, 0.0, 1.0) * 255.0).astype(np.uint8)


def write_image(path, image):
    """Write an (H, W) or (H, W, 3) image (format from the file extension)."""
    img = to_uint8(image)
    if img.ndim == 3 and img.shape[2] != 3:
        raise ValueError(f"write_image: image must be (H, W) or (H, W, 3), got shape {img.shape}")
    Image.fromarray(img).save(path)


def _canvas(image):
    """RGB Pillow image of ``image`` to draw on in colour."""
    img = to_uint8(image)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return Image.fromarray(img)


def draw_points(image, rows, cols, radius=3, color=(255, 0, 0)):
    """Circles of ``radius`` px around (row, col) points; returns (H, W, 3) uint8."""
    canvas = _canvas(image)
    radius = check_positive(radius, "radius", "draw_points")
    pen = ImageDraw.Draw(canvas)
    for r, c in zip(rows, cols):
        pen.ellipse([c - radius, r - radius, c + radius, r + radius], outline=color)
    return np.asarray(canvas)


def draw_segments(image, segments, color=(255, 0, 0), width=1):
    """Line segments ``((x0, y0), (x1, y1))``, shape (K, 2, 2); returns (H, W, 3) uint8."""
    canvas = _canvas(image)
    pen = ImageDraw.Draw(canvas)
    for (x0, y0), (x1, y1) in np.asarray(segments, dtype=np.float64).reshape(-1, 2, 2):
        pen.line([(x0, y0), (x1, y1)], fill=color, width=width)
    return np.asarray(canvas)


def line_segments(theta, rho, shape):
    """Clip lines ``x cos(theta) + y sin(theta) = rho`` to an image of ``shape`` (H, W).

    Returns
    -------
    segments : (K, 2, 2) float64 endpoints on the image border (lines that
        miss the image are left out)
    """
    h, w = shape[:2]
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


def draw_circles(image, x, y, radius, color=(255, 0, 0), width=1):
    """Circles with centres (x, y) and radii, each (K,); returns (H, W, 3) uint8."""
    canvas = _canvas(image)
    pen = ImageDraw.Draw(canvas)
    for cx, cy, r in zip(x, y, radius):
        pen.ellipse([cx - r, cy - r, cx + r, cy + r], outline=color, width=width)
    return np.asarray(canvas)


def overlay_mask(image, mask, color=(255, 0, 0)):
    """Paint the True pixels of an (H, W) mask in ``color``; returns (H, W, 3) uint8."""
    out = np.array(_canvas(image))
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != out.shape[:2]:
        raise ValueError(f"overlay_mask: mask must have shape {out.shape[:2]}, got {mask.shape}")
    out[mask] = color
    return out
