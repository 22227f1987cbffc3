"""Numba kernels for seam carving (plain loops twins: ``classic_cv.naive.seam_carving``).

All kernels work on vertical seams over the first ``w`` columns of arrays that are
shrunk in place: removing a seam shifts the rest of each row one column left, so no
array is reallocated while carving. Horizontal seams are vertical seams of the
transposed image.
"""
import numpy as np
from numba import njit


@njit(cache=True)
def _reflect(i, n):
    # scipy.ndimage 'reflect' for one sample of overshoot: -1 -> 0, n -> n - 1.
    if i < 0:
        return -i - 1
    if i >= n:
        return 2 * n - 1 - i
    return i


@njit(cache=True)
def _pixel_energy(gray, h, w, r, c):
    """|Sobel x| + |Sobel y| at (r, c) of ``gray[:h, :w]`` with reflected borders."""
    r0, r2 = _reflect(r - 1, h), _reflect(r + 1, h)
    c0, c2 = _reflect(c - 1, w), _reflect(c + 1, w)
    gx = (gray[r0, c2] - gray[r0, c0]) + 2.0 * (gray[r, c2] - gray[r, c0]) + (gray[r2, c2] - gray[r2, c0])
    gy = (gray[r2, c0] - gray[r0, c0]) + 2.0 * (gray[r2, c] - gray[r0, c]) + (gray[r2, c2] - gray[r0, c2])
    return abs(gx) + abs(gy)


@njit(cache=True)
def backward_energy(gray, w):
    """Backward energy map (H, w) of ``gray[:, :w]``."""
    h = gray.shape[0]
    out = np.empty((h, w), dtype=gray.dtype)
    for r in range(h):
        for c in range(w):
            out[r, c] = _pixel_energy(gray, h, w, r, c)
    return out


@njit(cache=True)
def backward_seam(energy, aux, w, seam):
    """Minimal vertical seam of ``energy[:, :w] + aux[:, :w]`` written into ``seam`` (H,).

    Ties prefer the left parent, then the middle (``np.argmin`` order). Returns its cost.
    """
    h = energy.shape[0]
    parent = np.empty((h, w), dtype=np.int8)
    prev = np.empty(w)
    cur = np.empty(w)
    for c in range(w):
        prev[c] = energy[0, c] + aux[0, c]
    for r in range(1, h):
        for c in range(w):
            best = np.inf
            off = 0
            if c > 0:
                best = prev[c - 1]
                off = -1
            if prev[c] < best:
                best = prev[c]
                off = 0
            if c + 1 < w and prev[c + 1] < best:
                best = prev[c + 1]
                off = 1
            cur[c] = best + energy[r, c] + aux[r, c]
            parent[r, c] = off
        prev, cur = cur, prev
    return _backtrack(prev, parent, h, w, seam)


@njit(cache=True)
def _backtrack(last, parent, h, w, seam):
    c = 0
    for j in range(1, w):
        if last[j] < last[c]:
            c = j
    total = last[c]
    for r in range(h - 1, -1, -1):
        seam[r] = c
        c += parent[r, c]
    return total


@njit(cache=True)
def _forward_step(prev, gray, r, c, w):
    """Cheapest forward-energy cost into (r, c) and its parent offset; borders
    replicated, ties prefer left then middle."""
    left = gray[r, max(c - 1, 0)]
    right = gray[r, min(c + 1, w - 1)]
    up = gray[r - 1, c]
    cu = abs(right - left)
    best = np.inf
    off = 0
    if c > 0:
        best = prev[c - 1] + cu + abs(up - left)
        off = -1
    if prev[c] + cu < best:
        best = prev[c] + cu
        off = 0
    if c + 1 < w and prev[c + 1] + cu + abs(up - right) < best:
        best = prev[c + 1] + cu + abs(up - right)
        off = 1
    return best, off


