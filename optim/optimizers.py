"""Optimizer classes over ``minigrad.Parameter``s, with ``torch.optim`` semantics.

Each class keeps per-parameter state (moment estimates, step counts) and, on
``step()``, updates ``Parameter.data`` in place from ``Parameter.grad`` with the
shared arithmetic of ``optim.updates``. Hyper-parameters live in
``param_groups`` (a list of dicts, as in PyTorch), so different groups of
parameters may use different learning rates, and schedules change ``lr`` there.

Example
-------
>>> opt = Adam([{"params": model.body.parameters()},
...             {"params": model.head.parameters(), "lr": 1e-2}], lr=1e-3)
>>> loss.backward(); opt.step(); opt.zero_grad()
"""
import copy
import numbers
from collections.abc import Iterable

import numpy as np

from minigrad import Tensor
from minigrad.validation import check_bool, check_int, check_number

from . import updates


class Optimizer:
    """Base class: parameter groups, ``step``, ``zero_grad`` and state dicts.

    Parameters
    ----------
    params : iterable of Parameter, or iterable of dict
        Either the parameters themselves or groups ``{"params": [...], **overrides}``
        whose entries override ``defaults`` for that group.
    defaults : dict
        Hyper-parameter values for groups that do not set their own.

    Subclasses define ``_check_group(group)`` (validate the hyper-parameters
    and return them cleaned: floats, bools, tuples), ``_state_spec(group)``
    (the names of the per-parameter state entries) and
    ``_update(param_array, grad, state, group)`` (one parameter's step).
    """

    def __init__(self, params, defaults):
        # Checked even when every group overrides them: a bad default is a bug all the same.
        self.defaults = {**defaults, **self._check_group(defaults)}
        self.param_groups = []
        # Keyed by id(param): Parameters define elementwise ``==``, so they
        # cannot be dict keys themselves; the groups keep them alive.
        self.state = {}
        if isinstance(params, (Tensor, dict)):
            raise TypeError(
                f"{self._name}: params must be an iterable of Parameters or of dicts, "
                f"got a single {type(params).__name__} (wrap it in a list)"
            )
        groups = list(_check_iterable(self._name, "params", params, "Parameters or of dicts"))
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self):
        return type(self).__name__

    def __repr__(self):
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params")
        return "\n".join(lines) + "\n)"

    def add_param_group(self, group):
        """Add a group ``{"params": [...], **hyper-parameters}``; unset ones take the defaults."""
        if not isinstance(group, dict):
            raise TypeError(f"{self._name}: a parameter group must be a dict, got {type(group).__name__}")
        if "params" not in group:
            raise ValueError(f"{self._name}: a parameter group must have a 'params' entry")
        unknown = sorted(set(group) - set(self.defaults) - {"params", "initial_lr"})
        if unknown:
            raise ValueError(
                f"{self._name}: unknown hyper-parameters {unknown} in a parameter group; "
                f"expected some of {sorted(self.defaults)}"
            )
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(
            _check_iterable(self._name, "a parameter group's 'params'", params, "Parameters"))
        if not params:
            raise ValueError(f"{self._name}: a parameter group has an empty 'params' list")
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{self._name}: params must be Parameters, got {type(p).__name__}")
            if p.dtype.kind != "f":
                raise TypeError(f"{self._name}: params must be floating point, got dtype {p.dtype}")
        # By identity: ``p in list`` would compare Parameters element-wise.
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params) or seen & {id(p) for p in params}:
            raise ValueError(f"{self._name}: a parameter appears in more than one place in params")
        self.param_groups.append({**self._clean_group({**self.defaults, **group}), "params": params})

    def zero_grad(self):
        """Forget every parameter's gradient (sets ``.grad`` to None)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self):
        """Update every parameter that has a gradient; parameters without one are skipped."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = np.asarray(p.grad)
                if grad.shape != p.shape:
                    raise ValueError(
                        f"{self._name}.step: gradient of shape {grad.shape} for a parameter "
                        f"of shape {p.shape}"
                    )
                self._update(p.data, grad, self.state.setdefault(id(p), {}), group)

    # ---------------------------------------------------------------- state
    def state_dict(self):
        """Return ``{"type", "state": {index: {name: value}}, "param_groups": [...]}`` (copies).

        Parameters are referred to by their position across all groups, as
        in PyTorch, so the dict can be loaded into an optimizer built over a
        fresh model with the same structure; ``type`` is the class name.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index[id(p)] = len(index)
                ids.append(index[id(p)])
            groups.append({**{k: copy.deepcopy(v) for k, v in group.items() if k != "params"},
                           "params": ids})
        state = {index[key]: copy.deepcopy(value) for key, value in self.state.items()
                 if key in index and value}
        return {"type": self._name, "state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and per-parameter state from ``state_dict``.

        The state must come from the same class (its ``type``, when given,
        and its hyper-parameter names must match), its groups must have the
        sizes of this optimizer's, and each state array the shape of its
        parameter. Arrays are copied and cast to their parameter's dtype.
        The saved hyper-parameters replace the current ones, as in PyTorch.
        Nothing changes when an error is raised.
        """
        self._commit(self._prepare_load(state_dict))

    def _prepare_load(self, state_dict, strict=False):
        """Check ``state_dict`` and return what ``_commit`` installs; change nothing.

        ``strict``: also require the hyper-parameters this optimizer was built
        with (``describe_group``'s, base ``lr`` included), as a resumed run
        needs; ``load_state_dict`` replaces them instead, as in PyTorch.
        """
        where = f"{self._name}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(f"{where}: state_dict must be a dict, got {type(state_dict).__name__}")
        if not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(f"{where}: state_dict must be a dict with 'state' and 'param_groups'")
        saved_type = state_dict.get("type", self._name)
        groups, saved_state = state_dict["param_groups"], state_dict["state"]
        if saved_type != self._name and not strict:
            raise ValueError(f"{where}: the state comes from {saved_type}, this optimizer is {self._name}")
        if not isinstance(groups, (list, tuple)) or not isinstance(saved_state, dict):
            raise ValueError(f"{where}: 'param_groups' must be a list and 'state' a dict")
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"{where}: state has {len(groups)} parameter groups, "
                f"optimizer has {len(self.param_groups)}"
            )
        if strict:
            self._check_settings(where, saved_type, groups)
        by_index, new_groups = {}, []
        for k, (saved, current) in enumerate(zip(groups, self.param_groups)):
            new_groups.append(self._merge_group(where, k, saved, current, by_index))
        group_of = {id(p): g for g in new_groups for p in g["params"]}
        new_state = {}
        for i, entries in saved_state.items():
            p = by_index.get(i) if isinstance(i, numbers.Integral) and not isinstance(i, bool) else None
            if p is None:
                raise ValueError(f"{where}: state for unknown parameter index {i!r}")
            new_state[id(p)] = self._check_entries(where, i, entries, p, group_of[id(p)])
        return new_groups, new_state

    def _check_settings(self, where, saved_type, groups):
        """ValueError unless each saved group is of this class with this group's hyper-parameters."""
        for k, (saved, current) in enumerate(zip(groups, self.param_groups)):
            if not isinstance(saved, dict):
                raise ValueError(f"{where}: group {k} of the state is not a dict")
            if saved_type != self._name or group_settings(saved) != group_settings(current):
                which = f" (parameter group {k})" if len(self.param_groups) > 1 else ""
                raise ValueError(f"{where}: the state is of {describe_group(saved_type, saved)}{which}, "
                                 f"this optimizer is {describe_group(self._name, current)}")

    def _merge_group(self, where, k, saved, current, by_index):
        """Group ``k``'s saved hyper-parameters over ``current``; fills ``by_index``."""
        ids = saved.get("params") if isinstance(saved, dict) else None
        if not isinstance(ids, (list, tuple)) or len(ids) != len(current["params"]):
            size = len(ids) if isinstance(ids, (list, tuple)) else "no"
            raise ValueError(
                f"{where}: group {k} has {size} parameters in the state, "
                f"{len(current['params'])} in the optimizer"
            )
        names = set(saved) - {"params", "initial_lr"}
        if names != set(self.defaults):
            raise ValueError(
                f"{where}: group {k} of the state has hyper-parameters {sorted(names)}, "
                f"{self._name} has {sorted(self.defaults)}"
            )
        for i, p in zip(ids, current["params"]):
            if not isinstance(i, numbers.Integral) or isinstance(i, bool) or i in by_index:
                raise ValueError(f"{where}: group {k} lists parameter index {i!r} twice or not as an int")
            by_index[int(i)] = p
        merged = {**current, **{key: copy.deepcopy(v) for key, v in saved.items() if key != "params"}}
        return {**self._clean_group(merged), "params": current["params"]}

    def _check_entries(self, where, i, entries, p, group):
        """Parameter ``i``'s saved state, checked against ``_state_spec`` and copied."""
        expected = self._state_spec(group)
        if not isinstance(entries, dict) or set(entries) != set(expected):
            names = sorted(entries) if isinstance(entries, dict) else entries
            raise ValueError(f"{where}: state of parameter {i} must hold {sorted(expected)}, got {names!r}")
        checked = {}
        for name, value in entries.items():
            if expected[name] == "step":
                checked[name] = check_int(where, f"state {i} '{name}'", value, low=0)
                continue
            if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
                raise ValueError(f"{where}: state '{name}' of parameter {i} must be a float array, "
                                 f"got {type(value).__name__}")
            if value.shape != p.shape:
                raise ValueError(
                    f"{where}: state '{name}' of parameter {i} has "
                    f"shape {value.shape}, the parameter has {p.shape}"
                )
            checked[name] = value.astype(p.dtype, copy=True)
        return checked

    def _commit(self, prepared):
        self.param_groups, self.state = prepared

    def _clean_group(self, group):
        """``group`` with its hyper-parameters (and ``initial_lr``) checked and cleaned."""
        clean = {**group, **self._check_group(group)}
        if "initial_lr" in group:
            clean["initial_lr"] = check_number(self._name, "initial_lr", group["initial_lr"], low=0.0)
        return clean

    # ---------------------------------------------------- subclass hooks
    def _check_group(self, group):
        raise NotImplementedError

    def _state_spec(self, group):
        """``{entry name: "step" or "array"}`` of a stepped parameter's state under ``group``."""
        raise NotImplementedError

    def _update(self, param, grad, state, group):
        raise NotImplementedError

    def _check_common(self, group):
        return {"lr": check_number(self._name, "lr", group["lr"], low=0.0),
                "weight_decay": check_number(self._name, "weight_decay", group["weight_decay"], low=0.0)}


