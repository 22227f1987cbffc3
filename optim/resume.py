"""Whether a checkpoint fits a ``Solver``: every part checked before anything is restored.

``check_state(solver, state)`` compares a ``Solver.state_dict()`` (usually
read from a checkpoint file) with the solver it is to be loaded into: the
model's names, shapes, dtypes and finite weights; the optimizer's class,
hyper-parameters and state shapes (``Optimizer._prepare_load(strict=True)``);
the schedule's class and arguments (``LRScheduler._prepare_load``); the random
generators; the history (finite numbers), counters and best-epoch record. It
raises ``ValueError`` (or ``TypeError``) with a message that reads after
"checkpoint PATH", or returns the prepared pieces that ``Solver._restore``
installs, which can then no longer fail. So a refused checkpoint changes nothing.
"""
import numpy as np

from minigrad.validation import check_bool, check_finite, check_int, check_number

# The ``func`` of the shared checks called here; dropped from their messages,
# which read after "checkpoint PATH holds an invalid ...".
_FUNC = "checkpoint"

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
        try:
            check_finite(_FUNC, name, value)
        except ValueError:  # the Solver never saves one; a diverged run's weights must not come back
            raise ValueError(f"holds NaN or inf in {what} '{name}' (weights of a diverged run)") from None


def _check_history(history, iterations, epochs):
    """Raise ValueError unless ``history`` is a Solver history of ``iterations`` updates, ``epochs`` epochs."""
    if not isinstance(history, dict) or set(history) != set(HISTORY_KEYS):
        raise ValueError(f"holds a history without the keys {list(HISTORY_KEYS)}")
    for key, values in history.items():
        length = iterations if key in ("loss", "lr") else epochs
        if not isinstance(values, list) or len(values) != length:
            raise ValueError(f"holds a history whose '{key}' is not a list of {length} numbers "
                             f"(one per {'update' if key in ('loss', 'lr') else 'epoch'})")
        for i, value in enumerate(values):
            _rewrap(check_number, f"history['{key}'][{i}]", value)


def _check_best(model, best, epochs):
    """Raise ValueError unless ``best`` is the best-epoch record of a run of ``epochs`` epochs."""
    if not isinstance(best, dict) or set(best) != {"epoch", "score", "state"}:
        raise ValueError("holds no best-epoch record")
    if best["epoch"] is None:
        if best["score"] is not None or best["state"] is not None:
            raise ValueError("holds a best-epoch record without its epoch")
        return
    _rewrap(check_int, "best epoch", best["epoch"], low=1, high=epochs)
    _rewrap(check_number, "best score", best["score"])
    _check_model_state(model, best["state"], "best model")


def _rewrap(check, name, value, **bounds):
    """Run a ``minigrad.validation`` check; its refusal becomes "holds an invalid NAME (...)"."""
    try:
        check(_FUNC, name, value, **bounds)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"holds an invalid {name} ({str(exc).removeprefix(_FUNC + ': ')})") from None


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
        _rewrap(check_int, key, state[key], low=0)
    _check_history(state["history"], state["iteration"], state["epoch"])
    _check_best(solver.model, state["best"], state["epoch"])
    _rewrap(check_bool, "stopped_early", state["stopped_early"])
    plan["generators"] = _check_generators(solver, state)
    return plan


def _check_optimizer(optimizer, saved):
    """The optimizer's prepared load; its class and hyper-parameters must be this optimizer's."""
    try:
        return optimizer._prepare_load(saved, strict=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"does not fit the optimizer: {exc}") from None


def _check_schedule(schedule, saved):
    """The schedule's prepared load (None without a schedule); its configuration must match."""
    if (saved is None) != (schedule is None):
        raise ValueError("has a schedule, this solver has none" if schedule is None else
                         f"has no schedule, this solver has {schedule!r}")
    if saved is None:
        return None
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
