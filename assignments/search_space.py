"""Hyper-parameter search spaces: parsed from text and sampled with NumPy alone.

A space maps each setting of a course script to a distribution. On the
command line each piece is ``NAME=KIND:ARGS``::

    lr=loguniform:1e-4:1e-1 reg=loguniform:1e-6:1e-2 hidden=choice:64,128,256

==========================  ==================================================
``uniform:LOW:HIGH``        a real number, uniform in [LOW, HIGH)
``loguniform:LOW:HIGH``     a real number whose log is uniform, 0 < LOW < HIGH
``randint:LOW:HIGH``        an integer in LOW .. HIGH - 1 (HIGH excluded, as in
                            NumPy and Ray Tune)
``lograndint:LOW:HIGH``     an integer whose log is uniform, 1 <= LOW < HIGH
``choice:A,B,...``          one of the listed values
``VALUE``                   that value, fixed
==========================  ==================================================

Values that read as numbers are numbers (``64`` an int, ``1e-3`` a float);
``none`` is None; anything else stays a word. A file (JSON, or YAML when
PyYAML is installed) maps names to the same strings, or to a number (fixed)
or a list (a choice)::

    lr: loguniform:1e-4:1e-1
    hidden: [64, 128, 256]

This module is the one reading of a space: ``python -m assignments sweep``
turns it into Ray Tune's distributions, and ``two_layer_net`` samples its own
random search from it.
"""
import dataclasses
import json
import math
import os

RANGES = ("uniform", "loguniform", "randint", "lograndint")
KINDS = RANGES + ("choice", "fixed")


@dataclasses.dataclass(frozen=True)
class Distribution:
    """One hyper-parameter's distribution.

    Attributes
    ----------
    kind : str
        One of ``KINDS``.
    values : tuple
        ``(low, high)`` for the ranges, the options of a ``choice``, the one
        value of ``fixed``.
    """

    kind: str
    values: tuple

    @property
    def log(self):
        """Whether the values are spread on a log scale (the axis a plot of them should use)."""
        return self.kind in ("loguniform", "lograndint")

    @property
    def numeric(self):
        """Whether every value it can take is a real number."""
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in self.values)

    def sample(self, rng):
        """One value drawn with the NumPy Generator ``rng``."""
        if self.kind in ("fixed", "choice"):
            return self.values[int(rng.integers(len(self.values)))]
        low, high = self.values
        if self.kind == "uniform":
            return float(rng.uniform(low, high))
        if self.kind == "randint":
            return int(rng.integers(low, high))
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
        return float(value) if self.kind == "loguniform" else min(int(value), high - 1)

    def extremes(self):
        """The values at the edges of the distribution (every option of a choice).

        Checking these against a script's settings refuses a space that could
        draw a value the script does not accept, before any trial runs.
        """
        if self.kind in ("randint", "lograndint"):
            return (self.values[0], self.values[1] - 1)
        return self.values

    def __str__(self):
        if self.kind == "fixed":
            return _show(self.values[0])
        return f"{self.kind}:" + ("," if self.kind == "choice" else ":").join(map(_show, self.values))


def parse(pieces, func="--space"):
    """The space written as ``NAME=KIND:ARGS`` pieces (see the module docstring).

    Parameters
    ----------
    pieces : iterable of str
    func : str
        Names the source in error messages (the option, or a file).

    Returns
    -------
    dict
        name -> :class:`Distribution`, in the order given.

    Raises
    ------
    ValueError
        One line naming the piece and what was expected.
    """
    space = {}
    for piece in pieces:
        if not isinstance(piece, str):
            raise TypeError(f"{func}: each piece must be a str NAME=KIND:ARGS, got {piece!r}")
        name, sep, spec = piece.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ValueError(f"{func}: {piece!r} must be NAME=KIND:ARGS with NAME a setting name "
                             f"(e.g. lr=loguniform:1e-4:1e-1)")
        _add(space, name, distribution(spec, f"{func}: {piece!r}"), func)
    return space


