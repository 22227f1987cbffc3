"""Numba kernels for convolution: im2col (gather) and col2im (scatter-add).

Both work on a chunk of images that the caller has already zero-padded, so
the loops need no bounds tests: every column entry is one pixel of the
padded image. They are serial: split across threads (``layers._parallel``)
they gained nothing in whole training steps (ResNet 145 against 129 ms,
FCN 87 against 92 ms), and a ``prange`` version ran ~15x slower inside the
conv loop, its OpenMP workers spinning against BLAS's threads.

Each kernel has two copies of its innermost loops. With unit stride and
dilation the pixel index is ``x + j``, which LLVM vectorises; with those
factors as run-time values it does not, and the same loops ran 4-6x slower
(the captioning encoder's second layer, 64 images of (32, 14, 42) in
chunks of 16: im2col 3.2 against 13 ms, col2im 3.0 against 17 ms). The
earlier kernels, which clipped each row to the image instead of reading a
padded copy, copied 14- to 42-pixel slices and paid Numba's slicing
overhead on every one: 26 and 21 ms for the same work.

Layout (the same for both kernels)::

    padded : (B, C, H + 2*PH, W + 2*PW)  the image side, zero border included
    cols   : (C, KH, KW, B, OH, OW)      cols[c, i, j, n, y, x] is the pixel
                                         padded[n, c, y*sh + i*dh, x*sw + j*dw]

Seen as the matrix (C*KH*KW, B*OH*OW), ``cols`` holds the images of the
chunk inside each row, so a whole chunk is a single GEMM
``w.reshape(F, -1) @ cols``.
"""
import numpy as np
from numba import carray, njit, uintp

from ._fastmath import JIT_OPTIONS
from ._registers import BLOCK_BYTES, BLOCK_VECTORS, block_values, prefer_wide_vectors, register_block


@njit(cache=True)
def im2col(padded, cols, sh, sw, dh, dw):
    """Fill ``cols`` (C, KH, KW, B, OH, OW) from ``padded`` (B, C, HP, WP); see module doc."""
    n_ch, kh, kw, n_img, oh, ow = cols.shape
    unit = sh == 1 and sw == 1 and dh == 1 and dw == 1
    for n in range(n_img):
        for c in range(n_ch):
            for i in range(kh):
                for j in range(kw):
                    if unit:
                        for y in range(oh):
                            for x in range(ow):
                                cols[c, i, j, n, y, x] = padded[n, c, y + i, x + j]
                    else:
                        for y in range(oh):
                            for x in range(ow):
                                cols[c, i, j, n, y, x] = padded[n, c, y * sh + i * dh, x * sw + j * dw]


@njit(cache=True)
def col2im(cols, padded, sh, sw, dh, dw):
    """Overwrite ``padded`` (B, C, HP, WP) with the scatter-add of ``cols``: the adjoint of ``im2col``."""
    n_ch, kh, kw, n_img, oh, ow = cols.shape
    unit = sh == 1 and sw == 1 and dh == 1 and dw == 1
    padded[...] = 0
    # Image by image and channel by channel: the plane being added into stays in L1.
    for n in range(n_img):
        for c in range(n_ch):
            for i in range(kh):
                for j in range(kw):
                    if unit:
                        for y in range(oh):
                            for x in range(ow):
                                padded[n, c, y + i, x + j] += cols[c, i, j, n, y, x]
                    else:
                        for y in range(oh):
                            for x in range(ow):
                                padded[n, c, y * sh + i * dh, x * sw + j * dw] += cols[c, i, j, n, y, x]



