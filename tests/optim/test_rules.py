"""CS231n functional rules: identical steps to the Optimizer classes, pure inputs, validation."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from optim import SGD, AdaGrad, Adam, AdamW, RMSProp, rules

# (rule, its config, the equivalent optimizer)
PAIRS = [
    (rules.sgd, {"learning_rate": 0.05}, lambda p: SGD(p, lr=0.05)),
    (rules.sgd_momentum, {"learning_rate": 0.05, "momentum": 0.8}, lambda p: SGD(p, lr=0.05, momentum=0.8)),
    (rules.nesterov, {"learning_rate": 0.05}, lambda p: SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
    (rules.adagrad, {"learning_rate": 0.1}, lambda p: AdaGrad(p, lr=0.1)),
    (rules.rmsprop, {"learning_rate": 0.01, "decay_rate": 0.9}, lambda p: RMSProp(p, lr=0.01, alpha=0.9)),
    (rules.adam, {"learning_rate": 0.01, "beta1": 0.8}, lambda p: Adam(p, lr=0.01, betas=(0.8, 0.999))),
    (rules.adamw, {"learning_rate": 0.01, "weight_decay": 0.1},
     lambda p: AdamW(p, lr=0.01, weight_decay=0.1)),
]


@pytest.mark.parametrize("rule, config, make", PAIRS, ids=[r.__name__ for r, _, _ in PAIRS])
def test_rule_equals_optimizer(rule, config, make):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((4, 3))
    p = mg.Parameter(w.copy())
    opt = make([p])
    config = dict(config)
    for _ in range(50):
        noise = rng.standard_normal(w.shape) * 0.1
        dw = np.sin(3 * w) + noise  # a gradient that depends on where each side is
        p.grad = np.sin(3 * p.data) + noise
        w, config = rule(w, dw, config)
        opt.step()
    np.testing.assert_array_equal(w, p.data)


@given(lr=st.floats(1e-4, 1.0), beta1=st.floats(0.0, 0.99), beta2=st.floats(0.5, 0.9999),
       shape=st.sampled_from([(3,), (2, 5), (1, 2, 3)]))
def test_adam_rule_matches_textbook_formula(lr, beta1, beta2, shape):
    """Kingma & Ba's bias-corrected Adam written out plainly, to ~1e-12 relative."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal(shape)
    m = v = np.zeros(shape)
    expected = w.copy()
    config = {"learning_rate": lr, "beta1": beta1, "beta2": beta2}
    for t in range(1, 6):
        dw = rng.standard_normal(shape)
        m = beta1 * m + (1 - beta1) * dw
        v = beta2 * v + (1 - beta2) * dw * dw
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        expected = expected - lr * m_hat / (np.sqrt(v_hat) + 1e-8)
        w, config = rules.adam(w, dw, config)
    assert config["t"] == 5
    np.testing.assert_allclose(w, expected, rtol=1e-9, atol=1e-12)


def test_cs231n_reference_values():
    """CS231n's sgd_momentum check: next_w from its published expected values."""
    N, D = 4, 5
    w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
    v = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    # CS231n's velocity v is -lr * b in the PyTorch convention used here.
    config = {"learning_rate": 1e-3, "momentum_buffer": v / -1e-3}
    next_w, _ = rules.sgd_momentum(w, dw, config)
    v_expected = 0.9 * v - 1e-3 * dw
    np.testing.assert_allclose(next_w, w + v_expected, rtol=1e-12)


def test_inputs_are_not_modified_and_state_is_copied():
    w, dw = np.ones(3), np.full(3, 0.5)
    _, config = rules.adam(w, dw)
    m_first = config["m"]
    rules.adam(w, dw, config)
    np.testing.assert_array_equal(w, 1.0)
    np.testing.assert_array_equal(dw, 0.5)
    assert config["m"] is not m_first and config["t"] == 2
    np.testing.assert_allclose(m_first, 0.05)


@pytest.mark.parametrize("call, error, message", [
    (lambda: rules.sgd(np.ones(2), np.ones(3)), ValueError, "sgd: dw must have w's shape"),
    (lambda: rules.sgd(np.ones(2, dtype=int), np.ones(2)), TypeError, "floating-point"),
    (lambda: rules.sgd(np.ones(2), np.ones(2), {"learning_rate": -1.0}), ValueError, "learning_rate"),
    (lambda: rules.sgd(np.ones(2), np.ones(2), {"lr": 1.0}), ValueError, "unknown config keys"),
    (lambda: rules.sgd(np.ones(2), np.ones(2), {"learning_rate": np.inf}), ValueError,
     "sgd: learning_rate must be >= 0, got inf"),
    (lambda: rules.sgd_momentum(np.ones(2), np.ones(2), {"momentum": True}), TypeError, "momentum"),
    (lambda: rules.adam(np.ones(2), np.ones(2), {"epsilon": np.nan}), ValueError, "epsilon"),
    (lambda: rules.adam(np.ones(2), np.ones(2), {"beta1": 1.0}), ValueError, "beta1"),
    (lambda: rules.adam(np.ones(2), np.ones(2), {"beta2": -0.5}), ValueError, "beta2"),
    (lambda: rules.adamw(np.ones(2), np.ones(2), {"epsilon": 0.0}), ValueError, "epsilon"),
    (lambda: rules.rmsprop(np.ones(2), np.ones(2), {"decay_rate": 2.0}), ValueError, "decay_rate"),
    (lambda: rules.nesterov(np.ones(2), np.ones(2), {"momentum": 0.0}), ValueError, "momentum"),
    (lambda: rules.adagrad(np.ones(2), np.ones(2), []), TypeError, "config must be a dict"),
])
def test_invalid_inputs_raise(call, error, message):
    with pytest.raises(error, match=message):
        call()
