"""The two-layer net script: model gradients, the random search, and a --quick run."""
import argparse
import json

import numpy as np
import pytest

import minigrad as mg
from assignments import cli, two_layer_net
from layers.losses import cross_entropy


def _float64_net(rng, sizes=(6, 5, 3)):
    model = two_layer_net.TwoLayerNet(*sizes, rng)
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    return model


def test_two_layer_net_gradients_match_central_differences(rng):
    model = _float64_net(rng)
    X, y = rng.standard_normal((4, 6)), rng.integers(0, 3, 4)

    def loss():
        return cross_entropy(model(mg.Tensor(X)), y)

    model.zero_grad()
    loss().backward()
    for name, p in model.named_parameters():
        # numerical_gradient perturbs p.data in place; the closure reads the model's current weights.
        numeric = mg.numerical_gradient(lambda _: loss().data, p.data, 1.0)
        assert mg.rel_error(p.grad, numeric) < 1e-7, name
    assert mg.gradcheck(lambda x: cross_entropy(model(x), y), mg.Tensor(X, requires_grad=True))[0] < 1e-7


def test_random_search_keeps_the_best_validation_accuracy(rng):
    X = np.concatenate([rng.normal(-1, 1, (60, 4)), rng.normal(1, 1, (60, 4))]).astype(np.float32)
    y = np.repeat([0, 1], 60)
    args = argparse.Namespace(lr=0.1, epochs=3, batch_size=20, seed=0)
    results = two_layer_net.random_search(X[::2], y[::2], X[1::2], y[1::2], 2, args, trials=3)
    assert len(results) == 3
    assert [r["val_accuracy"] for r in results] == sorted((r["val_accuracy"] for r in results), reverse=True)
    assert len({r["lr"] for r in results}) == 3
    for r in results:
        assert args.lr * 10 ** -two_layer_net.LR_SPAN <= r["lr"] <= args.lr * 10 ** two_layer_net.LR_SPAN
        assert 10 ** two_layer_net.REG_RANGE[0] <= r["reg"] <= 10 ** two_layer_net.REG_RANGE[1]
        assert len(r["losses"]) == 3 * 3
    assert results[0]["val_accuracy"] > 0.8


@pytest.mark.slow
def test_two_layer_net_quick_run(tmp_path, capsys):
    assert cli.main(["run", "two_layer_net", "--quick", "--out", str(tmp_path)]) == 0
    run_dir = tmp_path / "two_layer_net"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert len(metrics["search"]) == 2 and metrics["config"]["epochs"] == 1
    assert metrics["test_accuracy"] > 0.5  # chance is 0.1
    for png in ("loss.png", "search.png", "hidden_weights.png"):
        assert (run_dir / png).stat().st_size > 1000
    checkpoint = np.load(run_dir / "checkpoint.npz")
    assert checkpoint["model.fc1.weight"].shape == (two_layer_net.HIDDEN, 784)
    # The checkpoint restores a model with the reported test accuracy.
    data = cli.load_data(argparse.Namespace(data="mnist5k", data_dir=None, quick=True))
    model = two_layer_net.TwoLayerNet(784, two_layer_net.HIDDEN, 10, np.random.default_rng())
    model.load_state_dict({k[len("model."):]: checkpoint[k] for k in checkpoint.files if k.startswith("model.")})
    X_test = data.X_test.reshape(len(data.X_test), -1) - checkpoint["mean_image"]
    assert two_layer_net.accuracy(model, X_test, data.y_test) == metrics["test_accuracy"]
    assert "two_layer_net: test_accuracy" in capsys.readouterr().out
