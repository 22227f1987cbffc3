"""Digit scenes: MNIST-5k digits composed into small canvases, for segmentation and detection.

Each scene is a ``size`` x ``size`` grey canvas holding 1-4 handwritten digits at
random scales and positions, with what both tasks need:

- a per-pixel label mask with 11 classes: 0 is the background, ``1 + d`` is digit ``d``;
- one box per digit, ``(x1, y1, x2, y2)`` in pixels (x1, y1 inclusive, x2, y2 exclusive:
  the box of the pixel columns x1..x2-1), tight around the digit's ink, and its class ``d``.

A digit's ink is where its resized image is above ``INK`` (0.5); the mask marks the same
pixels, so every labelled pixel lies inside its digit's box. Digits may overlap mildly
(boxes' IoU at most ``max_overlap``); where they do, the digit drawn later is on top in the
image (brightest wins) and in the mask.

Scenes are built offline and deterministically from a seed: training scenes only from the
4,000 training digits of MNIST-5k, validation and test scenes only from the 500 + 500
held-out digits, so no test digit is ever seen in training.
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from minigrad.validation import as_generator, check_int, check_number

from .data import load_mnist5k

INK = 0.5
NUM_CLASSES = 11  # background + 10 digits
BACKGROUND = 0


@dataclass
class Scenes:
    """A set of S scenes.

    Attributes
    ----------
    images : (S, 1, H, W) float32 in [0, 1]
    masks : (S, H, W) int64, 0 for background, ``1 + digit`` on a digit's ink
    boxes : list of S arrays (K_s, 4) float32, ``(x1, y1, x2, y2)`` per digit
    labels : list of S arrays (K_s,) int64, the digit of each box
    sources : list of S arrays (K_s,) int64, each digit's index in the pool it was drawn from
    """

    images: np.ndarray
    masks: np.ndarray
    boxes: list
    labels: list
    sources: list

    def __len__(self):
        return len(self.images)


@dataclass
class SceneSplits:
    """Training, validation and test scenes built from disjoint digits."""

    train: Scenes
    val: Scenes
    test: Scenes


def _box_iou(a, b):
    """IoU of two (x1, y1, x2, y2) boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0) * max(h, 0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def _ink_box(patch):
    """(x1, y1, x2, y2) of the pixels above ``INK`` in a 2-D patch, or None if there are none."""
    rows, cols = np.nonzero(patch > INK)
    if rows.size == 0:
        return None
    return np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1])


@lru_cache(maxsize=None)
def _interpolation_matrix(n_out, n_in):
    """(n_out, n_in) matrix of bilinear weights: output pixel i samples input position
    ``(i + 0.5) n_in / n_out - 0.5`` (pixel areas aligned, zero outside), so that
    ``R @ image @ R.T`` resizes a square image as ``classic_cv.resize`` would, in two small
    matrix products."""
    position = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    left = np.floor(position).astype(int)
    frac = position - left
    matrix = np.zeros((n_out, n_in))
    for column, weight in ((left, 1.0 - frac), (left + 1, frac)):
        inside = (column >= 0) & (column < n_in)
        matrix[np.nonzero(inside)[0], column[inside]] += weight[inside]
    return matrix


def _place(canvas, mask, digit, label, scale, size, placed, max_overlap, rng, tries=50):
    """Draw one digit at a random position whose box overlaps no placed box by more than
    ``max_overlap`` (IoU); return its box, or None if no position was found in ``tries``."""
    resize = _interpolation_matrix(scale, digit.shape[0])
    patch = resize @ digit @ resize.T
    ink = _ink_box(patch)
    if ink is None:
        return None
    for _ in range(tries):
        top, left = rng.integers(0, size - scale + 1, 2)
        box = ink + np.array([left, top, left, top])
        if all(_box_iou(box, other) <= max_overlap for other in placed):
            region = (slice(top, top + scale), slice(left, left + scale))
            np.maximum(canvas[region], patch, out=canvas[region])
            mask[region][patch > INK] = 1 + label
            return box
    return None


def make_scenes(digits, digit_labels, n_scenes, rng=None, size=64, per_scene=(1, 4), scale=(20, 36),
                max_overlap=0.1):
    """Compose ``n_scenes`` scenes from a pool of digit images.

    Parameters
    ----------
    digits : (M, 1, 28, 28) or (M, 28, 28) float array in [0, 1], the pool
    digit_labels : (M,) int array, the digit of each image
    n_scenes : int >= 0
    rng : numpy Generator, int seed or None
    size : int >= scale's maximum, canvas side in pixels
    per_scene : (min, max) digits per scene, drawn uniformly (both included)
    scale : (min, max) side in pixels of a resized 28 x 28 digit image, drawn uniformly
    max_overlap : float in [0, 1), the largest IoU allowed between two digits' boxes.
        A digit with no room left is skipped, so a crowded scene may hold fewer digits.

    Returns
    -------
    Scenes
    """
    func = "make_scenes"
    pool = np.asarray(digits, dtype=np.float64).reshape(len(digits), 28, 28)
    digit_labels = np.asarray(digit_labels, dtype=np.int64)
    if len(pool) == 0 or len(digit_labels) != len(pool):
        raise ValueError(f"{func}: digits and digit_labels must hold the same number (> 0) of images, "
                         f"got {len(pool)} and {len(digit_labels)}")
    n_scenes = check_int(func, "n_scenes", n_scenes, low=0)
    lo, hi = (check_int(func, "scale", s, low=8) for s in scale)
    size = check_int(func, "size", size, low=max(lo, hi))
    k_lo, k_hi = (check_int(func, "per_scene", k, low=1) for k in per_scene)
    if lo > hi or k_lo > k_hi:
        raise ValueError(f"{func}: scale and per_scene must be (min, max) with min <= max, got {scale}, {per_scene}")
    max_overlap = check_number(func, "max_overlap", max_overlap, low=0, high=1, high_open=True)
    rng = as_generator(func, "rng", rng)

    images = np.zeros((n_scenes, size, size))
    masks = np.zeros((n_scenes, size, size), dtype=np.int64)
    boxes, labels, sources = [], [], []
    for s in range(n_scenes):
        placed, chosen = [], []
        for index in rng.integers(0, len(pool), rng.integers(k_lo, k_hi + 1)):
            box = _place(images[s], masks[s], pool[index], digit_labels[index], int(rng.integers(lo, hi + 1)),
                         size, placed, max_overlap, rng)
            if box is not None:
                placed.append(box)
                chosen.append(index)
        boxes.append(np.array(placed, dtype=np.float32).reshape(-1, 4))
        labels.append(digit_labels[chosen])
        sources.append(np.array(chosen, dtype=np.int64))
    return Scenes(images[:, None].astype(np.float32), masks, boxes, labels, sources)


def load_digit_scenes(n_train=8000, n_val=1000, n_test=1000, seed=0, **options):
    """Scenes from MNIST-5k: training scenes from its 4,000 training digits, validation and
    test scenes from its 500 validation and 500 test digits (``options`` go to ``make_scenes``).

    Each split has its own generator derived from ``seed``, so changing one split's size
    leaves the others unchanged.
    """
    data = load_mnist5k()
    streams = np.random.SeedSequence(check_int("load_digit_scenes", "seed", seed, low=0)).spawn(3)
    pools = ((data.X_train, data.y_train, n_train), (data.X_val, data.y_val, n_val), (data.X_test, data.y_test, n_test))
    return SceneSplits(*(make_scenes(X, y, n, np.random.default_rng(stream), **options)
                         for (X, y, n), stream in zip(pools, streams)))
