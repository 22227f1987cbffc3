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
from numba import njit

from ._fastmath import JIT_OPTIONS


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
# image), so im2col + GEMM is bound by memory. The kernels below compute the
# stride-1 correlation straight from one zero-padded image at a time, in the
# data's own dtype. The output is accumulated on the padded image's width WP
# (OH*WP values, the last WP - OW columns of each row are discarded), so that
# every kernel tap (c, i, j) is one long contiguous multiply-add,
# ``acc[k] += w[f, c, i, j] * padded[c].ravel()[i*dh*WP + j*dw + k]``, which LLVM
# vectorises. Each pass over the accumulators reads four taps' input and
# updates two filters' accumulators, so every input value loaded is used
# eight times (one filter per pass: four times, 1.5x slower).
# Measured on (32, 8, 64, 64) -> 8 3x3, float32, one thread: 2.3 ms forward
# (~32 GMAC/s), against 3.5 ms with one filter per pass, 8.2 ms with one tap
# per pass and 126 ms for loops over output rows clipped at the borders (not
# vectorised); four filters per pass were no faster than two. The batch is
# split across threads by the caller (``layers._parallel``), hence ``nogil``.
_TAPS = 4


@njit(**JIT_OPTIONS)
def _inside(offset, size, n_out):
    """Output indices ``[lo, hi)`` whose input index ``index + offset`` lies in ``[0, size)``."""
    lo = min(n_out, max(0, -offset))
    return lo, max(lo, min(n_out, size - offset))


@njit(**JIT_OPTIONS)
def _pad_into(src, dst, ph, pw):
    """``dst`` (C, HP, WP) = ``src`` (C, H, W) shifted by (ph, pw), zero elsewhere (negative: cropped)."""
    dst[...] = 0
    y0, y1 = _inside(-ph, src.shape[1], dst.shape[1])
    x0, x1 = _inside(-pw, src.shape[2], dst.shape[2])
    for c in range(src.shape[0]):
        for y in range(y0, y1):
            d, s = dst[c, y, x0:x1], src[c, y - ph, x0 - pw:x1 - pw]
            for k in range(x1 - x0):
                d[k] = s[k]


@njit(**JIT_OPTIONS)
def _tap_offsets(n_ch, kh, kw, dh, dw, hp, wp):
    """Start of tap (c, i, j) in a flattened (C, HP, WP) padded image, as (C*KH*KW,) int64."""
    offsets = np.empty(n_ch * kh * kw, np.int64)
    for c in range(n_ch):
        for i in range(kh):
            for j in range(kw):
                offsets[(c * kh + i) * kw + j] = (c * hp + i * dh) * wp + j * dw
    return offsets


@njit(nogil=True, **JIT_OPTIONS)
def correlate_direct(img, weight, bias, out, ph, pw, dh, dw, live):
    """Stride-1 correlation, overwriting ``out`` (N, F, OH, OW).

    ``out[n, f, y, x] = bias[f] + sum over c, i, j of
    weight[f, c, i, j] * img[n, c, y - ph + i*dh, x - pw + j*dw]``, the image
    (N, C, H, W) being zero outside its borders; weight (F, C, KH, KW), bias
    (F,). A negative padding crops the image. Only the taps listed in
    ``live`` (int64 indices into the flattened (C, KH, KW)) are computed; the
    others are taken as zero in every filter (``np.arange(C*KH*KW)``: all).
    """
    n_img, n_ch = img.shape[0], img.shape[1]
    n_filt, _, kh, kw = weight.shape
    oh, ow = out.shape[2], out.shape[3]
    # One spare row: the last taps read up to (kw-1)*dw values past HP*WP.
    hp, wp = oh + (kh - 1) * dh + 1, ow + (kw - 1) * dw
    length, taps = oh * wp, len(live)
    offsets = _tap_offsets(n_ch, kh, kw, dh, dw, hp, wp)[live]
    wmat = np.ascontiguousarray(weight.reshape(n_filt, n_ch * kh * kw)[:, live])
    padded = np.empty((n_ch, hp, wp), img.dtype)
    flat = padded.ravel()
    acc = np.empty((2, length), img.dtype)
    for n in range(n_img):
        _pad_into(img[n], padded, ph, pw)
        for f in range(0, n_filt, 2):
            # A pair of filters (f, g); for an odd F the last pair is (F-1, F-1).
            g = min(f + 1, n_filt - 1)
            a, b = acc[0], acc[1]
            a[:] = bias[f]
            b[:] = bias[g]
            t = 0
            while t + _TAPS <= taps:
                u0, u1, u2, u3 = wmat[f, t], wmat[f, t + 1], wmat[f, t + 2], wmat[f, t + 3]
                v0, v1, v2, v3 = wmat[g, t], wmat[g, t + 1], wmat[g, t + 2], wmat[g, t + 3]
                s0 = flat[offsets[t]:offsets[t] + length]
                s1 = flat[offsets[t + 1]:offsets[t + 1] + length]
                s2 = flat[offsets[t + 2]:offsets[t + 2] + length]
                s3 = flat[offsets[t + 3]:offsets[t + 3] + length]
                for k in range(length):
                    x0, x1, x2, x3 = s0[k], s1[k], s2[k], s3[k]
                    a[k] += u0 * x0 + u1 * x1 + u2 * x2 + u3 * x3
                    b[k] += v0 * x0 + v1 * x1 + v2 * x2 + v3 * x3
                t += _TAPS
            for t in range(t, taps):
                u0, v0, s0 = wmat[f, t], wmat[g, t], flat[offsets[t]:offsets[t] + length]
                for k in range(length):
                    a[k] += u0 * s0[k]
                    b[k] += v0 * s0[k]
            for y in range(oh):
                row_a, row_b = a[y * wp:y * wp + ow], b[y * wp:y * wp + ow]
                target_a, target_b = out[n, f, y], out[n, g, y]
                for x in range(ow):
                    target_a[x] = row_a[x]
                    target_b[x] = row_b[x]