# ----------------------------------------------------------------- direct convolution
# For few channels and filters the column matrix is mostly copies (a 3x3 conv
# 8 -> 8 on (32, 8, 64, 64) builds 37 MB of columns for 2.4 M multiply-adds per
# image), and on small images (14x14, 7x7) copying the columns costs as much
# as the GEMM. The kernels below compute the stride-1 correlation straight
# from one zero-padded image at a time, in the data's own dtype. The output
# is computed on the padded image's width WP (OH*WP values; the last WP - OW
# columns of each row are discarded), so that every kernel tap (c, i, j) is
# one contiguous multiply-add,
# ``acc[k] += w[f, c, i, j] * padded[c].ravel()[i*dh*WP + j*dw + k]``.
#
# The forward (``_filter_block``) keeps a block of _FILTERS filters x P pixels
# of sums in registers for the whole run over the taps: each tap loads P inputs
# and _FILTERS weights for _FILTERS * P multiply-adds. P fills 16 vector
# registers with sums (``_kernels._registers``): 64 float32 pixels with
# AVX-512, 32 with AVX2. An image's last block is half as wide where the rest
# of its pixels fits in half (``_pixel_span``): a 14x14 image is 224 values on
# its padded width, 3.5 blocks of 64, and an 8x8 one 80. Forward, float32, 2
# threads, 3x3 (ms, whole blocks / with the half block): 32 -> 32 on (64, 14,
# 14) 1.66 / 1.49-1.73; 64 -> 64 on (32, 16, 16) 3.7 / 3.4, on (32, 8, 8) 1.53
# / 1.17; the input gradients the same.
#
# The weight gradient sums, per pair of filters and _TAPS taps, eight dot
# products over the output pixels, which LLVM spreads over the vector lanes.
#
# Measured in one process, alternating, one thread, 3x3, batch 64 (ms; the
# kernels before these blocks / with AVX2-sized blocks / AVX-512-sized):
#
#   float32 forward   16 -> 16 on 28x28  3.61 / 3.03 / 2.57
#                     32 -> 32 on 14x14  3.95 / 2.92 / 2.72
#                     64 -> 64 on 7x7    7.52 / 3.26 / 2.52
#   float64 forward   the same shapes    5.89, 6.43, 9.24 / 5.30, 5.00, 5.66 / 3.92, 3.66, 4.11
#   float32 weight gradient (before these groups of images / with, 512-bit)
#                     3.13 / 3.02, 3.50 / 2.65, 8.81 / 4.18
_FILTERS = 4  # the four weights w0..w3 of ``_filter_block``
_TAPS = 4
_GROUP_VALUES = 1024  # the weight gradient sums images together up to this many padded pixels


@njit(**JIT_OPTIONS)
def _tap_offsets(n_ch, kh, kw, dh, dw, hp, wp):
    """Start of tap (c, i, j) in a flattened (C, HP, WP) padded image, as (C*KH*KW,) int64."""
    offsets = np.empty(n_ch * kh * kw, np.int64)
    for c in range(n_ch):
        for i in range(kh):
            for j in range(kw):
                offsets[(c * kh + i) * kw + j] = (c * hp + i * dh) * wp + j * dw
    return offsets


