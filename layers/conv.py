"""2-D convolution and transposed convolution.

Contents, in the order of ``layers`` files: the functional pairs
``conv2d_forward/backward`` and ``conv_transpose2d_forward/backward`` on plain
arrays, the ``Function`` wrappers, the Tensor-level ``conv2d`` and
``conv_transpose2d``, and the ``Conv2d`` / ``ConvTranspose2d`` modules.

How it is computed
------------------
Everything reduces to three streamed operations on a chunk of images at a
time (``_correlate``, ``_scatter``, ``_weight_grad`` below), each an
``im2col``/``col2im`` Numba kernel around one GEMM per chunk and group:

=====================  ========================  ===========================
                       conv2d                    conv_transpose2d
=====================  ========================  ===========================
forward                correlate(x, w)           scatter(x, w)
grad of the input      scatter(dout, w)          correlate(dout, w)
grad of the weight     weight_grad(dout, x)      weight_grad(x, dout)
=====================  ========================  ===========================

The column matrix of a large batch is not materialised at once: chunks of
at most ``CHUNK_BYTES`` are built in a workspace reused across calls (a fresh
multi-hundred-MB array costs more in page faults than the GEMM takes), each
multiplied in one GEMM per group and overwritten by the next chunk. When
the whole batch is one chunk, the conv2d forward keeps its column matrix
for the weight gradient instead (``keep_columns``), saving an im2col per
step: the MNIST ConvNet's training step went from ~53 to ~45 ms with that
and the reordered ``col2im`` together.
"""
import math
import threading
from typing import NamedTuple

import numpy as np

import minigrad as mg

from ._kernels.conv import col2im, im2col

# Bytes of column matrix built per chunk. Measured on the shared 2-core
# machines (benchmarks/cases/layers_conv.py): every multi-threaded BLAS call
# pays thread-synchronisation costs that grow badly under load, so few large
# GEMMs beat many cache-sized ones (4 MB chunks ran up to 6x slower than
# 256 MB there; single-threaded, the size hardly mattered); 64 MB keeps most
# of that gain while bounding the workspace.
CHUNK_BYTES = 64 << 20


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

    def kernel_args(self):
        """Positional size arguments of the ``im2col``/``col2im`` kernels."""
        return (*self.kernel, *self.stride, *self.padding, *self.dilation, *self.cols_hw)


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
# In all three, a chunk of B images becomes per group g one GEMM whose inner or
# outer dimension is B*OH*OW; the column matrix is (G*CK, B, L) with
# CK = Ci*KH*KW and L = OH*OW (see layers._kernels.conv).