# The dot products of the weight gradient may be summed in any order
# ("reassoc"), so that LLVM splits each into one partial sum per vector lane.
@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract", "reassoc"})
def correlate_direct_weight_grad(img, grad, kh, kw, ph, pw, dh, dw, live):
    """The gradient of ``correlate_direct``'s output in its weight, as float64 (F, C, KH, KW).

    ``sum over n, y, x of grad[n, f, y, x] * img[n, c, y - ph + i*dh, x - pw + j*dw]``
    for img (N, C, H, W) and grad (N, F, OH, OW), for the taps in ``live``
    (as in ``correlate_direct``; zero for the others). Each image's sum
    (OH*WP products, in the data's dtype, spread over the vector lanes) is
    added to the total in float64.
    """
    n_img, n_ch = img.shape[0], img.shape[1]
    n_filt, oh, ow = grad.shape[1], grad.shape[2], grad.shape[3]
    hp, wp = oh + (kh - 1) * dh + 1, ow + (kw - 1) * dw
    length, taps = oh * wp, len(live)
    offsets = _tap_offsets(n_ch, kh, kw, dh, dw, hp, wp)[live]
    total = np.zeros((n_filt, taps))
    padded = np.empty((n_ch, hp, wp), img.dtype)
    flat = padded.ravel()
    wide = np.zeros((n_filt, oh, wp), img.dtype)  # grad on the padded width, zero past OW
    zero = wide[0, 0, 0]
    for n in range(n_img):
        _pad_into(img[n], padded, ph, pw)
        wide[:, :, :ow] = grad[n]
        for f in range(0, n_filt, 2):
            # A pair of filters (f, h), as in ``correlate_direct``; for an odd F
            # the last pair is (F-1, F-1), whose second sums are dropped.
            h = min(f + 1, n_filt - 1)
            gf, gh = wide[f].ravel(), wide[h].ravel()
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
    full = np.zeros((n_filt, n_ch * kh * kw))
    for t in range(taps):
        full[:, live[t]] = total[:, t]
    return full.reshape(n_filt, n_ch, kh, kw)


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
def shuffle_phases(img, phases, sh, sw, ph, pw, to_phases):
    """Copy between an image and its phases, overwriting the destination.

    img (N, C, H, W), zero-padded by (ph, pw), and phases (N, C*sh*sw, H', W') correspond as
    ``phases[n, (c*sh + p)*sw + q, y, x] = img[n, c, sh*y + p - ph, sw*x + q - pw]``. With
    ``to_phases`` fill ``phases`` from ``img`` (space to depth; zero off the image), else
    ``img`` from ``phases`` (the adjoint: values on the padding dropped, zero where no phase
    reaches). Each image pixel is one phase value, so neither direction adds.
    """
    n_img, n_ch, h, w = img.shape
    hh, ww = phases.shape[2], phases.shape[3]
    if to_phases:
        phases[...] = 0
    else:
        img[...] = 0
    for n in range(n_img):
        for c in range(n_ch):
            for p in range(sh):
                y0, y1 = _strided_inside(p - ph, sh, h, hh)
                for q in range(sw):
                    x0, x1 = _strided_inside(q - pw, sw, w, ww)
                    plane = phases[n, (c * sh + p) * sw + q]
                    for y in range(y0, y1):
                        row, line = plane[y], img[n, c, sh * y + p - ph]
                        if to_phases:
                            for x in range(x0, x1):
                                row[x] = line[sw * x + q - pw]
                        else:
                            for x in range(x0, x1):
                                line[sw * x + q - pw] = row[x]
