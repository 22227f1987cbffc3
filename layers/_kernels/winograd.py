"""Numba kernels for Winograd's F(2x2, 3x3) convolution.

A 3x3 stride-1 correlation computes each 2x2 block of outputs ("tile") from
the 4x4 block of the zero-padded input under it. Winograd's minimal filtering
algorithm does it with 16 multiplications per channel pair where the direct
sum takes 36::

    Y = A^T [ sum over c of (G w[f, c] G^T) * (B^T d[c] B) ] A

where ``*`` is the element-wise product of 4x4 matrices, d[c] the input tile
of channel c, and A (4x2), B (4x4), G (4x3) the constant matrices below. Seen
per position p of the 4x4 matrices, the sum over channels is one GEMM:
``M[p] = V[p] @ U[p]``, V (tiles, C) the transformed input, U (C, F) the
transformed weights. The GEMMs are BLAS's, at its full rate; the transforms
are additions and subtractions only.

Layout. The GEMMs want the channels contiguous, so a chunk of images is first
copied channels-last, zero-padded, with its even and odd columns apart
(``_place_tile_rows``): xp (K, 2*TH + 2, 2, TW + 1, C), xp[n, y, q, j, c] the
padded image's pixel (y, 2*j + q) of channel c. Then every loop of the
transforms runs over one tile row's TW*C contiguous values, which LLVM
vectorises; over the 4 values of a tile, or the C channels of one pixel, the
loops were too short (3-10x slower).

The weight side (``G w G^T`` and its adjoint) is a few NumPy products in
``layers.conv``; these kernels take the transformed weights.

Accuracy: the transforms add up to 9 values with coefficients of 1 and 1/2, so
the float32 outputs differ from the direct sums by a few units in the last
place of the largest input term (tests hold them to the direct kernels).
"""
import numpy as np
from numba import njit, uintp

from ._fastmath import JIT_OPTIONS

# The matrices, written out as additions in the kernels below (G is applied in layers.conv):
# B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
# A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]
# G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
WEIGHT_TRANSFORM = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])


def tiles_of(out_hw):
    """Tiles (TH, TW) that cover an output of ``out_hw`` (OH, OW): the last ones may hang over."""
    return (out_hw[0] + 1) // 2, (out_hw[1] + 1) // 2


@njit(**JIT_OPTIONS)
def _place_tile_rows(img, n0, count, ph, pw, xp):
    """xp[:count] (K, HP, 2, WH, C) <- images img[n0:n0 + count] (N, C, H, W) zero-padded by
    (ph, pw), channels last, even and odd columns apart: xp[n, y, x % 2, x // 2, c] is the
    padded image's pixel (y, x) of channel c."""
    n_ch, h, w = img.shape[1], img.shape[2], img.shape[3]
    xp[:count] = 0
    for n in range(count):
        planes = img[n0 + n].reshape(n_ch, h * w)
        for y in range(h):
            row = xp[n, y + ph]
            for x in range(w):
                # One pixel's channels, read across the planes: twice as fast as running
                # along each plane's row and writing across the channels (0.35 against
                # 0.6-0.7 ns per value, 32 and 64 channels).
                pixel, k = row[(x + pw) & 1, (x + pw) >> 1], y * w + x
                for c in range(n_ch):
                    pixel[c] = planes[c, k]


@njit(**JIT_OPTIONS)
def _input_tiles(xp, count, th, tw, v, s):
    """v (16, count*TH*TW*C) <- B^T d B of every tile of xp[:count] (see _place_tile_rows),
    v[p] laid out as (tiles, C), tiles in (image, tile row, tile column) order.
    s: scratch (4, 2*WH*C)."""
    n_ch = xp.shape[4]
    wh = xp.shape[3]
    row = 2 * wh * n_ch   # one padded row: its even columns, then its odd ones
    half = wh * n_ch
    span = tw * n_ch      # one tile row of v[p]
    s0, s1, s2, s3 = s[0], s[1], s[2], s[3]
    flat = xp.reshape(-1)
    for n in range(count):
        for ty in range(th):
            base = (n * xp.shape[1] + 2 * ty) * row
            d0 = flat[base:base + row]
            d1 = flat[base + row:base + 2 * row]
            d2 = flat[base + 2 * row:base + 3 * row]
            d3 = flat[base + 3 * row:base + 4 * row]
            # B^T d, along whole padded rows; each loop writes one array (few alias checks).
            for i in range(row):
                s0[i] = d0[i] - d2[i]
            for i in range(row):
                s1[i] = d1[i] + d2[i]
            for i in range(row):
                s2[i] = d2[i] - d1[i]
            for i in range(row):
                s3[i] = d1[i] - d3[i]
            # (B^T d) B: tile column tx reads padded columns 2tx .. 2tx + 3, which are even
            # column tx, odd tx, even tx + 1 and odd tx + 1. Shifted slices, not [i + C]
            # indices: those kept LLVM from vectorising (10x slower).
            o = (n * th + ty) * span
            for a in range(4):
                e0, e1 = s[a, :span], s[a, n_ch:n_ch + span]
                o0, o1 = s[a, half:half + span], s[a, half + n_ch:half + n_ch + span]
                v0, v1 = v[4 * a, o:o + span], v[4 * a + 1, o:o + span]
                v2, v3 = v[4 * a + 2, o:o + span], v[4 * a + 3, o:o + span]
                for i in range(span):
                    v0[i] = e0[i] - e1[i]
                for i in range(span):
                    v1[i] = o0[i] + e1[i]
                for i in range(span):
                    v2[i] = e1[i] - o0[i]
                for i in range(span):
                    v3[i] = o0[i] - o1[i]


