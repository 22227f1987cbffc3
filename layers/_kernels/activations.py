"""Activation kernels: GELU, SiLU (float32), leaky ReLU, and softmax over rows
(also the first step of the cross-entropy kernel).

GELU: NumPy has no ``erf``, and a scalar ``math.erf`` loop costs ~10 ns per
element, 10x PyTorch's vectorised GELU. So the hot paths are loops of plain
arithmetic that LLVM turns into SIMD, with the vectorisable ``exp_neg`` of
``_fastmath`` in the data's dtype: the float32 forward and both backwards are
one pass each (NumPy's float32 exp does not vectorise here, and each extra
pass wrote and re-read an array). The forward also keeps the CDF, which the
backward needs, instead of recomputing it.

- ``approximate='tanh'``: computed as ``x * sigmoid(2u)`` from NumPy's
  ``exp``, exact in both dtypes and free of the cancellation in ``1 + tanh``.
- exact GELU, float32: ``erfc`` from a rational fit
  ``erfc(z) = t * exp(-z**2 + P(t))``, ``t = 1 / (1 + z / 2)``, with P of
  degree 10 fitted for this module (once, offline) by least squares against
  ``scipy.special.erfc`` on z in [0, 12]: relative error 5e-8 in float64.
  It is evaluated in float32 arithmetic (8 lanes): the GELU stays within
  1e-6 absolute of the float64 definition (tested on [-12, 12]).
  Evaluating ``erfc`` rather than ``erf`` keeps the CDF's left tail accurate
  relative to its size.
- exact GELU, float64: scalar ``math.erfc``, correct to the last bits.

All kernels use ``error_model="numpy"``: Python's error model checks every
division for zero, which keeps LLVM from vectorising the loop (5x slower
here), and ``contract`` lets it fuse multiply-adds. From MIN_PARALLEL_WORK
operations (OPS_PER_VALUE per value) the GELU, SiLU and softmax kernels run on
slices in our threads (``split_values``, ``layers._parallel``): GELU
(32, 64, 512) float32 forward + backward went from 1.27x PyTorch's time to
0.76x. Below that a hand-off (~50 us) costs more than it saves.
"""
import math

import numpy as np
from numba import njit, uintp

from .._parallel import map_batch
from ._fastmath import JIT_OPTIONS, exp_neg
from ._reductions import row_dot, row_max, row_sum

_SQRT1_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_TANH_COEF = 0.044715
# Coefficients of P(t), lowest degree first (see the module docstring).
_ERFC_P = (
    -1.2655492790252498, 1.0011105844011967, 0.36067999263920303, 0.18816924076405456,
    -0.56788577626521108, 1.3044127935066341, -2.9425786409774926, 3.5635373717150531,
    -2.3157598969807149, 0.78258171010837119, -0.10871805074757564,
)


# Work of one value of the kernels below, in MIN_PARALLEL_WORK's operations: an exponential
# and a few products. With it they split from 512K values; measured forward + backward,
# float32, serial against split (ms): softmax over rows of 64, 524K values 0.48 / 0.37,
# 262K 0.23 / 0.33; GELU 524K 0.59 / 0.44, 262K 0.30 / 0.31-0.44; SiLU 524K 0.42 / 0.36.
OPS_PER_VALUE = 2


def split_values(run, n, values=None):
    """``run(start, stop)`` on slices of ``range(n)``, in parallel (``layers._parallel``) where
    there are enough values (OPS_PER_VALUE): n values, or n rows of ``values`` values in all."""
    map_batch(run, n, OPS_PER_VALUE * (n if values is None else values))


