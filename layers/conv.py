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

The column matrix is never built for the whole batch: chunks of about
``CHUNK_BYTES`` are built in a workspace reused across calls, multiplied
in one GEMM per group and overwritten by the next chunk. The backward
rebuilds the columns rather than keeping the forward's: a chunk built in
cache and read back by the GEMM at once costs less than a whole-batch
matrix written out to memory and read back later.
"""
import math
import threading
from typing import NamedTuple

import numpy as np

import minigrad as mg

from ._kernels.conv import col2im, im2col

# Bytes of column matrix built per chunk: small enough that im2col writes it
# into the cache and the GEMM reads it from there. Measured on the 2-core
# machines with 2 BLAS threads (benchmarks/cases/layers_conv.py), 4 MB
# chunks ran conv2d (64, 64, 32, 32) 3x3 forward+backward in 182 ms
# against 214 ms for 64 MB; the captioning encoder's training step was
# fastest between 2 and 8 MB.
CHUNK_BYTES = 4 << 20


# --------------------------------------------------------------------------- helpers
def as_pair(fn, name, value, minimum):
    """``value`` (int or pair of ints) as a tuple ``(v, h)``, each at least ``minimum``."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or not all(isinstance(v, (int, np.integer)) for v in pair)):
        raise TypeError(f"{fn}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def check_image(fn, name, x):
    """Return ``x`` as a C-contiguous floating (N, C, H, W) array or raise naming ``fn``."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"{fn}: {name} must be 4-D (N, C, H, W), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: {name} must be floating point, got dtype {x.dtype}")
    return np.ascontiguousarray(x)


def _check_params(fn, x, w, b, groups, w_layout):
    """Validate weight and bias against ``x``; ``w_layout`` names the expected weight layout."""
    w = np.asarray(w)
    if w.ndim != 4:
        raise ValueError(f"{fn}: weight must be 4-D {w_layout}, got shape {w.shape}")
    if w.dtype != x.dtype or (b is not None and np.asarray(b).dtype != x.dtype):
        b_dtype = None if b is None else np.asarray(b).dtype
        raise TypeError(
            f"{fn}: x, weight and bias must share one dtype, got {x.dtype}, {w.dtype}, {b_dtype}"
        )
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
    return np.ascontiguousarray(w)


def _check_bias(fn, b, n_out):
    if b is None:
        return None
    b = np.asarray(b)
    if b.shape != (n_out,):
        raise ValueError(f"{fn}: bias must have shape ({n_out},), got {b.shape}")
    return b


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


def conv_out_size(size, kernel, stride, padding, dilation):
    """Output length of a convolution along one axis (PyTorch's formula)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


class _Workspace(threading.local):
    """Grow-only scratch buffers reused across calls (one set per thread).

    Reusing the chunk buffer avoids the page faults of a fresh allocation
    on every call, which cost as much as the copy itself on these machines.
    """

    def __init__(self):
        self.buffers = {}

    def get(self, slot, shape, dtype):
        nbytes = math.prod(shape) * np.dtype(dtype).itemsize
        buf = self.buffers.get(slot)
        if buf is None or buf.nbytes < nbytes:
            buf = np.empty(nbytes, np.uint8)
            self.buffers[slot] = buf
        return buf[:nbytes].view(dtype).reshape(shape)


_WORKSPACE = _Workspace()


def _chunks(n, bytes_per_item):
    """Split ``range(n)`` into consecutive ``(start, stop)`` chunks of about CHUNK_BYTES."""
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
    buf = _WORKSPACE.get("padded", (b, c, h + 2 * ph, w + 2 * pw), img.dtype)
    buf.fill(0)
    buf[:, :, ph:ph + h, pw:pw + w] = chunk
    return buf


def _columns(img, start, stop, geom, groups):
    """im2col of images ``img[start:stop]`` into the workspace, as (G, CK, B*L)."""
    chunk, channels = stop - start, img.shape[1]
    cols = _WORKSPACE.get("cols", (channels, *geom.kernel, chunk, *geom.cols_hw), img.dtype)
    im2col(_padded(img, start, stop, geom), cols, *geom.stride, *geom.dilation)
    return cols.reshape(groups, -1, chunk * geom.cols_hw[0] * geom.cols_hw[1])


def _add_columns_into(cols, geom, out):
    """``out`` (B, C, H, W) = col2im of ``cols`` (C*KH*KW, B*L): the adjoint of ``_columns``."""
    chunk, channels, height, width = out.shape
    ph, pw = geom.padding
    cols = cols.reshape(channels, *geom.kernel, chunk, *geom.cols_hw)
    if ph == pw == 0:  # a chunk of the batch along axis 0 is contiguous: add straight into it
        col2im(cols, out, *geom.stride, *geom.dilation)
        return
    padded = _WORKSPACE.get("padded", (chunk, channels, height + 2 * ph, width + 2 * pw), out.dtype)
    col2im(cols, padded, *geom.stride, *geom.dilation)
    out[...] = padded[:, :, ph:ph + height, pw:pw + width]


def _to_channel_major(a, start, stop, groups):
    """Copy images ``a[start:stop]`` (B, G*Fo, OH, OW) into a workspace as (G, Fo, B*L)."""
    chunk, channels = stop - start, a.shape[1]
    length = a.shape[2] * a.shape[3]
    buf = _WORKSPACE.get("channel_major", (channels, chunk, length), a.dtype)
    buf[...] = a[start:stop].reshape(chunk, channels, length).transpose(1, 0, 2)
    return buf.reshape(groups, channels // groups, chunk * length)


def _column_chunks(img, geom, groups):
    """``_chunks`` over the images of ``img``, sized by their column matrix."""
    ck = img.shape[1] * geom.kernel[0] * geom.kernel[1]
    return _chunks(img.shape[0], ck * geom.cols_hw[0] * geom.cols_hw[1] * img.itemsize)


def _correlate(img, wmat, geom, out, bias=None):
    """``out[n, g] = wmat[g] @ im2col(img[n])[g] (+ bias)`` for every image n and group g.

    img (N, G*Ci, H, W), wmat (G, Fo, Ci*KH*KW), bias (G*Fo,) or None;
    out (N, G*Fo, OH, OW) is filled in place.
    """
    groups, f_out, _ = wmat.shape
    length = geom.cols_hw[0] * geom.cols_hw[1]
    for start, stop in _column_chunks(img, geom, groups):
        chunk = stop - start
        cols = _columns(img, start, stop, geom, groups)
        res = _WORKSPACE.get("channel_major", (groups, f_out, chunk * length), img.dtype)
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
    None. Each chunk of ``src`` is rearranged once for both, and its columns
    are rebuilt from ``image`` rather than kept from the forward: built in
    cache, they cost less than a stored copy takes to read back.
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
            cols = _WORKSPACE.get("cols", (groups, ck, src_t.shape[2]), src.dtype)
            for g in range(groups):
                np.matmul(wmat_t[g], src_t[g], out=cols[g])
            _add_columns_into(cols, geom, image_grad[start:stop])
    return None if grad_t is None else grad_t.transpose(0, 2, 1)


# ------------------------------------------------------------------------ conv2d pair
def conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Forward pass of a 2-D convolution (cross-correlation, as in PyTorch).

    Parameters
    ----------
    x : (N, C, H, W) floating ndarray
    w : (F, C // groups, KH, KW), same dtype as ``x``
    b : (F,) or None
    stride, padding, dilation : int or (int, int)
        Zero padding is added on both sides of each spatial axis.
    groups : int
        ``C`` and ``F`` must both be divisible by it; ``groups == C`` is a
        depthwise convolution.

    Returns
    -------
    out : (N, F, OH, OW), OH = (H + 2*ph - dh*(KH-1) - 1) // sh + 1 (same for OW)
    cache : tuple for ``conv2d_backward``
    """
    fn = "conv2d"
    x = check_image(fn, "x", x)
    w = _check_params(fn, x, w, b, groups, "(F, C // groups, KH, KW)")
    stride = as_pair(fn, "stride", stride, 1)
    padding = as_pair(fn, "padding", padding, 0)
    dilation = as_pair(fn, "dilation", dilation, 1)
    n_img, channels, height, width = x.shape
    n_filt, c_per_group, kh, kw = w.shape
    if channels % groups or n_filt % groups:
        raise ValueError(
            f"{fn}: groups={groups} must divide both x's channels ({channels}) and "
            f"the number of filters ({n_filt})"
        )
    if c_per_group * groups != channels:
        raise ValueError(
            f"{fn}: x has {channels} channels but weight {w.shape} with groups={groups} "
            f"expects {c_per_group * groups}"
        )
    b = _check_bias(fn, b, n_filt)
    span = [d * (k - 1) + 1 for d, k in zip(dilation, (kh, kw))]
    padded = [s + 2 * p for s, p in zip((height, width), padding)]
    if span[0] > padded[0] or span[1] > padded[1]:
        raise ValueError(
            f"{fn}: (dilated) kernel {span[0]}x{span[1]} is larger than the padded input "
            f"{padded[0]}x{padded[1]} (x shape {x.shape}, weight shape {w.shape}, padding {padding})"
        )
    out_hw = tuple(
        conv_out_size(s, k, st, p, d)
        for s, k, st, p, d in zip((height, width), (kh, kw), stride, padding, dilation)
    )
    geom = Geometry((kh, kw), stride, padding, dilation, (height, width), out_hw)
    out = np.empty((n_img, n_filt, *out_hw), x.dtype)
    _correlate(x, w.reshape(groups, n_filt // groups, -1), geom, out, b)
    return out, (x, w, b is not None, groups, geom)


def conv2d_backward(dout, cache, needs_grad=(True, True, True)):
    """Backward pass of ``conv2d_forward``.

    Parameters
    ----------
    dout : (N, F, OH, OW) upstream gradient
    cache : from ``conv2d_forward``
    needs_grad : three bools
        Which of (dx, dw, db) to compute; the others are returned as None.

    Returns
    -------
    dx : (N, C, H, W), dw : (F, C // groups, KH, KW), db : (F,) or None without bias
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
    x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1, groups=1
):
    """Forward pass of a 2-D transposed convolution (the gradient of ``conv2d`` in its input).

    Parameters
    ----------
    x : (N, C_in, H, W) floating ndarray
    w : (C_in, C_out // groups, KH, KW), PyTorch's layout, same dtype as ``x``
    b : (C_out,) or None
    stride, padding, dilation : int or (int, int)
    output_padding : int or (int, int)
        Extra rows/columns added at the bottom/right of the output, to pick
        one of the input sizes a strided ``conv2d`` maps to the same size.
        Must be smaller than the stride or the dilation (per axis).
    groups : int

    Returns
    -------
    out : (N, C_out, OH, OW), OH = (H-1)*sh - 2*ph + dh*(KH-1) + output_padding + 1
    cache : tuple for ``conv_transpose2d_backward``
    """
    fn = "conv_transpose2d"
    x = check_image(fn, "x", x)
    w = _check_params(fn, x, w, b, groups, "(C_in, C_out // groups, KH, KW)")
    stride = as_pair(fn, "stride", stride, 1)
    padding = as_pair(fn, "padding", padding, 0)
    output_padding = as_pair(fn, "output_padding", output_padding, 0)
    dilation = as_pair(fn, "dilation", dilation, 1)
    n_img, c_in, height, width = x.shape
    c_in_w, c_out_per_group, kh, kw = w.shape
    if c_in_w != c_in:
        raise ValueError(f"{fn}: x has {c_in} channels but weight {w.shape} expects {c_in_w}")
    if c_in % groups:
        raise ValueError(f"{fn}: groups={groups} must divide x's channels ({c_in})")
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= max(s, d):
            raise ValueError(
                f"{fn}: output_padding {output_padding} must be smaller than the stride "
                f"{stride} or the dilation {dilation}"
            )
    n_out = c_out_per_group * groups
    b = _check_bias(fn, b, n_out)
    out_hw = tuple(
        (s - 1) * st - 2 * p + d * (k - 1) + op + 1
        for s, st, p, d, k, op in zip(
            (height, width), stride, padding, dilation, (kh, kw), output_padding
        )
    )
    if min(out_hw) < 1:
        raise ValueError(
            f"{fn}: padding {padding} leaves no output for x shape {x.shape} and weight shape "
            f"{w.shape} (output would be {out_hw[0]}x{out_hw[1]})"
        )
    geom = Geometry((kh, kw), stride, padding, dilation, out_hw, (height, width))
    out = np.empty((n_img, n_out, *out_hw), x.dtype)
    wmat = w.reshape(groups, c_in // groups, -1)
    _correlate_grads(x, wmat.transpose(0, 2, 1), geom, image_grad=out)
    if b is not None:
        out += b.reshape(1, -1, 1, 1)
    return out, (x, w, b is not None, groups, geom)


def conv_transpose2d_backward(dout, cache, needs_grad=(True, True, True)):
    """Backward pass of ``conv_transpose2d_forward``.

    Parameters
    ----------
    dout : (N, C_out, OH, OW) upstream gradient
    cache : from ``conv_transpose2d_forward``
    needs_grad : three bools, which of (dx, dw, db) to compute (others are None)

    Returns
    -------
    dx : (N, C_in, H, W), dw : (C_in, C_out // groups, KH, KW), db : (C_out,) or None
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


# ------------------------------------------------------------------ autograd wrappers
class Conv2dFunction(mg.Function):
    """Autograd wrapper of ``conv2d_forward``/``conv2d_backward``; inputs (x, w, b)."""

    @staticmethod
    def forward(ctx, x, w, b, stride=1, padding=0, dilation=1, groups=1):
        out, ctx.cache = conv2d_forward(x, w, b, stride, padding, dilation, groups)
        return out

    @staticmethod
    def backward(ctx, dout):
        return conv2d_backward(dout, ctx.cache, ctx.needs_input_grad)


class ConvTranspose2dFunction(mg.Function):
    """Autograd wrapper of ``conv_transpose2d_forward``/``_backward``; inputs (x, w, b)."""

    @staticmethod
    def forward(ctx, x, w, b, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
        out, ctx.cache = conv_transpose2d_forward(
            x, w, b, stride, padding, output_padding, dilation, groups
        )
        return out

    @staticmethod
    def backward(ctx, dout):
        return conv_transpose2d_backward(dout, ctx.cache, ctx.needs_input_grad)


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution of Tensors, like ``torch.nn.functional.conv2d``.

    x : (N, C, H, W), weight : (F, C // groups, KH, KW), bias : (F,) or None
    -> (N, F, OH, OW). See ``conv2d_forward`` for the arguments.
    """
    return Conv2dFunction.apply(
        x, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups
    )


def conv_transpose2d(
    x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1, groups=1
):
    """2-D transposed convolution of Tensors, like ``torch.nn.functional.conv_transpose2d``.

    x : (N, C_in, H, W), weight : (C_in, C_out // groups, KH, KW), bias : (C_out,) or None
    -> (N, C_out, OH, OW). See ``conv_transpose2d_forward`` for the arguments.
    """
    return ConvTranspose2dFunction.apply(
        x, weight, bias, stride=stride, padding=padding, output_padding=output_padding,
        dilation=dilation, groups=groups,
    )


# --------------------------------------------------------------------------- modules
def _uniform_init(rng, shape, fan_in, dtype):
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default for conv weights and biases."""
    bound = 1.0 / math.sqrt(fan_in)
    return mg.Parameter(rng.uniform(-bound, bound, size=shape).astype(dtype))


class _ConvNd(mg.Module):
    """Shared constructor of ``Conv2d`` and ``ConvTranspose2d``."""

    def __init__(self, fn, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, rng, dtype, transposed):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{fn}: {name} must be a positive int, got {value!r}")
        if not isinstance(groups, (int, np.integer)) or groups < 1:
            raise ValueError(f"{fn}: groups must be a positive int, got {groups!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{fn}: groups={groups} must divide in_channels ({in_channels}) "
                f"and out_channels ({out_channels})"
            )
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = as_pair(fn, "kernel_size", kernel_size, 1)
        self.stride = as_pair(fn, "stride", stride, 1)
        self.padding = as_pair(fn, "padding", padding, 0)
        self.dilation = as_pair(fn, "dilation", dilation, 1)
        rng = np.random.default_rng(rng)
        if transposed:
            shape = (in_channels, out_channels // groups, *self.kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *self.kernel_size)
        # PyTorch computes fan_in from weight.shape[1] in both layouts.
        fan_in = shape[1] * self.kernel_size[0] * self.kernel_size[1]
        self.weight = _uniform_init(rng, shape, fan_in, dtype)
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
    dtype : float dtype of the parameters (float32 by default)

    Attributes
    ----------
    weight : Parameter (out_channels, in_channels // groups, KH, KW)
    bias : Parameter (out_channels,) or None
        Both initialised from U(-k, k), k = 1 / sqrt(in_channels // groups * KH * KW),
        PyTorch's documented default.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, rng=None, dtype=np.float32):
        super().__init__("Conv2d", in_channels, out_channels, kernel_size, stride, padding,
                         dilation, groups, bias, rng, dtype, transposed=False)

    def forward(self, x):
        """x : (N, in_channels, H, W) -> (N, out_channels, OH, OW)."""
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)


class ConvTranspose2d(_ConvNd):
    """2-D transposed convolution layer, like ``torch.nn.ConvTranspose2d``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding, output_padding, dilation : int or (int, int)
    groups : int
    bias : bool
    rng : np.random.Generator, int or None
    dtype : float dtype of the parameters (float32 by default)

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
        super().__init__("ConvTranspose2d", in_channels, out_channels, kernel_size, stride,
                         padding, dilation, groups, bias, rng, dtype, transposed=True)
        self.output_padding = as_pair("ConvTranspose2d", "output_padding", output_padding, 0)

    def forward(self, x):
        """x : (N, in_channels, H, W) -> (N, out_channels, OH, OW)."""
        return conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                self.output_padding, self.dilation, self.groups)

    def extra_repr(self):
        return super().extra_repr() + f", output_padding={self.output_padding}"