def _check_iterable(func, name, value, of):
    """``value`` if it can be iterated over; TypeError naming ``name`` otherwise (e.g. None)."""
    if not isinstance(value, Iterable):
        raise TypeError(f"{func}: {name} must be an iterable of {of}, got {type(value).__name__}")
    return value


def describe_group(type_name, group):
    """``"SGD(lr=0.1, momentum=0.9, ...)"``: a group's hyper-parameters, ``lr`` as its base rate."""
    settings = group_settings(group)
    return f"{type_name}({', '.join(f'{k}={v!r}' for k, v in settings.items())})"


def group_settings(group):
    """A group's hyper-parameters as built: ``lr`` is ``initial_lr`` when a schedule set one."""
    base_lr = group.get("initial_lr", group.get("lr"))
    return {"lr": base_lr, **{k: v for k, v in group.items() if k not in ("params", "initial_lr", "lr")}}


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum and L2 weight decay.

    Same update as ``torch.optim.SGD``: ``b <- momentum * b + (1 - dampening) * g``,
    ``w <- w - lr * b`` (Nesterov: ``w <- w - lr * (g + momentum * b)``), with
    ``g = dw + weight_decay * w``.
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, nesterov=False,
                 weight_decay=0.0):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      nesterov=nesterov, weight_decay=weight_decay))

    def _check_group(self, group):
        momentum = check_number(self._name, "momentum", group["momentum"], low=0.0)
        # A dampening outside [0, 1] would scale the gradient up or flip its sign.
        dampening = check_number(self._name, "dampening", group["dampening"], low=0.0, high=1.0)
        nesterov = check_bool(self._name, "nesterov", group["nesterov"])
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(
                f"{self._name}: nesterov=True needs momentum > 0 and dampening == 0, "
                f"got momentum={momentum!r}, dampening={dampening!r}"
            )
        return {**self._check_common(group), "momentum": momentum, "dampening": dampening,
                "nesterov": nesterov}

    def _state_spec(self, group):
        return {"momentum_buffer": "array"} if group["momentum"] != 0 else {}

    def _update(self, param, grad, state, group):
        buf = updates.sgd_update(
            param, grad, state.get("momentum_buffer"), lr=group["lr"], momentum=group["momentum"],
            dampening=group["dampening"], nesterov=group["nesterov"],
            weight_decay=group["weight_decay"],
        )
        if buf is not None:
            state["momentum_buffer"] = buf


