"""Scale-invariant feature transform (Lowe 2004): keypoints and 128-d descriptors.

Pipeline: the image (grey, [0, 1]) is upsampled 2x and blurred to sigma 1.6 (assuming
the camera blurred it by 0.5); each octave holds ``n_scales + 3`` Gaussian images and
``n_scales + 2`` differences of Gaussians; extrema over 26 neighbours are refined to
sub-pixel / sub-scale accuracy by a quadratic fit and rejected on low contrast or
edge-like curvature (ratio r = 10); each keypoint gets one orientation per local
maximum of a 36-bin gradient histogram (each gradient shared linearly between its two
nearest bins, then smoothed by [1 4 6 4 1] / 16) within 80 % of the highest, refined by
a parabola, and a 4 x 4 x 8 descriptor.
"""
from dataclasses import dataclass

import numpy as np

from minigrad.validation import check_int, check_number

from ._kernels import sift as _k
from ._validate import as_gray, check_min_size
from .filters import _gaussian_blur, check_sigma
from .warp import _resize

__all__ = ["Keypoints", "sift"]

# Samples this close to an octave's border are not searched (room for the 3x3x3
# neighbourhood and the refinement steps).
_BORDER = 5
_MAX_REFINE_STEPS = 5
_ORI_BINS = 36
_ORI_PEAK_RATIO = 0.8
_DESC_WIDTH = 4
_DESC_BINS = 8
_DESC_CLIP = 0.2
_CAMERA_SIGMA = 0.5
# Smallest image side SIFT accepts: smaller images have no octave to search.
MIN_SIDE = 8


@dataclass
class Keypoints:
    """SIFT keypoints, one row per keypoint (a point with two dominant orientations
    appears twice).

    Attributes
    ----------
    xy : (N, 2) float64, position (x = column, y = row) in input pixels
    scale : (N,) float64, Gaussian sigma of the detection scale in input pixels
    orientation : (N,) float64, radians in image coordinates (x right, y down)
    octave : (N,) int64, octave index (-1 is the upsampled one)
    response : (N,) float64, |DoG| at the refined extremum
    """

    xy: np.ndarray
    scale: np.ndarray
    orientation: np.ndarray
    octave: np.ndarray
    response: np.ndarray

    def __len__(self):
        return len(self.xy)


def _max_octaves(shape):
    """Octaves until the (2x upsampled) image is smaller than 16 pixels."""
    return int(np.floor(np.log2(2 * min(shape) / 16))) + 1


def _scale_space(image, n_scales, sigma, n_octaves):
    """Gaussian images per octave: list of (n_scales + 3, H, W) float32 stacks."""
    base = _resize(image, (2 * image.shape[0], 2 * image.shape[1]), "nearest", 0.0)
    # Incremental blur taking layer i - 1 (total sigma_{i-1}) to layer i.
    totals = sigma * 2.0 ** (np.arange(n_scales + 3) / n_scales)
    steps = np.sqrt(totals[1:] ** 2 - totals[:-1] ** 2)
    octaves = []
    for o in range(n_octaves):
        # Layers are blurred straight into the octave's stack (no copy per layer).
        layers = np.empty((n_scales + 3,) + base.shape, dtype=np.float32)
        if o == 0:
            first = np.sqrt(max(sigma**2 - (2 * _CAMERA_SIGMA) ** 2, 0.01))
            _gaussian_blur(base, first, mode="mirror", out=layers[0])
        else:
            layers[0] = base
        for i, step in enumerate(steps, start=1):
            _gaussian_blur(layers[i - 1], step, mode="mirror", out=layers[i])
        octaves.append(layers)
        # Layer n_scales has twice the base sigma: subsample it for the next octave.
        base = layers[n_scales, ::2, ::2]
    return octaves


