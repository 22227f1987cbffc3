"""Batch-norm kernels over a (N, C, L) view (L = H*W, or 1 for (N, D) input).

Every kernel walks memory in order (n, c, l), so both layouts are read
contiguously. The statistics accumulate per-channel sums in float64 (float32
input too); the gradient sums of images add float32 lanes within blocks and
the blocks in float64, as the row kernels below do (``_reductions``). For
(N, D) input the loop over channels is innermost, which vectorises.

The batch-norm kernels are serial on purpose. On these shared 2-core
machines, under the usual load of other processes, an OpenMP parallel region
waits for a descheduled thread: a chunked ``prange`` version ran batch norm
(32, 64, 32, 32) float32 in 188 ms wall time against 12 ms serial (PyTorch
with 2 threads: 92 ms). The row kernels (layer and group norm) split their
rows over our own threads from MIN_PARALLEL_WORK values (``split_rows``):
forward + backward, float32, layer norm (32, 64, 512) 0.90-0.99 ms serial
against 0.70 split, group norm (32, 64, 32, 32) 1.78-1.96 against 1.11-1.21.
"""
import numpy as np
from numba import njit, uintp

from .._parallel import map_batch
from ._reductions import centered_dots, centered_sums, row_sum

# Let LLVM reorder the float64 sums so the inner loops vectorise; unlike full
# fastmath this keeps NaN and inf semantics, so a NaN input propagates.
_REASSOC = {"reassoc", "contract"}
# The row kernels take their sums from ``_reductions`` and keep IEEE order
# elsewhere (the two-part mean relies on it). They release the GIL: the API
# functions below split their rows over threads (``split_rows``).
_ELEMENTWISE = dict(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})


@njit(cache=True, error_model="numpy", fastmath=_REASSOC)
def _sums(x, center, squared):
    """Per-channel sums of ``x - center[c]`` (or of its square)."""
    n, c_dim, l_dim = x.shape
    out = np.zeros(c_dim)
    for i in range(n):
        if l_dim == 1:  # (N, D) input: a loop over contiguous channels vectorises
            for c in range(c_dim):
                d = x[i, c, 0] - center[c]
                out[c] += d * d if squared else d
            continue
        for c in range(c_dim):
            m = center[c]
            acc = 0.0
            for j in range(l_dim):
                d = x[i, c, j] - m
                acc += d * d if squared else d
            out[c] += acc
    return out


@njit(**_ELEMENTWISE)
def _grad_sums(dout, x, mean):
    """Per-channel ``sum(dout)`` and ``sum(dout * (x - mean))``.

    Images (L > 1): each (sample, channel) run of L values is one row of the
    ``_reductions`` sums, in x's dtype (float32 lanes for float32, blocks
    added in float64), with the mean carried as ``hi + lo`` in x's dtype as in
    the row kernels below. Converting every value to float64 instead, as this
    kernel once did, halved the lanes.
    """
    n, c_dim, l_dim = x.shape
    s_dy, s_dyx = np.zeros(c_dim), np.zeros(c_dim)
    if l_dim == 1:  # (N, D) input: a loop over contiguous channels vectorises
        for i in range(n):
            for c in range(c_dim):
                dy = dout[i, c, 0]
                s_dy[c] += dy
                s_dyx[c] += dy * (x[i, c, 0] - mean[c])
        return s_dy, s_dyx
    m_hi = np.empty(c_dim, dtype=x.dtype)
    for c in range(c_dim):
        m_hi[c] = mean[c]
    dout_r, x_r = dout.reshape(n * c_dim, l_dim), x.reshape(n * c_dim, l_dim)
    for i in range(n):
        for c in range(c_dim):
            a, b = centered_dots(dout_r, x_r, i * c_dim + c, m_hi[c])
            s_dy[c] += a
            s_dyx[c] += b
    for c in range(c_dim):
        s_dyx[c] -= (mean[c] - m_hi[c]) * s_dy[c]  # the mean's low part
    return s_dy, s_dyx