class AdaGrad(Optimizer):
    """AdaGrad (``torch.optim.Adagrad``): per-coordinate steps shrink with the summed squared gradients."""

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    def _check_group(self, group):
        return {**self._check_common(group),
                "lr_decay": check_number(self._name, "lr_decay", group["lr_decay"], low=0.0),
                "initial_accumulator_value": check_number(
                    self._name, "initial_accumulator_value", group["initial_accumulator_value"], low=0.0),
                "eps": check_number(self._name, "eps", group["eps"], low=0.0, low_open=True)}

    def _state_spec(self, group):
        return {"step": "step", "sum": "array"}

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["sum"] = np.full_like(param, group["initial_accumulator_value"])
        state["step"] += 1
        updates.adagrad_update(param, grad, state["sum"], state["step"], lr=group["lr"],
                               lr_decay=group["lr_decay"], weight_decay=group["weight_decay"],
                               eps=group["eps"])


class RMSProp(Optimizer):
    """RMSProp (``torch.optim.RMSprop``), optionally centered and with momentum."""

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _check_group(self, group):
        return {**self._check_common(group),
                "alpha": check_number(self._name, "alpha", group["alpha"], low=0.0, high=1.0),
                "eps": check_number(self._name, "eps", group["eps"], low=0.0, low_open=True),
                "momentum": check_number(self._name, "momentum", group["momentum"], low=0.0),
                "centered": check_bool(self._name, "centered", group["centered"])}

    def _state_spec(self, group):
        return {"step": "step", "square_avg": "array",
                **({"momentum_buffer": "array"} if group["momentum"] > 0 else {}),
                **({"grad_avg": "array"} if group["centered"] else {})}

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        updates.rmsprop_update(param, grad, state["square_avg"], state.get("grad_avg"),
                               state.get("momentum_buffer"), lr=group["lr"], alpha=group["alpha"],
                               eps=group["eps"], weight_decay=group["weight_decay"],
                               momentum=group["momentum"], centered=group["centered"])


