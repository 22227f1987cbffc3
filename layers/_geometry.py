"""Sliding-window geometry shared by convolution, pooling and upsampling.

The ``check_*`` functions follow ``minigrad.validation``'s convention
(``check_*(func, name, value, ...)``, messages ``"{func}: {name} must be
..., got ..."``) and run once, at a public entry point or in a Module's
constructor. ``pair`` and ``conv_out_size`` are for the pairs on arrays,
which trust their arguments.
"""
import numbers

import numpy as np

from minigrad.validation import check_float_array


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def check_pair(func, name, value, minimum):
    """Return ``value`` (int or pair of ints, bools refused) as ``(v, h)``, each >= ``minimum``."""
    pair = (value, value) if _is_int(value) else value
    if not isinstance(pair, (tuple, list)) or len(pair) != 2 or not all(map(_is_int, pair)):
        raise TypeError(f"{func}: {name} must be an int or a pair of ints, got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{func}: {name} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def pair(value):
    """``value`` (int or pair, already checked) as a tuple ``(v, h)``."""
    return (int(value), int(value)) if _is_int(value) else (int(value[0]), int(value[1]))


def check_image(func, name, x):
    """The float32/float64 (N, C, H, W) array behind ``x``, or TypeError/ValueError naming ``func``."""
    return check_float_array(func, name, x, ndim=4, layout="(N, C, H, W)")


def conv_out_size(size, kernel, stride, padding, dilation=1):
    """Output length of a convolution or pooling window along one axis (PyTorch's formula)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def check_window_fits(func, x_shape, kernel, padding, dilation=(1, 1), what=""):
    """Raise ValueError unless the (dilated) kernel fits the zero-padded image of ``x_shape``."""
    span = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    padded = [s + 2 * p for s, p in zip(x_shape[2:], padding)]
    if span[0] > padded[0] or span[1] > padded[1]:
        raise ValueError(
            f"{func}: {what}kernel {span[0]}x{span[1]} is larger than the padded input "
            f"{padded[0]}x{padded[1]} (x shape {tuple(x_shape)}, padding {padding})"
        )
