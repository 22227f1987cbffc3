"""Vectorisable exp, sigmoid and tanh for the element-wise Numba kernels.

Shared by the recurrent gate kernels, the attention softmax, and the softmax
and GELU kernels. ``exp_neg``, ``sigmoid`` and ``tanh`` compute in the
argument's own dtype: float32 data keeps 8 lanes per AVX2 vector instead of
4, and its exp is a degree-5 polynomial instead of degree 14 (the LSTM's
float32 gate kernel took 2.55 ms instead of 3.65 over the 28 steps of an
N=64, H=128 sequence).
"""
import numpy as np
from numba import njit, types
from numba.extending import intrinsic, overload

# Calls to the C library's exp/tanh are scalar and cost ~20 ns each here, so
# a step of an LSTM spent most of its time in them. The functions below use
# plain arithmetic only, so LLVM vectorises the gate loops (AVX-512 on these
# machines, ~5x faster than libm). Accuracy: exp within ~1 ulp in float64
# (tests compare against NumPy), tanh and sigmoid within a few ulp.

# error_model="numpy": a float division by zero gives inf/NaN instead of
# raising, so the loops carry no exception branches and can be vectorised.
# fastmath={"contract"}: fused multiply-adds (one rounding instead of two, so
# no less accurate), ~35% faster here; no other IEEE rule is relaxed.
JIT_OPTIONS = dict(cache=True, error_model="numpy", fastmath={"contract"})

_LOG2E = 1.4426950408889634
# ln 2 split in a high part with trailing zero bits and a low part, so that
# k * _LN2_HI is exact for the k we use (Cody and Waite's range reduction).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10


def bitcast(source, target):
    """An intrinsic reinterpreting the bits of a ``source`` scalar as a ``target`` scalar of
    the same width (its argument is first converted to ``source``, as in any call)."""
    @intrinsic
    def cast(typingctx, value):
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(target))

        return target(source), codegen

    return cast


_float_from_bits = bitcast(types.int64, types.float64)  # how we build 2**-k


@njit(inline="always", **JIT_OPTIONS)
def exp_neg_parts(t):
    """``exp(-t) = scale * (1 + q)`` for ``t >= 0`` (NaN propagates through q).

    ``t = k ln2 + r`` with ``|r| <= ln2 / 2``; ``scale = 2**-k`` and
    ``q = exp(-r) - 1`` from its Taylor series (degree 14: the first dropped
    term is below 1e-18 on that interval). Returning ``q`` apart from the 1
    keeps ``expm1`` accurate near zero, which ``tanh`` needs.
    """
    t = min(t, 800.0)  # exp(-800) is 0 in float64; keeps 2**-k representable
    k = int(t * _LOG2E + 0.5)
    m = -(t - k * _LN2_HI - k * _LN2_LO)
    p = 1.0 / 87178291200.0
    p = p * m + 1.0 / 6227020800.0
    p = p * m + 1.0 / 479001600.0
    p = p * m + 1.0 / 39916800.0
    p = p * m + 1.0 / 3628800.0
    p = p * m + 1.0 / 362880.0
    p = p * m + 1.0 / 40320.0
    p = p * m + 1.0 / 5040.0
    p = p * m + 1.0 / 720.0
    p = p * m + 1.0 / 120.0
    p = p * m + 1.0 / 24.0
    p = p * m + 1.0 / 6.0
    p = p * m + 0.5
    q = (p * m + 1.0) * m
    # 2**-k as two factors so that k up to 1154 (subnormal results) stays exact.
    half = k >> 1
    scale = _float_from_bits((1023 - half) << 52) * _float_from_bits((1023 - (k - half)) << 52)
    return scale, q


@njit(inline="always", **JIT_OPTIONS)
def _sigmoid64(a):
    # One exp of a non-positive argument: exp(-|a|) never overflows.
    scale, q = exp_neg_parts(abs(a))
    e = scale + scale * q
    s = 1.0 / (1.0 + e)
    return s if a >= 0.0 else e * s


@njit(inline="always", **JIT_OPTIONS)
def _tanh64(a):
    # tanh|a| = -expm1(-2|a|) / (2 + expm1(-2|a|)); expm1 keeps small |a| exact.
    scale, q = exp_neg_parts(2.0 * abs(a))
    em1 = (scale - 1.0) + scale * q
    t = (0.0 - em1) / (2.0 + em1)  # 0.0 - em1: tanh(0) is +0, not -0
    return t if a >= 0.0 else -t


