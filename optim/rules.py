"""CS231n-style functional update rules: ``rule(w, dw, config) -> (next_w, config)``.

``config`` is a dict of hyper-parameters (missing ones get the defaults
listed per rule) that also carries the rule's state between calls, so a
training loop keeps one config per weight array::

    configs = {name: {"learning_rate": 1e-3} for name in weights}
    for name, w in weights.items():
        weights[name], configs[name] = adam(w, grads[name], configs[name])

``w`` and ``dw`` are never modified; ``config`` is updated and returned. The
arithmetic is ``optim.updates``, shared with the ``Optimizer`` classes, so
``adam(w, dw, {"learning_rate": lr})`` and ``Adam([w], lr=lr)`` take
identical steps.

Momentum convention: ``config["momentum_buffer"]`` is PyTorch's buffer
``b`` with ``w <- w - lr * b``; CS231n's ``velocity`` is ``-lr * b``.
"""
import numpy as np

from minigrad.validation import check_number

from . import updates


def _prepare(rule, w, dw, config, defaults, state_keys):
    """Check inputs, fill defaults in ``config`` and return ``(w copy, dw array, config)``."""
    w, dw = np.asarray(w), np.asarray(dw)
    if w.dtype.kind != "f":
        raise TypeError(f"{rule}: w must be a floating-point array, got dtype {w.dtype}")
    if dw.shape != w.shape:
        raise ValueError(f"{rule}: dw must have w's shape {w.shape}, got {dw.shape}")
    config = {} if config is None else config
    if not isinstance(config, dict):
        raise TypeError(f"{rule}: config must be a dict or None, got {type(config).__name__}")
    unknown = sorted(set(config) - set(defaults) - set(state_keys))
    if unknown:
        raise ValueError(f"{rule}: unknown config keys {unknown}; expected some of {sorted(defaults)}")
    for key, value in defaults.items():
        config.setdefault(key, value)
    check_number(rule, "learning_rate", config["learning_rate"], low=0.0)
    for key in state_keys:
        # Copies, so arrays a caller still holds from an earlier step stay as they were.
        if key in config and isinstance(config[key], np.ndarray):
            config[key] = np.array(config[key], dtype=w.dtype, copy=True)
    return np.array(w, copy=True), dw.astype(w.dtype, copy=False), config


def _state(config, key, like, fill=0.0):
    """``config[key]``, first created as an array like ``like`` filled with ``fill``."""
    if key not in config:
        config[key] = np.full_like(like, fill)
    return config[key]


def sgd(w, dw, config=None):
    """Vanilla SGD: ``w - learning_rate * dw``.

    config: ``learning_rate`` (1e-2).
    """
    w, dw, config = _prepare("sgd", w, dw, config, {"learning_rate": 1e-2}, ())
    updates.sgd_update(w, dw, None, lr=config["learning_rate"])
    return w, config


def _momentum_rule(rule, w, dw, config, nesterov):
    w, dw, config = _prepare(rule, w, dw, config, {"learning_rate": 1e-2, "momentum": 0.9},
                             ("momentum_buffer",))
    momentum = check_number(rule, "momentum", config["momentum"], low=0.0, low_open=nesterov)
    config["momentum_buffer"] = updates.sgd_update(
        w, dw, config.get("momentum_buffer"), lr=config["learning_rate"], momentum=momentum,
        nesterov=nesterov,
    )
    return w, config


def sgd_momentum(w, dw, config=None):
    """SGD with momentum: ``b <- momentum * b + dw``, ``w <- w - learning_rate * b``.

    config: ``learning_rate`` (1e-2), ``momentum`` (0.9); state ``momentum_buffer``.
    """
    return _momentum_rule("sgd_momentum", w, dw, config, nesterov=False)


def nesterov(w, dw, config=None):
    """Nesterov momentum: as ``sgd_momentum`` but steps along ``dw + momentum * b``.

    config: ``learning_rate`` (1e-2), ``momentum`` (0.9, > 0); state ``momentum_buffer``.
    """
    return _momentum_rule("nesterov", w, dw, config, nesterov=True)


def adagrad(w, dw, config=None):
    """AdaGrad: ``cache += dw**2``, ``w -= learning_rate * dw / (sqrt(cache) + epsilon)``.

    config: ``learning_rate`` (1e-2), ``epsilon`` (1e-10); state ``cache``.
    """
    w, dw, config = _prepare("adagrad", w, dw, config,
                             {"learning_rate": 1e-2, "epsilon": 1e-10}, ("cache",))
    eps = check_number("adagrad", "epsilon", config["epsilon"], low=0.0, low_open=True)
    updates.adagrad_update(w, dw, _state(config, "cache", w), 1, lr=config["learning_rate"], eps=eps)
    return w, config


def rmsprop(w, dw, config=None):
    """RMSProp: ``cache = decay_rate * cache + (1 - decay_rate) * dw**2``,
    ``w -= learning_rate * dw / (sqrt(cache) + epsilon)``.

    config: ``learning_rate`` (1e-2), ``decay_rate`` (0.99), ``epsilon`` (1e-8); state ``cache``.
    """
    w, dw, config = _prepare("rmsprop", w, dw, config,
                             {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8}, ("cache",))
    decay = check_number("rmsprop", "decay_rate", config["decay_rate"], low=0.0, high=1.0)
    eps = check_number("rmsprop", "epsilon", config["epsilon"], low=0.0, low_open=True)
    updates.rmsprop_update(w, dw, _state(config, "cache", w), None, None,
                           lr=config["learning_rate"], alpha=decay, eps=eps)
    return w, config


def _adam_rule(rule, w, dw, config, defaults, decoupled):
    w, dw, config = _prepare(rule, w, dw, config, defaults, ("m", "v", "t"))
    beta1 = check_number(rule, "beta1", config["beta1"], low=0.0, high=1.0, high_open=True)
    beta2 = check_number(rule, "beta2", config["beta2"], low=0.0, high=1.0, high_open=True)
    eps = check_number(rule, "epsilon", config["epsilon"], low=0.0, low_open=True)
    weight_decay = check_number(rule, "weight_decay", config.get("weight_decay", 0.0), low=0.0)
    config["t"] = config.get("t", 0) + 1
    updates.adam_update(w, dw, _state(config, "m", w), _state(config, "v", w), None, config["t"],
                        lr=config["learning_rate"], beta1=beta1, beta2=beta2, eps=eps,
                        weight_decay=weight_decay, decoupled_weight_decay=decoupled)
    return w, config


def adam(w, dw, config=None):
    """Adam with bias correction (Kingma & Ba, 2015).

    config: ``learning_rate`` (1e-3), ``beta1`` (0.9), ``beta2`` (0.999),
    ``epsilon`` (1e-8); state ``m``, ``v`` (moment estimates) and ``t`` (step count).
    """
    defaults = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    return _adam_rule("adam", w, dw, config, defaults, decoupled=False)


def adamw(w, dw, config=None):
    """AdamW: Adam plus decoupled weight decay ``w <- w * (1 - learning_rate * weight_decay)``.

    config: as ``adam`` plus ``weight_decay`` (1e-2); state ``m``, ``v``, ``t``.
    """
    defaults = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8,
                "weight_decay": 1e-2}
    return _adam_rule("adamw", w, dw, config, defaults, decoupled=True)