# ------------------------------------------------------------- tanh form
# 0.5 * x * (1 + tanh(u)) equals x * sigmoid(2u); the sigmoid form, built from
# e = exp(-2|u|), avoids the cancellation of 1 + tanh(u) for very negative x.
@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _tanh_form_u(v):
    return _SQRT_2_OVER_PI * (v + _TANH_COEF * v * v * v)


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _tanh_form_exponent(x, out):
    for i in range(x.size):
        out[i] = -2.0 * abs(_tanh_form_u(x[i]))


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _tanh_form_output(x, e, out):
    for i in range(x.size):
        v = x[i]
        sig = (1.0 if _tanh_form_u(v) >= 0 else e[i]) / (1.0 + e[i])
        out[i] = v * sig


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _tanh_form_grad(dout, x, e, dx):
    """d/dx [x sigmoid(2u)] = sigmoid(2u) + 2 x sigmoid(2u) (1 - sigmoid(2u)) u'."""
    for i in range(x.size):
        v = x[i]
        positive = _tanh_form_u(v) >= 0
        sig = (1.0 if positive else e[i]) / (1.0 + e[i])
        rest = (e[i] if positive else 1.0) / (1.0 + e[i])
        du = _SQRT_2_OVER_PI * (1.0 + 3.0 * _TANH_COEF * v * v)
        dx[i] = dout[i] * (sig + 2.0 * v * sig * rest * du)


# ------------------------------------------------------------ exact form
_ERFC_P_32 = tuple(np.float32(c) for c in _ERFC_P)
_HALF_32, _ONE_32 = np.float32(0.5), np.float32(1.0)
_SQRT1_2_32 = np.float32(_SQRT1_2)


@njit(nogil=True, **JIT_OPTIONS)
def _erfc_cdf32(x, out, cdf):
    """float32, one pass: ``cdf = Phi(x)`` from the fitted erfc, ``out = x * Phi(x)``.

    ``exp(-z**2 + P(t)) = exp_neg(x**2 / 2 - P(t))``; ``x * x / 2`` rounds
    once (``z * z`` would round twice). The argument is >= 0 up to the fit's
    error near x = 0, where ``exp_neg`` is exact for tiny negatives too.
    """
    p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, p10 = _ERFC_P_32
    half, one = _HALF_32, _ONE_32
    for i in range(x.size):
        v = x[i]
        t = one / (one + half * (abs(v) * _SQRT1_2_32))
        acc = p10
        acc = acc * t + p9
        acc = acc * t + p8
        acc = acc * t + p7
        acc = acc * t + p6
        acc = acc * t + p5
        acc = acc * t + p4
        acc = acc * t + p3
        acc = acc * t + p2
        acc = acc * t + p1
        acc = acc * t + p0
        tail = half * t * exp_neg(half * (v * v) - acc)  # Phi(-|x|) = erfc(|x| / sqrt 2) / 2
        c = tail if v < 0 else one - tail
        cdf[i] = c
        out[i] = v * c


@njit(nogil=True, **JIT_OPTIONS)
def _erf_exact(x, out, cdf):
    for i in range(x.size):
        c = 0.5 * math.erfc(-x[i] * _SQRT1_2)  # 1 + erf(x) would cancel for x << 0
        cdf[i] = c
        out[i] = x[i] * c


@njit(nogil=True, **JIT_OPTIONS)
def _erf_grad(dout, x, cdf, dx):
    """dx = dout * (Phi(x) + x * phi(x)) in one pass, in x's dtype."""
    half = x.dtype.type(0.5)
    inv_sqrt_2pi = x.dtype.type(_INV_SQRT_2PI)
    for i in range(x.size):
        v = x[i]
        dx[i] = dout[i] * (cdf[i] + v * exp_neg(half * (v * v)) * inv_sqrt_2pi)


# ------------------------------------------------------------------- API
def gelu_forward(x, approximate):
    """GELU of a contiguous float array (any shape).

    Returns ``(out, aux)``, both like ``x``: ``aux`` is ``exp(-2|u|)`` for the
    tanh form, the normal CDF Phi(x) otherwise; ``gelu_backward`` needs it.
    """
    flat = x.reshape(-1)
    out, aux = np.empty_like(flat), np.empty_like(flat)
    if approximate:
        def run(a, b):
            _tanh_form_exponent(flat[a:b], aux[a:b])
            np.exp(aux[a:b], out=aux[a:b])
            _tanh_form_output(flat[a:b], aux[a:b], out[a:b])
    else:
        kernel = _erfc_cdf32 if x.dtype == np.float32 else _erf_exact

        def run(a, b):
            kernel(flat[a:b], out[a:b], aux[a:b])
    split_values(run, flat.size)
    return out.reshape(x.shape), aux.reshape(x.shape)


