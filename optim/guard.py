"""The NaN/inf guard of every training loop.

``Solver`` checks each step's loss, gradients and updated parameters with
``first_nonfinite``; a course script that runs its own loop calls
``check_step`` on each step's loss. Both stop a diverging run with the one
``NonFiniteError``, which says at which iteration, what went non-finite and
what to try.
"""
import math

import numpy as np

from minigrad.validation import check_finite


class NonFiniteError(FloatingPointError):
    """Training produced a NaN or inf loss, gradient or parameter.

    Attributes
    ----------
    iteration : int
        The 1-based training iteration at which it was detected.
    epoch : int
        The 1-based epoch of that iteration.
    parameter : str or None
        Name of the first parameter holding non-finite values (its
        gradient, or its data when the loss was the first to go bad or the
        update overflowed it); None when every parameter is finite and the
        forward pass made the NaN or inf.
    """

    def __init__(self, message, iteration, epoch, parameter):
        super().__init__(message)
        self.iteration = iteration
        self.epoch = epoch
        self.parameter = parameter


def first_nonfinite(named_arrays):
    """Name of the first array holding NaN or inf, or None."""
    for name, array in named_arrays:
        if array is None:
            continue
        try:
            check_finite("first_nonfinite", name, array)
        except ValueError:
            return name
    return None


def divergence_hint(iteration, lr, updated=False, clipping=None):
    """What a ``NonFiniteError`` advises, for every training loop.

    Parameters
    ----------
    iteration : int
        1-based iteration of the failed step.
    lr : float
        The step's learning rate, quoted in the advice.
    updated : bool
        The non-finite value came from this step's update (not its loss or gradients).
    clipping : bool or None
        Whether the loop clips gradients; False suggests it, None (a loop
        without that option) does not mention it.

    Before the first update the learning rate cannot be to blame: the model
    or the loss computes the NaN or inf from the initial weights.
    """
    if iteration == 1 and not updated:
        return "no update has been made yet, so the model or the loss computes it from the start"
    hint = f"try a lower learning rate (now {lr:g})"
    return hint + (" or gradient clipping (clip_grad_norm=...)" if clipping is False else "")


def check_step(caller, loss, iteration, epoch, lr, *, after_update=False, **parameters):
    """Return ``loss`` as a float if it and the ``parameters`` are finite; else raise ``NonFiniteError``.

    Parameters
    ----------
    caller : str
        Who trains, for the message (e.g. ``"vae"``).
    loss : float or one-element array
        This step's loss, computed before the step's update.
    iteration, epoch : int
        1-based position of the step.
    lr : float
        The step's learning rate, quoted in the hint.
    after_update : bool
        Whether an update of this step came before ``loss`` (a GAN's generator
        loss follows its discriminator's update), so that even at iteration 1
        the learning rate may be to blame.
    **parameters : ndarray
        ``name=array`` pairs to check too, after the step's update: needed
        only where a non-finite weight would not reach the next loss first
        (the linear classifiers' losses refuse such weights themselves).
    """
    value = _loss_value(loss)
    where = f"at iteration {iteration} (epoch {epoch})"
    if not math.isfinite(value):
        hint = divergence_hint(iteration, lr, updated=after_update)
        raise NonFiniteError(f"{caller}: the loss is {value} {where}; {hint}", iteration, epoch, None)
    bad = first_nonfinite(parameters.items())
    if bad is not None:
        hint = divergence_hint(iteration, lr, updated=True)
        raise NonFiniteError(f"{caller}: {bad} holds NaN or inf {where}; {hint}", iteration, epoch, bad)
    return value


def _loss_value(loss):
    """``loss`` (a real number or a one-element array) as a float; TypeError/ValueError otherwise."""
    array = np.asarray(loss)
    if isinstance(loss, (bool, np.bool_)) or array.dtype.kind not in "fiu":
        raise TypeError(f"check_step: loss must be a real number, got {loss!r:.80}")
    if array.size != 1:
        raise ValueError(f"check_step: loss must be a single number (one step's loss), "
                         f"got an array of shape {array.shape}")
    return float(array.reshape(()))
