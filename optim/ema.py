"""An exponential moving average (EMA) of a model's parameters.

DDPM samples with an EMA of its weights, and MoCo's key encoder is an EMA of
its query encoder ("momentum" m = ``decay``). After each optimizer step,
``update()`` moves every average towards its parameter::

    average = decay * average + (1 - decay) * parameter

in that order of operations (two products, then a sum, each rounded once in
the parameter's dtype), which is ``torch.optim.swa_utils.get_ema_avg_fn``'s,
so the averages equal ``AveragedModel``'s bit for bit.

Example
-------
>>> ema = ExponentialMovingAverage(model, decay=0.999)
>>> for batch in batches:
...     loss = ...; loss.backward(); optimizer.step(); ema.update()
>>> with ema.swapped_in():          # evaluate with the averaged weights ...
...     samples = sample(model)
>>> # ... and train on with the live ones, restored on leaving the block.

Only parameters are averaged; buffers (BatchNorm's running statistics) stay
the live model's, as with ``AveragedModel(use_buffers=False)``.
"""
from contextlib import contextmanager

import numpy as np

from minigrad import Module, Tensor
from minigrad.validation import check_int, check_number


def _parameter_list(func, name, params):
    """The Parameters of a Module, or of an iterable of them, as a list (checked: floats, no repeats)."""
    if isinstance(params, Module):
        params = params.parameters()
    elif isinstance(params, Tensor):
        raise TypeError(f"{func}: {name} must be a Module or an iterable of Parameters, "
                        f"got a single {type(params).__name__} (wrap it in a list)")
    elif not np.iterable(params) or isinstance(params, (str, bytes, dict)):
        raise TypeError(f"{func}: {name} must be a Module or an iterable of Parameters, got {type(params).__name__}")
    params = list(params)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{func}: {name}[{i}] must be a Parameter, got {type(p).__name__}")
        if p.dtype.kind != "f":
            raise TypeError(f"{func}: {name}[{i}] must be floating point, got dtype {p.dtype}")
    if len({id(p) for p in params}) != len(params):
        raise ValueError(f"{func}: {name} must list each parameter once")
    return params


class ExponentialMovingAverage:
    """Moving averages of parameters, kept apart from them.

    Parameters
    ----------
    params : Module or iterable of Parameter
        What to average (a Module's ``parameters()``, in their order). The
        averages start as copies of their current values.
    decay : float in [0, 1]
        Weight of the old average at each update (0.999 for DDPM's weights
        and MoCo's key encoder; 0 copies, 1 freezes).

    Attributes
    ----------
    shadow : list of ndarray
        The averages, one per parameter, each of its parameter's shape and dtype.
    num_updates : int
        Number of ``update()`` calls so far.
    """

    def __init__(self, params, decay=0.999):
        name = type(self).__name__
        self.params = _parameter_list(name, "params", params)
        if not self.params:
            raise ValueError(f"{name}: params must hold at least one Parameter, got none")
        self.decay = check_number(name, "decay", decay, low=0, high=1)
        self.shadow = [p.data.copy() for p in self.params]
        self.num_updates = 0

    def __repr__(self):
        return f"{type(self).__name__}(decay={self.decay}, parameters={len(self.params)}, updates={self.num_updates})"

    def update(self):
        """Move each average towards its parameter's current value: ``decay * a + (1 - decay) * p``."""
        keep, take = self.decay, 1.0 - self.decay
        for average, p in zip(self.shadow, self.params):
            if p.shape != average.shape:
                raise ValueError(f"{type(self).__name__}.update: a parameter of shape {average.shape} "
                                 f"now has shape {p.shape}")
            average *= keep
            average += np.multiply(p.data, take, dtype=average.dtype)
        self.num_updates += 1

    def _targets(self, func, target):
        """The Parameters ``target`` names (None: the tracked ones), checked against the averages."""
        if target is None:
            return self.params
        params = _parameter_list(func, "target", target)
        if len(params) != len(self.shadow):
            raise ValueError(f"{func}: target must have {len(self.shadow)} parameters, one per average, "
                             f"got {len(params)}")
        for i, (p, average) in enumerate(zip(params, self.shadow)):
            if p.shape != average.shape or p.dtype != average.dtype:
                raise ValueError(f"{func}: target parameter {i} must have shape {average.shape} and dtype "
                                 f"{average.dtype}, got {p.shape} {p.dtype}")
        return params

    def copy_to(self, target=None):
        """Write the averages into ``target``'s parameters, in place.

        ``target`` is None (the averaged parameters themselves), a Module of
        the same structure (MoCo's key encoder) or a list of Parameters; its
        parameters must have the averages' shapes and dtypes, in order.
        """
        for p, average in zip(self._targets(f"{type(self).__name__}.copy_to", target), self.shadow):
            np.copyto(p.data, average)

    @contextmanager
    def swapped_in(self, target=None):
        """Context manager: the averages replace ``target``'s parameters inside the block
        (for evaluation or sampling) and the original values come back on leaving it,
        even after an exception. ``target`` as in ``copy_to``."""
        params = self._targets(f"{type(self).__name__}.swapped_in", target)
        saved = [p.data.copy() for p in params]
        try:
            for p, average in zip(params, self.shadow):
                np.copyto(p.data, average)
            yield self
        finally:
            for p, value in zip(params, saved):
                np.copyto(p.data, value)

    # ---------------------------------------------------------------- state
    def state_dict(self):
        """``{"decay", "num_updates", "shadow": [arrays]}`` (copies), storable with ``save_checkpoint``."""
        return {"decay": self.decay, "num_updates": self.num_updates,
                "shadow": [average.copy() for average in self.shadow]}

    def load_state_dict(self, state):
        """Restore averages, decay and update count saved by ``state_dict``.

        The averages must be as many as the parameters, each of its
        parameter's shape; they are copied and cast to its dtype. Nothing
        changes when an error is raised.
        """
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, dict) or not {"decay", "num_updates", "shadow"} <= set(state):
            raise ValueError(f"{where}: state must be a dict with 'decay', 'num_updates' and 'shadow'")
        decay = check_number(where, "decay", state["decay"], low=0, high=1)
        num_updates = check_int(where, "num_updates", state["num_updates"], low=0)
        shadow = state["shadow"]
        if not isinstance(shadow, (list, tuple)) or len(shadow) != len(self.params):
            size = len(shadow) if isinstance(shadow, (list, tuple)) else type(shadow).__name__
            raise ValueError(f"{where}: shadow must be a list of {len(self.params)} arrays, got {size}")
        arrays = []
        for i, (average, p) in enumerate(zip(shadow, self.params)):
            average = np.asarray(average)
            if average.shape != p.shape:
                raise ValueError(f"{where}: shadow[{i}] must have shape {p.shape}, got {average.shape}")
            arrays.append(average.astype(p.dtype, copy=True))
        self.decay, self.num_updates, self.shadow = decay, num_updates, arrays