def gelu_backward(x, aux, dout, approximate):
    """``dout * GELU'(x)`` given the forward's ``aux``; all like ``x``."""
    flat = x.reshape(-1)
    dflat = np.ascontiguousarray(dout, dtype=x.dtype).reshape(-1)
    aflat, dx = aux.reshape(-1), np.empty_like(flat)
    kernel = _tanh_form_grad if approximate else _erf_grad
    split_values(lambda a, b: kernel(dflat[a:b], flat[a:b], aflat[a:b], dx[a:b]), flat.size)
    return dx.reshape(x.shape)


# ------------------------------------------------------------ SiLU, float32
# x * sigmoid(x) from e = exp(-|x|) (never above 1, so nothing overflows):
# sigmoid is 1 / (1 + e) for x >= 0 and e / (1 + e) below, and 1 - sigmoid
# the other one, so the slope's ``1 - s`` keeps its relative accuracy where s
# rounds to 1. One pass each way with ``exp_neg`` in float32 lanes; NumPy's
# float32 exp does not vectorise here and its sigmoid took five passes. The
# backward recomputes e from x rather than reading a sigmoid saved by the
# forward: with the arrays out of cache (a training step), writing and
# re-reading a saved array cost more than the exp (1.6M values: 1.3 against
# 1.7 ms forward + backward), and the forward allocates only its output.
# float64 stays on ``minigrad.activations``' NumPy sigmoid (the definition
# these kernels are tested against).
@njit(nogil=True, **JIT_OPTIONS)
def _silu32(x, out):
    one = _ONE_32
    for i in range(x.size):
        v = x[i]
        e = exp_neg(abs(v))
        out[i] = v * ((one if v >= 0 else e) / (one + e))  # NaN: the e branch, NaN


@njit(nogil=True, **JIT_OPTIONS)
def _silu32_grad(dout, x, dx):
    """dx = dout * s * (1 + x * (1 - s)), s = sigmoid(x), in one pass."""
    one = _ONE_32
    for i in range(x.size):
        v = x[i]
        e = exp_neg(abs(v))
        inv = one / (one + e)
        e_inv = e * inv
        s = inv if v >= 0 else e_inv
        rest = e_inv if v >= 0 else inv  # 1 - s
        dx[i] = dout[i] * s * (one + v * rest)


def silu_forward32(x):
    """``x * sigmoid(x)`` of a contiguous float32 array (any shape), within a
    few ulp; below x = -87, where sigmoid(x) is under float32's smallest normal
    number, the result may be flushed to -0.0."""
    flat, out = x.reshape(-1), np.empty(x.size, x.dtype)
    split_values(lambda a, b: _silu32(flat[a:b], out[a:b]), flat.size)
    return out.reshape(x.shape)


def silu_backward32(x, dout):
    """``dout * SiLU'(x)`` for a contiguous float32 ``x``; dout like x."""
    dflat, flat = np.ascontiguousarray(dout, dtype=x.dtype).reshape(-1), x.reshape(-1)
    dx = np.empty(x.size, x.dtype)
    split_values(lambda a, b: _silu32_grad(dflat[a:b], flat[a:b], dx[a:b]), flat.size)
    return dx.reshape(x.shape)


# ------------------------------------------------------- (leaky) ReLU
# np.where costs ~5x a plain pass here; these loops vectorise to one pass.
@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _leaky(x, slope, out):
    for i in range(x.size):
        v = x[i]
        out[i] = v if v > 0 else v * slope


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _leaky_grad(dout, x, slope, dx):
    # Select rather than multiply by a 0/1 mask: 0 * inf would give NaN.
    for i in range(x.size):
        if x[i] > 0:
            dx[i] = dout[i]
        elif slope == 0:
            dx[i] = 0
        else:
            dx[i] = dout[i] * slope


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def _relu(x, out):
    zero = x.dtype.type(0)
    for i in range(x.size):
        v = x[i]
        out[i] = zero if v <= 0 else v  # NaN fails the test and is kept; -0.0 gives +0.0


def relu_forward(x):
    """``max(x, 0)`` of a contiguous array, NaN kept (``minigrad.activations``' ReLU)."""
    out = np.empty_like(x)
    _relu(x.reshape(-1), out.reshape(-1))
    return out


