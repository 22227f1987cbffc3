"""Inverted dropout: zero each element with probability ``p`` in training and
scale the survivors by ``1 / (1 - p)``, so evaluation is the identity.

``dropout_forward``/``dropout_backward`` work on plain arrays and are the one
implementation: the ``dropout`` function, the ``Dropout`` module and the
attention weights' dropout all call them.
"""
import numpy as np

from minigrad import Function, Module
from minigrad.validation import as_generator, check_bool, check_float_array, check_number


def dropout_forward(x, p, training, rng):
    """Inverted dropout.

    Parameters
    ----------
    x : any shape, float32 or float64
    p : float in [0, 1]
        Probability of zeroing an element.
    training : bool
        False (or ``p == 0``) makes this the identity.
    rng : np.random.Generator
        Source of the mask; the same generator state gives the same mask.

    Returns
    -------
    out : like x, a new array (also for the identity: never an alias of x,
        which a caller may overwrite)
    cache : the scaled keep-mask (like x), or None for the identity.
    """
    if not training or p == 0:
        return x.copy(), None
    if p == 1:
        mask = np.zeros_like(x)
    else:
        keep = rng.random(x.shape, dtype=x.dtype) >= x.dtype.type(p)
        mask = keep * x.dtype.type(1.0 / (1.0 - p))
    return x * mask, mask


def dropout_backward(dout, cache):
    """dx = dout * mask (the identity when the forward was)."""
    return dout if cache is None else dout * cache


DropoutFunction = Function.from_pair(dropout_forward, dropout_backward)


def _check_p(func, p):
    return check_number(func, "p", p, low=0, high=1)


def dropout(x, p=0.5, training=True, rng=None):
    """Inverted dropout of a float Tensor.

    Parameters
    ----------
    x : Tensor, any shape, float32 or float64
    p : float in [0, 1]
    training : bool
        Identity when False.
    rng : np.random.Generator, int seed or None
        Pass a Generator (or seed) for reproducible masks.
    """
    check_float_array("dropout", "x", x)
    p, training = _check_p("dropout", p), check_bool("dropout", "training", training)
    return DropoutFunction.apply(x, p=p, training=training, rng=as_generator("dropout", "rng", rng))


class Dropout(Module):
    """``Dropout(p=0.5, rng=None)``: inverted dropout in training, identity in eval.

    ``rng`` (Generator or int seed) is kept, so a seeded module draws the same
    sequence of masks on every run.
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        self.p = _check_p("Dropout", p)
        self.rng = as_generator("Dropout", "rng", rng)

    def forward(self, x):
        check_float_array("Dropout", "x", x)
        return DropoutFunction.apply(x, p=self.p, training=self.training, rng=self.rng)

    def extra_repr(self):
        return f"p={self.p}"
