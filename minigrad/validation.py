"""Argument checks for every public entry point of the project.

One module, one argument order: ``check_*(func, name, value, ...)``, where
``func`` is the public function or class being called and ``name`` the
argument. Each check returns the value in its clean form (a float, an int,
an ndarray) or raises with a message of one shape::

    {func}: {name} must be {what was expected}, got {what was given}

``TypeError`` means the wrong kind of object or dtype; ``ValueError`` the
right kind with a wrong shape or value. Public functions validate once, at
their entry; the functions they call internally trust their arguments.
"""
import argparse
import numbers
import os
import tempfile

import numpy as np

from ._dtype import FLOAT_DTYPES, as_array, check_float_dtype  # noqa: F401  (one of the checks; lives there)
from .tensor import Tensor



# ------------------------------------------------------------------ scalars
def check_number(func, name, value, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a finite float in the range ``low .. high``.

    Parameters
    ----------
    func, name : str
        The caller and the argument, for the message.
    value : real number
        Python or NumPy scalar; bools are refused. NaN and +-inf never pass:
        a hyper-parameter is a finite number (say None where "no limit" is
        meant, and document it).
    low, high : float or None
        Bounds (None: unbounded on that side).
    low_open, high_open : bool
        Exclude the bound itself (``low_open=True`` with ``low=0``: positive).
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{func}: {name} must be a real number, got {value!r}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if not np.isfinite(value) or too_low or too_high:
        wanted = describe_range(low, high, low_open, high_open)
        # "must be > 0, got inf" alone would read as a contradiction.
        why = " (not a finite number)" if wanted and not np.isfinite(value) else ""
        raise ValueError(f"{func}: {name} must be {wanted or 'finite'}, got {value!r}{why}")
    return value


def check_positive(func, name, value):
    """Return ``value`` as a float > 0 (finite)."""
    return check_number(func, name, value, low=0, low_open=True)


def check_int(func, name, value, low=None, high=None):
    """Return ``value`` as an int (Python or NumPy integer, not a bool) in ``low .. high``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{func}: {name} must be an integer, got {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{func}: {name} must be an integer {describe_range(low, high)}, got {value}")
    return value


def check_bool(func, name, value):
    """Return ``value`` as a bool; only True/False (Python or NumPy) pass."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{func}: {name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(func, name, value, choices):
    """Return ``value`` if it is one of ``choices``."""
    if not any(value is c or (type(value) is type(c) and value == c) for c in choices):
        raise ValueError(f"{func}: {name} must be one of {', '.join(map(repr, choices))}, "
                         f"got {value!r}")
    return value


def describe_range(low=None, high=None, low_open=False, high_open=False):
    """The range ``low .. high`` in words: ``">= 0"``, ``"in [0, 1)"``, ``""`` when unbounded."""
    if low is None and high is None:
        return ""
    if high is None:
        return f"{'>' if low_open else '>='} {low:g}"
    if low is None:
        return f"{'<' if high_open else '<='} {high:g}"
    return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


# ------------------------------------------------------------------- arrays
def array_of(value):
    """The ndarray a Tensor of ``value`` holds: a Tensor's own, an ndarray itself, and Python
    scalars and lists converted by minigrad's rule (numbers become the default float dtype)."""
    return value.data if isinstance(value, Tensor) else as_array(value)


def check_float_array(func, name, value, ndim=None, layout=""):
    """Return ``value``'s array after checking it is float32 or float64.

    Parameters
    ----------
    value : Tensor or ndarray
    ndim : int, tuple of int or None
        Accepted numbers of dimensions (None: any).
    layout : str
        Names the axes in the message, e.g. ``"(N, C, H, W)"``.

    Any other dtype (float16, integers, bool, object) is a ``TypeError``: the
    kernels are compiled for float32 and float64 only.
    """
    array = array_of(value)
    if array.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{func}: {name} must be float32 or float64, got dtype {array.dtype}")
    if ndim is not None:
        check_ndim(func, name, array, ndim, layout)
    return array


def check_int_array(func, name, value, ndim=None, layout=""):
    """Return ``value``'s array after checking it holds integers (any width).

    Python lists of ints stay integers here (labels, indices), unlike in ``array_of``.
    """
    array = value.data if isinstance(value, Tensor) else np.asarray(value)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{func}: {name} must hold integers, got dtype {array.dtype}")
    if ndim is not None:
        check_ndim(func, name, array, ndim, layout)
    return array


def check_ndim(func, name, array, ndim, layout=""):
    """Raise ValueError unless ``array.ndim`` is ``ndim`` (an int or a tuple of ints)."""
    ndims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if array.ndim not in ndims:
        wanted = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{func}: {name} must be {wanted}{' ' + layout if layout else ''}, "
                         f"got shape {array.shape}")


