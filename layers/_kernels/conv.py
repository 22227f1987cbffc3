"""Numba kernels for convolution: im2col (gather) and col2im (scatter-add).

Both work on a chunk of images that the caller has already zero-padded, so
the loops need no bounds tests: every column entry is one pixel of the
padded image. They are single-threaded on purpose: they alternate with
multi-threaded BLAS calls, and Numba's OpenMP workers, which spin for a
while after each parallel region, then compete with the BLAS threads for
the 2 cores (a ``prange`` version ran ~15x slower inside the conv loop).

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
from numba import njit


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
