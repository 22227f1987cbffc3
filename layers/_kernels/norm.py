"""Batch-norm kernels over a (N, C, L) view (L = H*W, or 1 for (N, D) input).

Every kernel walks memory in order (n, c, l), so both layouts are read
contiguously, and accumulates per-channel sums in float64 (float32 input
too). For (N, D) input the loop over channels is innermost, which vectorises.

The kernels are serial on purpose. On these shared 2-core machines, under
the usual load of other processes, an OpenMP parallel region waits for a
descheduled thread: a chunked ``prange`` version ran batch norm
(32, 64, 32, 32) float32 in 188 ms wall time against 12 ms serial (PyTorch
with 2 threads: 92 ms). With the machine to itself the parallel version
would gain less than 2x; the serial one never loses 10x.
"""
import numpy as np
from numba import njit

# Let LLVM reorder the float64 sums so the inner loops vectorise; unlike full
# fastmath this keeps NaN and inf semantics, so a NaN input propagates.
_REASSOC = {"reassoc", "contract"}


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


@njit(cache=True, error_model="numpy", fastmath=_REASSOC)
def _grad_sums(dout, x, mean):
    """Per-channel ``sum(dout)`` and ``sum(dout * (x - mean))``."""
    n, c_dim, l_dim = x.shape
    s_dy, s_dyx = np.zeros(c_dim), np.zeros(c_dim)
    for i in range(n):
        if l_dim == 1:
            for c in range(c_dim):
                dy = dout[i, c, 0]
                s_dy[c] += dy
                s_dyx[c] += dy * (x[i, c, 0] - mean[c])
            continue
        for c in range(c_dim):
            m = mean[c]
            acc_dy = 0.0
            acc_dyx = 0.0
            for j in range(l_dim):
                dy = dout[i, c, j]
                acc_dy += dy
                acc_dyx += dy * (x[i, c, j] - m)
            s_dy[c] += acc_dy
            s_dyx[c] += acc_dyx
    return s_dy, s_dyx


@njit(cache=True, error_model="numpy", fastmath=_REASSOC)
def _combine(y, x, mean, a, b, shift, out):
    n, c_dim, l_dim = x.shape
    for i in range(n):
        if l_dim == 1:
            for c in range(c_dim):
                out[i, c, 0] = a[c] * y[i, c, 0] + b[c] * (x[i, c, 0] - mean[c]) + shift[c]
            continue
        for c in range(c_dim):
            ac, bc, sc, m = a[c], b[c], shift[c], mean[c]
            for j in range(l_dim):
                out[i, c, j] = ac * y[i, c, j] + bc * (x[i, c, j] - m) + sc


def channel_stats(x):
    """Mean and biased variance (float64, (C,)) of each channel of ``x`` (N, C, L).

    Two passes (mean, then squared deviations) keep float32 input accurate.
    """
    count = x.shape[0] * x.shape[2]
    mean = _sums(x, np.zeros(x.shape[1]), False) / count
    var = _sums(x, mean, True) / count
    return mean, var


def channel_grad_sums(dout, x, mean):
    """``(sum(dout), sum(dout * (x - mean)))`` per channel, float64 (C,) each."""
    return _grad_sums(dout, x, mean)


def channel_combine(y, x, mean, a, b, shift):
    """``a[c] * y + b[c] * (x - mean[c]) + shift[c]`` for (N, C, L) arrays, x's dtype.

    With ``y = x, a = 0`` this is the forward's per-channel affine; with
    ``y = dout`` it is the backward's dx.
    """
    out = np.empty_like(x)
    _combine(y, x, mean, a, b, shift, out)
    return out


# ------------------------------------------- row standardisation (layer/group norm)
# Each row of x (R, D) is one group. The affine weights w, b are (G, D): row r
# uses w[r % G]. Layer norm has G = 1; group norm has the G groups of a sample
# as consecutive rows and each channel's weight repeated over its L columns.
# Without affine the callers pass ones and zeros: branch-free loops vectorise.
@njit(cache=True, error_model="numpy", fastmath=_REASSOC)
def _rows_forward(x, eps, w, b, out, mean, inv_std):
    rows, d = x.shape
    groups = w.shape[0]
    for r in range(rows):
        s = 0.0
        for j in range(d):
            s += x[r, j]
        m = s / d
        v = 0.0
        for j in range(d):
            dev = x[r, j] - m
            v += dev * dev
        iv = 1.0 / np.sqrt(v / d + eps)
        mean[r], inv_std[r] = m, iv
        wr, br = w[r % groups], b[r % groups]
        for j in range(d):
            out[r, j] = (x[r, j] - m) * iv * wr[j] + br[j]


@njit(cache=True, error_model="numpy", fastmath=_REASSOC)
def _rows_backward(dout, x, mean, inv_std, w, dx, dw, db):
    rows, d = x.shape
    groups = w.shape[0]
    for r in range(rows):
        m, iv = mean[r], inv_std[r]
        wr, dwr, dbr = w[r % groups], dw[r % groups], db[r % groups]
        s_g = 0.0
        s_gx = 0.0
        for j in range(d):
            xh = (x[r, j] - m) * iv
            dy = dout[r, j]
            g = dy * wr[j]
            s_g += g
            s_gx += g * xh
            dwr[j] += dy * xh
            dbr[j] += dy
        s_g /= d
        s_gx /= d
        for j in range(d):
            xh = (x[r, j] - m) * iv
            dx[r, j] = iv * (dout[r, j] * wr[j] - s_g - xh * s_gx)


def rows_forward(x, eps, w, b):
    """Standardise each row of ``x`` (R, D), then ``* w + b`` with w, b (G, D),
    row r using ``w[r % G]`` (see above; ones and zeros for no affine).

    Returns ``out`` (R, D, x's dtype), ``mean`` and ``inv_std`` (R,) float64.
    """
    rows = x.shape[0]
    out, mean, inv_std = np.empty_like(x), np.empty(rows), np.empty(rows)
    _rows_forward(x, eps, w, b, out, mean, inv_std)
    return out, mean, inv_std


def rows_backward(dout, x, mean, inv_std, w):
    """Gradients of ``rows_forward``: ``dx`` (R, D, x's dtype), ``dw`` and ``db``
    (G, D) float64."""
    dx = np.empty_like(x)
    dw, db = np.zeros(w.shape), np.zeros(w.shape)
    _rows_backward(dout, x, mean, inv_std, w, dx, dw, db)
    return dx, dw, db
