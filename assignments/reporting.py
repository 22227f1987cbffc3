"""Per-epoch metrics of a running course script, for whoever listens (a sweep's scheduler).

A script calls :func:`report_epoch` after each epoch of the network it keeps;
nothing happens unless a listener is installed with :func:`listen`. Work done
only for a listener (a validation pass a script would otherwise skip) is
guarded by :func:`listening`.
"""
import contextlib

_listeners = []


def listening():
    """Whether a listener is installed."""
    return bool(_listeners)


def report_epoch(epoch, **metrics):
    """Tell every listener that ``epoch`` (1, 2, ...) ended with ``metrics`` (name -> float)."""
    for listener in _listeners:
        listener(epoch, metrics)


@contextlib.contextmanager
def listen(callback):
    """Call ``callback(epoch, metrics)`` for every epoch reported inside the ``with`` block."""
    _listeners.append(callback)
    try:
        yield callback
    finally:
        _listeners.remove(callback)


def solver_epoch(solver):
    """Report the epoch a :class:`optim.Solver` just finished (its ``on_epoch`` hook)."""
    history = solver.history
    report_epoch(solver.epoch, val_accuracy=history["val_acc"][-1], val_loss=history["val_loss"][-1],
                 train_accuracy=history["train_acc"][-1])
