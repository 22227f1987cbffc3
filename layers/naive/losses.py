"""Obviously-correct loop versions of the cross-entropy kernels."""
import math

import numpy as np


def cross_entropy_forward(x, y, ignore_index, smoothing):
    """Per-row loss ``-sum_c t_c log softmax(x)_c`` with the smoothed target
    ``t = (1 - smoothing) * onehot(y) + smoothing / C`` (0 on ignored rows),
    and the softmax probabilities. Returns ``(loss, probs)`` like the kernel."""
    n, n_classes = x.shape
    loss, probs = np.zeros(n), np.zeros(x.shape, dtype=x.dtype)
    for i in range(n):
        row = [float(v) for v in x[i]]
        m = max(row)
        lse = m + math.log(sum(math.exp(v - m) for v in row))
        for c in range(n_classes):
            probs[i, c] = math.exp(row[c] - lse)
            if y[i] != ignore_index:
                target = smoothing / n_classes + (1.0 - smoothing) * (c == y[i])
                if target:  # a class with no target weight adds nothing, even at -inf
                    loss[i] -= target * (row[c] - lse)
    return loss, probs


def cross_entropy_backward(probs, y, scale, ignore_index, smoothing):
    """``scale[i] * (probs_i - t_i)`` element by element; 0 on ignored rows."""
    n, n_classes = probs.shape
    dx = np.zeros_like(probs)
    for i in range(n):
        if y[i] == ignore_index:
            continue
        for c in range(n_classes):
            target = smoothing / n_classes + (1.0 - smoothing) * (c == y[i])
            dx[i, c] = scale[i] * (probs[i, c] - target)
    return dx
