"""Inverted dropout: zero each element with probability ``p`` in training and
scale the survivors by ``1 / (1 - p)``, so evaluation is the identity."""
import numpy as np

from minigrad import Function, Module

from ._validation import as_generator, require_float


def dropout_forward(x, p, training, rng):
    """Inverted dropout.

    Parameters
    ----------
    x : any shape, float
    p : float in [0, 1]
        Probability of zeroing an element.
    training : bool
        False (or ``p == 0``) makes this the identity.
    rng : np.random.Generator
        Source of the mask; the same generator state gives the same mask.

    Returns
    -------
    out : like x
    cache : the scaled keep-mask (like x), or None for the identity.
    """
    if not training or p == 0:
        return x, None
    if p == 1:
        mask = np.zeros_like(x)
    else:
        keep = rng.random(x.shape, dtype=x.dtype) >= x.dtype.type(p)
        mask = keep * x.dtype.type(1.0 / (1.0 - p))
    return x * mask, mask


def dropout_backward(dout, cache):
    """dx = dout * mask (the identity when the forward was)."""
    return dout if cache is None else dout * cache


class DropoutFunction(Function):
    @staticmethod
    def forward(ctx, x, p, training, rng):
        out, ctx.cache = dropout_forward(x, p, training, rng)
        # The identity returns x itself; copy so the output never aliases the input.
        return out.copy() if out is x else out

    @staticmethod
    def backward(ctx, grad):
        return (dropout_backward(grad, ctx.cache),)


def _check_p(fn, p):
    if not 0 <= p <= 1:
        raise ValueError(f"{fn}: p must be in [0, 1], got {p!r}")
    return float(p)


def dropout(x, p=0.5, training=True, rng=None):
    """Inverted dropout of a float Tensor.

    Parameters
    ----------
    x : Tensor, any shape
    p : float in [0, 1]
    training : bool
        Identity when False.
    rng : np.random.Generator, int seed or None
        Pass a Generator (or seed) for reproducible masks.
    """
    require_float("dropout", "x", x)
    p = _check_p("dropout", p)
    return DropoutFunction.apply(x, p=p, training=bool(training), rng=as_generator(rng))


class Dropout(Module):
    """``Dropout(p=0.5, rng=None)``: inverted dropout in training, identity in eval.

    ``rng`` (Generator or int seed) is kept, so a seeded module draws the same
    sequence of masks on every run.
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        self.p = _check_p("Dropout", p)
        self.rng = as_generator(rng)

    def forward(self, x):
        return dropout(x, self.p, self.training, self.rng)

    def extra_repr(self):
        return f"p={self.p}"