@njit(**_ELEMENTWISE)
def _combine(y, x, mean, a, b, shift, out, relu):
    """Images (L > 1) are combined in x's dtype (float32 lanes for float32; the
    float64 version spent a third of batch norm's time converting), the mean
    carried as ``hi + lo`` in that dtype as in the row kernels below. With
    ``relu``, each value ``v`` is stored as ``relu_forward`` would store it."""
    n, c_dim, l_dim = x.shape
    zero = x.dtype.type(0)
    if l_dim == 1:
        # (N, D): the per-channel factors in x's dtype once, so that the loop
        # over channels runs in float32 lanes for float32 (with the float64
        # factors it converted every value: (256, 1024) took 0.10 ms, now 0.06).
        m_hi = mean.astype(x.dtype)
        m_lo = (mean - m_hi).astype(x.dtype)
        ac, bc, sc = a.astype(x.dtype), b.astype(x.dtype), shift.astype(x.dtype)
        for i in range(n):
            for c in range(c_dim):
                v = ac[c] * y[i, c, 0] + bc[c] * ((x[i, c, 0] - m_hi[c]) - m_lo[c]) + sc[c]
                out[i, c, 0] = zero if relu and v <= 0 else v
        return
    for i in range(n):
        for c in range(c_dim):
            m_hi = x.dtype.type(mean[c])
            m_lo = x.dtype.type(mean[c] - m_hi)
            ac, bc, sc = x.dtype.type(a[c]), x.dtype.type(b[c]), x.dtype.type(shift[c])
            if relu:  # a loop of its own, which vectorises as well as the one below
                for j in range(l_dim):
                    v = ac * y[i, c, j] + bc * ((x[i, c, j] - m_hi) - m_lo) + sc
                    out[i, c, j] = zero if v <= 0 else v  # NaN fails the test and is kept
            else:
                for j in range(l_dim):
                    out[i, c, j] = ac * y[i, c, j] + bc * ((x[i, c, j] - m_hi) - m_lo) + sc


@njit(cache=True, error_model="numpy", fastmath=_REASSOC)
def _image_moments(x):
    """Per-channel mean and sum of squared deviations (float64, (C,)) of images x (N, C, L):
    the two passes of ``channel_stats`` over each (sample, channel) row of L values while the
    row is in cache, the rows then merged (Chan, Golub and LeVeque's pairwise update)."""
    n, c_dim, l_dim = x.shape
    mean, m2 = np.zeros(c_dim), np.zeros(c_dim)
    for i in range(n):
        for c in range(c_dim):
            total = 0.0
            for j in range(l_dim):
                total += x[i, c, j]
            row_mean = total / l_dim
            squares = 0.0
            for j in range(l_dim):
                d = x[i, c, j] - row_mean
                squares += d * d
            # Merge the i rows so far (i * L values) with this one.
            delta = row_mean - mean[c]
            mean[c] += delta / (i + 1)
            m2[c] += squares + delta * delta * l_dim * i / (i + 1)
    return mean, m2


# Images of at least this many pixels take ``_image_moments``. Float32, one call on each
# of 8 arrays in turn, ms (two passes over the batch / over each row): (64, 16, 28x28)
# 0.26 / 0.17; (32, 64, 32x32) 0.66 / 0.41; (64, 32, 14x14) 0.12 / 0.11; but
# (64, 64, 7x7) 0.10 / 0.12, where merging a row costs as much as summing it.
ROW_MOMENTS_MIN = 100


def channel_stats(x):
    """Mean and biased variance (float64, (C,)) of each channel of ``x`` (N, C, L).

    Two passes (mean, then squared deviations) keep float32 input accurate. On
    images of ROW_MOMENTS_MIN pixels or more they run over each row while it is
    in cache, one pass over memory in all (``_image_moments``).
    """
    count = x.shape[0] * x.shape[2]
    if x.shape[2] >= ROW_MOMENTS_MIN:
        mean, m2 = _image_moments(x)
        return mean, m2 / count
    mean = _sums(x, np.zeros(x.shape[1]), False) / count
    var = _sums(x, mean, True) / count
    return mean, var


def channel_grad_sums(dout, x, mean):
    """``(sum(dout), sum(dout * (x - mean)))`` per channel, float64 (C,) each;
    dout and x (N, C, L) of one dtype, mean (C,) float64."""
    return _grad_sums(np.ascontiguousarray(dout), np.ascontiguousarray(x), mean)


def channel_combine(y, x, mean, a, b, shift, relu=False):
    """``a[c] * y + b[c] * (x - mean[c]) + shift[c]`` for (N, C, L) arrays, x's dtype, through
    ReLU if ``relu``.

    With ``y = x, a = 0`` this is the forward's per-channel affine; with
    ``y = dout`` it is the backward's dx.
    """
    out = np.empty_like(x)
    _combine(y, x, mean, a, b, shift, out, relu)
    return out


