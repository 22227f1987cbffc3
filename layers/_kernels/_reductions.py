"""Reductions over row ``r`` of a 2-D array that vectorise, for the row kernels.

A sum written as one chain of additions cannot use vector lanes: LLVM may
split it over lanes only when told that the order of additions is free
("reassoc"). That flag is given to these small functions alone, never to a
kernel that also evaluates a polynomial or a range reduction (such as
``_fastmath.exp_neg``), which reassociation would spoil.

Sums return float64. For float32 rows the additions run in float32 lanes
over blocks of ``BLOCK`` values and the block totals are added in float64:
each float32 partial sum then holds a few dozen values (8 lanes, several
vectors in flight), so its rounding error stays near float32's own, and the
float64 total keeps long rows (group norm: 8192 values) accurate, at the
speed of float32 lanes (a float64 accumulator would convert every value and
halve the lanes).

They take the 2-D array and a row index rather than a row view: making a
view per row costs reference counting, which doubled the time of a softmax
over rows of 64 values. They always take whole rows (a kernel that needs
parts of a row passes a reshaped view).

Column indices are cast to unsigned (``uintp``). Numba wraps negative
indices, and an index such as ``start + j``, which LLVM cannot prove
non-negative, turned the block loops into gathers (AVX-512 ``vgather``, one
element per lane and cycle): summing 1024 rows of 1568 float32 values took
0.9 ms that way and 0.07 ms with unsigned indices, which need no wrapping
and load contiguous vectors. Kernels that index a row at an offset use the
same cast.
"""
import numpy as np
from numba import njit, types, uintp
from numba.extending import overload

from ._fastmath import JIT_OPTIONS, bitcast

SUM_OPTIONS = dict(JIT_OPTIONS, fastmath={"contract", "reassoc"})
BLOCK = 256


@njit(**SUM_OPTIONS)
def row_sum(a, r):
    """``sum(a[r])`` as float64."""
    total = 0.0
    n = a.shape[1]
    for start in range(0, n, BLOCK):
        part = a.dtype.type(0)
        for j in range(min(BLOCK, n - start)):
            part += a[r, uintp(start + j)]
        total += part
    return total


@njit(**SUM_OPTIONS)
def row_dot(a, b, r):
    """``sum(a[r] * b[r])`` as float64 (products rounded to a's dtype)."""
    total = 0.0
    n = a.shape[1]
    for start in range(0, n, BLOCK):
        part = a.dtype.type(0)
        for j in range(min(BLOCK, n - start)):
            part += a[r, uintp(start + j)] * b[r, uintp(start + j)]
        total += part
    return total


@njit(**SUM_OPTIONS)
def centered_sums(a, r, c):
    """``(sum(d), sum(d**2))`` as float64, ``d = a[r] - c``, ``c`` of a's dtype."""
    s1 = 0.0
    s2 = 0.0
    n = a.shape[1]
    for start in range(0, n, BLOCK):
        p1 = a.dtype.type(0)
        p2 = a.dtype.type(0)
        for j in range(min(BLOCK, n - start)):
            d = a[r, uintp(start + j)] - c
            p1 += d
            p2 += d * d
        s1 += p1
        s2 += p2
    return s1, s2


@njit(**SUM_OPTIONS)
def centered_dots(g, x, r, c):
    """``(sum(g[r]), sum(g[r] * (x[r] - c)))`` as float64, ``c`` of x's dtype."""
    s1 = 0.0
    s2 = 0.0
    n = g.shape[1]
    for start in range(0, n, BLOCK):
        p1 = g.dtype.type(0)
        p2 = g.dtype.type(0)
        for j in range(min(BLOCK, n - start)):
            p1 += g[r, uintp(start + j)]
            p2 += g[r, uintp(start + j)] * (x[r, uintp(start + j)] - c)
        s1 += p1
        s2 += p2
    return s1, s2


# ------------------------------------------------------------------ max
# LLVM does not vectorise a floating-point max reduction in Numba's code, with
# or without fast-math flags: it stays a chain of scalar ``vmaxss``, 0.52 ms
# for 1024 rows of 1000 float32 values, 5x NumPy's ``max(axis=1)``. It does
# vectorise an integer max, so ``row_max`` compares order-preserving integer
# keys: a float's bit pattern with the magnitude bits of negative values
# flipped sorts as the floats do (-0.0 just below +0.0), and the same flip
# turns the largest key back into its float. Those rows then take 0.05 ms.
# NaN: positive NaN keys sort above +inf and negative ones below -inf, so a NaN
# in the row may or may not be the result; the callers subtract the maximum
# from every value of the row and sum the results, so the row's outputs are
# NaN either way.
_BITCASTS = {
    types.float32: (bitcast(types.float32, types.int32), bitcast(types.int32, types.float32), np.int32),
    types.float64: (bitcast(types.float64, types.int64), bitcast(types.int64, types.float64), np.int64),
}


def row_max(a, r):
    """The largest of ``a[r]`` (a non-empty float row; see above for NaN)."""
    raise NotImplementedError("row_max is for Numba-compiled code")


@overload(row_max, jit_options=JIT_OPTIONS)
def _row_max_overload(a, r):
    if a.dtype not in _BITCASTS:
        return None
    to_bits, from_bits, integer = _BITCASTS[a.dtype]
    sign_shift = integer(np.iinfo(integer).bits - 1)
    magnitude = integer(np.iinfo(integer).max)

    def impl(a, r):
        # Numba widens int32 arithmetic to int64; the casts keep the keys in
        # int32 lanes, twice as many per vector.
        bits = to_bits(a[r, 0])
        key = integer(bits ^ ((bits >> sign_shift) & magnitude))
        for j in range(1, a.shape[1]):
            bits = to_bits(a[r, uintp(j)])
            key = max(key, integer(bits ^ ((bits >> sign_shift) & magnitude)))
        return from_bits(integer(key ^ ((key >> sign_shift) & magnitude)))

    return impl
