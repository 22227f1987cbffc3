"""The NaN/inf guard of every training loop.

``Solver`` checks each step's loss, gradients and updated parameters with
``first_nonfinite``; a course script that runs its own loop calls
``check_step`` on each step's loss. Both stop a diverging run with the one
``NonFiniteError``, which says at which iteration, what went non-finite and
what to try.
"""
import math

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


def check_step(caller, loss, iteration, epoch, lr, **parameters):
    """Return ``loss`` as a float if it and the ``parameters`` are finite; else raise ``NonFiniteError``.

    Parameters
    ----------
    caller : str
        Who trains, for the message (e.g. ``"vae"``).
    loss : float or one-element array
        This step's loss.
    iteration, epoch : int
        1-based position of the step.
    lr : float
        The step's learning rate, quoted in the hint.
    **parameters : ndarray
        ``name=array`` pairs to check too: needed only where a non-finite
        weight would not reach the next loss first (the linear classifiers'
        losses refuse such weights themselves).
    """
    value = float(loss)
    where = f"at iteration {iteration} (epoch {epoch}); try a lower learning rate (now {lr:g})"
    if not math.isfinite(value):
        raise NonFiniteError(f"{caller}: the loss is {value} {where}", iteration, epoch, None)
    bad = first_nonfinite(parameters.items())
    if bad is not None:
        raise NonFiniteError(f"{caller}: {bad} holds NaN or inf {where}", iteration, epoch, bad)
    return value
