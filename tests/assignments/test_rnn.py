"""Sequential MNIST: the recurrent classifier's gradients, validation, and a --quick run."""
import json

import numpy as np
import pytest

import minigrad as mg
from assignments import cli
from assignments.models import RecurrentClassifier
from layers.losses import cross_entropy


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_recurrent_classifier_gradients_match_central_differences(rng, cell):
    model = RecurrentClassifier((1, 5, 3), 4, cell, hidden=6, rng=0)
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    X, y = rng.standard_normal((3, 1, 5, 3)), rng.integers(0, 4, 3)

    def loss():
        return cross_entropy(model(mg.Tensor(X)), y)

    model.zero_grad()
    loss().backward()
    for name, p in model.named_parameters():
        numeric = mg.numerical_gradient(lambda _: loss().data, p.data, 1.0)
        # Some recurrent-weight gradients are ~1e-5, where the central difference's
        # own round-off (~1e-11) alone gives a relative error of ~1e-6.
        assert mg.rel_error(p.grad, numeric) < 1e-5, name


def test_rows_are_time_steps_and_the_last_state_decides(rng):
    model = RecurrentClassifier((1, 4, 3), 2, "rnn", hidden=5, rng=0)
    X = rng.standard_normal((2, 1, 4, 3)).astype(np.float32)
    with mg.no_grad():
        states, _ = model.recurrent(mg.Tensor(X[:, 0]))
        expected = model.head(states[:, 3]).data
        np.testing.assert_array_equal(model(mg.Tensor(X)).data, expected)
        # Changing only the last row changes the scores: it is the last step read.
        X2 = X.copy()
        X2[:, 0, 3] += 1.0
        assert not np.allclose(model(mg.Tensor(X2)).data, expected)


def test_colour_rows_carry_every_channel(rng):
    model = RecurrentClassifier((3, 4, 2), 2, "lstm", hidden=5, rng=0)
    X = rng.standard_normal((2, 3, 4, 2)).astype(np.float32)
    rows = X.transpose(0, 2, 1, 3).reshape(2, 4, 6)  # step t: channel 0's row t, then channel 1's, ...
    with mg.no_grad():
        states, _ = model.recurrent(mg.Tensor(rows))
        np.testing.assert_array_equal(model(mg.Tensor(X)).data, model.head(states[:, 3]).data)


def test_bad_configuration_is_rejected():
    with pytest.raises(ValueError, match="RecurrentClassifier: cell must be one of"):
        RecurrentClassifier((1, 4, 4), 2, "gru2")
    with pytest.raises(ValueError, match=r"image_shape must be \(C, H, W\), got \(4, 4\)"):
        RecurrentClassifier((4, 4), 2)


@pytest.mark.slow
def test_rnn_quick_run(tmp_path, capsys):
    # A few more, smaller steps than the bare --quick: one epoch of 500 rows is
    # too little for either cell to leave chance level.
    argv = ["run", "rnn", "--quick", "--epochs", "3", "--batch-size", "25", "--lr", "3e-3"]
    assert cli.main([*argv, "--out", str(tmp_path)]) == 0
    run_dir = tmp_path / "rnn"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for cell in ("rnn", "lstm"):
        assert metrics[f"test_accuracy_{cell}"] > 0.2  # chance is 0.1
        assert len(metrics[cell]["val_acc_history"]) == 3
        assert (run_dir / cell / "loss.png").stat().st_size > 1000
    assert (run_dir / "val_accuracy.png").stat().st_size > 1000
    out = capsys.readouterr().out
    assert "rnn: test_accuracy_rnn = " in out and "rnn: test_accuracy_lstm = " in out
    checkpoint = np.load(run_dir / "checkpoint.npz")
    assert checkpoint["lstm.recurrent.weight_hh_l0"].shape == (4 * 128, 128)
    assert checkpoint["rnn.recurrent.weight_hh_l0"].shape == (128, 128)
