"""Plain NumPy twins of ``layers._kernels.attention``."""
import numpy as np


def masked_softmax(scores, scale, mask):
    """``softmax(scores * scale + mask)`` on the last axis; all-masked rows give 0. Returns a new array."""
    z = scores * scale + (0 if mask is None else mask)
    top = z.max(axis=-1, keepdims=True, initial=-np.inf)
    top = np.where(np.isneginf(top), 0, top)
    e = np.exp(z - top)
    total = e.sum(axis=-1, keepdims=True)
    return e / np.where(total == 0, 1, total)


def softmax_backward(probs, dprobs, scale):
    """``scale * p * (dp - sum(dp * p))`` per row. Returns a new array."""
    return scale * probs * (dprobs - (dprobs * probs).sum(axis=-1, keepdims=True))
