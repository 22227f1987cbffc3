"""Checks for hyper-parameters, shared by optimizers, schedules and the Solver.

Every message names the caller, the argument, what was expected and what was
given, e.g. ``Adam: betas[0] must be in [0, 1), got 1.0``.
"""
import numbers


def check_number(owner, name, value, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a float after checking it is a real number in the range.

    ``low``/``high`` bound the range (None: unbounded); ``*_open`` excludes the
    bound itself. NaN never passes.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner}: {name} must be a real number, got {value!r}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if value != value or too_low or too_high:
        left = "(" if low_open or low is None else "["
        right = ")" if high_open or high is None else "]"
        low_text = "-inf" if low is None else f"{low:g}"
        high_text = "inf" if high is None else f"{high:g}"
        raise ValueError(
            f"{owner}: {name} must be in {left}{low_text}, {high_text}{right}, got {value!r}"
        )
    return value


def check_int(owner, name, value, low=None):
    """Return ``value`` after checking it is an integer (not a bool) >= ``low``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an integer, got {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{owner}: {name} must be >= {low}, got {value!r}")
    return int(value)


def check_bool(owner, name, value):
    """Return ``value`` after checking it is a bool."""
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be True or False, got {value!r}")
    return value
