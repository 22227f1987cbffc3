"""Global switch that decides whether operations record the autograd graph."""
import contextlib
import threading

_state = threading.local()


def is_grad_enabled() -> bool:
    """Return True when new operations are recorded for backpropagation."""
    return getattr(_state, "enabled", True)


def _set_grad_enabled(enabled: bool) -> None:
    _state.enabled = bool(enabled)


@contextlib.contextmanager
def no_grad():
    """Context manager (and decorator) under which no graph is built.

    Use it for evaluation and for parameter updates: results have
    ``requires_grad=False`` and hold no reference to their inputs.
    """
    previous = is_grad_enabled()
    _set_grad_enabled(False)
    try:
        yield
    finally:
        _set_grad_enabled(previous)


@contextlib.contextmanager
def enable_grad():
    """Context manager that turns graph recording back on inside ``no_grad``."""
    previous = is_grad_enabled()
    _set_grad_enabled(True)
    try:
        yield
    finally:
        _set_grad_enabled(previous)
