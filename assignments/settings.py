"""The settings of the course scripts, each declared once with the values it accepts.

A script declares its training defaults and its options like this::

    DEFAULTS = training(epochs=30, batch_size=100, lr=1e-3)
    OPTIONS = declare(hidden_dims=integers((256, 128, 64), low=1),
                      normalization=choice("batchnorm", ("batchnorm", "layernorm", None)),
                      dropout=number(0.2, low=0, high=1, high_open=True))

Each is a plain dict of defaults (``OPTIONS["dropout"] == 0.2``) that also
holds every setting's :class:`Setting` in ``.declared``. The command line
reads each value from its text and checks it with the setting (the checks are
``minigrad.validation``'s) before a script does any work, so a bad value is
one line naming the option and what it accepts, never a traceback from deep
inside a run.
"""
import dataclasses
import os
from typing import Callable

from minigrad import validation


class OptionError(ValueError):
    """A command-line value a script does not accept; the message names the option."""


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting: its default and the values it accepts.

    Attributes
    ----------
    default : object
    accepts : str
        What the command line says it accepts, e.g. ``"an integer >= 1"``.
    check : callable
        ``check(func, name, value) -> value``, raising ``ValueError`` or
        ``TypeError`` for a value outside what ``accepts`` says.
    parse : callable
        ``parse(text) -> value``; text it cannot read is returned unchanged,
        so that ``check`` refuses it.
    """

    default: object
    accepts: str
    check: Callable
    parse: Callable

    def read(self, func, name, text):
        """The checked value of the command-line ``text``; :class:`OptionError` if refused."""
        try:
            return self.check(func, name, self.parse(text))
        except (ValueError, TypeError):
            raise OptionError(f"{func}: {name} {self.refusal(text)}") from None

    def refusal(self, value):
        """``"must be <what it accepts>, got <value>"``: the end of every refusal message."""
        return f"must be {self.accepts}, got {value!r}"


class Settings(dict):
    """Setting names -> defaults, with the declarations in ``.declared``."""

    def __init__(self, declared):
        super().__init__({name: setting.default for name, setting in declared.items()})
        self.declared = dict(declared)


def declare(**settings):
    """A :class:`Settings` of the given ``name=Setting`` pairs."""
    return Settings(settings)


# ----------------------------------------------------------------- the kinds of setting
def integer(default, low=None, high=None):
    """An integer in ``low .. high`` (None: unbounded on that side)."""
    return Setting(default, "an integer" + _range(low, high),
                   lambda func, name, value: validation.check_int(func, name, value, low, high),
                   _or_text(int))


def number(default, low=None, high=None, low_open=False, high_open=False):
    """A finite real number in the range (``*_open`` excludes that bound)."""
    def check(func, name, value):
        return validation.check_number(func, name, value, low, high, low_open, high_open)

    return Setting(default, "a finite number" + _range(low, high, low_open, high_open), check,
                   _or_text(float))


def positive(default):
    """A finite number > 0 (a learning rate)."""
    return number(default, low=0, low_open=True)


def integers(default, low=None):
    """A tuple of integers >= ``low``, written ``256,128,64`` (empty: no entries)."""
    def check(func, name, value):
        return validation.check_int_sequence(func, name, value, low)

    def parse(text):
        return tuple(_or_text(int)(part) for part in text.split(",") if part.strip())

    return Setting(default, f"comma-separated integers{_range(low, None)} (e.g. 256,128,64)", check, parse)


def choice(default, choices):
    """One of ``choices`` (strings, and None written ``none``)."""
    shown = ", ".join("none" if c is None else str(c) for c in choices)

    def parse(text):
        return None if text.lower() == "none" and None in choices else text

    return Setting(default, f"one of {shown}",
                   lambda func, name, value: validation.check_choice(func, name, value, tuple(choices)),
                   parse)


def existing_file(what):
    """The path of an existing file, or None (default) for "none given"."""
    def check(func, name, value):
        if value is None:
            return None
        if not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"{func}: {name} must be a path or None, got {value!r}")
        if not os.path.isfile(value):
            raise ValueError(f"{func}: {name} must be an existing file ({what}), got {os.fspath(value)!r}")
        return os.fspath(value)

    return Setting(None, f"an existing file ({what}) or none", check,
                   lambda text: None if text.lower() == "none" else text)


def optional(setting):
    """``setting``'s values or None (written ``none``); the default is None."""
    def check(func, name, value):
        return None if value is None else setting.check(func, name, value)

    return Setting(None, f"{setting.accepts} or none", check,
                   lambda text: None if text.lower() == "none" else setting.parse(text))


def training(epochs, batch_size, lr):
    """The training defaults every trained script declares: epochs, batch size, learning rate."""
    return declare(epochs=integer(epochs, low=1), batch_size=integer(batch_size, low=1), lr=positive(lr))


def _or_text(kind):
    def parse(text):
        try:
            return kind(text)
        except ValueError:
            return text
    return parse


def _range(low, high, low_open=False, high_open=False):
    """`` >= 1``-style suffix for ``accepts`` (empty when unbounded)."""
    words = validation.describe_range(low, high, low_open, high_open)
    return f" {words}" if words else ""
