"""The `python -m assignments` command line and each script's --quick smoke run."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from assignments import cli


def test_list_names_every_registered_script(capsys):
    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == sorted(cli.SCRIPTS)
    assert all(len(line.split()) > 3 for line in lines)  # each has a description


def test_every_script_declares_the_interface():
    for name in cli.SCRIPTS:
        script = cli.load_script(name)
        assert callable(script.main) and script.DESCRIPTION
        assert set(script.DEFAULTS) <= {"epochs", "batch_size", "lr"}


@pytest.mark.parametrize("argv, message", [
    (["run", "nope"], "invalid choice: 'nope'"),
    (["run", "softmax", "--lr", "-1"], "argument --lr: must be a finite number > 0, got '-1'"),
    (["run", "softmax", "--data", "imagenet"], "invalid choice: 'imagenet'"),
])
def test_bad_arguments_exit_with_usage(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_missing_data_dir_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    code = cli.main(["run", "softmax", "--data", "cifar10", "--data-dir", str(tmp_path / "none"),
                     "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: load_cifar10: data directory") and "cifar-10-python.tar.gz" in err


def test_data_dir_for_a_bundled_dataset_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["run", "knn", "--data-dir", str(tmp_path), "--out", str(tmp_path)]) == 2
    assert "dataset 'mnist5k' is bundled and takes no data_dir" in capsys.readouterr().err


def _quick_run(name, tmp_path, capsys, *extra):
    assert cli.main(["run", name, "--quick", "--out", str(tmp_path), *extra]) == 0
    out = capsys.readouterr().out
    run_dir = tmp_path / name
    with open(run_dir / "metrics.json") as f:
        metrics = json.load(f)
    assert metrics["script"] == name and metrics["wall_seconds"] > 0
    assert metrics["config"]["quick"] is True and metrics["config"]["out"] == str(run_dir)
    assert f"{name}: test_accuracy = " in out
    for path in os.listdir(run_dir):  # every written file is announced
        assert str(run_dir / path) in out
    return metrics, run_dir


@pytest.mark.slow
def test_knn_quick_run(tmp_path, capsys):
    metrics, run_dir = _quick_run("knn", tmp_path, capsys)
    assert metrics["test_accuracy"] > 0.5  # chance is 0.1
    assert metrics["k"] in metrics["cv_k"] and len(metrics["cv_accuracy_folds"][0]) == 5
    assert (run_dir / "accuracy_vs_k.png").stat().st_size > 1000
    checkpoint = np.load(run_dir / "checkpoint.npz")
    assert checkpoint["X_train"].shape == (500, 784) and int(checkpoint["k"]) == metrics["k"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["linear_svm", "softmax"])
def test_linear_quick_runs(tmp_path, capsys, name):
    metrics, run_dir = _quick_run(name, tmp_path, capsys)
    assert metrics["config"]["epochs"] == 1
    assert metrics["config"]["lr"] == cli.load_script(name).DEFAULTS["lr"]
    assert metrics["test_accuracy"] > 0.3
    batch_size = metrics["config"]["batch_size"]
    assert len(metrics["losses"]) == -(-500 // batch_size)  # one epoch over the 500 quick examples
    for png in ("loss.png", "weights.png"):
        assert (run_dir / png).stat().st_size > 1000
    assert np.load(run_dir / "checkpoint.npz")["W"].shape == (785, 10)


@pytest.mark.slow
def test_digits_and_explicit_options(tmp_path, capsys):
    metrics, _ = _quick_run("softmax", tmp_path, capsys, "--data", "digits", "--epochs", "3",
                            "--batch-size", "50", "--lr", "0.2", "--seed", "3")
    config = metrics["config"]
    assert (config["epochs"], config["batch_size"], config["lr"], config["seed"]) == (3, 50, 0.2, 3)
    assert len(metrics["losses"]) == 3 * 10  # 500 quick training images, batches of 50
    assert metrics["test_accuracy"] > 0.5


@pytest.mark.slow
def test_module_entry_point(tmp_path):
    result = subprocess.run([sys.executable, "-m", "assignments", "list"], capture_output=True, text=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert result.returncode == 0 and "softmax" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", ["softmax", "knn"])
def test_quick_runs_on_cifar10_batches(tmp_path, capsys, name):
    """Colour images flow through the same scripts (weights shown as RGB templates)."""
    from tests.assignments.test_data import _fake_cifar

    _fake_cifar(tmp_path / "cifar", np.random.default_rng(0), per_batch=250)
    metrics, run_dir = _quick_run(name, tmp_path, capsys, "--data", "cifar10",
                                  "--data-dir", str(tmp_path / "cifar"))
    assert metrics["config"]["data"] == "cifar10"
    assert 0.0 <= metrics["test_accuracy"] <= 1.0  # random pixels: nothing to learn
    if name == "softmax":
        assert np.load(run_dir / "checkpoint.npz")["W"].shape == (3 * 32 * 32 + 1, 10)
