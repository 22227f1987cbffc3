"""Saliency, class visualisation and fooling images: on a linear model with known gradients, and a --quick run."""
import argparse
import json
import shutil

import numpy as np
import pytest

import minigrad as mg
from assignments import cli, visualization
from assignments.visualization import (class_probabilities, class_visualisation, fooling_images,
                                       saliency_maps, score_gradient)


class Linear(mg.Module):
    """scores = flatten(x) @ W.T: d score_k / d x = W[k], whatever x is."""

    def __init__(self, weight):
        super().__init__()
        self.weight = mg.Parameter(weight)

    def forward(self, x):
        return x.reshape(x.shape[0], -1) @ self.weight.T


@pytest.fixture
def linear(rng):
    return Linear(rng.standard_normal((4, 2 * 5 * 5)).astype(np.float32))


def test_score_gradient_is_each_images_own_class_row(linear, rng):
    X = rng.random((6, 2, 5, 5), dtype=np.float32)
    classes = rng.integers(0, 4, 6)
    scores, grad = score_gradient(linear, X, classes)
    np.testing.assert_allclose(scores, X.reshape(6, -1) @ linear.weight.data.T, rtol=1e-5)
    np.testing.assert_allclose(grad, linear.weight.data[classes].reshape(6, 2, 5, 5), rtol=1e-6)


def test_log_prob_gradient_matches_central_differences(linear, rng):
    model = Linear(linear.weight.data.astype(np.float64))
    X, classes = rng.random((3, 2, 5, 5)), np.array([0, 3, 1])
    _, grad = score_gradient(model, X, classes, log_prob=True)

    def objective(x):
        logits = x.reshape(3, -1) @ model.weight.data.T
        logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        return logp[np.arange(3), classes].sum()

    numeric = mg.numerical_gradient(lambda x: np.array(objective(x)), X.copy(), np.array(1.0))
    assert mg.rel_error(grad, numeric) < 1e-7


def test_saliency_is_max_over_channels_of_absolute_weights(linear, rng):
    X, y = rng.random((3, 2, 5, 5), dtype=np.float32), np.array([2, 0, 2])
    expected = np.abs(linear.weight.data[y].reshape(3, 2, 5, 5)).max(axis=1)
    np.testing.assert_allclose(saliency_maps(linear, X, y), expected, rtol=1e-6)


def test_fooling_stops_at_the_first_step_the_target_wins(linear, rng):
    X = rng.random((5, 2, 5, 5), dtype=np.float32)
    predicted = class_probabilities(linear, X).argmax(axis=1)
    targets = (predicted + 1) % 4
    fooled, iterations, success = fooling_images(linear, X, targets, steps=200)
    assert success.all()
    assert np.all(class_probabilities(linear, fooled).argmax(axis=1) == targets)
    assert np.all(iterations >= 1) and np.all(iterations <= 200)
    # Each step moves an image by at most FOOL_LR in L2 (clipping only shortens it).
    moved = np.linalg.norm((fooled - X).reshape(5, -1), axis=1)
    assert np.all(moved <= visualization.FOOL_LR * iterations + 1e-5)
    assert fooled.min() >= 0.0 and fooled.max() <= 1.0


def test_fooling_reports_failure_when_steps_run_out(linear, rng):
    X = rng.random((2, 2, 5, 5), dtype=np.float32)
    targets = (class_probabilities(linear, X).argmax(axis=1) + 1) % 4
    fooled, iterations, success = fooling_images(linear, X, targets, steps=0)
    assert not success.any() and np.all(iterations == 1)
    np.testing.assert_array_equal(fooled, X)


class ChannelSums(mg.Module):
    """scores = (sum of each channel) @ W.T: blind to where a pixel is, so jitter and blur cannot mislead it."""

    def __init__(self, weight):
        super().__init__()
        self.weight = mg.Parameter(weight)

    def forward(self, x):
        return x.sum(axis=(2, 3)) @ self.weight.T


