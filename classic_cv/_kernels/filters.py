"""Numba kernels for linear filtering.

Borders are handled through *index maps* instead of padded copies: for an axis
of length ``n`` filtered with ``before``/``after`` extra samples, ``idx[p]`` is
the source index of padded position ``p`` (``-1`` meaning "use cval"). The
kernels gather one padded row at a time into a small buffer, which keeps the
working set in cache and avoids allocating a padded image.
"""
import numpy as np
from numba import njit


@njit(cache=True)
def _gather_row(src_row, idx, left, cval, buf):
    """buf = src_row padded through the index map ``idx`` built with ``left``
    samples before the row. Inside the row every map is the identity, so the
    bulk is one contiguous copy and only the pads are looked up."""
    w = src_row.shape[0]
    buf[left : left + w] = src_row
    for p in range(left):
        q = idx[p]
        buf[p] = src_row[q] if q >= 0 else cval
    for p in range(left + w, idx.shape[0]):
        q = idx[p]
        buf[p] = src_row[q] if q >= 0 else cval


@njit(cache=True)
def _row_pass(src_row, k_cols, idx_cols, cval, buf, out_row):
    """out_row = src_row (padded through ``idx_cols``) correlated with ``k_cols``."""
    w = out_row.shape[0]
    _gather_row(src_row, idx_cols, k_cols.shape[0] // 2, cval, buf)
    out_row[:] = 0.0
    # Taps in the outer loop: the inner loop over j is a contiguous multiply-add.
    for t in range(k_cols.shape[0]):
        c = k_cols[t]
        for j in range(w):
            out_row[j] += c * buf[j + t]


@njit(cache=True)
def correlate_separable(image, k_rows, k_cols, idx_rows, idx_cols, cval, out):
    """Correlate ``image`` (H, W) with ``k_cols`` along axis 1, then ``k_rows`` along axis 0.

    ``idx_cols`` has length W + len(k_cols) - 1 and ``idx_rows`` H + len(k_rows) - 1.
    Each 1-D pass pads its own input with ``cval`` in constant mode, exactly like
    two ``scipy.ndimage.correlate1d`` calls in sequence. Horizontally filtered
    rows are kept in a ring of len(k_rows) slots keyed by source row (a row is
    recomputed only if a border map sends two taps to the same slot), so no
    full-size intermediate is allocated: fresh memory is slow on these machines.
    ``out`` may not alias ``image``.
    """
    h, w = image.shape
    kw = k_cols.shape[0]
    kh = k_rows.shape[0]
    buf = np.empty(w + kw - 1, dtype=out.dtype)
    ring = np.empty((kh, w), dtype=out.dtype)
    held = np.full(kh, -1, dtype=np.int64)
    for i in range(h):
        row = out[i]
        row[:] = 0.0
        for t in range(kh):
            c = k_rows[t]
            q = idx_rows[i + t]
            if q < 0:
                for j in range(w):
                    row[j] += c * cval
                continue
            slot = q % kh
            if held[slot] != q:
                _row_pass(image[q], k_cols, idx_cols, cval, buf, ring[slot])
                held[slot] = q
            src = ring[slot]
            for j in range(w):
                row[j] += c * src[j]


@njit(cache=True)
def correlate2d(image, kernel, idx_rows, idx_cols, left, cval, out):
    """Direct 2-D correlation of ``image`` (H, W) with ``kernel`` (KH, KW) via
    index maps; ``idx_cols`` was built with ``left`` samples before each row."""
    h, w = image.shape
    kh, kw = kernel.shape
    buf = np.empty(w + kw - 1, dtype=out.dtype)
    for i in range(h):
        row = out[i]
        row[:] = 0.0
        for a in range(kh):
            q = idx_rows[i + a]
            if q >= 0:
                _gather_row(image[q], idx_cols, left, cval, buf)
            else:
                buf[:] = cval
            for b in range(kw):
                c = kernel[a, b]
                if c != 0.0:
                    for j in range(w):
                        row[j] += c * buf[j + b]


@njit(cache=True)
def warp_bilinear(image, inv, out_h, out_w, cval, nearest, out):
    """Sample ``image`` (H, W, C) at ``inv @ (x, y, 1)`` for every output pixel.

    ``inv`` (3, 3) maps output (x, y) to input (x, y) (projective divide
    included). Neighbours outside the image read ``cval`` unless ``nearest``,
    which clamps coordinates to the border.
    """
    h, w, nc = image.shape
    for i in range(out_h):
        for j in range(out_w):
            xs = inv[0, 0] * j + inv[0, 1] * i + inv[0, 2]
            ys = inv[1, 0] * j + inv[1, 1] * i + inv[1, 2]
            zs = inv[2, 0] * j + inv[2, 1] * i + inv[2, 2]
            if zs == 0.0:
                for c in range(nc):
                    out[i, j, c] = cval
                continue
            xs /= zs
            ys /= zs
            if nearest:
                xs = min(max(xs, 0.0), w - 1.0)
                ys = min(max(ys, 0.0), h - 1.0)
            elif not (-1.0 < xs < w and -1.0 < ys < h):
                for c in range(nc):
                    out[i, j, c] = cval
                continue
            x0 = int(np.floor(xs))
            y0 = int(np.floor(ys))
            fx = xs - x0
            fy = ys - y0
            if 0 <= x0 and x0 + 1 < w and 0 <= y0 and y0 + 1 < h:
                # All four neighbours inside: the common case, without per-sample tests.
                for c in range(nc):
                    top = (1.0 - fx) * image[y0, x0, c] + fx * image[y0, x0 + 1, c]
                    bottom = (1.0 - fx) * image[y0 + 1, x0, c] + fx * image[y0 + 1, x0 + 1, c]
                    out[i, j, c] = (1.0 - fy) * top + fy * bottom
                continue
            for c in range(nc):
                acc = 0.0
                for dy in range(2):
                    wy = fy if dy else 1.0 - fy
                    yy = y0 + dy
                    for dx in range(2):
                        wx = fx if dx else 1.0 - fx
                        xx = x0 + dx
                        if 0 <= yy < h and 0 <= xx < w:
                            v = image[yy, xx, c]
                        elif nearest:
                            v = image[min(max(yy, 0), h - 1), min(max(xx, 0), w - 1), c]
                        else:
                            v = cval
                        acc += wy * wx * v
                out[i, j, c] = acc



@njit(cache=True)
def _lerp_row(src_row, x0, x1, fx, cval, out_row):
    """out_row = src_row sampled at the taps ``x0``/``x1`` with weight ``fx`` on
    ``x1``; a tap of -1 reads ``cval``."""
    for j in range(out_row.shape[0]):
        a, b = x0[j], x1[j]
        va = src_row[a] if a >= 0 else cval
        vb = src_row[b] if b >= 0 else cval
        out_row[j] = va + fx[j] * (vb - va)


@njit(cache=True)
def resize_bilinear(image, y0, y1, fy, x0, x1, fx, cval, out):
    """Separable bilinear resampling of ``image`` (H, W) into ``out`` (H_out, W_out).

    Output row i blends source rows ``y0[i]``/``y1[i]`` with weight ``fy[i]`` on the
    second, and likewise for columns (a tap of -1 reads ``cval``). Each source row
    is interpolated along x once, into a cache slot chosen by its parity (the two
    taps of an output row are consecutive rows or one row twice); the blend along
    y is then a contiguous, vectorisable pass. ``warp_bilinear`` instead pays four
    gathers and a projective divide per output pixel.
    Interleaved channels work through a (H, W * C) view with taps per channel.
    """
    out_h, out_w = out.shape
    rows = np.empty((3, out_w), dtype=out.dtype)
    rows[2] = cval  # slot 2: the cval row read by tap -1
    held = np.full(2, -1, dtype=np.int64)
    for i in range(out_h):
        for q in (y0[i], y1[i]):
            if q >= 0 and held[q % 2] != q:
                _lerp_row(image[q], x0, x1, fx, cval, rows[q % 2])
                held[q % 2] = q
        top = rows[y0[i] % 2] if y0[i] >= 0 else rows[2]
        bottom = rows[y1[i] % 2] if y1[i] >= 0 else rows[2]
        f = fy[i]
        row = out[i]
        for j in range(out_w):
            row[j] = top[j] + f * (bottom[j] - top[j])