@njit(**JIT_OPTIONS)
def _output_tiles(m, count, th, tw, bias, out, n0, r, y):
    """out[n0:n0 + count] (N, F, OH, OW) <- A^T M A + bias of the tiles in m (16, count*TH*TW*F),
    m[p] laid out as (tiles, F). r: scratch (8, TW*F); y: scratch (2*TH, 2, TW, F)."""
    n_filt, oh, ow = out.shape[1], out.shape[2], out.shape[3]
    span = tw * n_filt
    for n in range(count):
        for ty in range(th):
            o = (n * th + ty) * span
            for j in range(4):  # A^T M, column j of each tile
                m0, m1 = m[j, o:o + span], m[4 + j, o:o + span]
                m2, m3 = m[8 + j, o:o + span], m[12 + j, o:o + span]
                d0, d1 = r[j], r[4 + j]
                for i in range(span):
                    d0[i] = m0[i] + m1[i] + m2[i]
                for i in range(span):
                    d1[i] = m1[i] - m2[i] - m3[i]
            for q in range(2):  # (A^T M) A: output row 2ty + q, even and odd columns
                e0, e1, e2, e3 = r[4 * q], r[4 * q + 1], r[4 * q + 2], r[4 * q + 3]
                even, odd = y[2 * ty + q, 0].reshape(-1), y[2 * ty + q, 1].reshape(-1)
                for i in range(span):
                    even[i] = e0[i] + e1[i] + e2[i]
                for i in range(span):
                    odd[i] = e1[i] - e2[i] - e3[i]
        # Back to (F, OH, OW): a transpose, the rows and columns past the output dropped.
        for yy in range(oh):
            even, odd = y[yy, 0], y[yy, 1]
            for f in range(n_filt):
                b, target = bias[f], out[n0 + n, f, yy]
                for k in range(ow >> 1):
                    target[uintp(2 * k)] = even[uintp(k), f] + b
                    target[uintp(2 * k + 1)] = odd[uintp(k), f] + b
                if ow & 1:
                    target[ow - 1] = even[ow >> 1, f] + b


@njit(**JIT_OPTIONS)
def _grad_tiles(grad, n0, count, th, tw, g, mg, r):
    """mg (16, count*TH*TW*F) <- A dY A^T of every 2x2 tile of grad[n0:n0 + count] (N, F, OH, OW),
    laid out as in ``_output_tiles`` (zero where a tile hangs over the output): the gradient
    of ``_output_tiles``' M. g: scratch (2*TH, 2, TW, F); r: scratch (8, TW*F)."""
    n_filt, oh, ow = grad.shape[1], grad.shape[2], grad.shape[3]
    span = tw * n_filt
    for n in range(count):
        g[...] = 0
        planes = grad[n0 + n].reshape(n_filt, oh * ow)
        for yy in range(oh):
            for x in range(ow):
                pixel, k = g[yy, x & 1, x >> 1], yy * ow + x
                for f in range(n_filt):
                    pixel[f] = planes[f, k]
        for ty in range(th):
            # A e, A = [[1, 0], [1, 1], [1, -1], [0, -1]] (4x2): row k, tile column q in r[2k + q].
            for q in range(2):
                e0, e1 = g[2 * ty, q].reshape(-1), g[2 * ty + 1, q].reshape(-1)
                k0, k1, k2, k3 = r[q], r[2 + q], r[4 + q], r[6 + q]
                for i in range(span):
                    k0[i] = e0[i]
                for i in range(span):
                    k1[i] = e0[i] + e1[i]
                for i in range(span):
                    k2[i] = e0[i] - e1[i]
                for i in range(span):
                    k3[i] = -e1[i]
            # (A e) A^T: the same combinations of each row's two columns.
            o = (n * th + ty) * span
            for a in range(4):
                c0, c1 = r[2 * a], r[2 * a + 1]
                t0, t1 = mg[4 * a, o:o + span], mg[4 * a + 1, o:o + span]
                t2, t3 = mg[4 * a + 2, o:o + span], mg[4 * a + 3, o:o + span]
                for i in range(span):
                    t0[i] = c0[i]
                for i in range(span):
                    t1[i] = c0[i] + c1[i]
                for i in range(span):
                    t2[i] = c0[i] - c1[i]
                for i in range(span):
                    t3[i] = -c1[i]


