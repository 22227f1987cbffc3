"""Obviously-correct loop versions of the activation kernels."""
import math

import numpy as np


def gelu_forward(x, approximate):
    """GELU element by element: exact ``x * Phi(x)`` or the tanh approximation."""
    out = np.empty_like(x)
    for i, v in np.ndenumerate(x):
        v = float(v)
        if approximate:
            inner = math.sqrt(2.0 / math.pi) * (v + 0.044715 * v**3)
            out[i] = 0.5 * v * (1.0 + math.tanh(inner))
        else:
            # Phi(v) = erfc(-v / sqrt 2) / 2, accurate in both tails (1 + erf cancels).
            out[i] = v * 0.5 * math.erfc(-v / math.sqrt(2.0))
    return out


def gelu_backward(x, dout, approximate):
    """``dout * gelu'(x)`` element by element, derivative written out by the product rule."""
    dx = np.empty_like(x)
    for i, v in np.ndenumerate(x):
        v = float(v)
        if approximate:
            inner = math.sqrt(2.0 / math.pi) * (v + 0.044715 * v**3)
            d_inner = math.sqrt(2.0 / math.pi) * (1.0 + 3 * 0.044715 * v**2)
            t = math.tanh(inner)
            slope = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t**2) * d_inner
        else:
            cdf = 0.5 * math.erfc(-v / math.sqrt(2.0))
            pdf = math.exp(-v * v / 2.0) / math.sqrt(2.0 * math.pi)
            slope = cdf + v * pdf
        dx[i] = dout[i] * slope
    return dx


def leaky_relu_forward(x, slope):
    """``v if v > 0 else slope * v`` element by element."""
    out = np.empty_like(x)
    for i, v in np.ndenumerate(x):
        out[i] = v if v > 0 else slope * v
    return out


def leaky_relu_backward(dout, x, slope):
    """``dout if x > 0 else slope * dout`` element by element."""
    dx = np.empty_like(x)
    for i, v in np.ndenumerate(x):
        dx[i] = dout[i] if v > 0 else slope * dout[i]
    return dx
