"""Random image augmentations for contrastive views, vectorised over a batch.

Every function takes a batch ``x`` (N, C, H, W) of float32 or float64 images
and returns a new batch of the same dtype, each image transformed with its
own random parameters drawn from ``rng`` (a ``np.random.Generator``, an int
seed or None, the project's convention). With strength zero (full-image
crop, no shift, 0 degrees, zero noise) each returns its input unchanged.

- ``random_resized_crop``: a random box of random area and aspect ratio,
  resampled bilinearly to the output size (``sample_crop_boxes`` +
  ``resized_crop``).
- ``random_shift``: whole-pixel shifts with zero fill (``data.random_crop``).
- ``random_rotation``: small rotations about the image centre (``rotate``).
- ``gaussian_noise``: additive noise, optionally clipped to a range.
- ``compose`` chains them into one transform; ``two_views`` draws two
  independent views of a batch, SimCLR's positive pairs;
  ``contrastive_augmentation`` is the course's recipe.

Boxes are ``(x1, y1, x2, y2)`` in continuous pixel-edge coordinates (the image
covers ``[0, W] x [0, H]``), as ``classic_cv``'s boxes; angles are degrees,
counter-clockwise as displayed (row 0 at the top), like ``np.rot90``.
"""
import math
from functools import partial

import numpy as np

from minigrad.validation import (
    as_generator, check_bool, check_float_array, check_int, check_number,
)

from .data import random_crop

_IMAGES = "(N, C, H, W)"


def _images(func, x):
    return check_float_array(func, "x", x, ndim=4, layout=_IMAGES)


def _check_interval(func, name, value, low=None, high=None, low_open=False):
    """``value`` as a pair ``(lo, hi)`` of floats with ``lo <= hi``, both within the bounds."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{func}: {name} must be a pair (low, high), got {value!r}")
    lo, hi = (check_number(func, f"{name}[{i}]", v, low=low, high=high, low_open=low_open)
              for i, v in enumerate(value))
    if lo > hi:
        raise ValueError(f"{func}: {name} must have low <= high, got {value!r}")
    return lo, hi


def _check_size(func, size, x):
    """Output (H_out, W_out): x's own when None."""
    if size is None:
        return x.shape[2:]
    if not isinstance(size, (tuple, list)) or len(size) != 2:
        raise TypeError(f"{func}: size must be a pair (H_out, W_out) or None, got {size!r}")
    return tuple(check_int(func, f"size[{i}]", n, low=1) for i, n in enumerate(size))


# ------------------------------------------------------------- resized crop
def sample_crop_boxes(n, shape, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), rng=None):
    """Draw ``n`` boxes inside an image of ``shape`` (H, W), as a random resized crop does.

    Each box's aspect ratio (width / height) is drawn log-uniformly from
    ``ratio``, then its area (a fraction of the image's) uniformly from
    ``scale`` cut to what fits in the image at that ratio (the largest
    fitting area when even ``scale[0]`` does not fit), then its position
    uniformly among the positions that keep it inside.

    Parameters
    ----------
    n : int >= 0
    shape : (H, W) ints >= 1
    scale : (low, high), 0 < low <= high <= 1
    ratio : (low, high), 0 < low <= high
    rng : Generator, int seed or None

    Returns
    -------
    boxes : (n, 4) float64 ``(x1, y1, x2, y2)``, with ``0 <= x1 < x2 <= W`` and ``0 <= y1 < y2 <= H``.
    """
    func = "sample_crop_boxes"
    n = check_int(func, "n", n, low=0)
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise TypeError(f"{func}: shape must be a pair (H, W), got {shape!r}")
    height, width = (check_int(func, f"shape[{i}]", v, low=1) for i, v in enumerate(shape))
    scale = _check_interval(func, "scale", scale, low=0, high=1, low_open=True)
    ratio = _check_interval(func, "ratio", ratio, low=0, low_open=True)
    return _crop_boxes(n, height, width, scale, ratio, as_generator(func, "rng", rng))