def chunk_images(n_ch, n_filt, th, tw, itemsize, budget=1 << 20):
    """Images per chunk: the chunk's transformed input and output (16 values per tile and
    channel each) fit in ``budget`` bytes, about one core's L2 cache."""
    per_image = 16 * th * tw * (n_ch + n_filt) * itemsize
    return max(1, budget // per_image)


def scratch_size(n_ch, n_filt, th, tw, chunk):
    """Values of scratch the kernels below need (``_scratch`` carves them): a buffer the
    caller keeps between calls, since fresh megabytes cost page faults on every call and,
    with two threads faulting and unmapping at once, ran them one after the other."""
    return (chunk * (2 * th + 2) * 2 * (tw + 1) * n_ch + 16 * chunk * th * tw * (n_ch + n_filt)
            + 8 * (tw + 1) * n_ch + 8 * tw * n_filt + 4 * th * tw * n_filt + n_ch * n_filt)


@njit(**JIT_OPTIONS)
def _scratch(work, n_ch, n_filt, th, tw, chunk):
    """The arrays of ``scratch_size``, views of ``work``: xp, v, m, s, r, y, part."""
    sizes = (chunk * (2 * th + 2) * 2 * (tw + 1) * n_ch, 16 * chunk * th * tw * n_ch,
             16 * chunk * th * tw * n_filt, 8 * (tw + 1) * n_ch, 8 * tw * n_filt, 4 * th * tw * n_filt)
    o1 = sizes[0]
    o2 = o1 + sizes[1]
    o3 = o2 + sizes[2]
    o4 = o3 + sizes[3]
    o5 = o4 + sizes[4]
    o6 = o5 + sizes[5]
    xp = work[:o1].reshape(chunk, 2 * th + 2, 2, tw + 1, n_ch)
    v = work[o1:o2].reshape(16, chunk * th * tw * n_ch)
    m = work[o2:o3].reshape(16, chunk * th * tw * n_filt)
    s = work[o3:o4].reshape(4, 2 * (tw + 1) * n_ch)
    r = work[o4:o5].reshape(8, tw * n_filt)
    y = work[o5:o6].reshape(2 * th, 2, tw, n_filt)
    part = work[o6:o6 + n_ch * n_filt].reshape(n_ch, n_filt)
    return xp, v, m, s, r, y, part


@njit(nogil=True, **JIT_OPTIONS)
def winograd_correlate(img, u, bias, out, ph, pw, chunk, work):
    """Stride-1 3x3 correlation by F(2x2, 3x3), overwriting out (N, F, OH, OW).

    ``out[n, f, y, x] = bias[f] + sum over c, i, j of w[f, c, i, j] * padded[n, c, y + i, x + j]``
    for img (N, C, H, W) zero-padded by (ph, pw), given the transformed weights
    u (16, C, F) (``G w G^T`` per channel pair, position-major), bias (F,).
    ``chunk`` images are transformed at a time; ``work`` is scratch of ``scratch_size``.
    """
    n_img, n_ch = img.shape[0], img.shape[1]
    n_filt, oh, ow = out.shape[1], out.shape[2], out.shape[3]
    th, tw = (oh + 1) // 2, (ow + 1) // 2
    tiles = th * tw
    xp, v, m, s, r, y, _ = _scratch(work, n_ch, n_filt, th, tw, chunk)
    for n0 in range(0, n_img, chunk):
        count = min(chunk, n_img - n0)
        cols = count * tiles
        _place_tile_rows(img, n0, count, ph, pw, xp)
        _input_tiles(xp, count, th, tw, v, s)
        for p in range(16):
            np.dot(v[p, :cols * n_ch].reshape(cols, n_ch), u[p], m[p, :cols * n_filt].reshape(cols, n_filt))
        _output_tiles(m, count, th, tw, bias, out, n0, r, y)


@njit(nogil=True, **JIT_OPTIONS)
def winograd_weight_grad(img, grad, ph, pw, chunk, work):
    """The gradient of ``winograd_correlate``'s output in ``u``, as float64 (16, C, F).

    ``sum over tiles of V[p].T @ (A dY A^T)[p]`` for img (N, C, H, W) and grad
    (N, F, OH, OW), the GEMMs of each chunk in the data's dtype and added to the total
    in float64. The weight gradient is ``G^T du G`` (``layers.conv``).
    """
    n_img, n_ch = img.shape[0], img.shape[1]
    n_filt, oh, ow = grad.shape[1], grad.shape[2], grad.shape[3]
    th, tw = (oh + 1) // 2, (ow + 1) // 2
    tiles = th * tw
    xp, v, mg, s, r, g, part = _scratch(work, n_ch, n_filt, th, tw, chunk)
    total = np.zeros((16, n_ch, n_filt))
    for n0 in range(0, n_img, chunk):
        count = min(chunk, n_img - n0)
        cols = count * tiles
        _place_tile_rows(img, n0, count, ph, pw, xp)
        _input_tiles(xp, count, th, tw, v, s)
        _grad_tiles(grad, n0, count, th, tw, g, mg, r)
        for p in range(16):
            np.dot(v[p, :cols * n_ch].reshape(cols, n_ch).T, mg[p, :cols * n_filt].reshape(cols, n_filt), part)
            total[p] += part
    return total