# ------------------------------------------- row standardisation (layer/group norm)
# Each row of x (R, D) is one group of values standardised together. Layer
# norm: one weight per column, (G, D) with G = 1, row r using w[r % G]. Group
# norm: a row is the (sample, group) pair's K channels of L values each, one
# weight per channel, (G, K), row r using w[r % G]. Without affine the callers
# pass ones and zeros: branch-free loops vectorise.
#
# Element-wise work runs in x's dtype (float32 lanes for float32 data); the
# row sums are float64 (``_reductions``), and so are the mean, 1/std and the
# weight gradients. The mean is carried as two numbers of x's dtype, ``hi +
# lo``, and x - mean as ``(x - hi) - lo``: float32 code then matches the
# float64 definition to a few float32 ulps of the output (tests: 1e-5), even
# where the mean is large next to the spread. The variance sums squared
# deviations from ``hi`` and corrects for ``lo`` (no E[x^2] - E[x]^2
# cancellation).
@njit(**_ELEMENTWISE)
def _row_stats(x, r, eps, mean, inv_std):
    """Mean and 1/std of ``x[r]`` into ``mean[r]``, ``inv_std[r]`` (float64);
    returns the mean's two parts and 1/std in x's dtype."""
    n = x.shape[1]
    m = row_sum(x, r) / n
    m_hi = x.dtype.type(m)
    s1, s2 = centered_sums(x, r, m_hi)
    d1 = s1 / n
    iv = 1.0 / np.sqrt(max(s2 / n - d1 * d1, 0.0) + eps)
    mean[r] = m_hi + d1  # d1 corrects the rounding of m_hi and of the float32 sums behind it
    inv_std[r] = iv
    return m_hi, x.dtype.type(d1), x.dtype.type(iv)


@njit(**_ELEMENTWISE)
def _mean_parts(x, mean, r):
    m_hi = x.dtype.type(mean[r])
    return m_hi, x.dtype.type(mean[r] - m_hi)


@njit(**_ELEMENTWISE)
def _rows_forward(x, eps, w, b, out, mean, inv_std):
    rows, d = x.shape
    groups = w.shape[0]
    for r in range(rows):
        m_hi, m_lo, iv = _row_stats(x, r, eps, mean, inv_std)
        g = r % groups
        for j in range(d):
            out[r, j] = ((x[r, j] - m_hi) - m_lo) * iv * w[g, j] + b[g, j]


@njit(**_ELEMENTWISE)
def _rows_backward(dout, x, mean, inv_std, w, dx, dw, db):
    rows, d = x.shape
    groups = w.shape[0]
    for r in range(rows):
        m_hi, m_lo = _mean_parts(x, mean, r)
        iv = x.dtype.type(inv_std[r])
        g = r % groups
        for j in range(d):  # dx holds dout * w until the last loop
            dy = dout[r, j]
            dx[r, j] = dy * w[g, j]
            dw[g, j] += dy * (((x[r, j] - m_hi) - m_lo) * iv)
            db[g, j] += dy
        s_g, s_gx = centered_dots(dx, x, r, m_hi)
        s_gx -= m_lo * s_g
        a = x.dtype.type(s_g / d)
        c = x.dtype.type(s_gx / d * inv_std[r])
        for j in range(d):
            dx[r, j] = iv * (dx[r, j] - a - ((x[r, j] - m_hi) - m_lo) * iv * c)


@njit(**_ELEMENTWISE)
def _groups_forward(x, eps, w, b, out, mean, inv_std):
    rows, d = x.shape
    groups, k_dim = w.shape
    l_dim = d // k_dim
    for r in range(rows):
        m_hi, m_lo, iv = _row_stats(x, r, eps, mean, inv_std)
        g = r % groups
        for k in range(k_dim):
            a, bk, lo = iv * w[g, k], b[g, k], k * l_dim
            for j in range(l_dim):  # unsigned index: see ``_reductions``
                out[r, uintp(lo + j)] = ((x[r, uintp(lo + j)] - m_hi) - m_lo) * a + bk


