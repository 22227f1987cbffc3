"""Loop versions of the pooling kernels: pad explicitly, then take each window.

``kernel``, ``stride`` and ``padding`` are ``(vertical, horizontal)`` pairs.
"""
import numpy as np


def _windows(x, kernel, stride, padding, fill):
    """Yield ``(n, c, y, x, window)`` over every output position of the padded input."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    oh = (xp.shape[2] - kh) // sh + 1
    ow = (xp.shape[3] - kw) // sw + 1
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for y in range(oh):
                for x_ in range(ow):
                    yield n, c, y, x_, xp[n, c, y * sh:y * sh + kh, x_ * sw:x_ * sw + kw]


def _out_shape(x, kernel, stride, padding):
    return (*x.shape[:2],
            *((s + 2 * p - k) // st + 1 for s, k, st, p in zip(x.shape[2:], kernel, stride, padding)))


def max_pool2d(x, kernel, stride, padding):
    """(out, argmax): window maxima (padding is -inf) and their flat index in the unpadded plane."""
    out = np.empty(_out_shape(x, kernel, stride, padding), x.dtype)
    argmax = np.empty(out.shape, np.int64)
    width = x.shape[3]
    for n, c, y, x_, window in _windows(x, kernel, stride, padding, -np.inf):
        i, j = np.unravel_index(np.argmax(window), window.shape)  # first maximum
        out[n, c, y, x_] = window[i, j]
        argmax[n, c, y, x_] = (y * stride[0] + i - padding[0]) * width + x_ * stride[1] + j - padding[1]
    return out, argmax


def max_pool2d_backward(dout, argmax, x_shape):
    """Route each upstream value to its window's argmax."""
    dx = np.zeros(x_shape, dout.dtype)
    for idx in np.ndindex(*dout.shape):
        n, c = idx[:2]
        dx[n, c].flat[argmax[idx]] += dout[idx]
    return dx


def avg_pool2d(x, kernel, stride, padding):
    """Window means with zero padding counted (``count_include_pad=True``)."""
    out = np.empty(_out_shape(x, kernel, stride, padding), x.dtype)
    for n, c, y, x_, window in _windows(x, kernel, stride, padding, 0):
        out[n, c, y, x_] = window.mean()
    return out


def avg_pool2d_backward(dout, x_shape, kernel, stride, padding):
    """Spread each upstream value evenly over its window, dropping the padded part."""
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    n_img, n_ch, height, width = x_shape
    dxp = np.zeros((n_img, n_ch, height + 2 * ph, width + 2 * pw), dout.dtype)
    for n, c, y, x_ in np.ndindex(*dout.shape):
        dxp[n, c, y * sh:y * sh + kh, x_ * sw:x_ * sw + kw] += dout[n, c, y, x_] / (kh * kw)
    return dxp[:, :, ph:ph + height, pw:pw + width]