@njit(**JIT_OPTIONS)
def _filter_block(flat, wmat, offsets, f0, k0, wide):
    """``wide[f0 + r, k0 + k] = sum over taps t of wmat[f0 + r, t] * flat[offsets[t] + k0 + k]``
    for r < _FILTERS, k < P: one block of outputs, summed in registers."""
    prefer_wide_vectors()
    _block_sums(flat, wmat, offsets, f0, k0, wide, block_values(flat) // _FILTERS)


@njit(**JIT_OPTIONS)
def _filter_half_block(flat, wmat, offsets, f0, k0, wide):
    """``_filter_block`` for P / 2 pixels: the last block of an image where the rest fits."""
    prefer_wide_vectors()
    _block_sums(flat, wmat, offsets, f0, k0, wide, block_values(flat) // (2 * _FILTERS))


# Inlined into the two above, where ``pixels`` is a compile-time constant: LLVM then unrolls
# the loops over it and keeps ``acc`` in registers.
@njit(inline="always", **JIT_OPTIONS)
def _block_sums(flat, wmat, offsets, f0, k0, wide, pixels):
    """The body of ``_filter_block`` for ``pixels`` pixels."""
    acc = carray(register_block(flat), (_FILTERS, pixels))
    for r in range(_FILTERS):
        for k in range(pixels):
            acc[r, k] = 0
    for t in range(len(offsets)):
        w0, w1, w2, w3 = wmat[f0, t], wmat[f0 + 1, t], wmat[f0 + 2, t], wmat[f0 + 3, t]
        src = flat[offsets[t] + k0:offsets[t] + k0 + pixels]
        for k in range(pixels):
            x = src[k]
            acc[0, k] += w0 * x
            acc[1, k] += w1 * x
            acc[2, k] += w2 * x
            acc[3, k] += w3 * x
    for r in range(_FILTERS):
        target = wide[f0 + r, k0:k0 + pixels]
        for k in range(pixels):
            target[k] = acc[r, k]


@njit(**JIT_OPTIONS)
def _pixel_span(values, pixels):
    """The pixels ``correlate_direct`` computes to cover ``values`` of them: whole blocks of
    ``pixels``, the last one half a block where the rest fits in half."""
    full, rest = divmod(values, pixels)
    if rest == 0:
        return full * pixels
    return full * pixels + (pixels // 2 if 2 * rest <= pixels else pixels)


def direct_products(n_filt, n_taps, oh, ow, kw, dw, itemsize):
    """The multiply-adds ``correlate_direct`` performs per image: ``n_filt`` filters padded to
    whole blocks of _FILTERS, times ``_pixel_span`` of the OH rows of the padded width, times
    ``n_taps``."""
    span = _pixel_span(oh * (ow + (kw - 1) * dw), BLOCK_BYTES // itemsize // _FILTERS)
    return -(-n_filt // _FILTERS) * _FILTERS * span * n_taps


@njit(nogil=True, **JIT_OPTIONS)
def correlate_direct(img, weight, bias, out, sh, sw, ph, pw, dh, dw, live):
    """Stride-1 correlation of an image's phases, overwriting ``out`` (N, F, OH, OW).

    ``out[n, f, y, x] = bias[f] + sum over c, i, j of
    weight[f, c, i, j] * phases[c, y + i*dh, x + j*dw]``, where ``phases`` (C, HP, WP) are the
    sh x sw phases of image n of img (N, C0, H, W), C = C0*sh*sw, zero-padded by (ph, pw)
    (``place_phases``; stride 1: the zero-padded image, which a negative padding crops);
    weight (F, C, KH, KW), bias (F,). Only the taps listed in ``live`` (int64 indices into
    the flattened (C, KH, KW)) are computed; the others are taken as zero in every filter
    (``np.arange(C*KH*KW)``: all).
    """
    n_img = img.shape[0]
    n_filt, n_ch, kh, kw = weight.shape
    oh, ow = out.shape[2], out.shape[3]
    hp, wp = oh + (kh - 1) * dh, ow + (kw - 1) * dw
    pixels = block_values(img) // _FILTERS
    span = _pixel_span(oh * wp, pixels)
    # Whole blocks of pixels and filters: the last pixel block reads up to P
    # values past the last tap's row (spare zeros), and the weights are padded
    # with zero filters to a multiple of _FILTERS.
    padded = np.zeros(n_ch * hp * wp + (kh - 1) * dh * wp + (kw - 1) * dw + span, img.dtype)
    image = padded[:n_ch * hp * wp].reshape(n_ch, hp, wp)
    offsets = _tap_offsets(n_ch, kh, kw, dh, dw, hp, wp)[live]
    n_block = -(-n_filt // _FILTERS) * _FILTERS
    wmat = np.zeros((n_block, len(live)), img.dtype)
    wmat[:n_filt] = weight.reshape(n_filt, n_ch * kh * kw)[:, live]
    wide = np.empty((n_block, span), img.dtype)
    for n in range(n_img):
        place_phases(img[n], image, sh, sw, ph, pw, True)
        for f0 in range(0, n_block, _FILTERS):
            for k0 in range(0, span - pixels + 1, pixels):
                _filter_block(padded, wmat, offsets, f0, k0, wide)
            if span % pixels:
                _filter_half_block(padded, wmat, offsets, f0, span - pixels // 2, wide)
        for f in range(n_filt):
            for y in range(oh):
                row, target = wide[f, y * wp:y * wp + ow], out[n, f, y]
                for x in range(ow):
                    target[x] = row[x] + bias[f]


@njit(**JIT_OPTIONS)
def _all_taps(sums, live, n_ch, kh, kw):
    """The weight gradient (F, C, KH, KW) from ``sums`` (F, len(live)) of the live taps, zero
    at the others."""
    full = np.zeros((sums.shape[0], n_ch * kh * kw))
    for t in range(len(live)):
        full[:, live[t]] = sums[:, t]
    return full.reshape(sums.shape[0], n_ch, kh, kw)


# The dot products of the weight gradient may be summed in any order
# ("reassoc"), so that LLVM splits each into one partial sum per vector lane.
@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract", "reassoc"})
def correlate_direct_weight_grad(img, grad, kh, kw, sh, sw, ph, pw, dh, dw, live):
    """The gradient of ``correlate_direct``'s output in its weight, as float64 (F, C, KH, KW).

    ``sum over n, y, x of grad[n, f, y, x] * phases[c, y + i*dh, x + j*dw]`` for img
    (N, C0, H, W), read through its phases as in ``correlate_direct`` (C = C0*sh*sw), and
    grad (N, F, OH, OW), for the taps in ``live`` (zero for the others). The images are
    taken in groups of M, each sum running over the group's images (in the data's dtype,
    spread over the vector lanes) and added to the total in float64.
    """
    prefer_wide_vectors()
    n_img, n_ch = img.shape[0], img.shape[1] * sh * sw
    n_filt, oh, ow = grad.shape[1], grad.shape[2], grad.shape[3]
    hp, wp = oh + (kh - 1) * dh + 1, ow + (kw - 1) * dw
    taps = len(live)
    # Small images are summed M at a time, their padded planes laid end to end
    # per channel, (C, M, HP, WP), and the gradient zero between them: one tap
    # is then one long run of products instead of M short ones. Each run ends
    # in a sum across the vector lanes, which on 7x7 images had cost as much as
    # the products: (64, 64, 7, 7) -> 64, one thread, 8.5 ms one image at a time.
    group = max(1, min(n_img, _GROUP_VALUES // (hp * wp)))
    offsets = _tap_offsets(n_ch, kh, kw, dh, dw, group * hp, wp)[live]
    total = np.zeros((n_filt, taps))
    padded = np.zeros((n_ch, group, hp, wp), img.dtype)
    flat = padded.ravel()
    wide = np.zeros((n_filt, group, hp, wp), img.dtype)  # grad on the padded planes, zero off the output
    zero = wide[0, 0, 0, 0]
    for n0 in range(0, n_img, group):
        size = min(group, n_img - n0)
        length = ((size - 1) * hp + oh) * wp
        for m in range(size):
            # The extra row below each plane stays zero: runs read into it.
            place_phases(img[n0 + m], padded[:, m, :hp - 1], sh, sw, ph, pw, True)
            for f in range(n_filt):
                for y in range(oh):
                    row, line = wide[f, m, y], grad[n0 + m, f, y]
                    for x in range(ow):
                        row[x] = line[x]
        for f in range(0, n_filt, 2):
            # A pair of filters (f, h); for an odd F the last pair is (F-1, F-1),
            # whose second sums are dropped.
            h = min(f + 1, n_filt - 1)
            gf, gh = wide[f].ravel()[:length], wide[h].ravel()[:length]
            t = 0
            while t + _TAPS <= taps:
                s0 = flat[offsets[t]:offsets[t] + length]
                s1 = flat[offsets[t + 1]:offsets[t + 1] + length]
                s2 = flat[offsets[t + 2]:offsets[t + 2] + length]
                s3 = flat[offsets[t + 3]:offsets[t + 3] + length]
                a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = zero
                for k in range(length):
                    x0, x1, x2, x3, p, q = s0[k], s1[k], s2[k], s3[k], gf[k], gh[k]
                    a0 += p * x0
                    a1 += p * x1
                    a2 += p * x2
                    a3 += p * x3
                    b0 += q * x0
                    b1 += q * x1
                    b2 += q * x2
                    b3 += q * x3
                total[f, t] += a0
                total[f, t + 1] += a1
                total[f, t + 2] += a2
                total[f, t + 3] += a3
                if h != f:
                    total[h, t] += b0
                    total[h, t + 1] += b1
                    total[h, t + 2] += b2
                    total[h, t + 3] += b3
                t += _TAPS
            for t in range(t, taps):
                s0, a0, b0 = flat[offsets[t]:offsets[t] + length], zero, zero
                for k in range(length):
                    a0 += gf[k] * s0[k]
                    b0 += gh[k] * s0[k]
                total[f, t] += a0
                if h != f:
                    total[h, t] += b0
    return _all_taps(total, live, n_ch, kh, kw)


# The same gradient as outer products: for each output pixel k, the gradient of
# all filters there (a vector over filters, from the gradient transposed to
# (pixels, F)) times the input under each of OUTER_TAPS taps (scalars): the
# block of OUTER_TAPS x one vector of filters sums in registers over every
# output pixel of a group of images. The pixels are taken one by one, so the
# padding columns and rows that the kernel above multiplies by zero (half of
# the products on 7 x 7 images, 16 % on 28 x 28) are skipped, and no sum runs
# across vector lanes. The filters are padded to whole vectors and the taps to
# whole blocks, with zeros; ``layers.conv`` takes this kernel where that
# padding is small and the images small enough for the kernel above to waste
# much (``_outer_pays``). One thread, float32, 3x3, batch 64 unless said (ms,
# the kernel above / this one, with 512-bit vectors; then with 256-bit ones,
# as on a CPU without AVX-512):
#
#   16 -> 16 on 28x28                     3.92 / 3.09     3.45 / 3.67
#   32 -> 32 on 14x14                     3.47 / 2.78     3.50 / 3.31
#   64 -> 64 on 7x7                       5.33 / 2.69     5.08 / 3.02
#   stride 2, 32 -> 64 on 14x14           2.36 / 1.74     2.44 / 2.00
#   stride 2, 16 -> 32 on 28x28           2.39 / 2.04     2.29 / 2.81
#   16 -> 32 on 32x32, batch 32           4.21 / 5.11
#   8 -> 8 on 64x64 (filters padded), 32  2.52 / 4.22
OUTER_TAPS = 8  # the eight inputs x0..x7 of ``_outer_block``


@njit(**JIT_OPTIONS)
def _outer_block(flat, grad_t, offsets, t0, f0, size, hp, wp, oh, ow, total):
    """``total[t0 + r, f0 + j] += sum over the group's output pixels k of
    flat[offsets[t0 + r] + k] * grad_t[k, f0 + j]`` for r < OUTER_TAPS and j < one vector,
    summed in registers (k runs over (size, OH, OW) in ``flat``'s (size, HP, WP) layout)."""
    prefer_wide_vectors()
    lanes = block_values(flat) // BLOCK_VECTORS
    acc = carray(register_block(flat), (OUTER_TAPS, lanes))
    for r in range(OUTER_TAPS):
        for j in range(lanes):
            acc[r, j] = 0
    # Unsigned indices: Numba wraps negative signed ones around, and the checks that cost
    # turned the vector load of the gradient into a gather (30x slower).
    o0, o1, o2, o3 = offsets[t0], offsets[t0 + 1], offsets[t0 + 2], offsets[t0 + 3]
    o4, o5, o6, o7 = offsets[t0 + 4], offsets[t0 + 5], offsets[t0 + 6], offsets[t0 + 7]
    stride = grad_t.shape[1]
    g = grad_t.ravel()
    pixel = 0
    for m in range(size):
        for y in range(oh):
            for x in range(ow):
                k = (m * hp + y) * wp + x
                x0, x1 = flat[np.uint64(o0 + k)], flat[np.uint64(o1 + k)]
                x2, x3 = flat[np.uint64(o2 + k)], flat[np.uint64(o3 + k)]
                x4, x5 = flat[np.uint64(o4 + k)], flat[np.uint64(o5 + k)]
                x6, x7 = flat[np.uint64(o6 + k)], flat[np.uint64(o7 + k)]
                base = pixel * stride + f0
                pixel += 1
                for j in range(lanes):
                    d = g[np.uint64(base + j)]
                    acc[0, j] += x0 * d
                    acc[1, j] += x1 * d
                    acc[2, j] += x2 * d
                    acc[3, j] += x3 * d
                    acc[4, j] += x4 * d
                    acc[5, j] += x5 * d
                    acc[6, j] += x6 * d
                    acc[7, j] += x7 * d
    for r in range(OUTER_TAPS):
        for j in range(lanes):
            total[t0 + r, f0 + j] += acc[r, j]


@njit(nogil=True, **JIT_OPTIONS)
def correlate_direct_weight_grad_outer(img, grad, kh, kw, sh, sw, ph, pw, dh, dw, live):
    """``correlate_direct_weight_grad`` as outer products (same arguments and result).

    The gradient of each group of images is transposed to (pixels, F), F padded
    with zero filters to whole vectors; the taps are padded to whole blocks with
    taps at offset 0, whose sums are dropped.
    """
    n_img, n_ch = img.shape[0], img.shape[1] * sh * sw
    n_filt, oh, ow = grad.shape[1], grad.shape[2], grad.shape[3]
    hp, wp = oh + (kh - 1) * dh, ow + (kw - 1) * dw
    lanes = block_values(img) // BLOCK_VECTORS
    taps = len(live)
    group = max(1, min(n_img, _GROUP_VALUES // (hp * wp)))
    padded_taps = -(-taps // OUTER_TAPS) * OUTER_TAPS
    offsets = np.zeros(padded_taps, np.int64)
    offsets[:taps] = _tap_offsets(n_ch, kh, kw, dh, dw, group * hp, wp)[live]
    padded_filters = -(-n_filt // lanes) * lanes
    total = np.zeros((padded_taps, padded_filters))
    padded = np.zeros((n_ch, group, hp, wp), img.dtype)
    flat = padded.ravel()
    grad_t = np.zeros((group * oh * ow, padded_filters), img.dtype)
    pixels_of = grad.reshape(n_img, n_filt, oh * ow)
    for n0 in range(0, n_img, group):
        size = min(group, n_img - n0)
        for m in range(size):
            place_phases(img[n0 + m], padded[:, m], sh, sw, ph, pw, True)
            # Read along the gradient's rows: over f, it is strided by a plane.
            for f in range(n_filt):
                for k in range(oh * ow):
                    grad_t[uintp(m * oh * ow + k), f] = pixels_of[n0 + m, f, k]
        for f0 in range(0, padded_filters, lanes):
            for t0 in range(0, padded_taps, OUTER_TAPS):
                _outer_block(flat, grad_t, offsets, t0, f0, size, hp, wp, oh, ow, total)
    return _all_taps(total[:taps, :n_filt].T, live, n_ch, kh, kw)


# ------------------------------------------------------------- strided, as stride 1
# The phase form of a strided correlation (``layers.conv``, "space to depth")
# reshuffles the image before the direct kernels and its gradient after them.
# NumPy's copy through a six-axis transposed view ran at ~3.5 ns per value (the
# innermost axis of the view has length sw): 3.2 ms to put back the gradient of a
# (64, 64, 15, 15) phase image, a fifth of that ResNet convolution's backward.
# These loops read each input row once and write each output value once.
@njit(**JIT_OPTIONS)
def _strided_inside(offset, step, size, n_out):
    """Indices ``[lo, hi)`` in ``[0, n_out)`` whose input index ``step*index + offset`` lies in ``[0, size)``."""
    lo = min(n_out, max(0, -(offset // step)))  # ceil(-offset / step)
    return lo, max(lo, min(n_out, -((offset - size) // step)))  # ceil((size - offset) / step)


@njit(**JIT_OPTIONS)
def place_phases(img, phases, sh, sw, ph, pw, to_phases):
    """Copy between one image and its phases, overwriting the destination.

    img (C, H, W), zero-padded by (ph, pw), and phases (C*sh*sw, H', W') correspond as
    ``phases[(c*sh + p)*sw + q, y, x] = img[c, sh*y + p - ph, sw*x + q - pw]``. With
    ``to_phases`` fill ``phases`` from ``img`` (space to depth; zero off the image), else
    ``img`` from ``phases`` (the adjoint: values on the padding dropped, zero where no phase
    reaches). Each image pixel is one phase value, so neither direction adds. With stride 1
    (sh = sw = 1) ``phases`` is the zero-padded image (a negative padding crops it): the
    direct kernels place every image they read this way.
    """
    n_ch, h, w = img.shape
    hh, ww = phases.shape[1], phases.shape[2]
    if to_phases:
        phases[...] = 0
    else:
        img[...] = 0
    for c in range(n_ch):
        for p in range(sh):
            y0, y1 = _strided_inside(p - ph, sh, h, hh)
            for q in range(sw):
                x0, x1 = _strided_inside(q - pw, sw, w, ww)
                k = (c * sh + p) * sw + q
                for y in range(y0, y1):
                    # Unsigned indices (in range by _strided_inside): a signed one, which Numba
                    # would wrap if negative, made these loops 3x slower; so did slicing rows.
                    iy, py = uintp(sh * y + p - ph), uintp(y)
                    if to_phases:
                        for x in range(x0, x1):
                            phases[k, py, uintp(x)] = img[c, iy, uintp(sw * x + q - pw)]
                    else:
                        for x in range(x0, x1):
                            img[c, iy, uintp(sw * x + q - pw)] = phases[k, py, uintp(x)]


@njit(nogil=True, **JIT_OPTIONS)
def shuffle_phases(img, phases, sh, sw, ph, pw, to_phases):
    """``place_phases`` for every image of img (N, C, H, W) and phases (N, C*sh*sw, H', W')."""
    for n in range(img.shape[0]):
        place_phases(img[n], phases[n], sh, sw, ph, pw, to_phases)
