"""The fully connected net: structure, gradients, the update-rule comparison, and a --quick run."""
import argparse
import json

import numpy as np
import pytest

import minigrad as mg
from assignments import cli, fc_net
from assignments.data import SplitData
from assignments.models import FullyConnectedNet, accuracy
from layers.dropout import Dropout
from layers.losses import cross_entropy
from layers.norm import BatchNorm1d, LayerNorm
from optim import Adam


def _to_float64(model):
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    for _, module in model.named_modules():
        for name in ("running_mean", "running_var"):
            if getattr(module, name, None) is not None:
                setattr(module, name, getattr(module, name).astype(np.float64))
    return model


@pytest.mark.parametrize("hidden, norm, norm_type", [
    ((), None, None), ((7,), "batchnorm", BatchNorm1d), ((7, 6, 5, 4), "layernorm", LayerNorm),
])
def test_any_depth_with_either_normalisation(rng, hidden, norm, norm_type):
    model = FullyConnectedNet(12, hidden, 3, normalization=norm, dropout=0.3, rng=0)
    layers = list(model.net)
    assert sum(isinstance(m, Dropout) for m in layers) == len(hidden)
    if norm_type is not None:
        assert sum(isinstance(m, norm_type) for m in layers) == len(hidden)
    # 2 parameters per affine layer, 2 per normalisation layer.
    assert len(model.parameters()) == 2 * (len(hidden) + 1) + (2 * len(hidden) if norm else 0)
    scores = model(mg.Tensor(rng.standard_normal((5, 3, 2, 2)).astype(np.float32)))  # flattened inside
    assert scores.shape == (5, 3)


@pytest.mark.parametrize("norm", [None, "batchnorm", "layernorm"])
def test_gradients_match_central_differences(rng, norm):
    model = _to_float64(FullyConnectedNet(6, (5, 4), 3, normalization=norm, rng=1))
    X, y = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)

    def loss():
        return cross_entropy(model(mg.Tensor(X)), y)

    model.zero_grad()
    loss().backward()
    for name, p in model.named_parameters():
        numeric = mg.numerical_gradient(lambda _: loss().data, p.data, 1.0)
        assert mg.rel_error(p.grad, numeric) < 1e-6, name


def test_bad_configuration_is_rejected():
    with pytest.raises(ValueError, match="FullyConnectedNet: normalization must be one of"):
        FullyConnectedNet(4, (3,), 2, normalization="groupnorm")
    with pytest.raises(ValueError, match=r"FullyConnectedNet: dropout must be in \[0, 1\), got 1.0"):
        FullyConnectedNet(4, (3,), 2, dropout=1.0)


def _blobs(rng, n=200):
    y = rng.integers(0, 3, n)
    X = (rng.standard_normal((n, 1, 4, 4)) + 2.0 * y[:, None, None, None]).astype(np.float32)
    return SplitData(X[:120], y[:120], X[120:160], y[120:160], X[160:], y[160:], ("a", "b", "c"), (1, 4, 4))


def test_comparison_reuses_the_main_adam_run_exactly(rng):
    # The comparison's Adam curve is the main run's first epochs: a fresh Adam
    # run with the same seed must repeat them exactly for that to be honest.
    data = _blobs(rng)
    args = argparse.Namespace(epochs=3, batch_size=20, lr=1e-3, seed=4, **fc_net.OPTIONS)
    main_model = fc_net.build_model(data, args)
    main_run = fc_net.fit(main_model, Adam(main_model.parameters(), lr=args.lr), data.X_train,
                          data.y_train, data.X_val, data.y_val, args, progress=False)
    results = fc_net.compare_update_rules(data, args, 1, main_run.history)
    assert set(results) == {"SGD", "Momentum", "RMSProp", "Adam"}
    fresh = fc_net.build_model(data, args)
    short = fc_net.fit(fresh, Adam(fresh.parameters(), lr=args.lr), data.X_train, data.y_train,
                       data.X_val, data.y_val, argparse.Namespace(**{**vars(args), "epochs": 1}),
                       progress=False)
    assert results["Adam"]["loss"] == short.history["loss"]
    assert results["Adam"]["val_accuracy"] == short.history["val_acc"][0]
    for name in ("SGD", "Momentum", "RMSProp"):
        assert len(results[name]["loss"]) == 6 and np.isfinite(results[name]["loss"]).all()


@pytest.mark.parametrize("argv, options", [
    ([], fc_net.OPTIONS),
    (["--set", "hidden_dims=32,16", "normalization=layernorm", "dropout=0"],
     {"hidden_dims": (32, 16), "normalization": "layernorm", "dropout": 0.0}),
])
@pytest.mark.slow
def test_fc_net_quick_run(tmp_path, capsys, argv, options):
    # Small batches: 5 steps of 100 would leave batchnorm's running statistics
    # (momentum 0.1) far from the data's, and eval-mode predictions near chance.
    assert cli.main(["run", "fc_net", "--quick", "--batch-size", "20", *argv, "--out", str(tmp_path)]) == 0
    run_dir = tmp_path / "fc_net"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["config"]["epochs"] == 1 and metrics["config"]["quick"] is True
    assert {k: metrics["config"][k] for k in options} == {k: list(v) if isinstance(v, tuple) else v
                                                          for k, v in options.items()}
    assert metrics["test_accuracy"] > 0.5  # chance is 0.1
    assert set(metrics["update_rules"]) == {"SGD", "Momentum", "RMSProp", "Adam"}
    for png in ("loss.png", "accuracy.png", "update_rules.png"):
        assert (run_dir / png).stat().st_size > 1000
    out = capsys.readouterr().out
    assert "fc_net: test_accuracy = " in out and str(run_dir / "update_rules.png") in out
    # The checkpoint restores a model with the reported test accuracy.
    checkpoint = np.load(run_dir / "checkpoint.npz")
    data = cli.load_data(argparse.Namespace(data="mnist5k", data_dir=None, quick=True))
    model = fc_net.build_model(data, argparse.Namespace(seed=123, **options))
    model.load_state_dict({k[len("model."):]: checkpoint[k] for k in checkpoint.files})
    assert accuracy(model, data.X_test, data.y_test) == metrics["test_accuracy"]


@pytest.mark.parametrize("option, message", [
    ("depth=3", "--set: expected KEY=VALUE with KEY one of (dropout, hidden_dims, normalization), "
                "got 'depth=3'"),
    ("hidden_dims=wide", "--set: hidden_dims must be comma-separated integers >= 1 (e.g. 256,128,64), "
                         "got 'wide'"),
    ("dropout", "got 'dropout'"),
])
def test_bad_options_exit_with_usage(capsys, option, message):
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "fc_net", "--set", option])
    assert exc.value.code == 2 and message in capsys.readouterr().err