def check_same_dtype(func, **arrays):
    """Raise TypeError unless every non-None argument has the same dtype.

    Mixed float32/float64 arguments are refused rather than cast: a silent
    cast either loses precision or doubles memory, and PyTorch refuses too.
    """
    named = [(name, array_of(a).dtype) for name, a in arrays.items() if a is not None]
    for name, dtype in named[1:]:
        if dtype != named[0][1]:
            raise TypeError(f"{func}: {name} must have the dtype of {named[0][0]} "
                            f"({named[0][1]}), got {dtype}")


def check_finite(func, name, array):
    """Raise ValueError if ``array`` holds NaN or inf.

    One cheap pass (a sum) first; only when it is not finite (NaN, inf, or a
    harmless overflow) do we pay for the exact element-wise test.
    """
    array = np.asarray(array)
    if array.dtype.kind not in "fc":
        return
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(array, axis=None)
    if not np.isfinite(total) and not np.isfinite(array).all():
        raise ValueError(f"{func}: {name} must be finite, got NaN or inf values")


# ---------------------------------------------------------------- randomness
def as_generator(func, name, value):
    """An ``np.random.Generator`` from a Generator, an int seed (>= 0) or None (fresh entropy)."""
    if isinstance(value, np.random.Generator):
        return value
    if value is None:
        return np.random.default_rng()
    if isinstance(value, (numbers.Integral)) and not isinstance(value, (bool, np.bool_)):
        return np.random.default_rng(check_int(func, name, value, low=0))
    raise TypeError(f"{func}: {name} must be a numpy Generator, an int seed or None, "
                    f"got {type(value).__name__}")


# --------------------------------------------------------- sequences, paths
def check_int_sequence(func, name, value, low=None):
    """Return ``value`` as a tuple of ints, each ``>= low`` (entries named ``name[i]``).

    A string is not a sequence of integers here (``"256"`` would iterate as digits).
    """
    if isinstance(value, (str, bytes)) or not np.iterable(value):
        raise TypeError(f"{func}: {name} must be a sequence of integers, got {value!r}")
    return tuple(check_int(func, f"{name}[{i}]", v, low=low) for i, v in enumerate(value))


def check_writable_dir(func, name, path):
    """Create the directory ``path`` if needed and write a scratch file there; return it as a str.

    Probing with a real (immediately deleted) file catches what a permission
    test misses: a path below a file, a read-only mount, a full disk. Call it
    before any work, so a bad folder fails at once rather than after an epoch.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{func}: {name} must be a path, got {type(path).__name__}")
    path = os.fspath(path)
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ValueError(f"{func}: {name} must be a directory where files can be written, "
                         f"got {path!r} ({exc.strerror or exc})") from None
    return path


# ------------------------------------------------------------- command lines
class ArgumentParser(argparse.ArgumentParser):
    """``argparse`` whose errors are one line on stderr, ``PROG: error: MESSAGE (see PROG --help)``,
    with exit code 2: a command line names the option and what it accepts, never a traceback."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def argument_type(check, kind=float, **bounds):
    """An argparse ``type`` that reads ``kind`` from the text, then applies ``check``.

    Parameters
    ----------
    check : callable
        Any check of this module, ``check(func, name, value, **bounds)``, or
        one of the same shape. Its refusal becomes argparse's one line, e.g.
        ``argument --sigma: must be >= 0, got -1.0``.
    kind : callable
        Turns the text into the value (``float``, ``int``, ``str``).
    **bounds
        Passed to ``check`` (``low``, ``high``, ``low_open``, ...).
    """
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            words = {int: "an integer", float: "a number"}.get(kind, kind.__name__)
            raise argparse.ArgumentTypeError(f"must be {words}, got {text!r}") from None
        try:
            return check("", "value", value, **bounds)
        except (TypeError, ValueError) as exc:
            # Every message here reads "{func}: {name} must be ..."; argparse names the option.
            raise argparse.ArgumentTypeError("must be " + str(exc).partition(" must be ")[2]) from None

    parse.__name__ = getattr(kind, "__name__", "value")  # argparse quotes it for unparsable text
    return parse