def leaky_relu_forward(x, slope):
    """``x if x > 0 else slope * x`` (slope 0: ReLU) of a contiguous array."""
    out = np.empty_like(x)
    _leaky(x.reshape(-1), x.dtype.type(slope), out.reshape(-1))
    return out


def leaky_relu_backward(dout, x, slope):
    """``dout if x > 0 else slope * dout`` (exactly 0 for slope 0)."""
    dx = np.empty_like(x)
    _leaky_grad(np.ascontiguousarray(dout, dtype=x.dtype).reshape(-1), x.reshape(-1),
                x.dtype.type(slope), dx.reshape(-1))
    return dx


# ---------------------------------------------------------------- softmax
# One pass over memory per direction: each row is read, exponentiated,
# summed and scaled while it sits in cache, in the data's own dtype (float32
# lanes for float32), with the vectorisable exp of ``_fastmath``. NumPy made
# five passes (max, subtract, exp, sum, divide) and its float32 exp does not
# vectorise here. ``minigrad.activations.softmax_forward`` is the reference
# these kernels are tested against.
@njit(inline="always", **JIT_OPTIONS)
def _normalise_row(a, r):
    total = row_sum(a, r)
    inv = a.dtype.type(1) / a.dtype.type(total)
    for j in range(a.shape[1]):
        a[r, uintp(j)] *= inv
    return total


# Each function below has an in-place twin that takes one array. Given the
# same array twice, LLVM's run-time check finds the two rows overlapping and
# takes its scalar fallback loop: 6x slower on attention scores.
@njit(inline="always", **JIT_OPTIONS)
def exp_normalise_row(x, r, m, out):
    """Write ``exp(x[r] - m) / sum(exp(x[r] - m))`` to ``out[r]`` (``out`` is not ``x``).

    ``m`` (x's dtype) is the row's maximum, so no exponential overflows.
    Returns the sum as float64: ``m + log(sum)`` is the row's log-sum-exp.
    """
    for j in range(x.shape[1]):
        out[r, uintp(j)] = exp_neg(m - x[r, uintp(j)])
    return _normalise_row(out, r)


@njit(inline="always", **JIT_OPTIONS)
def exp_normalise_row_in_place(a, r, m):
    """``exp_normalise_row(a, r, m, a)``."""
    for j in range(a.shape[1]):
        a[r, uintp(j)] = exp_neg(m - a[r, uintp(j)])
    return _normalise_row(a, r)


@njit(nogil=True, **JIT_OPTIONS)
def _softmax_rows(x, out):
    for r in range(x.shape[0]):
        exp_normalise_row(x, r, row_max(x, r), out)


@njit(nogil=True, **JIT_OPTIONS)
def _softmax_rows_backward(dout, y, dx):
    for r in range(y.shape[0]):
        dot = y.dtype.type(row_dot(dout, y, r))
        for j in range(y.shape[1]):
            dx[r, uintp(j)] = y[r, uintp(j)] * (dout[r, uintp(j)] - dot)


@njit(nogil=True, **JIT_OPTIONS)
def softmax_rows_backward_in_place(grad, y, scale):
    """``grad = scale * y * (grad - sum(grad * y))`` per row of (R, D) arrays of one
    dtype: the backward of ``softmax(scale * scores)`` over rows, written over the
    probabilities' gradient ``grad``."""
    for r in range(y.shape[0]):
        dot = y.dtype.type(row_dot(grad, y, r))
        for j in range(y.shape[1]):
            grad[r, uintp(j)] = scale * y[r, uintp(j)] * (grad[r, uintp(j)] - dot)


def softmax_rows(x):
    """Softmax of each row of a C-contiguous (R, D) float array, D >= 1."""
    out = np.empty_like(x)
    split_values(lambda a, b: _softmax_rows(x[a:b], out[a:b]), len(x), x.size)
    return out


def softmax_rows_backward(dout, y):
    """``y * (dout - sum(dout * y))`` per row, for (R, D) arrays of y's dtype."""
    dout, dx = np.ascontiguousarray(dout, dtype=y.dtype), np.empty_like(y)
    split_values(lambda a, b: _softmax_rows_backward(dout[a:b], y[a:b], dx[a:b]), len(y), y.size)
    return dx