def test_class_visualisation_lights_the_channels_of_positive_weight():
    weight = np.array([[1.0, -1.0, 0.5], [-1.0, 1.0, -0.5], [-0.2, -0.3, 1.0]], np.float32)
    model, classes = ChannelSums(weight), np.arange(3)
    before = class_visualisation(model, classes, (3, 6, 6), steps=0, rng=np.random.default_rng(0))
    after = class_visualisation(model, classes, (3, 6, 6), steps=60, rng=np.random.default_rng(0))
    score_before = score_gradient(model, before, classes)[0][classes, classes]
    score_after = score_gradient(model, after, classes)[0][classes, classes]
    assert np.all(score_after > score_before + 10.0)
    # Channels of positive weight brighten, the others darken towards 0.
    means = after.mean(axis=(2, 3))
    assert np.all(means[weight > 0] > 0.6) and np.all(means[weight < 0] < 0.2)
    assert after.min() >= 0.0 and after.max() <= 1.0


def test_missing_checkpoint_is_an_error(tmp_path):
    # The command line refuses it before any work (test_settings); the library says the same.
    data = _tiny_data()
    args = argparse.Namespace(checkpoint=str(tmp_path / "none.npz"), seed=0, out=str(tmp_path / "run"))
    with pytest.raises(ValueError, match="trained_cnn: checkpoint .* does not exist"):
        visualization.trained_cnn(data, args, epochs=1)
    with pytest.raises(ValueError, match=r"--set: checkpoint must be an existing file \(a checkpoint.npz"):
        cli.run("visualization", cli.build_parser().parse_args(
            ["run", "visualization", "--quick", "--out", str(tmp_path),
             "--set", f"checkpoint={tmp_path / 'none.npz'}"]))


@pytest.mark.parametrize("content, message", [
    (b"not a zip file", r"\S*checkpoint.npz is not a checkpoint \(not an .npz archive\); it must be the "
                        r"checkpoint.npz of the cnn script"),
    ("other network", r"checkpoint '.*checkpoint.npz' must hold the cnn for digits images \(1, 8, 8\) with 10 "
                      r"classes, got a different"),
])
def test_a_checkpoint_that_is_no_cnn_for_the_data_is_refused_naming_the_file(tmp_path, content, message):
    path = tmp_path / "checkpoint.npz"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        np.savez(path, **{"model.features.0.weight": np.zeros((2, 2), np.float32)})
    args = argparse.Namespace(checkpoint=str(path), seed=0, out=str(tmp_path / "run"))
    with pytest.raises(cli.OptionError, match="^trained_cnn: " + message):
        visualization.trained_cnn(_tiny_data(), args, epochs=1)


def _tiny_data():
    from assignments.data import load

    return load("digits").subset(20, 10, 10)


@pytest.mark.slow
def test_visualization_quick_run_then_reuse_of_a_cnn_checkpoint(tmp_path):
    args = ["run", "visualization", "--quick", "--batch-size", "20", "--set", "class_steps=20",
            "fooling_steps=100"]
    assert cli.main(args + ["--out", str(tmp_path / "a")]) == 0
    run_dir = tmp_path / "a" / "visualization"
    for name in ("saliency.png", "class_visualisation.png", "fooling.png", "checkpoint.npz"):
        assert (run_dir / name).stat().st_size > 0, name
    first = json.loads((run_dir / "metrics.json").read_text())
    assert first["classifier"] == "trained"
    assert first["test_accuracy"] > 0.5  # chance is 0.1
    assert first["fooling_success_rate"] > 0.5

    # A cnn checkpoint beside the run is loaded instead of training a new net.
    (tmp_path / "b" / "cnn").mkdir(parents=True)
    shutil.copy(run_dir / "checkpoint.npz", tmp_path / "b" / "cnn" / "checkpoint.npz")
    assert cli.main(args + ["--out", str(tmp_path / "b")]) == 0
    second = json.loads((tmp_path / "b" / "visualization" / "metrics.json").read_text())
    assert second["classifier"].endswith("checkpoint.npz")
    assert second["test_accuracy"] == first["test_accuracy"]
