"""2-D convolution and transposed convolution.

Contents, in the order of ``layers`` files: the functional pairs
``conv2d_forward/backward`` and ``conv_transpose2d_forward/backward`` on plain
arrays, the ``Function`` wrappers, the Tensor-level ``conv2d`` and
``conv_transpose2d``, and the ``Conv2d`` / ``ConvTranspose2d`` modules.

How it is computed
------------------
Everything reduces to two streamed operations on a chunk of images at a
time, each an ``im2col``/``col2im`` Numba kernel around one GEMM per chunk
and group: ``_correlate(img, w)`` and its two gradients
``_correlate_grads(src, w, image_grad=..., image=...)`` (in the image and in
the weights, either or both from one pass over the batch).

- conv2d: the forward is ``_correlate(x, w)``; the backward is one
  ``_correlate_grads(dout, w)`` for dx and dw together.
- conv_transpose2d, the gradient of conv2d in its input: the forward is the
  image part of ``_correlate_grads(x, w)``, dx is ``_correlate(dout, w)``
  and dw the weight part of ``_correlate_grads(x, w, image=dout)``.

Few channels: for a stride-1 convolution without groups with few taps
(channels x kernel pixels per output value) in its forward and input
gradient, the two routines call the direct kernels of
``layers._kernels.conv`` instead (``_is_direct``): there the column matrix
is mostly copies and im2col + GEMM is bound by memory.

3x3, stride 1, at least 32 channels on both sides: Winograd's F(2x2, 3x3)
(``layers._kernels.winograd``, ``_takes_winograd``), 16 multiplications
for every 36 of the other two, in BLAS GEMMs.

Threads: the direct and the Winograd kernels' calls are split over the
batch (``layers._parallel``), the Winograd ones each with a one-thread BLAS;
the GEMMs of im2col use BLAS's own threads; im2col and col2im are serial.

The column matrix is never built for the whole batch: chunks of about
``CHUNK_BYTES`` are built in a workspace reused across calls, multiplied
in one GEMM per group and overwritten by the next chunk. The backward
rebuilds the columns rather than keeping the forward's: a chunk built in
cache and read back by the GEMM at once costs less than a whole-batch
matrix written out to memory and read back later.
"""
import functools
import math
from typing import NamedTuple

import numpy as np

import minigrad as mg
from minigrad.validation import (
    as_generator,
    check_bool,
    check_float_array,
    check_float_dtype,
    check_int,
    check_same_dtype,
)

from ._geometry import check_image, check_pair, check_window_fits, conv_out_size, pair
from ._kernels._registers import VECTOR_BYTES
from ._kernels.conv import (
    OUTER_TAPS, col2im, correlate_direct, correlate_direct_weight_grad, correlate_direct_weight_grad_outer,
    direct_products, im2col, shuffle_phases)
from ._kernels.winograd import (
    WEIGHT_TRANSFORM, chunk_images, scratch_size, tiles_of, winograd_correlate, winograd_weight_grad)
from ._blas import _one_blas_thread
from ._parallel import map_batch
from ._workspace import workspace

# Bytes of column matrix built per chunk: small enough that im2col writes it
# into the cache and the GEMM reads it from there. Measured on the 2-core
# machines with 2 BLAS threads (benchmarks/cases/layers_conv.py), 4 MB
# chunks ran conv2d (64, 64, 32, 32) 3x3 forward+backward in 182 ms
# against 214 ms for 64 MB; the captioning encoder's training step was
# fastest between 2 and 8 MB.
CHUNK_BYTES = 4 << 20

# When a stride-1 convolution skips im2col + GEMM for the direct kernels of
# ``layers._kernels.conv`` (see ``_is_direct``). Taps are channels x kernel
# pixels per output value: C*KH*KW in the forward, F*KH*KW in the input
# gradient. Measured fwd+bwd, float32, 3x3, 2 threads each, direct/im2col
# time, with the register-blocked forward kernel:
# - at most DIRECT_MAX_TAPS both ways (64 -> 64): 0.71-0.82 on 7x7 to 32x32
#   images (batch 32 to 128); 0.29-0.58 for 16 and 32 channels;
# - one thin side of at most DIRECT_THIN_TAPS (32 channels): 0.43 for
#   96 -> 32 on 14x14, 0.50 for 128 -> 32 on 7x7; 1.01-1.07 for 32 -> 96 on
#   7x7 and 32 -> 128 on 16x16;
# - both sides thicker: 1.15 for 96 -> 96 on 8x8, 1.37 for 128 -> 128 on
#   8x8, where the GEMM is efficient.
DIRECT_MAX_TAPS = 576
DIRECT_THIN_TAPS = 288

# The direct weight gradient as outer products (``correlate_direct_weight_grad_outer``) pads
# the filters to whole vectors and the taps to whole blocks; it is taken where that adds at
# most OUTER_PADDING of work, and where the other kernel, which multiplies the padding pixels
# too, spends at most OUTER_USEFUL (512-bit vectors; 256-bit: OUTER_USEFUL_256) of its products
# on output pixels. Measured with one thread, float32, the other kernel / the outer one (ms):
# 64 -> 64 on (64, 7, 7) 5.30 / 2.56, on (32, 16, 16) 10.07 / 6.61; 32 -> 32 on (128, 14, 14)
# 7.17 / 6.42; 16 -> 16 on (64, 28, 28) 3.73 / 3.12 (87 % of the products useful), but
# 16 -> 32 on (32, 32, 32) 4.21 / 5.11 (89 %) and 8 -> 16 on (32, 64, 64) 4.48 / 5.62. With
# 256-bit vectors the outer kernel won on 7x7 and 14x14 images, not on 28x28.
OUTER_PADDING = 1.125
OUTER_USEFUL = 0.875
OUTER_USEFUL_256 = 0.75


