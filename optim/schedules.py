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
"""
import math
from bisect import bisect_right

from ._validation import check_int, check_number
from .optimizers import Optimizer


class LRScheduler:
    """Base class. Subclasses implement ``lr_at(t, base_lr)``.

    Constructing a schedule records each group's current ``lr`` as its base
    (``initial_lr`` in the group, kept by later schedules) and sets the
    learning rates for ``t = 0``.
    """

    def __init__(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: optimizer must be an optim Optimizer, "
                f"got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = 0
        self._apply()

    def lr_at(self, t, base_lr):
        """The learning rate after ``t`` steps for a group whose base rate is ``base_lr``."""
        raise NotImplementedError

    def step(self):
        """Advance one step and write the new learning rates into the optimizer."""
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self):
        """The learning rate of each parameter group, as last set."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state_dict):
        """Restore the step count and base rates, and set the matching learning rates."""
        if len(state_dict["base_lrs"]) != len(self.optimizer.param_groups):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: state has {len(state_dict['base_lrs'])} "
                f"base learning rates, the optimizer has {len(self.optimizer.param_groups)} groups"
            )
        self.last_epoch = check_int(type(self).__name__, "last_epoch", state_dict["last_epoch"], low=0)
        self.base_lrs = [float(lr) for lr in state_dict["base_lrs"]]
        self._apply()

    def _apply(self):
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(self.last_epoch, base_lr)


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` steps: ``base * gamma**(t // step_size)``."""

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

    def __init__(self, optimizer, milestones, gamma=0.1):
        self.milestones = sorted(check_int("MultiStepLR", "milestones[]", m, low=1) for m in milestones)
        self.gamma = check_number("MultiStepLR", "gamma", gamma, low=0.0, low_open=True)
        super().__init__(optimizer)

    def lr_at(self, t, base_lr):
        return base_lr * self.gamma ** bisect_right(self.milestones, t)


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every step: ``base * gamma**t``."""

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

    def __init__(self, optimizer, schedules, milestones):
        self.schedules, _ = _check_children("SequentialLR", schedules, optimizer)
        milestones = [check_int("SequentialLR", "milestones[]", m, low=1) for m in milestones]
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