def _crop_boxes(n, height, width, scale, ratio, rng):
    aspect = width / height
    r = np.clip(np.exp(rng.uniform(math.log(ratio[0]), math.log(ratio[1]), n)), *ratio)
    largest = np.minimum(aspect / r, r / aspect)  # the largest area fraction that fits at ratio r
    s = np.where(scale[0] <= largest, rng.uniform(0.0, 1.0, n) * (np.minimum(scale[1], largest) - scale[0])
                 + scale[0], largest)
    # w h = s H W and w / h = r; written so that s = 1 at the image's own ratio gives w = W exactly.
    w = np.minimum(width * np.sqrt(s * r / aspect), width)
    h = np.minimum(height * np.sqrt(s * aspect / r), height)
    x1 = rng.uniform(0.0, 1.0, n) * (width - w)
    y1 = rng.uniform(0.0, 1.0, n) * (height - h)
    return np.stack([x1, y1, x1 + w, y1 + h], axis=1)


def _interpolation_matrices(start, stop, n_out, n_in, dtype):
    """(N, n_out, n_in) bilinear weights: output i of row k samples input position
    ``start[k] + (i + 0.5) (stop[k] - start[k]) / n_out - 0.5``, clamped into
    ``[0, n_in - 1]`` (the border pixel repeats), as ``classic_cv.resize`` with
    ``mode='nearest'`` samples a whole axis."""
    position = start[:, None] + (np.arange(n_out) + 0.5) * ((stop - start) / n_out)[:, None] - 0.5
    position = np.clip(position, 0.0, n_in - 1.0)
    left = np.floor(position).astype(np.int64)
    right = np.minimum(left + 1, n_in - 1)
    frac = position - left
    matrix = np.zeros((len(start), n_out, n_in), dtype=dtype)
    # The right tap first: where it is the left one (the last pixel) its weight is 0.
    np.put_along_axis(matrix, right[:, :, None], frac[:, :, None].astype(dtype), axis=2)
    np.put_along_axis(matrix, left[:, :, None], (1.0 - frac)[:, :, None].astype(dtype), axis=2)
    return matrix


def resized_crop(x, boxes, size=None):
    """Crop box k of image k and resample it bilinearly to ``size``.

    Parameters
    ----------
    x : (N, C, H, W) float32 or float64
    boxes : (N, 4) ``(x1, y1, x2, y2)`` in pixel-edge coordinates, inside ``[0, W] x [0, H]``
    size : (H_out, W_out) or None (x's own)

    Returns
    -------
    (N, C, H_out, W_out), x's dtype. Output pixel i of a box spanning
    ``[y1, y2]`` samples row ``y1 + (i + 0.5) (y2 - y1) / H_out - 0.5``
    (pixel areas aligned), columns likewise; two small matrix products per
    image. No anti-aliasing: crops are enlarged, rarely shrunk, here.
    """
    func = "resized_crop"
    xa = _images(func, x)
    out_h, out_w = _check_size(func, size, xa)
    b = check_float_array(func, "boxes", boxes, ndim=2, layout="(N, 4)").astype(np.float64)
    n, _, height, width = xa.shape
    if b.shape != (n, 4):
        raise ValueError(f"{func}: boxes must have shape ({n}, 4), one per image, got {b.shape}")
    inside = ((b[:, 0] >= 0) & (b[:, 0] < b[:, 2]) & (b[:, 2] <= width)
              & (b[:, 1] >= 0) & (b[:, 1] < b[:, 3]) & (b[:, 3] <= height))
    if not inside.all():
        k = int(np.argmin(inside))
        raise ValueError(f"{func}: boxes must satisfy 0 <= x1 < x2 <= {width} and 0 <= y1 < y2 <= {height}, "
                         f"got box {k} = {b[k].tolist()}")
    return _resized_crop(xa, b, out_h, out_w)


def _resized_crop(x, boxes, out_h, out_w):
    rows = _interpolation_matrices(boxes[:, 1], boxes[:, 3], out_h, x.shape[2], x.dtype)
    cols = _interpolation_matrices(boxes[:, 0], boxes[:, 2], out_w, x.shape[3], x.dtype)
    return rows[:, None] @ x @ cols.transpose(0, 2, 1)[:, None]