class Geometry(NamedTuple):
    """Sizes that fix how an image side (H, W) and a column side (OH, OW) correspond.

    For ``conv2d`` the image side is the input and the column side the
    output; for ``conv_transpose2d`` it is the other way round.
    """

    kernel: tuple
    stride: tuple
    padding: tuple
    dilation: tuple
    image_hw: tuple
    cols_hw: tuple
    live: np.ndarray = None  # the taps the direct kernels compute (int64 indices); None: all
    # How the direct kernels read the image side: (sh, sw, ph, pw), the sh x sw phases of the
    # image zero-padded by (ph, pw) (the phase form, below); None: the image zero-padded by
    # ``padding``. Only the direct kernels read it: ``_phase_geometry`` returns a phase
    # Geometry only where ``_takes_direct`` holds, so im2col never sees one.
    phases_of: tuple = None


def _chunks(n, bytes_per_item):
    """Split ``range(n)`` into consecutive ``(start, stop)`` chunks of about CHUNK_BYTES."""
    if n == 0:  # an empty batch: nothing to stream (its weight gradient stays zero)
        return
    largest = max(1, min(n, CHUNK_BYTES // max(1, bytes_per_item)))
    n_chunks = -(-n // largest)
    step = -(-n // n_chunks)  # equal chunks: no small, inefficient tail GEMM
    for start in range(0, n, step):
        yield start, min(n, start + step)


# ------------------------------------------------------------------ streamed engines
# In all of them, a chunk of B images becomes per group g one GEMM whose inner
# or outer dimension is B*OH*OW; the column matrix is (G*CK, B*L) with
# CK = Ci*KH*KW and L = OH*OW (see layers._kernels.conv).


def _padded(img, start, stop, geom):
    """Images ``img[start:stop]`` (B, C, H, W) with the zero border of ``geom.padding``."""
    chunk = img[start:stop]
    ph, pw = geom.padding
    if ph == pw == 0:
        return chunk
    b, c, h, w = chunk.shape
    buf = workspace("conv.padded", (b, c, h + 2 * ph, w + 2 * pw), img.dtype)
    buf.fill(0)
    buf[:, :, ph:ph + h, pw:pw + w] = chunk
    return buf


def _columns(img, start, stop, geom, groups):
    """im2col of images ``img[start:stop]`` into the workspace, as (G, CK, B*L)."""
    chunk, channels = stop - start, img.shape[1]
    cols = workspace("conv.cols", (channels, *geom.kernel, chunk, *geom.cols_hw), img.dtype)
    im2col(_padded(img, start, stop, geom), cols, *geom.stride, *geom.dilation)
    return cols.reshape(groups, -1, chunk * geom.cols_hw[0] * geom.cols_hw[1])


def _add_columns_into(cols, geom, out):
    """``out`` (B, C, H, W) = col2im of ``cols`` (C*KH*KW, B*L): the adjoint of ``_columns``."""
    chunk, channels, height, width = out.shape
    ph, pw = geom.padding
    cols = cols.reshape(channels, *geom.kernel, chunk, *geom.cols_hw)
    # A chunk of the batch along axis 0 is contiguous: without padding, add straight into it.
    padded = out if ph == pw == 0 else workspace(
        "conv.padded", (chunk, channels, height + 2 * ph, width + 2 * pw), out.dtype)
    col2im(cols, padded, *geom.stride, *geom.dilation)
    if padded is not out:
        out[...] = padded[:, :, ph:ph + height, pw:pw + width]


def _to_channel_major(a, start, stop, groups):
    """Copy images ``a[start:stop]`` (B, G*Fo, OH, OW) into a workspace as (G, Fo, B*L)."""
    chunk, channels = stop - start, a.shape[1]
    length = a.shape[2] * a.shape[3]
    buf = workspace("conv.channel_major", (channels, chunk, length), a.dtype)
    buf[...] = a[start:stop].reshape(chunk, channels, length).transpose(1, 0, 2)
    return buf.reshape(groups, channels // groups, chunk * length)


def _column_chunks(img, geom, groups):
    """``_chunks`` over the images of ``img``, sized by their column matrix."""
    ck = img.shape[1] * geom.kernel[0] * geom.kernel[1]
    return _chunks(img.shape[0], ck * geom.cols_hw[0] * geom.cols_hw[1] * img.itemsize)


def _is_direct(wmat, geom):
    """Whether the correlation with weights ``wmat`` (G, Fo, Ci*KH*KW) takes the direct kernels.

    Only stride 1 without groups; then as ``_takes_direct``. Dilation and any
    padding are fine. The answer depends on the shapes only, so both engines
    agree on it.
    """
    groups, f_out, ck = wmat.shape
    return groups == 1 and geom.stride == (1, 1) and _takes_direct(f_out, ck, geom)


def _takes_direct(f_out, ck, geom):
    """Whether a stride-1 correlation of ``ck`` taps into ``f_out`` filters is faster direct,
    by the taps of it and of its input gradient (a correlation of Fo channels into Ci), as
    measured above the constants."""
    thin, thick = sorted((ck, f_out * geom.kernel[0] * geom.kernel[1]))
    return thick <= DIRECT_MAX_TAPS or thin <= DIRECT_THIN_TAPS


def _direct_weight(wmat, geom):
    """``wmat`` (1, F, C*KH*KW) as the (F, C, KH, KW) array the direct kernels take."""
    return np.ascontiguousarray(wmat[0]).reshape(wmat.shape[1], -1, *geom.kernel)


def _correlate(img, wmat, geom, out, bias=None):
    """``out[n, g] = wmat[g] @ im2col(img[n])[g] (+ bias)`` for every image n and group g.

    img (N, G*Ci, H, W), wmat (G, Fo, Ci*KH*KW), bias (G*Fo,) or None;
    out (N, G*Fo, OH, OW) is filled in place.
    """
    groups, f_out, _ = wmat.shape
    phases = _phase_geometry(wmat, geom)
    if phases is not None:
        _correlate(img, _phase_weight(wmat, geom), phases, out, bias)
        return
    if _takes_winograd(wmat.shape[0], f_out, img.shape[1], geom):
        _winograd_correlate(img, _winograd_weight(_direct_weight(wmat, geom)), bias, out, geom.padding)
        return
    if _is_direct(wmat, geom):
        bias = np.zeros(f_out, img.dtype) if bias is None else np.ascontiguousarray(bias, img.dtype)
        _correlate_direct(img, _direct_weight(wmat, geom), bias, out, _placement(geom), geom.dilation,
                          _live_taps(geom, wmat.shape[2]))
        return
    length = geom.cols_hw[0] * geom.cols_hw[1]
    for start, stop in _column_chunks(img, geom, groups):
        chunk = stop - start
        cols = _columns(img, start, stop, geom, groups)
        res = workspace("conv.channel_major", (groups, f_out, chunk * length), img.dtype)
        for g in range(groups):
            np.matmul(wmat[g], cols[g], out=res[g])
        # Back from (F, B, L) to the images' (B, F, L), adding the bias on the way.
        res = res.reshape(groups * f_out, chunk, length).transpose(1, 0, 2)
        target = out[start:stop].reshape(chunk, groups * f_out, length)
        if bias is None:
            target[...] = res
        else:
            np.add(res, bias.reshape(1, -1, 1), out=target)


def _correlate_grads(src, wmat_t, geom, image_grad=None, image=None):
    """The gradients of ``_correlate`` in its image and in its weights, from one pass over the batch.

    src (N, G*Fo, OH, OW) is the gradient of the correlation's output and
    wmat_t (G, Ci*KH*KW, Fo) its weights, transposed.

    If ``image_grad`` (N, G*Ci, H, W) is given, it is overwritten with
    ``col2im(wmat_t[g] @ src[n, g])``. If ``image`` (N, G*Ci, H, W), the
    correlation's input, is given, returns the weight gradient
    ``sum_n src[n, g] @ im2col(image[n])[g].T`` (G, Fo, Ci*KH*KW); otherwise
    None.
    """
    phases = _phase_geometry(wmat_t.transpose(0, 2, 1), geom)
    if phases is not None:
        return _correlate_grads_phased(src, wmat_t, geom, phases, image_grad, image)
    if _takes_winograd(wmat_t.shape[0], wmat_t.shape[2], wmat_t.shape[1] // math.prod(geom.kernel), geom):
        return _correlate_grads_winograd(src, wmat_t, geom, image_grad, image)
    if _is_direct(wmat_t.transpose(0, 2, 1), geom):
        return _correlate_grads_direct(src, wmat_t, geom, image_grad, image)
    return _correlate_grads_columns(src, wmat_t, geom, image_grad, image)


def _correlate_grads_columns(src, wmat_t, geom, image_grad, image):
    """``_correlate_grads`` through im2col and GEMMs, a chunk of the batch at a time.

    Each chunk of ``src`` is rearranged once for both gradients, and its
    columns are rebuilt from ``image`` rather than kept from the forward:
    built in cache, they cost less than a stored copy takes to read back.
    """
    groups, ck, f_out = wmat_t.shape
    image_side = image_grad if image_grad is not None else image
    grad_t = None if image is None else np.zeros((groups, ck, f_out), image.dtype)
    for start, stop in _column_chunks(image_side, geom, groups):
        src_t = _to_channel_major(src, start, stop, groups)
        if image is not None:
            cols = _columns(image, start, stop, geom, groups)
            # Accumulated transposed, as cols @ src.T: OpenBLAS ran the
            # (Fo, K) @ (K, CK) form with its long inner dimension up to 7x slower.
            for g in range(groups):
                grad_t[g] += cols[g] @ src_t[g].T
        if image_grad is not None:
            cols = workspace("conv.cols", (groups, ck, src_t.shape[2]), src.dtype)
            for g in range(groups):
                np.matmul(wmat_t[g], src_t[g], out=cols[g])
            _add_columns_into(cols, geom, image_grad[start:stop])
    return None if grad_t is None else grad_t.transpose(0, 2, 1)


def _correlate_grads_direct(src, wmat_t, geom, image_grad, image):
    """``_correlate_grads`` with the direct kernels (see ``_is_direct``).

    The image gradient of a stride-1 correlation is the correlation of
    ``src`` with the weights flipped in space and with their two channel
    axes swapped, padded by ``dilation*(K-1) - padding`` on each side.
    """
    weight = _direct_weight(wmat_t.transpose(0, 2, 1), geom)
    if image_grad is not None:
        flipped = np.ascontiguousarray(weight.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
        padding = [d * (k - 1) - p for d, k, p in zip(geom.dilation, geom.kernel, geom.padding)]
        # Every tap: the phase form's zero taps differ from one flipped filter to the next.
        _correlate_direct(src, flipped, np.zeros(flipped.shape[0], src.dtype), image_grad, (1, 1, *padding),
                          geom.dilation, np.arange(flipped[0].size))
    if image is None:
        return None
    live = _live_taps(geom, weight[0].size)
    kernel = (correlate_direct_weight_grad_outer if _outer_pays(len(weight), len(live), geom, src.itemsize)
              else correlate_direct_weight_grad)
    # One float64 sum per slice of the batch, added in slice order.
    partial = map_batch(lambda a, b: kernel(image[a:b], src[a:b], *geom.kernel, *_placement(geom), *geom.dilation,
                                            live), len(image), src.size * len(live))
    return sum(partial[1:], partial[0]).astype(image.dtype).reshape(1, weight.shape[0], -1)


def _outer_pays(f_out, taps, geom, itemsize):
    """Whether the direct weight gradient of ``f_out`` filters by ``taps`` live taps takes the
    outer-product kernel (see OUTER_PADDING and OUTER_USEFUL)."""
    lanes = VECTOR_BYTES // itemsize
    padded = -(-f_out // lanes) * lanes * -(-taps // OUTER_TAPS) * OUTER_TAPS
    if padded > OUTER_PADDING * f_out * taps:
        return False
    (oh, ow), (kh, kw), (dh, dw) = geom.cols_hw, geom.kernel, geom.dilation
    useful = OUTER_USEFUL if VECTOR_BYTES == 64 else OUTER_USEFUL_256
    return oh * ow <= useful * (oh + dh * (kh - 1)) * (ow + dw * (kw - 1))


def _correlate_direct(img, weight, bias, out, placement, dilation, live):
    """``correlate_direct`` over slices of the batch in parallel (``layers._parallel``), the
    images read as ``placement`` (sh, sw, ph, pw) says."""
    map_batch(lambda a, b: correlate_direct(img[a:b], weight, bias, out[a:b], *placement, *dilation, live),
              len(img), out.size * len(live))


def _placement(geom):
    """How the direct kernels read ``geom``'s image side: (sh, sw, ph, pw) (see ``Geometry``)."""
    return (1, 1, *geom.padding) if geom.phases_of is None else geom.phases_of


def _live_taps(geom, taps):
    """The tap indices the direct kernels compute for ``geom``: its ``live`` ones, else all ``taps``."""
    return np.arange(taps) if geom.live is None else geom.live


# ------------------------------------------------------------- Winograd F(2x2, 3x3)
# A 3x3 stride-1 convolution with enough channels on both sides takes Winograd's
# algorithm (``layers._kernels.winograd``): 16 multiplications per 2x2 outputs and
# channel pair instead of 36, in BLAS GEMMs. Its transforms copy the images
# channels-last and back, work that grows with C + F while the products grow with
# C * F, so few channels keep the direct kernels. Float32, 2 threads, padding 1,
# fwd / dx / dw, Winograd against direct (alternating, medians of 6 rounds):
#
#   64 -> 64 on (128, 7, 7)     0.73 / 0.71 / 0.91
#   64 -> 64 on (64, 8, 8)      0.63 / 0.63 / 0.79
#   128 -> 128 on (64, 8, 8)    0.62 / 0.64 / 0.89
#   32 -> 32 on (64, 16, 16)    0.86 / 1.02 / 0.77
#   32 -> 32 on (128, 14, 14)   0.97-1.04 / 1.02-1.07 / 0.97-1.41 (two runs)
#   64 -> 64 on (32, 32, 32)    0.91-1.05 / 0.80-1.04 / 0.79-1.07
#   16 -> 16 on (128, 28, 28)   1.07 / 1.13 / 1.05   (below the threshold)
#
# Float64 gains as much (64 -> 64 on 7x7: 0.68 / 0.68 / 0.93). Training steps, the
# threshold at 32 against none: ResNet 75 against 82 ms, DDPM 217 against 224 ms
# (at 64: 224 ms).
WINOGRAD_MIN_CHANNELS = 32


def _takes_winograd(groups, f_out, channels, geom):
    """Whether a correlation of ``channels`` into ``f_out`` filters takes Winograd's F(2x2, 3x3):
    3x3, stride 1, no dilation or groups, padding at most 2 (so that its image gradient, padded
    by 2 - padding, takes it too), at least WINOGRAD_MIN_CHANNELS on both sides."""
    return (groups == 1 and geom.kernel == (3, 3) and geom.stride == (1, 1) and geom.dilation == (1, 1)
            and geom.phases_of is None and all(0 <= p <= 2 for p in geom.padding)
            and min(f_out, channels) >= WINOGRAD_MIN_CHANNELS)


# ``G w G^T`` of a 3x3 w, flattened, is this (16, 9) matrix times w flattened: one GEMM for all
# channel pairs (NumPy's products of 4096 stacked 4x3 matrices took 1 ms for 64 -> 64).
_WEIGHT_TRANSFORM_FLAT = np.kron(WEIGHT_TRANSFORM, WEIGHT_TRANSFORM)


def _winograd_weight(weight, flipped=False):
    """weight (F, C, 3, 3) transformed, ``G w G^T`` per channel pair, as (16, C, F) (in float64,
    then rounded to the weight's dtype). ``flipped``: of the weights of the image gradient,
    flipped in space and with F and C swapped, as (16, F, C)."""
    n_filt, channels = weight.shape[:2]
    taps = weight.reshape(n_filt, channels, 9)
    # Reversing the 9 taps of a 3x3 kernel flips it along both axes.
    taps = taps[:, :, ::-1].transpose(2, 0, 1) if flipped else taps.transpose(2, 1, 0)
    flat = taps.astype(np.float64).reshape(9, -1)
    # One BLAS thread: a second one, woken for this small product, may spin on after it
    # and take a core from the kernels that follow. Where NumPy loaded before minigrad
    # (so without its short OPENBLAS_THREAD_TIMEOUT), it did: dx 5 ms instead of 2.4.
    with _one_blas_thread():
        u = _WEIGHT_TRANSFORM_FLAT @ flat
    return u.astype(weight.dtype).reshape(16, *taps.shape[1:])


def _winograd_run(kernel, channels, f_out, out_hw, dtype):
    """``kernel(..., chunk, work)`` for one slice of the batch: ``kernel`` with the chunk size
    and this thread's scratch, for images of ``channels`` into ``f_out`` filters."""
    th, tw = tiles_of(out_hw)
    chunk = chunk_images(channels, f_out, th, tw, np.dtype(dtype).itemsize)
    size = scratch_size(channels, f_out, th, tw, chunk)
    return lambda *args: kernel(*args, chunk, workspace("conv.winograd", (size,), dtype))


def _winograd_correlate(img, u, bias, out, padding):
    """``out`` (N, F, OH, OW) = the correlation of img (N, C, H, W), zero-padded by ``padding``,
    with the weights u (16, C, F) (``_winograd_weight``), plus ``bias`` (F,) or None, by
    Winograd's F(2x2, 3x3); the batch split over the kernel threads, each with a one-thread BLAS."""
    n_filt = u.shape[2]
    bias = np.zeros(n_filt, img.dtype) if bias is None else np.ascontiguousarray(bias, img.dtype)
    run = _winograd_run(winograd_correlate, img.shape[1], n_filt, out.shape[2:], img.dtype)
    with _one_blas_thread("scipy"):
        map_batch(lambda a, b: run(img[a:b], u, bias, out[a:b], *padding), len(img), out.size * img.shape[1] * 4)


def _correlate_grads_winograd(src, wmat_t, geom, image_grad, image):
    """``_correlate_grads`` by Winograd's F(2x2, 3x3) (see ``_takes_winograd``).

    The image gradient is the correlation of ``src`` with the weights flipped and
    their channel axes swapped, padded by 2 - padding. The weight gradient is
    ``G^T du G`` of the gradient ``du`` of the transformed weights, summed in float64.
    """
    weight = _direct_weight(wmat_t.transpose(0, 2, 1), geom)
    if image_grad is not None:
        _winograd_correlate(src, _winograd_weight(weight, flipped=True), None, image_grad,
                            tuple(2 - p for p in geom.padding))
    if image is None:
        return None
    f_out, channels = weight.shape[:2]
    run = _winograd_run(winograd_weight_grad, channels, f_out, src.shape[2:], src.dtype)
    with _one_blas_thread("scipy"):
        partial = map_batch(lambda a, b: run(image[a:b], src[a:b], *geom.padding), len(image),
                            src.size * channels * 4)
    return _winograd_weight_grad(sum(partial[1:], partial[0])).astype(image.dtype).reshape(1, f_out, -1)


def _winograd_weight_grad(du):
    """The weight gradient (F, C, 3, 3), ``G^T du G`` per channel pair, from the gradient
    du (16, C, F) of ``_winograd_weight``'s output (the adjoint of that transform)."""
    channels, f_out = du.shape[1:]
    with _one_blas_thread():
        grad = _WEIGHT_TRANSFORM_FLAT.T @ du.reshape(16, channels * f_out)
    return np.ascontiguousarray(grad.reshape(3, 3, channels, f_out).transpose(3, 2, 0, 1))


# ------------------------------------------------------------- strided, as stride 1
# A correlation with stride s is a stride-1 correlation of the image's s x s
# phases stacked as channels ("space to depth") with a kernel of k' =
# ceil(K / s): with i = s*a + p and j = s*b + q, ``padded[c, s*y + i, s*x + j]``
# is phase (c, p, q) at (y + a, x + b). Where s does not divide K the kernel is
# padded with zero taps (3x3 stride 2: 16 taps per channel for 9), which the
# forward and the weight gradient skip (``Geometry.live``). The direct
# kernels can then take it. Training steps through the phases, against
# im2col: the FCN's 4x4 stride-2 transposed convolutions 81 against 109 ms;
# with the 3x3 stride-2 convolutions too, ResNet 127 against 134 ms and DDPM
# 344 against 376 ms.


def _phase_geometry(wmat, geom):
    """The stride-1 Geometry of the phase form of this strided correlation, if the direct
    kernels take it (no groups or dilation, kernel larger than the stride), else None."""
    if geom.stride == (1, 1) or geom.dilation != (1, 1) or wmat.shape[0] != 1:
        return None
    return _strided_phase_geometry(wmat.shape[1], wmat.shape[2], geom)


# Cached: a small network's step asks ~20 times, at ~30 us each (np.tile and friends), which
# was 6 % of an autoencoder step. The Geometry returned is shared; nothing writes to it.
@functools.lru_cache(maxsize=256)
def _strided_phase_geometry(f_out, taps_per_filter, geom):
    """``_phase_geometry`` for ``f_out`` filters of ``taps_per_filter`` taps (C*KH*KW)."""
    # A kernel no larger than the stride (U-Net's 2x2 up-convolutions) is a reshuffle and one
    # GEMM, which im2col does well: 147 against 156 ms per U-Net step through the phases.
    if any(k <= s for k, s in zip(geom.kernel, geom.stride)):
        return None
    kernel = tuple(-(-k // s) for k, s in zip(geom.kernel, geom.stride))
    phase_hw = tuple(o + k - 1 for o, k in zip(geom.cols_hw, kernel))
    channels = taps_per_filter // (geom.kernel[0] * geom.kernel[1])
    # Phase tap (c, p, q, a, b) is tap (sh*a + p, sw*b + q) of the kernel; those past its
    # edge are zero, and the direct kernels skip them (3x3 stride 2: 9 of every 16).
    (sh, sw), (kh, kw) = geom.stride, geom.kernel
    rows = sh * np.arange(kernel[0])[None, :] + np.arange(sh)[:, None] < kh    # (p, a)
    cols = sw * np.arange(kernel[1])[None, :] + np.arange(sw)[:, None] < kw    # (q, b)
    real = rows[:, None, :, None] & cols[None, :, None, :]                      # (p, q, a, b)
    live = np.flatnonzero(np.tile(real.ravel(), channels))
    phases = Geometry(kernel, (1, 1), (0, 0), (1, 1), phase_hw, geom.cols_hw, live, (*geom.stride, *geom.padding))
    taps = channels * math.prod(geom.stride) * math.prod(kernel)
    return phases if _takes_direct(f_out, taps, phases) else None


# The phase form's image gradient (a strided transposed convolution's forward too) is a direct
# correlation of the output gradient with the flipped phase kernel. It computes every tap of
# that kernel (3x3 stride 2: 16 where 9 are non-zero) on whole blocks of pixels of the padded
# phase planes (``direct_products``): for 32 -> 64 on 14x14 images, 4.6 products for each one
# of the gradient. It is taken where at least this fraction of its products is useful, else
# im2col and col2im are. Measured, float32, 2 threads, batch 64, ms (phase / im2col): 16 -> 32
# on 28x28 (0.43 useful) 2.5-3.7 / 2.8-4.6; 32 -> 64 on 14x14 (0.22) 3.3-3.8 / 1.7.
PHASE_INPUT_GRAD_USEFUL = 1 / 3

# Work per value of the reshuffles, in ``map_batch``'s units: a value moved costs ~1 ns, ~30
# vectorised multiply-adds, so a (64, 16, 28, 28) image is worth splitting.
_SHUFFLE_WORK = 30


def _depth_to_space_into(phase_grad, geom, out):
    """The adjoint of reading an image through its phases: ``out`` (N, C, H, W) = the gradient
    ``phase_grad`` (N, C*sh*sw, H', W') put back on the padded image, its border dropped."""
    map_batch(lambda a, b: shuffle_phases(out[a:b], phase_grad[a:b], *geom.stride, *geom.padding, False),
              len(out), _SHUFFLE_WORK * phase_grad.size)


def _phase_weight(wmat, geom):
    """wmat (1, F, C*KH*KW) as the phase form's (1, F, C*sh*sw*KH'*KW'), KH' = ceil(KH / sh)."""
    (sh, sw), (kh, kw) = geom.stride, geom.kernel
    f_out, (kh2, kw2) = wmat.shape[1], (-(-kh // sh), -(-kw // sw))
    w = np.zeros((f_out, wmat.shape[2] // (kh * kw), kh2 * sh, kw2 * sw), wmat.dtype)
    w[:, :, :kh, :kw] = wmat.reshape(f_out, -1, kh, kw)  # taps past the kernel: zero
    w = w.reshape(f_out, -1, kh2, sh, kw2, sw)
    return np.ascontiguousarray(w.transpose(0, 1, 3, 5, 2, 4)).reshape(1, f_out, -1)


def _phase_input_grad_pays(f_out, channels, geom, phases, itemsize):
    """Whether the image gradient of a strided correlation of ``channels`` into ``f_out``
    filters takes the phase form (see PHASE_INPUT_GRAD_USEFUL)."""
    useful = f_out * channels * math.prod(geom.kernel) * math.prod(geom.cols_hw)
    done = direct_products(channels * math.prod(geom.stride), f_out * math.prod(phases.kernel),
                           *phases.image_hw, phases.kernel[1], 1, itemsize)
    return useful >= PHASE_INPUT_GRAD_USEFUL * done


def _correlate_grads_phased(src, wmat_t, geom, phases, image_grad, image):
    """``_correlate_grads`` through the phase form (see ``_phase_geometry``), the image gradient
    through im2col where the phase form would waste too much (``_phase_input_grad_pays``)."""
    if image_grad is not None and not _phase_input_grad_pays(
            src.shape[1], image_grad.shape[1], geom, phases, src.itemsize):
        _correlate_grads_columns(src, wmat_t, geom, image_grad, None)
        if image is None:
            return None
        image_grad = None
    (sh, sw), (kh, kw) = geom.stride, geom.kernel
    phase_grad = None
    if image_grad is not None:
        channels = image_grad.shape[1] * sh * sw
        phase_grad = np.empty((len(src), channels, *phases.image_hw), src.dtype)
    phase_wmat_t = _phase_weight(wmat_t.transpose(0, 2, 1), geom).transpose(0, 2, 1)
    grad = _correlate_grads(src, phase_wmat_t, phases, phase_grad, image)
    if image_grad is not None:
        _depth_to_space_into(phase_grad, geom, image_grad)
    if grad is None:
        return None
    f_out, (kh2, kw2) = grad.shape[1], phases.kernel
    grad = grad.reshape(f_out, -1, sh, sw, kh2, kw2).transpose(0, 1, 4, 2, 5, 3).reshape(f_out, -1, kh2 * sh, kw2 * sw)
    return np.ascontiguousarray(grad[:, :, :kh, :kw]).reshape(1, f_out, -1)


# ------------------------------------------------------------------------ conv2d pair
def conv2d_forward(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Forward pass of a 2-D convolution (cross-correlation, as in PyTorch).

    Parameters
    ----------
    x : (N, C, H, W) float32 or float64 ndarray
    weight : (F, C // groups, KH, KW), same dtype as ``x``
    bias : (F,) or None
    stride, padding, dilation : int or (int, int)
        Zero padding is added on both sides of each spatial axis.
    groups : int
        ``C`` and ``F`` must both be divisible by it; ``groups == C`` is a
        depthwise convolution.

    The arguments are trusted (``conv2d`` and ``Conv2d`` check them).

    Returns
    -------
    out : (N, F, OH, OW), OH = (H + 2*ph - dh*(KH-1) - 1) // sh + 1 (same for OW)
    cache : tuple for ``conv2d_backward``
    """
    x, weight = np.ascontiguousarray(x), np.ascontiguousarray(weight)
    stride, padding, dilation = pair(stride), pair(padding), pair(dilation)
    n_filt, _, kh, kw = weight.shape
    out_hw = tuple(
        conv_out_size(s, k, st, p, d)
        for s, k, st, p, d in zip(x.shape[2:], (kh, kw), stride, padding, dilation)
    )
    geom = Geometry((kh, kw), stride, padding, dilation, x.shape[2:], out_hw)
    out = np.empty((x.shape[0], n_filt, *out_hw), x.dtype)
    _correlate(x, weight.reshape(groups, n_filt // groups, -1), geom, out, bias)
    return out, (x, weight, bias is not None, groups, geom)


def conv2d_backward(dout, cache, needs_grad=(True, True, True)):
    """Backward pass of ``conv2d_forward``.

    Parameters
    ----------
    dout : (N, F, OH, OW) upstream gradient
    cache : from ``conv2d_forward``
    needs_grad : three bools
        Which of (dx, dweight, dbias) to compute; the others are returned as None.

    Returns
    -------
    dx : (N, C, H, W), dweight : (F, C // groups, KH, KW), dbias : (F,) or None without bias
    """
    x, w, has_bias, groups, geom = cache
    dout = np.ascontiguousarray(dout, dtype=x.dtype)
    dx = np.empty_like(x) if needs_grad[0] else None
    dw = db = None
    if needs_grad[0] or needs_grad[1]:
        wmat_t = w.reshape(groups, w.shape[0] // groups, -1).transpose(0, 2, 1)
        dw = _correlate_grads(dout, wmat_t, geom, image_grad=dx, image=x if needs_grad[1] else None)
        dw = None if dw is None else dw.reshape(w.shape)
    if has_bias and needs_grad[2]:
        db = dout.sum(axis=(0, 2, 3))
    return dx, dw, db


# -------------------------------------------------------------- conv_transpose2d pair
def conv_transpose2d_forward(
    x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1, groups=1
):
    """Forward pass of a 2-D transposed convolution (the gradient of ``conv2d`` in its input).

    Parameters
    ----------
    x : (N, C_in, H, W) float32 or float64 ndarray
    weight : (C_in, C_out // groups, KH, KW), PyTorch's layout, same dtype as ``x``
    bias : (C_out,) or None
    stride, padding, dilation : int or (int, int)
    output_padding : int or (int, int)
        Extra rows/columns added at the bottom/right of the output, to pick
        one of the input sizes a strided ``conv2d`` maps to the same size.
        Must be smaller than the stride or the dilation (per axis).
    groups : int

    The arguments are trusted (``conv_transpose2d`` and ``ConvTranspose2d`` check them).

    Returns
    -------
    out : (N, C_out, OH, OW), OH = (H-1)*sh - 2*ph + dh*(KH-1) + output_padding + 1
    cache : tuple for ``conv_transpose2d_backward``
    """
    x, weight = np.ascontiguousarray(x), np.ascontiguousarray(weight)
    stride, padding, dilation = pair(stride), pair(padding), pair(dilation)
    out_hw = _transposed_out_hw(x.shape, weight.shape, stride, padding, pair(output_padding),
                                dilation)
    c_in, c_out_per_group, kh, kw = weight.shape
    geom = Geometry((kh, kw), stride, padding, dilation, out_hw, x.shape[2:])
    out = np.empty((x.shape[0], c_out_per_group * groups, *out_hw), x.dtype)
    wmat = weight.reshape(groups, c_in // groups, -1)
    _correlate_grads(x, wmat.transpose(0, 2, 1), geom, image_grad=out)
    if bias is not None:
        out += bias.reshape(1, -1, 1, 1)
    return out, (x, weight, bias is not None, groups, geom)


def conv_transpose2d_backward(dout, cache, needs_grad=(True, True, True)):
    """Backward pass of ``conv_transpose2d_forward``.

    Parameters
    ----------
    dout : (N, C_out, OH, OW) upstream gradient
    cache : from ``conv_transpose2d_forward``
    needs_grad : three bools, which of (dx, dweight, dbias) to compute (others are None)

    Returns
    -------
    dx : (N, C_in, H, W), dweight : (C_in, C_out // groups, KH, KW), dbias : (C_out,) or None
    """
    x, w, has_bias, groups, geom = cache
    dout = np.ascontiguousarray(dout, dtype=x.dtype)
    dx = dw = db = None
    if needs_grad[0]:
        dx = np.empty_like(x)
        _correlate(dout, w.reshape(groups, w.shape[0] // groups, -1), geom, dx)
    if needs_grad[1]:
        wmat_t = w.reshape(groups, w.shape[0] // groups, -1).transpose(0, 2, 1)
        dw = _correlate_grads(x, wmat_t, geom, image=dout).reshape(w.shape)
    if has_bias and needs_grad[2]:
        db = dout.sum(axis=(0, 2, 3))
    return dx, dw, db


def _transposed_out_hw(x_shape, w_shape, stride, padding, output_padding, dilation):
    """(OH, OW) of a transposed convolution (PyTorch's formula)."""
    return tuple(
        (s - 1) * st - 2 * p + d * (k - 1) + op + 1
        for s, st, p, d, k, op in zip(x_shape[2:], stride, padding, dilation, w_shape[2:],
                                      output_padding)
    )


Conv2dFunction = mg.Function.from_pair(conv2d_forward, conv2d_backward)
ConvTranspose2dFunction = mg.Function.from_pair(conv_transpose2d_forward, conv_transpose2d_backward)


# ------------------------------------------------------------------------- checks
def _conv_options(func, stride, padding, dilation, groups):
    """Check the hyper-parameters once; return them as keyword arguments of the pair."""
    return dict(
        stride=check_pair(func, "stride", stride, 1),
        padding=check_pair(func, "padding", padding, 0),
        dilation=check_pair(func, "dilation", dilation, 1),
        groups=check_int(func, "groups", groups, low=1),
    )


def _transposed_options(func, stride, padding, output_padding, dilation, groups):
    """``_conv_options`` plus ``output_padding``, which must be below the stride or the dilation."""
    options = _conv_options(func, stride, padding, dilation, groups)
    output_padding = check_pair(func, "output_padding", output_padding, 0)
    if any(o >= max(s, d) for o, s, d in zip(output_padding, options["stride"], options["dilation"])):
        raise ValueError(
            f"{func}: output_padding must be smaller than the stride {options['stride']} "
            f"or the dilation {options['dilation']}, got {output_padding}"
        )
    return dict(options, output_padding=output_padding)


def _check_operands(func, x, weight, bias, n_out, w_layout, module=False):
    """x (N, C, H, W) and a 4-D weight of one float dtype; bias (n_out(weight),) or None.

    A ``module``'s parameters are known to be valid: only x is checked, and
    against the weight's dtype (the input is at fault, so the message names x).
    """
    x = check_image(func, "x", x)
    if module:
        check_same_dtype(func, weight=weight, x=x)
        return x, weight.data
    w = check_float_array(func, "weight", weight, ndim=4, layout=w_layout)
    b = None if bias is None else check_float_array(func, "bias", bias)
    check_same_dtype(func, x=x, weight=w, bias=b)
    if b is not None and b.shape != (n_out(w),):
        raise ValueError(f"{func}: bias must have shape ({n_out(w)},), got {b.shape}")
    return x, w


def _check_conv2d_inputs(func, x, weight, bias, padding, dilation, groups, module=False, **_):
    """Raise unless x, weight and bias fit each other and the (checked) options.

    ``**_`` takes the options this check does not need (the stride).
    """
    x, w = _check_operands(func, x, weight, bias, lambda w: w.shape[0], "(F, C // groups, KH, KW)", module)
    channels, n_filt = x.shape[1], w.shape[0]
    if channels % groups or n_filt % groups:
        raise ValueError(
            f"{func}: groups must divide both x's channels ({channels}) and the number of "
            f"filters ({n_filt}), got {groups}"
        )
    if w.shape[1] * groups != channels:
        raise ValueError(
            f"{func}: x must have {w.shape[1] * groups} channels for weight of shape {w.shape} "
            f"with groups={groups}, got shape {x.shape}"
        )
    check_window_fits(func, x.shape, w.shape[2:], padding, dilation, what="(dilated) ")


def _check_conv_transpose2d_inputs(func, x, weight, bias, stride, padding, output_padding,
                                   dilation, groups, module=False):
    """Raise unless x, weight and bias fit each other and the (checked) options."""
    x, w = _check_operands(func, x, weight, bias, lambda w: w.shape[1] * groups,
                           "(C_in, C_out // groups, KH, KW)", module)
    if w.shape[0] != x.shape[1]:
        raise ValueError(f"{func}: x must have {w.shape[0]} channels for weight of shape {w.shape}, "
                         f"got shape {x.shape}")
    if x.shape[1] % groups:
        raise ValueError(f"{func}: groups must divide x's channels ({x.shape[1]}), got {groups}")
    out_hw = _transposed_out_hw(x.shape, w.shape, stride, padding, output_padding, dilation)
    if min(out_hw) < 1:
        raise ValueError(
            f"{func}: padding must leave an output for x of shape {x.shape} and weight of shape "
            f"{w.shape} (the output would be {out_hw[0]}x{out_hw[1]}), got {padding}"
        )


# ---------------------------------------------------------------- Tensor functions
def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of Tensors, like ``torch.nn.functional.conv2d``.

    x : (N, C, H, W), weight : (F, C // groups, KH, KW), bias : (F,) or None
    -> (N, F, OH, OW). See ``conv2d_forward`` for the arguments. An empty
    batch (N = 0) gives an empty output and zero weight and bias gradients.
    """
    options = _conv_options("conv2d", stride, padding, dilation, groups)
    _check_conv2d_inputs("conv2d", x, weight, bias, **options)
    return Conv2dFunction.apply(x, weight, bias, **options)


def conv_transpose2d(
    x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1, groups=1
):
    """2-D transposed convolution of Tensors, like ``torch.nn.functional.conv_transpose2d``.

    x : (N, C_in, H, W), weight : (C_in, C_out // groups, KH, KW), bias : (C_out,) or None
    -> (N, C_out, OH, OW). See ``conv_transpose2d_forward`` for the arguments.
    """
    func = "conv_transpose2d"
    options = _transposed_options(func, stride, padding, output_padding, dilation, groups)
    _check_conv_transpose2d_inputs(func, x, weight, bias, **options)
    return ConvTranspose2dFunction.apply(x, weight, bias, **options)


# --------------------------------------------------------------------------- modules
def _uniform_init(rng, shape, fan_in, dtype):
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default for conv weights and biases."""
    bound = 1.0 / math.sqrt(fan_in)
    return mg.Parameter(rng.uniform(-bound, bound, size=shape).astype(dtype))


class _ConvNd(mg.Module):
    """Shared constructor of ``Conv2d`` and ``ConvTranspose2d``: checks every
    hyper-parameter once, so ``forward`` only checks ``x``."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, rng, dtype, transposed=False, output_padding=0):
        super().__init__()
        func = type(self).__name__
        dtype = check_float_dtype(func, "dtype", dtype)
        in_channels = check_int(func, "in_channels", in_channels, low=1)
        out_channels = check_int(func, "out_channels", out_channels, low=1)
        if transposed:
            self._options = _transposed_options(func, stride, padding, output_padding, dilation,
                                                groups)
        else:
            self._options = _conv_options(func, stride, padding, dilation, groups)
        groups = self._options["groups"]
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{func}: groups must divide in_channels ({in_channels}) and out_channels "
                f"({out_channels}), got {groups}"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = check_pair(func, "kernel_size", kernel_size, 1)
        self.stride, self.padding = self._options["stride"], self._options["padding"]
        self.dilation = self._options["dilation"]
        rng = as_generator(func, "rng", rng)
        if transposed:  # weight (C_in, C_out // groups, KH, KW)
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        # PyTorch computes fan_in from weight.shape[1] in both layouts.
        fan_in = shape[1] * self.kernel_size[0] * self.kernel_size[1]
        self.weight = _uniform_init(rng, shape, fan_in, dtype)
        bias = check_bool(func, "bias", bias)
        self.bias = _uniform_init(rng, (out_channels,), fan_in, dtype) if bias else None

    def extra_repr(self):
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
            f"groups={self.groups}, bias={self.bias is not None}"
        )


class Conv2d(_ConvNd):
    """2-D convolution layer, like ``torch.nn.Conv2d``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding, dilation : int or (int, int)
    groups : int
    bias : bool
    rng : np.random.Generator, int or None
        Source of the initial weights (None: a fresh default generator).
    dtype : float32 or float64, dtype of the parameters (float32 by default)

    Attributes
    ----------
    weight : Parameter (out_channels, in_channels // groups, KH, KW)
    bias : Parameter (out_channels,) or None
        Both initialised from U(-k, k), k = 1 / sqrt(in_channels // groups * KH * KW),
        PyTorch's documented default.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, rng=None, dtype=np.float32):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, rng, dtype)

    def forward(self, x):
        """x : (N, in_channels, H, W) -> (N, out_channels, OH, OW)."""
        _check_conv2d_inputs("Conv2d", x, self.weight, self.bias, module=True, **self._options)
        return Conv2dFunction.apply(x, self.weight, self.bias, **self._options)


class ConvTranspose2d(_ConvNd):
    """2-D transposed convolution layer, like ``torch.nn.ConvTranspose2d``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding, output_padding, dilation : int or (int, int)
    groups : int
    bias : bool
    rng : np.random.Generator, int or None
    dtype : float32 or float64, dtype of the parameters (float32 by default)

    Attributes
    ----------
    weight : Parameter (in_channels, out_channels // groups, KH, KW)
    bias : Parameter (out_channels,) or None
        Both initialised from U(-k, k), k = 1 / sqrt(out_channels // groups * KH * KW),
        PyTorch's documented default.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, rng=None,
                 dtype=np.float32):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, rng, dtype, transposed=True, output_padding=output_padding)
        self.output_padding = self._options["output_padding"]

    def forward(self, x):
        """x : (N, in_channels, H, W) -> (N, out_channels, OH, OW)."""
        _check_conv_transpose2d_inputs("ConvTranspose2d", x, self.weight, self.bias, module=True,
                                       **self._options)
        return ConvTranspose2dFunction.apply(x, self.weight, self.bias, **self._options)

    def extra_repr(self):
        return super().extra_repr() + f", output_padding={self.output_padding}"
