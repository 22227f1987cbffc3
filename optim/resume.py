"""Whether a checkpoint fits a ``Solver``: every part checked before anything is restored.

``check_state(solver, state)`` compares a ``Solver.state_dict()`` (usually
read from a checkpoint file) with the solver it is to be loaded into: the
model's names, shapes and dtypes; the optimizer's class, hyper-parameters and
state shapes; the schedule's class and arguments; the random generators; the
history, counters and best-epoch record. It raises ``ValueError`` (or
``TypeError``) with a message that reads after "checkpoint PATH", or returns
the prepared pieces that ``Solver._restore`` installs, which can then no
longer fail. So a refused checkpoint changes nothing.
"""
import numbers

import numpy as np

from .optimizers import describe_group, group_settings
from .schedules import describe_config

HISTORY_KEYS = ("loss", "lr", "train_acc", "val_acc", "val_loss")
# Format 2: the optimizer's state names its class, the schedule's its configuration.
CHECKPOINT_FORMAT = 2
STATE_KEYS = ("format", "epoch", "iteration", "history", "model", "optimizer", "schedule", "rng",
               "numpy_global_rng", "module_rngs", "best", "bad_epochs", "stopped_early")


def module_generators(model):
    """``(name, Generator)`` for every ``np.random.Generator`` attribute of every sub-module."""
    for module_name, module in model.named_modules():
        for attr, value in vars(module).items():
            if isinstance(value, np.random.Generator):
                yield (f"{module_name}.{attr}" if module_name else attr), value


def _check_model_state(model, saved, what):
    """Raise ValueError unless ``saved`` holds exactly the model's arrays (names, shapes, dtypes)."""
    expected = {name: p.data for name, p in model.named_parameters()}
    expected.update((name, np.asarray(b)) for name, b in model.named_buffers())
    if not isinstance(saved, dict):
        raise ValueError(f"does not hold a {what} state")
    missing, unexpected = sorted(set(expected) - set(saved)), sorted(set(saved) - set(expected))
    if missing or unexpected:
        raise ValueError(f"does not fit the model: its {what} state is missing keys {missing} "
                         f"and has unexpected keys {unexpected}")
    for name, current in expected.items():
        value = saved[name]
        if not isinstance(value, np.ndarray):
            raise ValueError(f"does not fit the model: {what} '{name}' is a {type(value).__name__}")
        if value.shape != current.shape:
            raise ValueError(f"does not fit the model: shape mismatch for {what} '{name}': "
                             f"model has {current.shape}, checkpoint has {value.shape}")
        if value.dtype != current.dtype:
            raise ValueError(f"does not fit the model: dtype mismatch for {what} '{name}': "
                             f"model has {current.dtype}, checkpoint has {value.dtype}")