def load(path, func="--space-file"):
    """The space in a JSON or YAML file (a mapping of names to specs, numbers or lists).

    Raises
    ------
    ValueError
        The file is missing or unreadable, or one entry is refused (named).
    """
    where = f"{func}: {os.fspath(path)}"
    try:
        with open(path) as f:
            text = f.read()
    except OSError as exc:
        raise ValueError(f"{where} cannot be read ({exc.strerror or exc})") from None
    if str(path).endswith((".yaml", ".yml")):
        try:
            import yaml
        except ImportError:
            raise ValueError(f"{where}: YAML needs PyYAML (pip install pyyaml); or write the space as JSON") from None
        try:
            content = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"{where} is not valid YAML ({str(exc).splitlines()[0]})") from None
    else:
        try:
            content = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where} is not valid JSON ({exc})") from None
    if not isinstance(content, dict) or not content:
        raise ValueError(f"{where} must hold a non-empty mapping of setting names to distributions, "
                         f"got {type(content).__name__}")
    space = {}
    for name, spec in content.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{where}: {name!r} must be a setting name")
        context = f"{where}: {name}"
        if isinstance(spec, list):
            dist = _choice([_check_value(v, context) for v in spec], context)
        elif isinstance(spec, str):
            dist = distribution(spec, context)
        else:
            dist = Distribution("fixed", (_check_value(spec, context),))
        _add(space, name, dist, where)
    return space


def sample(space, rng):
    """One configuration: name -> value drawn from each distribution of ``space`` in turn."""
    return {name: dist.sample(rng) for name, dist in space.items()}


def distribution(spec, context="distribution"):
    """The :class:`Distribution` written ``KIND:ARGS`` (or a bare value: fixed)."""
    kind, sep, rest = spec.strip().partition(":")
    if not sep:
        if kind in KINDS:
            raise ValueError(f"{context}: {kind} needs its arguments, e.g. {_EXAMPLES[kind]}")
        if not kind:
            raise ValueError(f"{context}: the distribution is empty; expected KIND:ARGS or a value")
        return Distribution("fixed", (_value(kind),))
    if kind == "choice":
        return _choice([_value(v) for v in rest.split(",")], context)
    if kind not in RANGES:
        raise ValueError(f"{context}: kind must be one of {', '.join(KINDS[:-1])} (or a fixed value), "
                         f"got {kind!r}")
    parts = rest.split(":")
    if len(parts) != 2:
        raise ValueError(f"{context}: {kind} takes LOW:HIGH, got {len(parts)} value(s) {rest!r}")
    low, high = (_value(p) for p in parts)
    integral = kind.endswith("randint")
    wanted = int if integral else (int, float)
    for label, v in (("LOW", low), ("HIGH", high)):
        if not isinstance(v, wanted) or isinstance(v, bool) or (isinstance(v, float) and not math.isfinite(v)):
            what = "an integer" if integral else "a finite number"
            raise ValueError(f"{context}: {kind} {label} must be {what}, got {v!r}")
    if not low < high:
        raise ValueError(f"{context}: {kind} needs LOW < HIGH, got {low!r} and {high!r}")
    floor = 1 if kind == "lograndint" else 0
    if kind.startswith("log") and low < floor or kind == "loguniform" and low == 0:
        raise ValueError(f"{context}: {kind} needs LOW {'>= 1' if floor else '> 0'} (a log scale), got {low!r}")
    return Distribution(kind, (low, high) if integral else (float(low), float(high)))


_EXAMPLES = {"uniform": "uniform:0:0.5", "loguniform": "loguniform:1e-4:1e-1", "randint": "randint:1:4",
             "lograndint": "lograndint:16:257", "choice": "choice:64,128,256", "fixed": "0.5"}


def _choice(options, context):
    if not options or any(o == "" for o in options):
        raise ValueError(f"{context}: choice needs a comma-separated list of values, got an empty value")
    if len(set(map(repr, options))) != len(options):
        raise ValueError(f"{context}: choice lists a value twice: {','.join(map(_show, options))}")
    return Distribution("choice", tuple(options))


def _add(space, name, dist, where):
    if name in space:
        raise ValueError(f"{where}: {name} is given twice")
    space[name] = dist


def _value(text):
    """A number if ``text`` reads as one (int before float), None for ``none``, else the word."""
    text = text.strip()
    if text.lower() == "none":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _check_value(value, context):
    if value is None or isinstance(value, (str, int, float)) and not (
            isinstance(value, float) and not math.isfinite(value)):
        return value
    raise ValueError(f"{context}: values must be numbers, words or null, got {value!r}")


def _show(value):
    return "none" if value is None else repr(value) if isinstance(value, float) else str(value)
