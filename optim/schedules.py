"""Learning-rate schedules over an ``Optimizer``'s parameter groups.

Same names, arguments and values as ``torch.optim.lr_scheduler``: build the
schedule on an optimizer, call ``step()`` once per epoch (or per iteration,
if that is the unit you count in), and it writes each group's ``lr``.

Every schedule is a closed-form function ``lr_at(t, base_lr)`` of the step
count ``t``, so its whole state is ``t`` and the base learning rates, and
schedules compose as functions: ``ChainedScheduler`` feeds each schedule's
output to the next as its base (products of factors, like PyTorch's chain of
multiplicative schedulers); ``SequentialLR`` switches from one schedule to the
next at milestones, restarting the next one's clock (e.g. a linear warm-up
followed by cosine annealing).

Arguments are checked when a schedule is built (finite numbers in range,
integers, no bools). A growing schedule (``gamma > 1``, as in a learning-rate
range test) is allowed, but a step whose rate would overflow raises a
``ValueError`` and leaves the schedule and the optimizer as they were.
"""
import math
from bisect import bisect_right
from collections.abc import Iterable

from minigrad.validation import check_int, check_number

from .optimizers import Optimizer


class LRScheduler:
    """Base class. Subclasses implement ``lr_at(t, base_lr)`` and list ``_settings``.

    Constructing a schedule records each group's current ``lr`` as its base
    (``initial_lr`` in the group, kept by later schedules) and sets the
    learning rates for ``t = 0``. ``_settings`` names the constructor
    arguments that define the schedule; they make up ``config()`` and its repr.
    """

    _settings = ()

    def __init__(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: optimizer must be an optim Optimizer, "
                f"got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        base_lrs = [group.get("initial_lr", group["lr"]) for group in optimizer.param_groups]
        rates = self._rates(0, base_lrs)
        for group, base_lr in zip(optimizer.param_groups, base_lrs):
            group["initial_lr"] = base_lr
        self.base_lrs = base_lrs
        self.last_epoch = 0
        self._set(rates)

    def lr_at(self, t, base_lr):
        """The learning rate after ``t`` steps for a group whose base rate is ``base_lr``."""
        raise NotImplementedError

    def config(self):
        """``{"type": class name, **settings}``: what a checkpoint compares before loading."""
        return {"type": type(self).__name__, **{name: _plain(getattr(self, name)) for name in self._settings}}

    def __repr__(self):
        return describe_config(self.config())

    def step(self):
        """Advance one step and write the new learning rates into the optimizer."""
        rates = self._rates(self.last_epoch + 1, self.base_lrs)
        self.last_epoch += 1
        self._set(rates)

    def get_last_lr(self):
        """The learning rate of each parameter group, as last set."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        return {"config": self.config(), "last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state_dict):
        """Restore the step count and base rates, and set the matching learning rates.

        The state must come from a schedule with the same ``config()``
        (class and arguments). Nothing changes when an error is raised.
        """
        self._commit(self._prepare_load(state_dict))

    def _prepare_load(self, state_dict):
        """Check ``state_dict``; return ``(last_epoch, base_lrs, rates)`` for ``_commit``."""
        where = f"{type(self).__name__}.load_state_dict"
        keys = {"config", "last_epoch", "base_lrs"}
        if not isinstance(state_dict, dict):
            raise TypeError(f"{where}: state_dict must be a dict, got {type(state_dict).__name__}")
        if not keys <= set(state_dict):
            raise ValueError(f"{where}: state_dict must be a dict with {sorted(keys)}")
        if state_dict["config"] != self.config():
            raise ValueError(f"{where}: the state is of {describe_config(state_dict['config'])}, "
                             f"this schedule is {self!r}")
        base_lrs = state_dict["base_lrs"]
        if not isinstance(base_lrs, (list, tuple)) or len(base_lrs) != len(self.optimizer.param_groups):
            raise ValueError(
                f"{where}: state has {len(base_lrs) if isinstance(base_lrs, (list, tuple)) else 'no'} "
                f"base learning rates, the optimizer has {len(self.optimizer.param_groups)} groups"
            )
        base_lrs = [check_number(where, f"base_lrs[{k}]", lr, low=0.0) for k, lr in enumerate(base_lrs)]
        last_epoch = check_int(where, "last_epoch", state_dict["last_epoch"], low=0)
        return last_epoch, base_lrs, self._rates(last_epoch, base_lrs)

    def _commit(self, prepared):
        self.last_epoch, self.base_lrs, rates = prepared
        self._set(rates)

    def _rates(self, t, base_lrs):
        """Each group's rate after ``t`` steps; a ValueError if one is not a finite number."""
        try:
            rates = [float(self.lr_at(t, base_lr)) for base_lr in base_lrs]
        except OverflowError:  # Python's float ** int raises instead of returning inf
            rates = [math.inf]
        if not all(math.isfinite(rate) for rate in rates):
            raise ValueError(f"{self!r}: the learning rate overflows after {t} steps "
                             f"(base rates {base_lrs}); use a schedule that grows less")
        return rates

    def _set(self, rates):
        for group, rate in zip(self.optimizer.param_groups, rates):
            group["lr"] = rate


def _plain(value):
    """A setting as plain data: a child schedule becomes its ``config()``."""
    if isinstance(value, LRScheduler):
        return value.config()
    return [_plain(v) for v in value] if isinstance(value, list) else value


def describe_config(config):
    """``"StepLR(step_size=30, gamma=0.5)"`` from a ``config()`` dict (of any schedule)."""
    if isinstance(config, list):
        return f"[{', '.join(map(describe_config, config))}]"
    if not isinstance(config, dict):
        return repr(config)
    settings = ", ".join(f"{k}={describe_config(v)}" for k, v in config.items() if k != "type")
    return f"{config.get('type', '?')}({settings})"


def _int_list(func, name, values):
    """``values`` as a list of integers >= 1 (each checked; TypeError for a non-list)."""
    if isinstance(values, (str, bytes, dict)) or not isinstance(values, Iterable):
        raise TypeError(f"{func}: {name} must be a list of integers, got {values!r}")
    return [check_int(func, f"{name}[{k}]", m, low=1) for k, m in enumerate(values)]


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` steps: ``base * gamma**(t // step_size)``."""

    _settings = ("step_size", "gamma")

    def __init__(self, optimizer, step_size, gamma=0.1):
        self.step_size = check_int("StepLR", "step_size", step_size, low=1)
        self.gamma = check_number("StepLR", "gamma", gamma, low=0.0, low_open=True)
        super().__init__(optimizer)

    def lr_at(self, t, base_lr):
        return base_lr * self.gamma ** (t // self.step_size)


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each milestone: ``base * gamma**(#milestones <= t)``.

    A milestone listed twice decays twice, as in PyTorch.
    """

    _settings = ("milestones", "gamma")

    def __init__(self, optimizer, milestones, gamma=0.1):
        self.milestones = sorted(_int_list("MultiStepLR", "milestones", milestones))
        self.gamma = check_number("MultiStepLR", "gamma", gamma, low=0.0, low_open=True)
        super().__init__(optimizer)

    def lr_at(self, t, base_lr):
        return base_lr * self.gamma ** bisect_right(self.milestones, t)


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every step: ``base * gamma**t``.

    ``gamma > 1`` grows the rate (a learning-rate range test); a step whose
    rate would overflow raises ``ValueError``.
    """

    _settings = ("gamma",)

    def __init__(self, optimizer, gamma):
        self.gamma = check_number("ExponentialLR", "gamma", gamma, low=0.0, low_open=True)
        super().__init__(optimizer)

    def lr_at(self, t, base_lr):
        return base_lr * self.gamma ** t


class CosineAnnealingLR(LRScheduler):
    """Cosine from the base rate down to ``eta_min`` over ``T_max`` steps (SGDR without restarts).

    ``eta_min + (base - eta_min) * (1 + cos(pi * t / T_max)) / 2``; past
    ``T_max`` the cosine keeps going (back up), as in PyTorch.
    """

    _settings = ("T_max", "eta_min")

    def __init__(self, optimizer, T_max, eta_min=0.0):
        self.T_max = check_int("CosineAnnealingLR", "T_max", T_max, low=1)
        self.eta_min = check_number("CosineAnnealingLR", "eta_min", eta_min, low=0.0)
        super().__init__(optimizer)

    def lr_at(self, t, base_lr):
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max)) / 2


class LinearLR(LRScheduler):
    """Linear warm-up (or decay) of the factor from ``start_factor`` to ``end_factor``.

    ``base * (start + (end - start) * min(t, total_iters) / total_iters)``;
    e.g. ``LinearLR(opt, start_factor=0.1, total_iters=5)`` warms up over 5 steps.
    """

    _settings = ("start_factor", "end_factor", "total_iters")

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
        self.start_factor = check_number("LinearLR", "start_factor", start_factor, low=0.0, high=1.0,
                                         low_open=True)
        self.end_factor = check_number("LinearLR", "end_factor", end_factor, low=0.0, high=1.0)
        self.total_iters = check_int("LinearLR", "total_iters", total_iters, low=1)
        super().__init__(optimizer)

    def lr_at(self, t, base_lr):
        progress = min(self.total_iters, t) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)


def _check_children(owner, schedules, optimizer=None):
    if not isinstance(schedules, Iterable):
        raise TypeError(f"{owner}: schedules must be a list of LRSchedulers, got {type(schedules).__name__}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(f"{owner}: optimizer must be an optim Optimizer, got {type(optimizer).__name__}")
    schedules = list(schedules)
    if not schedules:
        raise ValueError(f"{owner}: schedules must not be empty")
    optimizer = optimizer if optimizer is not None else getattr(schedules[0], "optimizer", None)
    for k, schedule in enumerate(schedules):
        if not isinstance(schedule, LRScheduler):
            raise TypeError(f"{owner}: schedules[{k}] must be an LRScheduler, got {type(schedule).__name__}")
        if schedule.optimizer is not optimizer:
            raise ValueError(f"{owner}: schedules[{k}] belongs to a different optimizer")
    return schedules, optimizer


class ChainedScheduler(LRScheduler):
    """Apply several schedules at once: each one's rate is the next one's base.

    For multiplicative schedules this is the product of their factors, e.g.
    ``ChainedScheduler([LinearLR(opt, 0.1, total_iters=5), ExponentialLR(opt, 0.95)])``
    warms up while decaying. Step only the chain; its children are used as
    functions of the chain's clock.
    """

    _settings = ("schedules",)

    def __init__(self, schedules):
        self.schedules, optimizer = _check_children("ChainedScheduler", schedules)
        super().__init__(optimizer)

    def lr_at(self, t, base_lr):
        for schedule in self.schedules:
            base_lr = schedule.lr_at(t, base_lr)
        return base_lr


class SequentialLR(LRScheduler):
    """Run ``schedules[k]`` from ``milestones[k-1]`` until ``milestones[k]``, each from its own ``t = 0``.

    ``SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5), CosineAnnealingLR(opt, 95)], [5])``
    is a 5-step warm-up followed by cosine annealing.
    """

    _settings = ("schedules", "milestones")

    def __init__(self, optimizer, schedules, milestones):
        self.schedules, _ = _check_children("SequentialLR", schedules, optimizer)
        milestones = _int_list("SequentialLR", "milestones", milestones)
        if len(milestones) != len(self.schedules) - 1:
            raise ValueError(
                f"SequentialLR: needs one milestone fewer than schedules, got {len(self.schedules)} "
                f"schedules and {len(milestones)} milestones"
            )
        if any(b <= a for a, b in zip(milestones, milestones[1:])):
            raise ValueError(f"SequentialLR: milestones must increase, got {milestones}")
        self.milestones = milestones
        super().__init__(optimizer)

    def lr_at(self, t, base_lr):
        k = bisect_right(self.milestones, t)
        start = self.milestones[k - 1] if k else 0
        return self.schedules[k].lr_at(t - start, base_lr)
