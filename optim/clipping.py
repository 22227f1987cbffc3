"""Gradient clipping, in place on ``Parameter.grad`` (like ``torch.nn.utils``)."""
import math
import numbers
from collections.abc import Iterable

import numpy as np

from minigrad import Tensor
from minigrad.validation import check_bool, check_number, check_positive


def _grads(fn, parameters):
    """The non-None gradients of ``parameters`` (one Parameter or an iterable)."""
    if not isinstance(parameters, (Tensor, Iterable)):
        raise TypeError(f"{fn}: parameters must be Parameters, got {type(parameters).__name__}")
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{fn}: parameters must be Parameters, got {type(p).__name__}")
    return [p.grad for p in params if p.grad is not None]


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale all gradients together so their joint ``norm_type``-norm is at most ``max_norm``.

    The joint norm is the norm of the vector of per-parameter norms, i.e. of
    all gradients concatenated. Every gradient is multiplied by
    ``min(1, max_norm / (total_norm + 1e-6))`` (the 1e-6 is PyTorch's guard
    against dividing by zero), so the direction of the update is kept.

    Parameters
    ----------
    parameters : Parameter or iterable of Parameter
        Parameters without a gradient are ignored.
    max_norm : float or None
        Largest allowed joint norm (finite, > 0). None only measures the
        norm and leaves the gradients alone (PyTorch users pass ``inf`` for
        that; here a limit is a finite number and None means "no limit").
    norm_type : float
        The p of the p-norm (finite, > 0), or ``float("inf")`` for the max-norm.
    error_if_nonfinite : bool
        Raise instead of scaling when the joint norm is NaN or inf.

    Returns
    -------
    total_norm : float
        The joint norm before clipping.
    """
    fn = "clip_grad_norm_"
    if max_norm is not None:
        max_norm = check_positive(fn, "max_norm", max_norm)
    # inf is not a limit here but the name of a norm (the max-norm), so it passes.
    if not (isinstance(norm_type, numbers.Real) and norm_type == math.inf):
        norm_type = check_positive(fn, "norm_type", norm_type)
    error_if_nonfinite = check_bool(fn, "error_if_nonfinite", error_if_nonfinite)
    grads = _grads(fn, parameters)
    if not grads:
        return 0.0
    norms = np.array([np.linalg.norm(g.ravel(), ord=norm_type) for g in grads])
    total_norm = float(np.linalg.norm(norms, ord=norm_type))
    if error_if_nonfinite and not np.isfinite(total_norm):
        raise FloatingPointError(
            f"{fn}: the total gradient norm is {total_norm}, so it cannot be clipped; "
            f"check the loss and the learning rate, or pass error_if_nonfinite=False"
        )
    if max_norm is not None:
        coef = min(max_norm / (total_norm + 1e-6), 1.0)
        for g in grads:
            g *= coef
    return total_norm


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient element into ``[-clip_value, clip_value]`` in place.

    Parameters
    ----------
    parameters : Parameter or iterable of Parameter
        Parameters without a gradient are ignored.
    clip_value : float
        The bound (finite, >= 0).
    """
    fn = "clip_grad_value_"
    clip_value = check_number(fn, "clip_value", clip_value, low=0.0)
    for g in _grads(fn, parameters):
        np.clip(g, -clip_value, clip_value, out=g)
