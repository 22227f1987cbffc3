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
from numba import njit, uintp

from ._fastmath import JIT_OPTIONS

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


# "nnan" lets LLVM drop the NaN checks of the comparisons. A NaN in the row
# then may or may not reach the maximum, but the callers subtract the maximum
# from every value of the row and sum the results, so the row's outputs are
# NaN either way.
@njit(cache=True, error_model="numpy", fastmath={"nnan", "reassoc", "nsz"})
def row_max(a, r):
    """The largest of ``a[r]`` (a non-empty row; see above for NaN)."""
    m = a[r, 0]
    for j in range(1, a.shape[1]):
        m = max(m, a[r, j])
    return m
