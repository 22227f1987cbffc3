"""Plain NumPy twins of ``classic_cv._kernels.harris``."""
import numpy as np


def harris_response(arr, arc, acc, method_k, k, eps):
    det = arr * acc - arc**2
    tr = arr + acc
    return det - k * tr**2 if method_k else 2 * det / (tr + eps)


def min_eigenvalue(arr, arc, acc):
    """Smallest eigenvalue from ``numpy.linalg.eigvalsh`` on each 2x2 matrix."""
    m = np.stack([np.stack([arr, arc], -1), np.stack([arc, acc], -1)], -2)
    return np.linalg.eigvalsh(m)[..., 0]


def max_filter(image, radius):
    """Window maximum by brute force over every pixel."""
    h, w = image.shape
    out = np.empty_like(image)
    for i in range(h):
        for j in range(w):
            out[i, j] = image[max(i - radius, 0) : i + radius + 1, max(j - radius, 0) : j + radius + 1].max()
    return out


def greedy_spacing(rows, cols, min_distance, max_count):
    """Compare every candidate with every kept peak."""
    kept = []
    for c in range(len(rows)):
        if len(kept) >= max_count:
            break
        if all(max(abs(rows[c] - rows[k]), abs(cols[c] - cols[k])) > min_distance for k in kept):
            kept.append(c)
    return np.array(kept, dtype=np.int64)


# Sobel stencils as 2-D kernels for correlation: d/drow and d/dcol.
_SOBEL_R = np.array([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]])
_SOBEL_C = _SOBEL_R.T.copy()


def structure_tensor(image, window, mode, cval):
    """2-D Sobel correlations, products, then the separable window (NumPy twins)."""
    from .filters import correlate2d, correlate_separable

    gr = correlate2d(image, _SOBEL_R, 1, 1, mode, cval)
    gc = correlate2d(image, _SOBEL_C, 1, 1, mode, cval)
    return tuple(correlate_separable(p, window, window, mode, cval) for p in (gr * gr, gr * gc, gc * gc))
