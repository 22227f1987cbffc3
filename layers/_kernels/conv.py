"""Numba kernels for convolution: im2col (gather) and col2im (scatter-add).

Both work on a chunk of images at once and are single-threaded on purpose:
they alternate with multi-threaded BLAS calls, and Numba's OpenMP workers,
which spin for a while after each parallel region, then compete with the
BLAS threads for the 2 cores. Measured on a loaded machine, a ``prange``
version of ``im2col`` ran ~15x slower than this one inside the conv loop.

``im2col`` walks the images and copies each output row as one slice (for
stride 1 a contiguous run of its input row, 4x faster than an element
loop). ``col2im`` instead runs over the rows of ``cols`` outermost, reading
the large matrix in memory order while the image side it adds into, one
channel of the chunk's images, stays in cache, with plain indexed loops:
on the MNIST ConvNet's second layer ((64, 32, 14, 14), 3x3) that ran 2x
faster than the image-major order with slice adds, whose slicing costs
more than the adds on 14-pixel rows. The same reordering did not speed
up ``im2col``.

Layout (the same for both kernels)::

    img  : (B, C, H, W)               the image side of the convolution
    cols : (C * KH * KW, B, OH * OW)  cols[(c, i, j), n, (y, x)] is the pixel
                                      img[n, c, y*sh - ph + i*dh, x*sw - pw + j*dw]
                                      (zero where that falls in the padding)

Putting the images of the chunk inside each row makes ``cols`` one
(C*KH*KW, B*OH*OW) matrix, so a whole chunk is a single large GEMM
``w.reshape(F, -1) @ cols``: BLAS threads synchronise once per chunk rather
than once per image, which matters on a shared, loaded machine.
"""
from numba import njit


@njit(cache=True, inline="always")
def valid_range(offset, stride, size, out_size):
    """Output indices ``o`` in ``[0, out_size)`` with ``0 <= o*stride + offset < size``.

    Returns ``(lo, hi)``; computing the range once lets the inner loops run
    without bounds tests (padding is written or skipped outside it).
    """
    lo = min(out_size, max(0, -(offset // stride)))  # ceil(-offset / stride), clipped
    hi = min(out_size, (size - 1 - offset) // stride + 1)
    return lo, max(lo, hi)


@njit(cache=True)
def im2col(img, cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """Fill ``cols`` (C*KH*KW, B, OH*OW) from ``img`` (B, C, H, W); see module doc."""
    n_img, n_ch, height, width = img.shape
    for n in range(n_img):
        for c in range(n_ch):
            for i in range(kh):
                off_y = i * dh - ph
                y_lo, y_hi = valid_range(off_y, sh, height, oh)
                for j in range(kw):
                    off_x = j * dw - pw
                    x_lo, x_hi = valid_range(off_x, sw, width, ow)
                    dst = cols[(c * kh + i) * kw + j, n]
                    dst[:y_lo * ow] = 0
                    for y in range(y_lo, y_hi):
                        src = img[n, c, y * sh + off_y]
                        row = dst[y * ow:(y + 1) * ow]
                        row[:x_lo] = 0
                        if sw == 1:  # a contiguous run: slice copy, which LLVM vectorises
                            row[x_lo:x_hi] = src[x_lo + off_x:x_hi + off_x]
                        else:
                            for x in range(x_lo, x_hi):
                                row[x] = src[x * sw + off_x]
                        row[x_hi:] = 0
                    dst[y_hi * ow:] = 0


@njit(cache=True)
def col2im(cols, img, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow):
    """Overwrite ``img`` (B, C, H, W) with the scatter-add of ``cols``: the adjoint of ``im2col``."""
    n_img, n_ch, height, width = img.shape
    img[...] = 0
    for c in range(n_ch):
        for i in range(kh):
            off_y = i * dh - ph
            y_lo, y_hi = valid_range(off_y, sh, height, oh)
            for j in range(kw):
                off_x = j * dw - pw
                x_lo, x_hi = valid_range(off_x, sw, width, ow)
                r = (c * kh + i) * kw + j
                for n in range(n_img):
                    for y in range(y_lo, y_hi):
                        dst_y = y * sh + off_y
                        at = y * ow
                        for x in range(x_lo, x_hi):
                            img[n, c, dst_y, x * sw + off_x] += cols[r, n, at + x]