@njit(cache=True)
def forward_seam(gray, aux, w, seam):
    """Minimal vertical seam under forward energy (Rubinstein et al. 2008) of
    ``gray[:, :w]`` plus ``aux[:, :w]``, borders replicated; written into ``seam``."""
    h = gray.shape[0]
    parent = np.empty((h, w), dtype=np.int8)
    prev = np.empty(w)
    cur = np.empty(w)
    for c in range(w):
        prev[c] = abs(gray[0, min(c + 1, w - 1)] - gray[0, max(c - 1, 0)]) + aux[0, c]
    for r in range(1, h):
        best, off = _forward_step(prev, gray, r, 0, w)
        cur[0] = best + aux[r, 0]
        parent[r, 0] = off
        # Interior columns: the same step without border clamps, so the loop stays
        # branch-light (this is the hot loop of forward-energy carving).
        for c in range(1, w - 1):
            left = gray[r, c - 1]
            right = gray[r, c + 1]
            up = gray[r - 1, c]
            cu = abs(right - left)
            best = prev[c - 1] + cu + abs(up - left)
            off = -1
            mid = prev[c] + cu
            if mid < best:
                best = mid
                off = 0
            rgt = prev[c + 1] + cu + abs(up - right)
            if rgt < best:
                best = rgt
                off = 1
            cur[c] = best + aux[r, c]
            parent[r, c] = off
        if w > 1:
            best, off = _forward_step(prev, gray, r, w - 1, w)
            cur[w - 1] = best + aux[r, w - 1]
            parent[r, w - 1] = off
        prev, cur = cur, prev
    return _backtrack(prev, parent, h, w, seam)


@njit(cache=True)
def remove_seam(seam, w, image, gray, aux, index):
    """Delete pixel ``seam[r]`` from row r of every array (first ``w`` columns valid)."""
    h = gray.shape[0]
    nc = image.shape[2]
    for r in range(h):
        for c in range(seam[r], w - 1):
            for k in range(nc):
                image[r, c, k] = image[r, c + 1, k]
            gray[r, c] = gray[r, c + 1]
            aux[r, c] = aux[r, c + 1]
            index[r, c] = index[r, c + 1]


@njit(cache=True)
def update_energy(energy, gray, seam, w):
    """After ``seam`` was removed (``gray`` now ``w`` wide), shift ``energy`` rows and
    recompute only the columns whose 3x3 neighbourhood changed: those between the
    leftmost seam column of rows r-1..r+1 minus one and the rightmost."""
    h = gray.shape[0]
    for r in range(h):
        s = seam[r]
        for c in range(s, w):
            energy[r, c] = energy[r, c + 1]
    for r in range(h):
        lo = seam[r]
        hi = seam[r]
        for q in (r - 1, r + 1):
            if 0 <= q < h:
                lo = min(lo, seam[q])
                hi = max(hi, seam[q])
        for c in range(max(lo - 2, 0), min(hi + 2, w)):
            energy[r, c] = _pixel_energy(gray, h, w, r, c)


@njit(cache=True)
def carve_vertical(image, gray, aux, k, forward):
    """Remove ``k`` minimal vertical seams one after the other, in place.

    Parameters
    ----------
    image : (H, W, C) float64, shrunk in place (first W - k columns valid on return)
    gray : (H, W) float64 luminance driving the energy, shrunk alongside
    aux : (H, W) float64 extra energy (masks), shrunk alongside
    k : int, number of seams (< W)
    forward : bool, forward energy instead of backward

    Returns
    -------
    removed : (H, W) bool, the removed pixels in original coordinates
    costs : (k,) float64, cost of each seam when it was removed
    """
    h, w = gray.shape
    index = np.empty((h, w), dtype=np.int64)
    for r in range(h):
        for c in range(w):
            index[r, c] = c
    removed = np.zeros((h, w), dtype=np.bool_)
    costs = np.empty(k)
    seam = np.empty(h, dtype=np.int64)
    energy = backward_energy(gray, w) if not forward else np.empty((0, 0))
    for i in range(k):
        if forward:
            costs[i] = forward_seam(gray, aux, w, seam)
        else:
            costs[i] = backward_seam(energy, aux, w, seam)
        for r in range(h):
            removed[r, index[r, seam[r]]] = True
        remove_seam(seam, w, image, gray, aux, index)
        w -= 1
        if not forward:
            update_energy(energy, gray, seam, w)
    return removed, costs


@njit(cache=True)
def insert_seams(image, removed, k):
    """Widen ``image`` (H, W, C) by ``k``: before every pixel marked in ``removed``
    (exactly k per row) insert the mean of it and its left neighbour."""
    h, w, nc = image.shape
    out = np.empty((h, w + k, nc), dtype=image.dtype)
    for r in range(h):
        j = 0
        for c in range(w):
            if removed[r, c]:
                cl = max(c - 1, 0)
                for ch in range(nc):
                    out[r, j, ch] = 0.5 * (image[r, cl, ch] + image[r, c, ch])
                j += 1
            for ch in range(nc):
                out[r, j, ch] = image[r, c, ch]
            j += 1
    return out