class Adam(Optimizer):
    """Adam with bias correction (``torch.optim.Adam``); ``weight_decay`` is an L2 penalty.

    ``amsgrad=True`` divides by the running maximum of the second moment
    instead (Reddi et al., 2018).
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    def _check_group(self, group):
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)):
            raise TypeError(f"{self._name}: betas must be a pair (beta1, beta2), got {betas!r}")
        if len(betas) != 2:
            raise ValueError(f"{self._name}: betas must be a pair (beta1, beta2), got {betas!r}")
        betas = tuple(check_number(self._name, f"betas[{k}]", beta, low=0.0, high=1.0, high_open=True)
                      for k, beta in enumerate(betas))
        return {**self._check_common(group), "betas": betas,
                "eps": check_number(self._name, "eps", group["eps"], low=0.0, low_open=True),
                "amsgrad": check_bool(self._name, "amsgrad", group["amsgrad"])}

    def _state_spec(self, group):
        return {"step": "step", "exp_avg": "array", "exp_avg_sq": "array",
                **({"max_exp_avg_sq": "array"} if group["amsgrad"] else {})}

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        beta1, beta2 = group["betas"]
        updates.adam_update(param, grad, state["exp_avg"], state["exp_avg_sq"],
                            state.get("max_exp_avg_sq"), state["step"], lr=group["lr"],
                            beta1=beta1, beta2=beta2, eps=group["eps"],
                            weight_decay=group["weight_decay"],
                            decoupled_weight_decay=self._decoupled, amsgrad=group["amsgrad"])


class AdamW(Adam):
    """Adam with decoupled weight decay (``torch.optim.AdamW``, Loshchilov & Hutter, 2019).

    Weights shrink by ``lr * weight_decay`` each step, independently of the
    adaptive scaling, instead of adding an L2 term to the gradient.
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)