def random_resized_crop(x, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), size=None, rng=None):
    """Crop each image at a random box (``sample_crop_boxes``) and resample it to ``size``.

    ``scale=(1, 1)`` with ``ratio=(W / H, W / H)`` is the whole image: x itself.
    Other arguments and the result as ``sample_crop_boxes`` and ``resized_crop``.
    """
    func = "random_resized_crop"
    xa = _images(func, x)
    out_h, out_w = _check_size(func, size, xa)
    scale = _check_interval(func, "scale", scale, low=0, high=1, low_open=True)
    ratio = _check_interval(func, "ratio", ratio, low=0, low_open=True)
    boxes = _crop_boxes(len(xa), xa.shape[2], xa.shape[3], scale, ratio, as_generator(func, "rng", rng))
    return _resized_crop(xa, boxes, out_h, out_w)


# -------------------------------------------------------------------- shifts
def random_shift(x, max_shift, rng=None):
    """Shift each image by whole pixels, up to ``max_shift`` (int >= 0) in each direction,
    filling with zeros: ``data.random_crop`` (pad, then crop at a random offset)."""
    func = "random_shift"
    xa = _images(func, x)
    max_shift = check_int(func, "max_shift", max_shift, low=0)
    return random_crop(xa, max_shift, as_generator(func, "rng", rng))


# ----------------------------------------------------------------- rotations
def rotate(x, angle, fill=0.0):
    """Rotate each image about its centre, with bilinear sampling.

    Parameters
    ----------
    x : (N, C, H, W) float32 or float64
    angle : float or (N,) floats
        Degrees, counter-clockwise as displayed; one per image or one for all.
        Quarter turns are exact: on a square image, 90 gives ``np.rot90``.
    fill : float
        The value of samples from outside the image.

    Returns
    -------
    (N, C, H, W), x's dtype. Output pixel (row, col) reads the input at the
    centre ``((W - 1) / 2, (H - 1) / 2)`` plus the offset rotated back.
    """
    func = "rotate"
    xa = _images(func, x)
    angles = np.asarray(angle)
    if angles.dtype.kind not in "iuf":
        raise TypeError(f"{func}: angle must be a number or an array of numbers, got dtype {angles.dtype}")
    if angles.ndim > 1 or (angles.ndim == 1 and angles.shape != (len(xa),)):
        raise ValueError(f"{func}: angle must be a number or ({len(xa)},), one per image, got shape {angles.shape}")
    if not np.isfinite(angles).all():
        raise ValueError(f"{func}: angle must be finite, got {angles.tolist()}")
    fill = check_number(func, "fill", fill)
    return _rotate(xa, np.broadcast_to(angles.astype(np.float64), (len(xa),)), fill)


def _snap(values):
    """cos/sin values within rounding of 0 become 0, so that quarter turns land on whole pixels."""
    return np.where(np.abs(values) < 1e-12, 0.0, values)


def _rotate(x, degrees, fill):
    n, c, height, width = x.shape
    theta = np.deg2rad(degrees)[:, None, None]
    cos, sin = _snap(np.cos(theta)), _snap(np.sin(theta))
    cy, cx = (height - 1) / 2, (width - 1) / 2
    dy, dx = np.arange(height)[None, :, None] - cy, np.arange(width)[None, None, :] - cx
    # Counter-clockwise on screen (rows grow downwards): output (dx, dy) reads the input at
    # the offset turned clockwise, (cos dx - sin dy, sin dx + cos dy).
    src_x = cx + cos * dx - sin * dy
    src_y = cy + sin * dx + cos * dy
    x0, y0 = np.floor(src_x), np.floor(src_y)
    fx, fy = (src_x - x0).astype(x.dtype), (src_y - y0).astype(x.dtype)
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    flat = x.reshape(n, c, height * width)
    out = np.zeros((n, c, height * width), dtype=x.dtype)
    pixels = (n, 1, height * width)
    for ix, iy, weight in ((x0, y0, (1 - fx) * (1 - fy)), (x0 + 1, y0, fx * (1 - fy)),
                           (x0, y0 + 1, (1 - fx) * fy), (x0 + 1, y0 + 1, fx * fy)):
        valid = (ix >= 0) & (ix < width) & (iy >= 0) & (iy < height)
        index = (np.clip(iy, 0, height - 1) * width + np.clip(ix, 0, width - 1)).reshape(pixels)
        tap = np.take_along_axis(flat, index, axis=2)
        tap = np.where(valid.reshape(pixels), tap, x.dtype.type(fill))
        out += weight.reshape(pixels) * tap
    return out.reshape(x.shape)


