"""The convolutional net: gradients, the shift augmentation, and a --quick run."""
import argparse
import json

import numpy as np
import pytest

import minigrad as mg
from assignments import cli, cnn
from assignments.models import ConvNet, RandomShift, accuracy
from layers.losses import cross_entropy


def _float64(model):
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    for _, module in model.named_modules():
        for name in ("running_mean", "running_var"):
            if getattr(module, name, None) is not None:
                setattr(module, name, getattr(module, name).astype(np.float64))
    return model


def test_convnet_gradients_match_central_differences(rng):
    model = _float64(ConvNet((2, 8, 8), 3, channels=(3, 4), hidden=5, rng=0))
    X, y = rng.standard_normal((4, 2, 8, 8)), rng.integers(0, 3, 4)

    def loss():
        return cross_entropy(model(mg.Tensor(X)), y)

    model.zero_grad()
    loss().backward()
    assert len(model.parameters()) == 12  # 2 convs, 2 batchnorms, 2 affine layers
    for name, p in model.named_parameters():
        numeric = mg.numerical_gradient(lambda _: loss().data, p.data, 1.0)
        assert mg.rel_error(p.grad, numeric) < 1e-6, name


def test_random_shift_moves_each_image_within_range_in_training_only(rng):
    X = np.zeros((30, 1, 9, 9), np.float32)
    X[:, 0, 4, 4] = 1.0  # one bright pixel in the centre of a zero border
    shift = RandomShift(2, rng=0)
    out = shift(mg.Tensor(X)).data
    _, where = np.nonzero(out[:, 0].reshape(30, -1))
    rows, cols = where // 9, where % 9
    assert out.shape == X.shape and out.sum() == 30  # every pixel moved, none lost
    assert set(rows) <= set(range(2, 7)) and set(cols) <= set(range(2, 7))
    assert len(set(zip(rows, cols))) > 5  # the shifts vary between images
    shift.eval()
    assert shift(mg.Tensor(X)).data is X


@pytest.mark.slow
def test_cnn_quick_run(tmp_path, capsys):
    # Small batches, so batchnorm's running statistics settle within one quick epoch.
    assert cli.main(["run", "cnn", "--quick", "--batch-size", "20", "--out", str(tmp_path)]) == 0
    run_dir = tmp_path / "cnn"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["config"]["epochs"] == 1 and metrics["config"]["shift"] == 2
    assert metrics["test_accuracy"] > 0.5  # chance is 0.1
    for png in ("loss.png", "accuracy.png", "filters.png"):
        assert (run_dir / png).stat().st_size > 1000
    assert "cnn: test_accuracy = " in capsys.readouterr().out
    checkpoint = np.load(run_dir / "checkpoint.npz")
    data = cli.load_data(argparse.Namespace(data="mnist5k", data_dir=None, quick=True))
    model = cnn.build_model(data, argparse.Namespace(seed=123, **cnn.OPTIONS))
    model.load_state_dict({k[len("model."):]: checkpoint[k] for k in checkpoint.files})
    assert model.features[0].weight.shape == (cnn.CHANNELS[0], 1, 3, 3)
    assert accuracy(model, data.X_test, data.y_test) == metrics["test_accuracy"]