def _to_channel_major(a, start, stop, groups):
    """Copy images ``a[start:stop]`` (B, G*Fo, OH, OW) into a workspace as (G, Fo, B*L)."""
    chunk, channels = stop - start, a.shape[1]
    length = a.shape[2] * a.shape[3]
    buf = _WORKSPACE.get("channel_major", (channels, chunk, length), a.dtype)
    buf[...] = a[start:stop].reshape(chunk, channels, length).transpose(1, 0, 2)
    return buf.reshape(groups, channels // groups, chunk * length)


def _correlate(img, wmat, geom, out, bias=None, keep_columns=False):
    """``out[n, g] = wmat[g] @ im2col(img[n])[g] (+ bias)`` for every image n and group g.

    img (N, G*Ci, H, W), wmat (G, Fo, Ci*KH*KW), bias (G*Fo,) or None;
    out (N, G*Fo, OH, OW) is filled in place.

    Returns the column matrix (G, Ci*KH*KW, N*OH*OW) of the whole batch, in
    an array of its own, if ``keep_columns`` and the batch fits in one chunk;
    otherwise None.
    """
    n_img = img.shape[0]
    groups, f_out, ck = wmat.shape
    length = geom.cols_hw[0] * geom.cols_hw[1]
    chunks = list(_chunks(n_img, groups * ck * length * img.itemsize))
    keep_columns = keep_columns and len(chunks) == 1
    for start, stop in chunks:
        chunk = stop - start
        shape = (groups, ck, chunk * length)
        cols = np.empty(shape, img.dtype) if keep_columns else _WORKSPACE.get("cols", shape, img.dtype)
        im2col(img[start:stop], cols.reshape(groups * ck, chunk, length), *geom.kernel_args())
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
    return cols if keep_columns else None


def _scatter(src, wmat_t, geom, out):
    """``out[n] = col2im(wmat_t[g] @ src[n, g])``: the adjoint of ``_correlate`` in its image.

    src (N, G*Fo, OH, OW), wmat_t (G, Ci*KH*KW, Fo); out (N, G*Ci, H, W) is overwritten.
    """
    n_img = src.shape[0]
    groups, ck, f_out = wmat_t.shape
    length = geom.cols_hw[0] * geom.cols_hw[1]
    for start, stop in _chunks(n_img, groups * ck * length * src.itemsize):
        chunk = stop - start
        src_t = _to_channel_major(src, start, stop, groups)
        cols = _WORKSPACE.get("cols", (groups, ck, chunk * length), src.dtype)
        for g in range(groups):
            np.matmul(wmat_t[g], src_t[g], out=cols[g])
        col2im(cols.reshape(groups * ck, chunk, length), out[start:stop], *geom.kernel_args())


def _weight_grad(a, img, geom, groups, columns=None):
    """``sum_n a[n, g] @ im2col(img[n])[g].T``: the gradient of ``_correlate`` in ``wmat``.

    a (N, G*Fo, OH, OW), img (N, G*Ci, H, W) -> (G, Fo, Ci*KH*KW).
    ``columns``: the whole batch's column matrix kept by ``_correlate``, or None.
    """
    n_img, channels = img.shape[:2]
    f_out = a.shape[1] // groups
    ck = channels // groups * geom.kernel[0] * geom.kernel[1]
    length = geom.cols_hw[0] * geom.cols_hw[1]
    # Accumulated transposed, as cols @ a.T: OpenBLAS ran the (Fo, K) @ (K, CK)
    # form with its long inner dimension K = B*OH*OW up to 7x slower.
    grad_t = np.zeros((groups, ck, f_out), img.dtype)
    # Kept columns cover the whole batch in one chunk, whatever CHUNK_BYTES is now.
    chunks = [(0, n_img)] if columns is not None else _chunks(n_img, groups * ck * length * img.itemsize)
    for start, stop in chunks:
        chunk = stop - start
        if columns is not None:
            cols = columns
        else:
            cols = _WORKSPACE.get("cols", (groups, ck, chunk * length), img.dtype)
            im2col(img[start:stop], cols.reshape(groups * ck, chunk, length), *geom.kernel_args())
        a_t = _to_channel_major(a, start, stop, groups)
        for g in range(groups):
            grad_t[g] += cols[g] @ a_t[g].T
    return grad_t.transpose(0, 2, 1)


# ------------------------------------------------------------------------ conv2d pair
def conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1, *, keep_columns=True):
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
    keep_columns : bool
        Keep the im2col column matrix in the cache, as CS231n's fast layer does,
        so that the weight gradient need not rebuild it; done only when the
        whole batch's matrix fits in one chunk of ``CHUNK_BYTES``. Pass False
        when no weight gradient will be needed.

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
    columns = _correlate(x, w.reshape(groups, n_filt // groups, -1), geom, out, b, keep_columns)
    return out, (x, w, b is not None, groups, geom, columns)


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
    x, w, has_bias, groups, geom, columns = cache
    dout = np.ascontiguousarray(dout, dtype=x.dtype)
    dx = dw = db = None
    if needs_grad[0]:
        dx = np.empty_like(x)
        wmat = w.reshape(groups, w.shape[0] // groups, -1)
        _scatter(dout, wmat.transpose(0, 2, 1), geom, dx)
    if needs_grad[1]:
        dw = _weight_grad(dout, x, geom, groups, columns).reshape(w.shape)
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
    _scatter(x, wmat.transpose(0, 2, 1), geom, out)
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
        dw = _weight_grad(x, dout, geom, groups).reshape(w.shape)
    if has_bias and needs_grad[2]:
        db = dout.sum(axis=(0, 2, 3))
    return dx, dw, db


# ------------------------------------------------------------------ autograd wrappers
class Conv2dFunction(mg.Function):
    """Autograd wrapper of ``conv2d_forward``/``conv2d_backward``; inputs (x, w, b)."""

    @staticmethod
    def forward(ctx, x, w, b, stride=1, padding=0, dilation=1, groups=1):
        # The kept column matrix serves only the weight gradient.
        out, ctx.cache = conv2d_forward(x, w, b, stride, padding, dilation, groups,
                                        keep_columns=ctx.needs_input_grad[1])
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