def sift(image, n_scales=3, sigma=1.6, contrast_threshold=0.04, edge_ratio=10.0, n_octaves=None):
    """Detect SIFT keypoints and compute their descriptors.

    Parameters
    ----------
    image : (H, W) or (H, W, 3); integers are scaled to [0, 1]
    n_scales : int >= 1, scales sampled per octave
    sigma : float in (0, 1e5], blur of each octave's first layer
    contrast_threshold : float >= 0, minimum |DoG| (times n_scales) at an extremum
    edge_ratio : float > 1, maximum ratio of principal curvatures
    n_octaves : int or None, default: until the octave is smaller than 16 pixels

    Returns
    -------
    keypoints : Keypoints (N rows)
    descriptors : (N, 128) float32, unit length
    """
    func = "sift"
    gray = as_gray(func, "image", image, dtype=np.float32)
    n_scales = check_int(func, "n_scales", n_scales, low=1)
    sigma = check_sigma(func, "sigma", sigma, low_open=True)
    contrast_threshold = check_number(func, "contrast_threshold", contrast_threshold, low=0)
    edge_ratio = check_number(func, "edge_ratio", edge_ratio, low=1, low_open=True)
    check_sift_size(func, "image", gray)
    if n_octaves is not None:
        n_octaves = check_int(func, "n_octaves", n_octaves, low=1, high=_max_octaves(gray.shape))
    return _sift(gray, n_scales, sigma, contrast_threshold, edge_ratio, n_octaves)


def check_sift_size(func, name, gray):
    """Raise ValueError unless a checked image is large enough for SIFT (``MIN_SIDE``)."""
    check_min_size(func, name, gray, MIN_SIDE)


def _sift(gray, n_scales=3, sigma=1.6, contrast_threshold=0.04, edge_ratio=10.0, n_octaves=None):
    """``sift`` of a checked (H, W) float32 image (at least 8x8); ``n_octaves`` None: as many as fit."""
    if n_octaves is None:
        n_octaves = _max_octaves(gray.shape)

    # Pre-filter candidates at half the final threshold, as the refined value is
    # usually larger in magnitude than the sample it started from.
    threshold = 0.5 * contrast_threshold / n_scales
    xy, scale, ori, octave, response, descs = [], [], [], [], [], []
    for o, gauss in enumerate(_scale_space(gray, n_scales, sigma, n_octaves)):
        dog = np.ascontiguousarray(gauss[1:] - gauss[:-1])
        cands = _k.find_extrema(dog, threshold, _BORDER)
        kps = _k.refine_extrema(dog, cands, n_scales, contrast_threshold, edge_ratio, _BORDER, _MAX_REFINE_STEPS)
        if len(kps) == 0:
            continue
        # Candidates that converged onto the same sample are one keypoint; twins would
        # also defeat the ratio test (their descriptors tie).
        _, first = np.unique(kps[:, :3], axis=0, return_index=True)
        kps = kps[np.sort(first)]
        mags = np.empty_like(gauss)
        angs = np.empty_like(gauss)
        for s in range(1, n_scales + 1):  # only the layers keypoints can live on
            mags[s], angs[s] = _k.gradient_polar(gauss[s])
        idx, theta, desc = _k.describe_octave(
            mags, angs, kps, n_scales, sigma, _ORI_BINS, _ORI_PEAK_RATIO, _DESC_WIDTH, _DESC_BINS, _DESC_CLIP
        )
        k = kps[idx]
        step = 2.0**o  # octave pixels -> upsampled-base pixels
        rows = (k[:, 1] + k[:, 4]) * step
        cols = (k[:, 2] + k[:, 5]) * step
        # Base pixel i is centred on input coordinate (i + 0.5) / 2 - 0.5.
        xy.append(np.column_stack([(cols + 0.5) / 2 - 0.5, (rows + 0.5) / 2 - 0.5]))
        scale.append(sigma * 2.0 ** ((k[:, 0] + k[:, 3]) / n_scales) * step / 2)
        ori.append(theta)
        octave.append(np.full(len(k), o - 1, dtype=np.int64))
        response.append(np.abs(k[:, 6]))
        descs.append(desc)
    if not xy:
        empty = np.zeros(0)
        return Keypoints(np.zeros((0, 2)), empty, empty, np.zeros(0, np.int64), empty), np.zeros((0, 128), np.float32)
    keypoints = Keypoints(
        np.concatenate(xy), np.concatenate(scale), np.concatenate(ori), np.concatenate(octave), np.concatenate(response)
    )
    return keypoints, np.concatenate(descs)