@njit(**_ELEMENTWISE)
def _groups_backward(dout, x, mean, inv_std, w, dx, dw, db):
    rows, d = x.shape
    groups, k_dim = w.shape
    l_dim = d // k_dim
    # One row per (sample, group, channel): the channel sums take whole rows.
    dout_c, x_c = dout.reshape(rows * k_dim, l_dim), x.reshape(rows * k_dim, l_dim)
    for r in range(rows):
        m_hi, m_lo = _mean_parts(x, mean, r)
        iv = inv_std[r]
        g = r % groups
        s_g = 0.0
        s_gx = 0.0
        for k in range(k_dim):  # per channel: sum(dy), sum(dy * (x - mean))
            s_dy, s_dyx = centered_dots(dout_c, x_c, r * k_dim + k, m_hi)
            s_dyx -= m_lo * s_dy
            dw[g, k] += s_dyx * iv
            db[g, k] += s_dy
            s_g += w[g, k] * s_dy
            s_gx += w[g, k] * s_dyx
        # dx = iv * (dy * w - mean(dy * w) - xhat * mean(dy * w * xhat))
        a = x.dtype.type(iv * s_g / d)
        c = x.dtype.type(iv * iv * iv * s_gx / d)
        for k in range(k_dim):
            wk, lo = x.dtype.type(iv * w[g, k]), k * l_dim
            for j in range(l_dim):
                i = uintp(lo + j)
                dx[r, i] = dout[r, i] * wk - a - ((x[r, i] - m_hi) - m_lo) * c


def split_rows(run, rows, groups, values):
    """``run(start, stop)`` on slices of ``range(rows)`` in parallel (``layers._parallel``),
    each slice a whole number of ``groups`` rows (row r uses weight row ``r % groups``).

    ``values`` is the element count of the call: arrays of MIN_PARALLEL_WORK values or more
    are split. A hand-off costs ~50 us here, so smaller ones stay serial: group norm
    (32, 32, 16, 16) forward + backward, 0.15 ms serial, took 0.27 ms split. Returns the
    results in slice order.
    """
    return map_batch(lambda a, b: run(a * groups, min(b * groups, rows)), -(-rows // groups), values)


def rows_forward(x, eps, w, b):
    """Standardise each row of ``x`` (R, D), then ``* w + b`` with w, b (G, D),
    row r using ``w[r % G]`` (see above; ones and zeros for no affine).

    Returns ``out`` (R, D, x's dtype), ``mean`` and ``inv_std`` (R,) float64.
    """
    return _forward(_rows_forward, x, eps, w, b)


def rows_backward(dout, x, mean, inv_std, w):
    """Gradients of ``rows_forward``: ``dx`` (R, D, x's dtype), ``dw`` and ``db``
    (G, D) float64."""
    return _backward(_rows_backward, dout, x, mean, inv_std, w)


def groups_forward(x, eps, w, b):
    """Standardise each row of ``x`` (R, K * L), then per channel ``* w + b`` with
    w, b (G, K): row r's k-th run of L columns uses ``w[r % G, k]``.

    Returns ``out`` (R, K * L, x's dtype), ``mean`` and ``inv_std`` (R,) float64.
    """
    return _forward(_groups_forward, x, eps, w, b)


def groups_backward(dout, x, mean, inv_std, w):
    """Gradients of ``groups_forward``: ``dx`` (R, K * L, x's dtype), ``dw`` and
    ``db`` (G, K) float64."""
    return _backward(_groups_backward, dout, x, mean, inv_std, w)


def _forward(kernel, x, eps, w, b):
    """``rows_forward`` / ``groups_forward`` through their row ``kernel``, rows split over threads."""
    rows = x.shape[0]
    out, mean, inv_std = np.empty_like(x), np.empty(rows), np.empty(rows)
    split_rows(lambda a, c: kernel(x[a:c], eps, w, b, out[a:c], mean[a:c], inv_std[a:c]),
               rows, w.shape[0], x.size)
    return out, mean, inv_std


def _backward(kernel, dout, x, mean, inv_std, w):
    """``rows_backward`` / ``groups_backward`` through their row ``kernel``, rows split over threads."""
    dout, x = np.ascontiguousarray(dout), np.ascontiguousarray(x)
    dx = np.empty_like(x)

    def run(a, c):
        dw, db = np.zeros(w.shape), np.zeros(w.shape)
        kernel(dout[a:c], x[a:c], mean[a:c], inv_std[a:c], w, dx[a:c], dw, db)
        return dw, db

    # One float64 pair of sums per slice, added in slice order.
    parts = split_rows(run, x.shape[0], w.shape[0], x.size)
    dw = sum((p[0] for p in parts[1:]), parts[0][0])
    db = sum((p[1] for p in parts[1:]), parts[0][1])
    return dx, dw, db
