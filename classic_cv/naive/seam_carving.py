"""Obviously-correct NumPy twins of ``classic_cv._kernels.seam``: the energy comes from
``filters.sobel``, the dynamic programme is written row by row, and the energy is
recomputed from scratch after every seam."""
import numpy as np

from .. import filters


def backward_energy(gray):
    """|Sobel x| + |Sobel y| of ``gray`` (H, W) with reflected borders."""
    gx, gy = filters.sobel(gray, mode="reflect")
    return np.abs(gx) + np.abs(gy)


def _pick(choices):
    """Row-wise argmin over stacked (left, middle, right) costs; ties go left."""
    off = np.argmin(choices, axis=0)
    return choices[off, np.arange(choices.shape[1])], off - 1


def _backtrack(last, parent):
    c = int(np.argmin(last))
    seam = np.empty(len(parent), dtype=np.int64)
    for r in range(len(parent) - 1, -1, -1):
        seam[r] = c
        c += parent[r][c]
    return seam, last.min()


def backward_seam(energy, aux):
    """Minimal vertical seam of ``energy + aux`` (H, W): (seam (H,), cost)."""
    total = energy + aux
    h, w = total.shape
    cost = total[0].copy()
    parent = [np.zeros(w, dtype=np.int64)]
    for r in range(1, h):
        padded = np.concatenate([[np.inf], cost, [np.inf]])
        best, off = _pick(np.stack([padded[:-2], padded[1:-1], padded[2:]]))
        cost = best + total[r]
        parent.append(off)
    return _backtrack(cost, parent)


def forward_seam(gray, aux):
    """Minimal vertical seam under forward energy, borders replicated: (seam, cost)."""
    h, w = gray.shape
    padded_gray = np.pad(gray, ((0, 0), (1, 1)), mode="edge")
    left, right = padded_gray[:, :-2], padded_gray[:, 2:]
    cu = np.abs(right - left)
    cost = cu[0] + aux[0]
    parent = [np.zeros(w, dtype=np.int64)]
    for r in range(1, h):
        up = gray[r - 1]
        cl = cu[r] + np.abs(up - left[r])
        cr = cu[r] + np.abs(up - right[r])
        padded = np.concatenate([[np.inf], cost, [np.inf]])
        best, off = _pick(np.stack([padded[:-2] + cl, padded[1:-1] + cu[r], padded[2:] + cr]))
        cost = best + aux[r]
        parent.append(off)
    return _backtrack(cost, parent)


def carve_vertical(image, gray, aux, k, forward):
    """Remove ``k`` vertical seams one at a time, recomputing everything each time.

    Returns ``(image (H, W-k, C), removed (H, W) bool, costs (k,))``.
    """
    h, w = gray.shape
    index = np.tile(np.arange(w), (h, 1))
    removed = np.zeros((h, w), dtype=bool)
    costs = []
    rows = np.arange(h)
    for _ in range(k):
        if forward:
            seam, cost = forward_seam(gray, aux)
        else:
            seam, cost = backward_seam(backward_energy(gray), aux)
        costs.append(cost)
        removed[rows, index[rows, seam]] = True
        keep = np.ones(gray.shape, dtype=bool)
        keep[rows, seam] = False
        cur_w = gray.shape[1] - 1
        image = image[keep].reshape(h, cur_w, image.shape[2])
        gray = gray[keep].reshape(h, cur_w)
        aux = aux[keep].reshape(h, cur_w)
        index = index[keep].reshape(h, cur_w)
    return image, removed, np.array(costs)


def insert_seams(image, removed):
    """Before each pixel marked in ``removed`` insert the mean of it and its left neighbour."""
    h, w, _ = image.shape
    rows = []
    for r in range(h):
        row = []
        for c in range(w):
            if removed[r, c]:
                row.append(0.5 * (image[r, max(c - 1, 0)] + image[r, c]))
            row.append(image[r, c])
        rows.append(np.stack(row))
    return np.stack(rows)
