"""The features script: per-image features, standardisation, and a --quick run against raw pixels."""
import argparse
import json

import numpy as np
import pytest

from assignments import cli, features
from classic_cv.hog import color_histogram_hsv, hog


def _options(**changes):
    return argparse.Namespace(**{**features.OPTIONS, **changes})


def test_image_features_are_hog_then_the_hue_histogram(rng):
    gray = rng.random((1, 28, 28)).astype(np.float32)
    f = features.image_features(gray, _options())
    # 28 // 4 = 7 px cells, 4 x 4 cells, 3 x 3 blocks of 2 x 2 cells, 9 bins; then 10 hue bins.
    assert f.shape == (3 * 3 * 2 * 2 * 9 + 10,)
    np.testing.assert_array_equal(f[:-10], hog(gray[0], 9, 7, 2, "L2-Hys"))
    np.testing.assert_array_equal(f[-10:], np.eye(10)[0])  # gray: all hue in the first bin
    rgb = rng.random((3, 32, 32))
    f = features.image_features(rgb, _options(cells_per_side=8, orientations=6, hue_bins=5, block_norm="L1"))
    image = rgb.transpose(1, 2, 0)
    np.testing.assert_array_equal(f, np.concatenate([hog(image, 6, 4, 2, "L1"), color_histogram_hsv(image, 5)]))


def test_standardise_uses_training_statistics_and_zeroes_constant_features(rng):
    F_train = rng.normal(3.0, 2.0, (200, 4)).astype(np.float32)
    F_train[:, 2] = 1.0
    F_test = rng.normal(3.0, 2.0, (50, 4)).astype(np.float32)
    S_train, S_test, mean, std = features.standardise(F_train, F_test)
    np.testing.assert_allclose(S_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(S_train.std(axis=0), [1, 1, 0, 1], atol=1e-5)
    np.testing.assert_allclose(S_test, (F_test - mean) / std, rtol=1e-6)
    assert S_train.dtype == S_test.dtype == np.float32 and std[2] == 1


def test_options_are_checked_before_any_work(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "features", "--set", "cells_per_side=9", "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1
    assert "--set: cells_per_side must be an integer in [2, 8], got '9'" in err[0]


@pytest.mark.slow
def test_features_quick_run_beats_chance_and_raw_pixels(tmp_path, capsys):
    assert cli.main(["run", "features", "--quick", "--out", str(tmp_path)]) == 0
    run_dir = tmp_path / "features"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["script"] == "features" and metrics["config"]["epochs"] == 1
    assert metrics["feature_dim"] == 334
    for kind in features.INPUTS:
        for name in features.MODELS:
            result = metrics["results"][kind][name]
            assert result["test_accuracy"] == metrics[f"test_accuracy_{name}_{kind}"]
            assert result["test_accuracy"] > 0.3 and result["val_accuracy"] > 0.3  # chance is 0.1
            assert np.isfinite(result["final_loss"])
    assert metrics["features_win"], "the features beat raw pixels on no model"
    assert metrics["test_accuracy"] == metrics["results"]["features"][metrics["best_model"]]["test_accuracy"]
    for png in ("hog.png", "loss_linear_svm.png", "loss_softmax.png", "loss_two_layer_net.png"):
        assert (run_dir / png).stat().st_size > 1000
    out = capsys.readouterr().out
    assert "features: test_accuracy_softmax_features = " in out and "features: test_accuracy_softmax_raw = " in out

    # The checkpoint restores the feature-based softmax's reported test accuracy.
    checkpoint = np.load(run_dir / "checkpoint.npz")
    data = cli.load_data(argparse.Namespace(data="mnist5k", data_dir=None, quick=True))
    F_test = features.extract_features(data.X_test, _options())
    F_test = (F_test - checkpoint["features.mean"]) / checkpoint["features.std"]
    restored = features.accuracy(checkpoint["features.softmax.W"], F_test, data.y_test)
    assert restored == metrics["results"]["features"]["softmax"]["test_accuracy"]
    assert checkpoint["raw.two_layer_net.fc1.weight"].shape == (features.two_layer_net.HIDDEN, 784)