def random_rotation(x, degrees, fill=0.0, rng=None):
    """Rotate each image by an angle drawn uniformly from ``[-degrees, degrees]``
    (``degrees`` in [0, 180]); see ``rotate``."""
    func = "random_rotation"
    xa = _images(func, x)
    degrees = check_number(func, "degrees", degrees, low=0, high=180)
    fill = check_number(func, "fill", fill)
    angles = as_generator(func, "rng", rng).uniform(-degrees, degrees, len(xa))
    return _rotate(xa, angles, fill)


# --------------------------------------------------------------------- noise
def gaussian_noise(x, std, clip=None, rng=None):
    """Add independent Gaussian noise of standard deviation ``std`` (>= 0) to every pixel.

    ``clip``: None, or a pair (low, high) the result is clipped to (e.g.
    ``(0, 1)`` for images in [0, 1]). The noise is drawn in x's dtype.
    """
    func = "gaussian_noise"
    xa = _images(func, x)
    std = check_number(func, "std", std, low=0)
    clip = None if clip is None else _check_interval(func, "clip", clip)
    out = xa + xa.dtype.type(std) * as_generator(func, "rng", rng).standard_normal(xa.shape, dtype=xa.dtype)
    return out if clip is None else np.clip(out, *clip, out=out)


# ----------------------------------------------------------------- pipelines
def compose(*transforms):
    """One transform ``f(x, rng=None)`` applying ``transforms`` in order.

    Each transform is called as ``t(x, rng=generator)`` (bind other
    arguments with ``functools.partial``); the one generator made from
    ``rng`` feeds them all, so a seed fixes the whole pipeline.
    """
    for i, t in enumerate(transforms):
        if not callable(t):
            raise TypeError(f"compose: transforms[{i}] must be callable, got {type(t).__name__}")

    def transform(x, rng=None):
        generator = as_generator("compose", "rng", rng)
        for t in transforms:
            x = t(x, rng=generator)
        return x

    return transform


def two_views(x, transform, rng=None):
    """Two independently augmented views ``(transform(x), transform(x))`` of a batch,
    drawn one after the other from one generator (SimCLR's positive pairs)."""
    if not callable(transform):
        raise TypeError(f"two_views: transform must be callable, got {type(transform).__name__}")
    generator = as_generator("two_views", "rng", rng)
    return transform(x, rng=generator), transform(x, rng=generator)


def contrastive_augmentation(scale=(0.5, 1.0), ratio=(3 / 4, 4 / 3), max_shift=2, degrees=10.0, noise_std=0.05,
                             clip=True):
    """The course's view recipe for digits: random resized crop, shift, small rotation, noise.

    Parameters
    ----------
    scale, ratio : as ``random_resized_crop``
    max_shift : int >= 0, as ``random_shift``
    degrees : float in [0, 180], as ``random_rotation``
    noise_std : float >= 0, as ``gaussian_noise``
    clip : bool
        Clip the noisy result to [0, 1] (the loaders' pixel range).

    Returns
    -------
    transform : ``f(x, rng=None)`` (see ``compose``); arguments are checked here, once.
    """
    func = "contrastive_augmentation"
    scale = _check_interval(func, "scale", scale, low=0, high=1, low_open=True)
    ratio = _check_interval(func, "ratio", ratio, low=0, low_open=True)
    max_shift = check_int(func, "max_shift", max_shift, low=0)
    degrees = check_number(func, "degrees", degrees, low=0, high=180)
    noise_std = check_number(func, "noise_std", noise_std, low=0)
    clip = (0.0, 1.0) if check_bool(func, "clip", clip) else None
    return compose(partial(random_resized_crop, scale=scale, ratio=ratio),
                   partial(random_shift, max_shift=max_shift),
                   partial(random_rotation, degrees=degrees),
                   partial(gaussian_noise, std=noise_std, clip=clip))
