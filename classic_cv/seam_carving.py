"""Content-aware resizing by seam carving (Avidan & Shamir 2007; forward energy from
Rubinstein, Shamir & Avidan 2008).

A vertical seam is an 8-connected path of one pixel per row; removing the seam of
least energy narrows the image while sparing its structure. Energy is either
*backward* (``|d/dx| + |d/dy|`` of the luminance, Sobel, recomputed after each seam)
or *forward* (the intensity jumps a removal would create). Horizontal seams are
vertical seams of the transposed image.
"""
import numpy as np

from minigrad.validation import check_bool, check_choice, check_int

from ._kernels import seam as _k
from ._validate import as_float_image, check_mask, luminance

__all__ = ["energy_map", "find_seam", "seam_carve", "remove_object"]

ENERGIES = ("backward", "forward")
# Extra energy on masked pixels: large enough to dominate any seam's image energy
# (at most 8 * value range * height), small enough to keep float64 resolution.
_MASK_ENERGY = 1e9


def energy_map(image):
    """Backward energy ``|Sobel x| + |Sobel y|`` of the luminance (reflected borders).

    Parameters
    ----------
    image : (H, W) or (H, W, 3), values in their own scale (uint8 stays 0..255)

    Returns
    -------
    energy : (H, W) float64
    """
    image = _as_values("energy_map", image)
    return _k.backward_energy(_luminance(image), image.shape[1])


def find_seam(energy):
    """Minimal vertical seam of an energy map.

    Parameters
    ----------
    energy : (H, W) float

    Returns
    -------
    seam : (H,) int64, the column of the seam in each row
    cost : float, the summed energy along it
    """
    energy = as_float_image("find_seam", "energy", energy, ndim=2, dtype=np.float64)
    seam = np.empty(energy.shape[0], dtype=np.int64)
    cost = _k.backward_seam(energy, np.zeros_like(energy), energy.shape[1], seam)
    return seam, cost


def _as_values(func, image):
    """Check and return the image as float64 (H, W, C) *without* rescaling integers:
    seams do not depend on the intensity scale and the result is cast back."""
    image = as_float_image(func, "image", image, dtype=np.float64, scale_integers=False)
    if image.ndim == 3 and image.shape[2] != 3:
        raise ValueError(f"{func}: image must be (H, W) or (H, W, 3), got shape {image.shape}")
    # No copy: the carving steps copy before they work in place.
    return image if image.ndim == 3 else image[:, :, None]


def _luminance(values):
    return np.ascontiguousarray(luminance(values) if values.shape[2] == 3 else values[:, :, 0])


