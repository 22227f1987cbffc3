"""Obviously-correct loop versions of the batch-norm kernels: one channel at a time."""
import numpy as np


def channel_stats(x):
    """Mean and biased variance of each channel of ``x`` (N, C, L), float64."""
    c_dim = x.shape[1]
    mean, var = np.zeros(c_dim), np.zeros(c_dim)
    for c in range(c_dim):
        values = x[:, c, :].astype(np.float64).ravel()
        mean[c] = values.sum() / values.size
        var[c] = ((values - mean[c]) ** 2).sum() / values.size
    return mean, var


def channel_grad_sums(dout, x, mean):
    """``sum(dout)`` and ``sum(dout * (x - mean))`` of each channel, float64."""
    c_dim = x.shape[1]
    s_dy, s_dyx = np.zeros(c_dim), np.zeros(c_dim)
    for c in range(c_dim):
        dy = dout[:, c, :].astype(np.float64)
        s_dy[c] = dy.sum()
        s_dyx[c] = (dy * (x[:, c, :].astype(np.float64) - mean[c])).sum()
    return s_dy, s_dyx


def channel_combine(y, x, mean, a, b, shift):
    """``a[c] * y + b[c] * (x - mean[c]) + shift[c]``, one channel at a time."""
    out = np.empty_like(x)
    for c in range(x.shape[1]):
        xc = x[:, c, :].astype(np.float64)
        out[:, c, :] = a[c] * y[:, c, :] + b[c] * (xc - mean[c]) + shift[c]
    return out


def rows_forward(x, eps, w, b):
    """Standardise each row with NumPy, one row at a time, then ``* w + b``
    with row r using ``w[r % G]``."""
    out = np.empty_like(x)
    mean, inv_std = np.zeros(x.shape[0]), np.zeros(x.shape[0])
    for r, row in enumerate(x.astype(np.float64)):
        mean[r] = row.mean()
        inv_std[r] = 1.0 / np.sqrt(((row - mean[r]) ** 2).mean() + eps)
        g = r % w.shape[0]
        out[r] = (row - mean[r]) * inv_std[r] * w[g] + b[g]
    return out, mean, inv_std


def rows_backward(dout, x, mean, inv_std, w):
    """Row by row: ``dx = inv_std * (g - mean(g) - xhat * mean(g * xhat))`` with
    ``g = dout * w[r % G]``; ``dw``, ``db`` summed over the rows of each group."""
    dx = np.empty_like(x)
    dw, db = np.zeros(w.shape), np.zeros(w.shape)
    for r in range(x.shape[0]):
        xhat = (x[r].astype(np.float64) - mean[r]) * inv_std[r]
        dy = dout[r].astype(np.float64)
        g = dy * w[r % w.shape[0]]
        dx[r] = inv_std[r] * (g - g.mean() - xhat * (g * xhat).mean())
        dw[r % w.shape[0]] += dy * xhat
        db[r % w.shape[0]] += dy
    return dx, dw, db


def groups_forward(x, eps, w, b):
    """Group norm's rows: ``rows_forward`` with each channel's weight and bias
    (w, b (G, K)) repeated over its run of L = D / K columns."""
    l_dim = x.shape[1] // w.shape[1]
    return rows_forward(x, eps, np.repeat(w, l_dim, axis=1), np.repeat(b, l_dim, axis=1))


def groups_backward(dout, x, mean, inv_std, w):
    """``rows_backward`` on the repeated weights, then each channel's columns of
    ``dw``, ``db`` summed: (G, K) each."""
    l_dim = x.shape[1] // w.shape[1]
    dx, dw, db = rows_backward(dout, x, mean, inv_std, np.repeat(w, l_dim, axis=1))
    per_channel = w.shape + (l_dim,)
    return dx, dw.reshape(per_channel).sum(axis=2), db.reshape(per_channel).sum(axis=2)