def _check_history(history, iterations, epochs):
    """Raise ValueError unless ``history`` is a Solver history of ``iterations`` updates, ``epochs`` epochs."""
    if not isinstance(history, dict) or set(history) != set(HISTORY_KEYS):
        raise ValueError(f"holds a history without the keys {list(HISTORY_KEYS)}")
    for key, values in history.items():
        length = iterations if key in ("loss", "lr") else epochs
        if not isinstance(values, list) or len(values) != length or not all(
                isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
            raise ValueError(f"holds a history whose '{key}' is not a list of {length} numbers "
                             f"(one per {'update' if key in ('loss', 'lr') else 'epoch'})")


def _check_best(model, best, epochs):
    """Raise ValueError unless ``best`` is the best-epoch record of a run of ``epochs`` epochs."""
    if not isinstance(best, dict) or set(best) != {"epoch", "score", "state"}:
        raise ValueError("holds no best-epoch record")
    if best["epoch"] is None:
        if best["score"] is not None or best["state"] is not None:
            raise ValueError("holds a best-epoch record without its epoch")
        return
    _check_count("best epoch", best["epoch"], low=1, high=epochs)
    if not isinstance(best["score"], numbers.Real):
        raise ValueError("holds a best-epoch record without a score")
    _check_model_state(model, best["state"], "best model")


def _check_count(name, value, low=0, high=None):
    """Raise ValueError unless ``value`` is an int (not a bool) in ``low .. high``."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low
            or (high is not None and value > high)):
        upper = "" if high is None else high
        raise ValueError(f"holds {name}={value!r}, expected an integer in {low}..{upper}")


def _check_generator_state(name, bit_generator_type, value):
    """Raise ValueError unless ``value`` is a valid state for a ``bit_generator_type``."""
    try:
        bit_generator_type().state = value
    except (TypeError, ValueError, KeyError) as exc:
        raise ValueError(f"holds an invalid {name} generator state ({exc})") from None




def check_state(solver, state):
    """Check every part of ``state`` against ``solver``; return what ``Solver._restore`` installs.

    Raises ValueError (or TypeError) with a message that reads after
    "checkpoint PATH"; changes nothing.
    """
    if not isinstance(state, dict) or not set(STATE_KEYS) <= set(state):
        missing = sorted(set(STATE_KEYS) - set(state)) if isinstance(state, dict) else STATE_KEYS
        raise ValueError(f"is not a Solver checkpoint (missing {list(missing)})")
    if state["format"] != CHECKPOINT_FORMAT:
        raise ValueError(f"has format {state['format']!r}, this version reads format {CHECKPOINT_FORMAT}")
    _check_model_state(solver.model, state["model"], "model")
    plan = {"optimizer": _check_optimizer(solver.optimizer, state["optimizer"]),
            "schedule": _check_schedule(solver.schedule, state["schedule"])}
    for key in ("epoch", "iteration", "bad_epochs"):
        _check_count(key, state[key])
    _check_history(state["history"], state["iteration"], state["epoch"])
    _check_best(solver.model, state["best"], state["epoch"])
    if not isinstance(state["stopped_early"], bool):
        raise ValueError(f"holds stopped_early={state['stopped_early']!r}, expected True or False")
    plan["generators"] = _check_generators(solver, state)
    return plan

def _check_optimizer(optimizer, saved):
    """The optimizer's prepared load, after checking its class and hyper-parameters match."""
    name, current = type(optimizer).__name__, optimizer.param_groups
    groups = saved.get("param_groups") if isinstance(saved, dict) else None
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise ValueError("holds no optimizer state")
    if len(groups) != len(current):
        raise ValueError(f"holds an optimizer with {len(groups)} parameter groups, "
                         f"this solver's {name} has {len(current)}")
    for k, (old, new) in enumerate(zip(groups, current)):
        if saved.get("type") != name or group_settings(old) != group_settings(new):
            group = f" (parameter group {k})" if len(current) > 1 else ""
            raise ValueError(f"holds {describe_group(saved.get('type'), old)}{group}, "
                             f"this solver has {describe_group(name, new)}")
    try:
        return optimizer._prepare_load(saved)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"does not fit the optimizer: {exc}") from None

def _check_schedule(schedule, saved):
    """The schedule's prepared load (None without a schedule), after checking its configuration."""
    if (saved is None) != (schedule is None):
        raise ValueError("has a schedule, this solver has none" if schedule is None else
                         f"has no schedule, this solver has {schedule!r}")
    if saved is None:
        return None
    config = saved.get("config") if isinstance(saved, dict) else None
    if config != schedule.config():
        raise ValueError(f"holds {describe_config(config)}, this solver has {schedule!r}")
    try:
        return schedule._prepare_load(saved)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"does not fit the schedule: {exc}") from None

def _check_generators(solver, state):
    """The model's generators by name, after checking every saved generator state."""
    generators = dict(module_generators(solver.model))
    saved = state["module_rngs"]
    if not isinstance(saved, dict) or set(generators) != set(saved):
        names = sorted(saved) if isinstance(saved, dict) else saved
        raise ValueError(f"holds random generators for {names}, the model has {sorted(generators)}")
    _check_generator_state("rng", type(solver._rng.bit_generator), state["rng"])
    for name, generator in generators.items():
        _check_generator_state(f"module_rngs['{name}']", type(generator.bit_generator), saved[name])
    try:
        np.random.RandomState().set_state(state["numpy_global_rng"])
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise ValueError(f"holds an invalid numpy_global_rng state ({exc})") from None
    return generators