def _restore(values, like):
    """Cast carved float values back to the input's dtype and dimensionality."""
    out = values if like.ndim == 3 else values[:, :, 0]
    if like.dtype.kind in "iu":
        info = np.iinfo(like.dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(like.dtype)
    if like.dtype.kind == "b":
        return out >= 0.5
    return out.astype(like.dtype if like.dtype.kind == "f" else np.float64)


def _shrink(values, aux, k, forward):
    """Remove k vertical seams from values (H, W, C); returns (values, aux, removed)."""
    w = values.shape[1]
    values = values.copy()
    aux = aux.copy()
    gray = _luminance(values)
    removed, _ = _k.carve_vertical(values, gray, aux, k, forward)
    return values[:, : w - k].copy(), aux[:, : w - k].copy(), removed


def _enlarge(values, aux, k, forward):
    """Insert k seams: find the k cheapest seams at once (as if removing them) and
    duplicate each; in steps of at most half the width so no seam repeats."""
    while k > 0:
        step = min(k, max(1, values.shape[1] // 2))
        _, _, removed = _shrink(values, aux, step, forward)
        values = _k.insert_seams(values, removed, step)
        aux = _k.insert_seams(aux[:, :, None], removed, step)[:, :, 0]
        k -= step
    return values, aux


def _resize_width(values, aux, width, forward):
    w = values.shape[1]
    if width < w:
        values, aux, _ = _shrink(values, aux, w - width, forward)
    elif width > w:
        values, aux = _enlarge(values, aux, width - w, forward)
    return values, aux


def _transpose(values, aux):
    return np.ascontiguousarray(values.transpose(1, 0, 2)), np.ascontiguousarray(aux.T)


def _check_size(func, name, value, current):
    return current if value is None else check_int(func, name, value, low=1)


def seam_carve(image, height=None, width=None, energy="backward", protect=None):
    """Resize ``image`` to ``(height, width)`` by removing or inserting seams.

    Widths are changed first (vertical seams), then heights (horizontal seams).
    Enlarging finds the k cheapest seams at once and duplicates each (the inserted
    pixel, placed before the seam pixel, is the mean of it and its left neighbour).

    Parameters
    ----------
    image : (H, W) or (H, W, 3), any real dtype; values keep their scale
    height, width : int >= 1 or None (keep)
    energy : {'backward', 'forward'}
    protect : (H, W) bool or None
        Pixels seams should avoid (they get a very large energy).

    Returns
    -------
    carved : (height, width[, 3]), same dtype as ``image``
    """
    func = "seam_carve"
    values = _as_values(func, image)
    h, w = values.shape[:2]
    height = _check_size(func, "height", height, h)
    width = _check_size(func, "width", width, w)
    forward = check_choice(func, "energy", energy, ENERGIES) == "forward"
    aux = _protect_energy(func, protect, (h, w))
    values, aux = _resize_width(values, aux, width, forward)
    if height != h:
        values, aux = _transpose(values, aux)
        values, aux = _resize_width(values, aux, height, forward)
        values, aux = _transpose(values, aux)
    return _restore(values, image)


def _protect_energy(func, protect, shape):
    protect = check_mask(func, "protect", protect, shape, optional=True)
    aux = np.zeros(shape)
    if protect is not None:
        aux[protect] = _MASK_ENERGY
    return aux


def remove_object(image, mask, protect=None, energy="backward", restore_size=True):
    """Remove the pixels of ``mask`` by carving seams through them.

    Seams run along the object's longer side (vertical seams when the object is
    narrower than tall). Masked pixels get a very negative energy, protected pixels
    a very positive one; seams are removed until no masked pixel is left.

    Parameters
    ----------
    image : (H, W) or (H, W, 3)
    mask : (H, W) bool, the object to remove (non-empty)
    protect : (H, W) bool or None, pixels to keep (must not overlap ``mask``)
    energy : {'backward', 'forward'}
    restore_size : bool
        Insert as many seams afterwards to return to (H, W).

    Returns
    -------
    out : same dtype as ``image``; (H, W[, 3]) if ``restore_size`` else narrower
        (or shorter) by the number of seams removed.
    """
    func = "remove_object"
    values = _as_values(func, image)
    shape = values.shape[:2]
    mask = check_mask(func, "mask", mask, shape)
    if not mask.any():
        raise ValueError(f"{func}: mask must select at least one pixel, got an empty mask")
    forward = check_choice(func, "energy", energy, ENERGIES) == "forward"
    restore_size = check_bool(func, "restore_size", restore_size)
    aux = _protect_energy(func, protect, shape)
    if protect is not None and (mask & (aux > 0)).any():
        raise ValueError(f"{func}: mask and protect must not overlap")
    aux[mask] = -_MASK_ENERGY
    rows, cols = np.nonzero(mask)
    horizontal = (cols.max() - cols.min()) > (rows.max() - rows.min())
    if horizontal:
        values, aux = _transpose(values, aux)
    removed = 0
    while (aux < 0).any():
        # Each seam takes at most one masked pixel per row, so at least this many are needed.
        k = int((aux < 0).sum(axis=1).max())
        if k >= values.shape[1]:
            raise ValueError(f"{func}: mask covers (almost) a whole row; cannot carve it away")
        values, aux, _ = _shrink(values, aux, k, forward)
        removed += k
    if restore_size:
        values, aux = _enlarge(values, np.maximum(aux, 0.0), removed, forward)
    if horizontal:
        values, aux = _transpose(values, aux)
    return _restore(values, image)