# ------------------------------------------------------------------ float32
# The same scheme in float32 arithmetic (Cody and Waite's two-part ln 2 with
# the short high part 0.693359375, and a degree-5 minimax polynomial for
# exp(r) - 1 - r on |r| <= ln2 / 2, the classic single-precision choice):
# within 1 ulp of the correctly rounded float32 result (tests compare against
# NumPy's float64 exp) down to 2**-126, float32's smallest normal number;
# below it the result may be flushed to 0 (an absolute error under 1.2e-38),
# which saves the second scale factor of the float64 version.
_LOG2E_32 = np.float32(_LOG2E)
_HALF_32 = np.float32(0.5)
_ONE_32 = np.float32(1.0)
_TWO_32 = np.float32(2.0)
_ZERO_32 = np.float32(0.0)
_LN2_HI_32 = np.float32(0.693359375)
_LN2_LO_32 = np.float32(-2.12194440e-4)
_EXP_P_32 = tuple(np.float32(c) for c in (
    1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1,
))
_EXP_T_MAX_32 = np.float32(88.0)  # k <= 127: 2**-k is a normal number or 0


_float32_from_bits = bitcast(types.int32, types.float32)


@njit(inline="always", **JIT_OPTIONS)
def _exp_neg32_parts(t):
    """``exp(-t) = scale * (1 + q)`` in float32, as ``exp_neg_parts`` (q is expm1 of the
    reduced argument; scale is 2**-k, or 0 for k = 127)."""
    t = min(t, _EXP_T_MAX_32)
    k = np.int32(t * _LOG2E_32 + _HALF_32)
    kf = np.float32(k)
    r = (kf * _LN2_HI_32 - t) + kf * _LN2_LO_32  # -t + k ln2, exact high part
    c5, c4, c3, c2, c1, c0 = _EXP_P_32
    p = ((((c5 * r + c4) * r + c3) * r + c2) * r + c1) * r + c0
    return _float32_from_bits((np.int32(127) - k) << 23), p * (r * r) + r


@njit(inline="always", **JIT_OPTIONS)
def _exp_neg32(t):
    scale, q = _exp_neg32_parts(t)
    return scale * (q + _ONE_32)  # a product, so a NaN in q stays NaN


@njit(inline="always", **JIT_OPTIONS)
def _sigmoid32(a):
    scale, q = _exp_neg32_parts(abs(a))
    e = scale * (q + _ONE_32)
    s = _ONE_32 / (_ONE_32 + e)
    return s if a >= _ZERO_32 else e * s


@njit(inline="always", **JIT_OPTIONS)
def _tanh32(a):
    scale, q = _exp_neg32_parts(_TWO_32 * abs(a))
    em1 = (scale - _ONE_32) + scale * q
    t = (_ZERO_32 - em1) / (_TWO_32 + em1)
    return t if a >= _ZERO_32 else -t


@njit(inline="always", **JIT_OPTIONS)
def _exp_neg64(t):
    scale, q = exp_neg_parts(t)
    return scale + scale * q


def exp_neg(t):
    """``exp(-t)`` for ``t >= 0`` in t's own float type (jitted code only)."""
    raise NotImplementedError("exp_neg is for Numba-compiled code")


@overload(exp_neg, inline="always", jit_options=JIT_OPTIONS)
def _exp_neg_overload(t):
    if t == types.float32:
        return lambda t: _exp_neg32(t)
    if t == types.float64:
        return lambda t: _exp_neg64(t)
    return None


def sigmoid(a):
    """``1 / (1 + exp(-a))`` in a's own float type, without overflow (jitted code only)."""
    raise NotImplementedError("sigmoid is for Numba-compiled code")


def tanh(a):
    """``tanh(a)`` in a's own float type, accurate near 0 (jitted code only)."""
    raise NotImplementedError("tanh is for Numba-compiled code")


def _by_dtype(float32_impl, float64_impl):
    """An ``overload`` typer for ``sigmoid`` or ``tanh``: the float32 or the float64
    implementation by the argument's type."""
    def typer(a):
        if a == types.float32:
            return float32_impl.py_func
        if a == types.float64:
            return float64_impl.py_func
        return None
    return typer


# Not inlined in Numba's IR, as exp_neg is: inlining these (a select after an inlined
# function) raised Numba's "variable is not in scope" warnings. LLVM inlines the
# calls anyway; the gate loops stay vectorised.
overload(sigmoid, jit_options=JIT_OPTIONS)(_by_dtype(_sigmoid32, _sigmoid64))
overload(tanh, jit_options=JIT_OPTIONS)(_by_dtype(_tanh32, _tanh64))
