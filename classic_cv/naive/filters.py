"""Plain NumPy twins of ``classic_cv._kernels.filters``: pad with ``np.pad``, sum shifted slices."""
import numpy as np

# scipy.ndimage mode name -> np.pad mode name.
_PAD = {"reflect": "symmetric", "mirror": "reflect", "nearest": "edge", "wrap": "wrap", "constant": "constant"}


def _pad(image, before, after, axis, mode, cval):
    widths = [(0, 0)] * image.ndim
    widths[axis] = (before, after)
    if mode == "constant":
        return np.pad(image, widths, mode="constant", constant_values=cval)
    if mode == "mirror" and image.shape[axis] == 1:
        return np.pad(image, widths, mode="edge")
    return np.pad(image, widths, mode=_PAD[mode])


def correlate1d(image, kernel, axis, mode, cval):
    """``sum_t kernel[t] * padded[i + t]`` along ``axis`` with origin ``len(kernel) // 2``."""
    k = len(kernel)
    padded = _pad(image, k // 2, (k - 1) // 2, axis, mode, cval)
    n = image.shape[axis]
    out = np.zeros_like(image)
    for t in range(k):
        out += kernel[t] * np.take(padded, np.arange(t, t + n), axis=axis)
    return out


def correlate_separable(image, k_rows, k_cols, mode, cval):
    """(H, W) image: ``k_cols`` along x, then ``k_rows`` along y."""
    return correlate1d(correlate1d(image, k_cols, 1, mode, cval), k_rows, 0, mode, cval)


def correlate2d(image, kernel, top, left, mode, cval):
    """(H, W) image correlated with (KH, KW) ``kernel`` whose origin is (top, left)."""
    kh, kw = kernel.shape
    h, w = image.shape
    padded = _pad(_pad(image, top, kh - 1 - top, 0, mode, cval), left, kw - 1 - left, 1, mode, cval)
    out = np.zeros_like(image)
    for a in range(kh):
        for b in range(kw):
            out += kernel[a, b] * padded[a : a + h, b : b + w]
    return out


def warp_bilinear(image, inv, out_h, out_w, cval, nearest):
    """Per-pixel loop version of the bilinear warp: (H, W, C) -> (out_h, out_w, C)."""
    h, w, nc = image.shape
    out = np.empty((out_h, out_w, nc), dtype=image.dtype)
    for i in range(out_h):
        for j in range(out_w):
            xs, ys, zs = inv @ np.array([j, i, 1.0])
            if zs == 0:
                out[i, j] = cval
                continue
            xs, ys = xs / zs, ys / zs
            if nearest:
                xs, ys = min(max(xs, 0.0), w - 1.0), min(max(ys, 0.0), h - 1.0)
            x0, y0 = int(np.floor(xs)), int(np.floor(ys))
            fx, fy = xs - x0, ys - y0
            acc = np.zeros(nc)
            for yy, wy in ((y0, 1 - fy), (y0 + 1, fy)):
                for xx, wx in ((x0, 1 - fx), (x0 + 1, fx)):
                    if 0 <= yy < h and 0 <= xx < w:
                        v = image[yy, xx]
                    elif nearest:
                        v = image[min(max(yy, 0), h - 1), min(max(xx, 0), w - 1)]
                    else:
                        v = np.full(nc, cval)
                    acc += wy * wx * v
            out[i, j] = acc
    return out


def resize_bilinear(image, y0, y1, fy, x0, x1, fx, cval):
    """(H, W) image sampled at row taps ``y0``/``y1`` (weight ``fy`` on ``y1``) and
    column taps ``x0``/``x1`` (weight ``fx``); tap -1 reads ``cval``, which a cval
    row and column appended at the end give for free under NumPy's -1 indexing."""
    padded = np.pad(image, ((0, 1), (0, 1)), mode="constant", constant_values=cval)
    rows = padded[:, x0] + fx * (padded[:, x1] - padded[:, x0])
    return rows[y0] + fy[:, None] * (rows[y1] - rows[y0])
