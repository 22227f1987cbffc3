"""Numba kernels for corner detection: streamed structure tensor and corner
responses, separable maximum filter, greedy peak spacing."""
import numpy as np
from numba import njit

from .filters import _gather_row


# What ``corner_response`` writes for each output row.
TENSOR, HARRIS_K, HARRIS_EPS, MIN_EIGENVALUE = 0, 1, 2, 3


@njit(cache=True)
def _product_row(image, q, window, idx_r1, idx_c1, idx_c, cval, up, mid, dn, prr, prc, pcc, out_rr, out_rc, out_cc):
    """Sobel products of input row ``q``, windowed along the row, into ``out_*`` (W,)."""
    w = image.shape[1]
    kw = window.shape[0]
    rad = kw // 2
    for buf, k in ((up, 0), (mid, 1), (dn, 2)):
        r = idx_r1[q + k]
        if r >= 0:
            _gather_row(image[r], idx_c1, 1, cval, buf)
        else:
            buf[:] = cval
    for j in range(w):
        # Doubling by addition keeps float32 rows in float32 (an integer 2 would
        # promote the arithmetic to float64 and halve the vector width).
        centre_r = dn[j + 1] - up[j + 1]
        centre_c = mid[j + 2] - mid[j]
        gr = (dn[j] - up[j]) + (centre_r + centre_r) + (dn[j + 2] - up[j + 2])
        gc = (up[j + 2] - up[j]) + (centre_c + centre_c) + (dn[j + 2] - dn[j])
        prr[j + rad] = gr * gr
        prc[j + rad] = gr * gc
        pcc[j + rad] = gc * gc
    # Border samples of the product row, through the same index map.
    for p in range(rad):
        for pad in (p, w + rad + p):
            r = idx_c[pad]
            prr[pad] = prr[r + rad] if r >= 0 else cval
            prc[pad] = prc[r + rad] if r >= 0 else cval
            pcc[pad] = pcc[r + rad] if r >= 0 else cval
    out_rr[:] = 0
    out_rc[:] = 0
    out_cc[:] = 0
    for t in range(kw):
        c = window[t]
        for j in range(w):
            out_rr[j] += c * prr[j + t]
            out_rc[j] += c * prc[j + t]
            out_cc[j] += c * pcc[j + t]


@njit(cache=True)
def corner_response(image, window, idx_r1, idx_c1, idx_r, idx_c, cval, what, k, eps, out0, out1, out2):
    """Structure tensor of ``image`` (H, W) with a separable Gaussian ``window``,
    and optionally a corner response, streamed row by row.

    Sobel derivatives ``Ir`` (down the rows) and ``Ic`` (along) use index maps
    ``idx_r1``/``idx_c1`` (pad 1); the window uses ``idx_r``/``idx_c`` (pad
    ``len(window) // 2``); map entries of -1 read ``cval`` (input pixels for the
    Sobel stencil, windowed products for the vertical pass, as a chain of 1-D
    filters would). Horizontally windowed product rows live in a ring of
    ``len(window)`` slots keyed by source row, so no full-size intermediate is
    allocated: on these machines fresh memory costs more than the arithmetic.

    ``what``: TENSOR writes Arr, Arc, Acc to ``out0..2``; HARRIS_K writes
    ``det - k tr^2``, HARRIS_EPS ``2 det / (tr + eps)``, MIN_EIGENVALUE the
    smaller eigenvalue, each to ``out0`` only.
    """
    h, w = image.shape
    kw = window.shape[0]
    rad = kw // 2
    dt = out0.dtype
    up = np.empty(w + 2, dtype=image.dtype)
    mid = np.empty(w + 2, dtype=image.dtype)
    dn = np.empty(w + 2, dtype=image.dtype)
    prr = np.empty(w + 2 * rad, dtype=dt)
    prc = np.empty(w + 2 * rad, dtype=dt)
    pcc = np.empty(w + 2 * rad, dtype=dt)
    ring = np.empty((3, kw, w), dtype=dt)
    held = np.full(kw, -1, dtype=np.int64)  # source row held by each ring slot
    arr = np.empty(w, dtype=dt)
    arc = np.empty(w, dtype=dt)
    acc = np.empty(w, dtype=dt)
    for i in range(h):
        arr[:] = 0
        arc[:] = 0
        acc[:] = 0
        for t in range(kw):
            c = window[t]
            q = idx_r[i + t]
            if q < 0:
                for j in range(w):
                    arr[j] += c * cval
                    arc[j] += c * cval
                    acc[j] += c * cval
                continue
            slot = q % kw
            if held[slot] != q:
                _product_row(image, q, window, idx_r1, idx_c1, idx_c, cval, up, mid, dn, prr, prc, pcc,
                             ring[0, slot], ring[1, slot], ring[2, slot])
                held[slot] = q
            a = ring[0, slot]
            b = ring[1, slot]
            d = ring[2, slot]
            for j in range(w):
                arr[j] += c * a[j]
                arc[j] += c * b[j]
                acc[j] += c * d[j]
        if what == TENSOR:
            out0[i] = arr
            out1[i] = arc
            out2[i] = acc
            continue
        # One loop per response, so the choice is not re-tested per pixel.
        row = out0[i]
        if what == HARRIS_K:
            for j in range(w):
                tr = arr[j] + acc[j]
                row[j] = (arr[j] * acc[j] - arc[j] * arc[j]) - k * (tr * tr)
        elif what == HARRIS_EPS:
            for j in range(w):
                det = arr[j] * acc[j] - arc[j] * arc[j]
                row[j] = (det + det) / (arr[j] + acc[j] + eps)
        else:
            for j in range(w):
                d = arr[j] - acc[j]
                b2 = arc[j] + arc[j]
                row[j] = ((arr[j] + acc[j]) - np.sqrt(d * d + b2 * b2)) / 2


@njit(cache=True)
def max_filter(image, radius, out):
    """Maximum over the (2r+1)^2 window clipped to the image (separable: rows, then columns)."""
    h, w = image.shape
    tmp = np.empty_like(image)
    for i in range(h):
        for j in range(w):
            m = image[i, j]
            for jj in range(max(j - radius, 0), min(j + radius + 1, w)):
                if image[i, jj] > m:
                    m = image[i, jj]
            tmp[i, j] = m
    for i in range(h):
        out[i] = tmp[i]
        for ii in range(max(i - radius, 0), min(i + radius + 1, h)):
            for j in range(w):
                if tmp[ii, j] > out[i, j]:
                    out[i, j] = tmp[ii, j]


@njit(cache=True)
def greedy_spacing(rows, cols, shape, min_distance, max_count):
    """Keep candidates (already sorted strongest first) that have no kept peak
    within Chebyshev distance ``min_distance``; stop after ``max_count``.

    A raster of kept peaks makes each test a (2d+1)^2 window lookup.
    Returns the indices of the kept candidates.
    """
    h, w = shape
    taken = np.zeros((h, w), dtype=np.bool_)
    keep = np.empty(rows.shape[0], dtype=np.int64)
    n = 0
    for c in range(rows.shape[0]):
        if n >= max_count:
            break
        r0 = rows[c]
        c0 = cols[c]
        free = True
        for i in range(max(r0 - min_distance, 0), min(r0 + min_distance + 1, h)):
            for j in range(max(c0 - min_distance, 0), min(c0 + min_distance + 1, w)):
                if taken[i, j]:
                    free = False
                    break
            if not free:
                break
        if free:
            taken[r0, c0] = True
            keep[n] = c
            n += 1
    return keep[:n]
