"""`python -m assignments sweep` and what it rests on: per-epoch reports, `run --config`, results.

The slow tests run a real sweep of `softmax --quick` on a local Ray.
"""
import argparse
import csv
import json
import math
import time

import numpy as np
import pytest

from assignments import cli, models, reporting, sweep, sweep_results, two_layer_net
from optim.optimizers import Adam


def _sweep_args(*argv):
    return cli.build_parser().parse_args(["sweep", *argv])


# ------------------------------------------------------------ per-epoch reports
def test_fit_reports_every_epoch_of_the_solver(rng):
    X = rng.standard_normal((60, 1, 2, 2)).astype(np.float32)
    y = (X.reshape(60, -1).sum(axis=1) > 0).astype(np.int64)
    model = models.FullyConnectedNet(4, (8,), 2, rng=rng)
    args = argparse.Namespace(batch_size=20, epochs=3, seed=0)
    reports = []
    with reporting.listen(lambda epoch, metrics: reports.append((epoch, metrics))):
        solver = models.fit(model, Adam(model.parameters(), lr=1e-2), X[:40], y[:40], X[40:], y[40:], args,
                            progress=False)
    assert [epoch for epoch, _ in reports] == [1, 2, 3]
    assert [m["val_accuracy"] for _, m in reports] == solver.history["val_acc"]
    assert [m["val_loss"] for _, m in reports] == solver.history["val_loss"]
    assert [m["train_accuracy"] for _, m in reports] == solver.history["train_acc"]
    assert not reporting.listening()  # the listener left with the block


def test_linear_scripts_report_validation_accuracy_per_epoch(tmp_path):
    args = cli.build_parser().parse_args(["run", "softmax", "--quick", "--epochs", "3", "--out", str(tmp_path)])
    reports = []
    with reporting.listen(lambda epoch, metrics: reports.append((epoch, metrics))):
        record = cli.run("softmax", args)
    assert [epoch for epoch, _ in reports] == [1, 2, 3]
    assert reports[-1][1]["val_accuracy"] == record["val_accuracy"]
    assert all(0.1 < m["val_accuracy"] <= 1 for _, m in reports)


def test_two_layer_net_with_reg_trains_one_network_and_reports_it(tmp_path):
    args = cli.build_parser().parse_args(["run", "two_layer_net", "--quick", "--epochs", "2", "--lr", "0.2",
                                          "--set", "reg=1e-4", "--out", str(tmp_path)])
    reports = []
    with reporting.listen(lambda epoch, metrics: reports.append((epoch, metrics))):
        record = cli.run("two_layer_net", args)
    assert [(r["lr"], r["reg"]) for r in record["search"]] == [(0.2, 1e-4)]
    assert [epoch for epoch, _ in reports] == [1, 2]
    assert reports[-1][1]["val_accuracy"] == record["val_accuracy"]


def test_two_layer_net_searches_its_declared_space():
    space = two_layer_net.search_space(0.3)
    assert space["lr"].log and space["reg"].log
    assert space["lr"].values == pytest.approx((0.3 * 10 ** -two_layer_net.LR_SPAN, 0.3 * 10 ** two_layer_net.LR_SPAN))
    assert space["reg"].values == pytest.approx(tuple(10.0 ** e for e in two_layer_net.REG_RANGE))
    assert two_layer_net.SEARCH_SPACE == two_layer_net.search_space(two_layer_net.DEFAULTS["lr"])


def test_epoch_reports_go_one_epoch_late_and_the_last_holds_the_final_metrics():
    sent = []
    reports = sweep.EpochReports(sent.append)
    reports.epoch(1, {"val_accuracy": 0.5})
    assert sent == []
    reports.epoch(2, {"val_accuracy": 0.7})
    reports.finish({"val_accuracy": 0.7, "test_accuracy": 0.6, "completed": True})
    assert sent == [{"epoch": 1, "val_accuracy": 0.5},
                    {"epoch": 2, "val_accuracy": 0.7, "test_accuracy": 0.6, "completed": True}]


def test_thread_limits_cap_blas_and_numba_inside_the_block_only():
    import numba
    from threadpoolctl import threadpool_info

    before = numba.get_num_threads()
    with sweep.thread_limits(1.5) as threads:
        assert threads == 1 and numba.get_num_threads() == 1
        assert all(pool["num_threads"] == 1 for pool in threadpool_info() if pool["user_api"] == "blas")
    assert numba.get_num_threads() == before


def test_kept_data_is_loaded_once_and_read_only(monkeypatch):
    monkeypatch.setattr(cli, "_kept_data", None)
    cli.keep_loaded_data()
    args = argparse.Namespace(data="mnist5k", data_dir=None, quick=True)
    first = cli.load_data(args)
    assert cli.load_data(args) is first
    with pytest.raises(ValueError, match="read-only"):
        first.X_train[0, 0, 0, 0] = 1.0


# ------------------------------------------------------------------ run --config
def _config(tmp_path, **values):
    path = tmp_path / "best.json"
    path.write_text(json.dumps(values))
    return str(path)


@pytest.mark.slow
def test_run_config_sets_flags_and_options_and_the_command_line_wins(tmp_path):
    path = _config(tmp_path, script="softmax", lr=0.05, reg=0.01, epochs=2, quick=True, seed=3)
    assert cli.main(["run", "softmax", "--config", path, "--epochs", "1", "--out", str(tmp_path)]) == 0
    config = json.loads((tmp_path / "softmax" / "metrics.json").read_text())["config"]
    assert (config["lr"], config["reg"], config["seed"], config["quick"]) == (0.05, 0.01, 3, True)
    assert config["epochs"] == 1  # the flag beats the file


@pytest.mark.parametrize("values, message", [
    (dict(script="linear_svm"), "--config: script must be 'softmax' (the script run), got 'linear_svm'"),
    (dict(lr=-1), "run: lr must be a finite number > 0, got -1"),
    (dict(reg="lots"), "reg must be a finite number >= 0, got 'lots'"),
    (dict(hidden_dims=64), "KEY one of (reg)"),
    (dict(data="imagenet"), "--config: data must be one of mnist5k, digits, mnist, cifar10, got 'imagenet'"),
    (dict(quick="yes"), "--config: quick must be true or false, got 'yes'"),
])
def test_a_bad_config_is_one_line(tmp_path, capsys, values, message):
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "softmax", "--config", _config(tmp_path, **values), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and err.count("\n") == 1


def test_an_unreadable_config_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    for path in (bad, tmp_path / "missing.json"):
        with pytest.raises(SystemExit):
            cli.main(["run", "softmax", "--config", str(path)])
        err = capsys.readouterr().err
        assert f"--config: cannot read {path}" in err and err.count("\n") == 1


# -------------------------------------------------------------- sweep settings
@pytest.mark.parametrize("argv, message", [
    (["--space", "lr=loguniform:0:1"], "--space: 'lr=loguniform:0:1': loguniform needs LOW > 0"),
    (["--space", "lr"], "--space: 'lr' must be NAME=KIND:ARGS"),
    (["--space", "hidden=choice:64,128"], "--space: hidden is not a setting of softmax (its settings: "
                                          "batch_size, epochs, lr, reg, seed)"),
    (["--space", "reg=uniform:-1:1"], "--space: reg=uniform:-1.0:1.0 can draw -1.0, which softmax refuses "
                                      "(reg must be a finite number >= 0"),
    (["--space", "epochs=randint:0:3"], "can draw 0, which softmax refuses (epochs must be an integer >= 1"),
    (["--samples", "0"], "argument --samples: must be an integer >= 1, got 0"),
    (["--cpus-per-trial", "0"], "argument --cpus-per-trial: must be > 0, got 0.0"),
    (["--search", "grid"], "argument --search: invalid choice: 'grid'"),
    (["--resume", "--space", "lr=0.1"], "--resume continues the sweep as it was started"),
])
def test_a_bad_sweep_argument_is_one_line_before_ray_starts(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        cli.main(["sweep", "softmax", "--quick", "--out", str(tmp_path), *argv])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "softmax-sweep" / "trials").exists()


def test_a_script_without_a_default_space_needs_space(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["sweep", "knn", "--out", str(tmp_path)])
    assert "--space: knn has no default search space" in capsys.readouterr().err


def test_settings_record_the_space_and_the_base_run(tmp_path):
    args = _sweep_args("two_layer_net", "--quick", "--seed", "2", "--out", str(tmp_path))
    settings = sweep.load_settings(args)
    assert settings["space"] == {k: str(d) for k, d in two_layer_net.SEARCH_SPACE.items()}
    assert settings["base"] == {"seed": 2, "data": "mnist5k", "quick": True}
    assert settings["max_epochs"] == 1 and settings["samples"] == sweep.DEFAULT_SAMPLES
    assert json.loads((tmp_path / "two_layer_net-sweep" / "sweep.json").read_text()) == settings
    trial = sweep.trial_args(settings, {"lr": 0.1, "reg": 1e-3}, out=str(tmp_path / "t"))
    _, settled = cli.settle("two_layer_net", trial)
    assert (settled.lr, settled.reg, settled.seed, settled.quick, settled.epochs) == (0.1, 1e-3, 2, True, 1)


# ------------------------------------------------------------------- results
def _fake_trials():
    def trial(name, lr, reg, acc, epochs, **extra):
        history = {"epoch": list(range(1, epochs + 1)),
                   "val_accuracy": list(np.linspace(0.3, acc, epochs)) if acc == acc else [math.nan] * epochs,
                   "train_accuracy": [math.nan] * (epochs - 1) + [0.9]}  # only in the final report
        return {"trial": name, "config": {"lr": lr, "reg": reg}, "history": history, "error": None,
                "metrics": {"val_accuracy": acc, "epoch": epochs, **extra}}
    return [trial("a", 1e-2, 1e-4, 0.8, 3, completed=True), trial("b", 1e-1, 1e-3, 0.9, 3, completed=True),
            trial("c", 1e-3, 1e-5, 0.4, 1), trial("d", 1.0, 1e-2, math.nan, 1, diverged=True)]


def test_results_table_files_plots_and_best_config(tmp_path, capsys, monkeypatch):
    drawn = {}
    draw = sweep_results.plots.curves
    monkeypatch.setattr(sweep_results.plots, "curves", lambda path, series, *a: drawn.update(series) or
                        draw(path, series, *a))
    settings = {"script": "softmax", "folder": str(tmp_path), "metric": "val_accuracy", "mode": "max",
                "space": {"lr": "loguniform:0.001:1.0", "reg": "loguniform:1e-05:0.01", "epochs": "3"},
                "base": {"seed": 0, "quick": True}, "options": ["batch_size=50"]}
    rows = sweep_results.write(settings, _fake_trials())
    out = capsys.readouterr().out
    assert [r["trial"] for r in rows] == ["b", "a", "c", "d"]
    assert [r["status"] for r in rows] == ["done", "done", "stopped early", "diverged"]
    assert [r["epochs"] for r in rows] == [3, 3, 1, 1]
    lines = out.splitlines()
    assert lines[0].split() == ["trial", "lr", "reg", "val_accuracy", "epochs", "status"]
    assert lines[1].split()[:4] == ["b", "0.1", "0.001", "0.9"]
    with open(tmp_path / "results.csv") as f:
        table = list(csv.DictReader(f))
    assert [r["trial"] for r in table] == ["b", "a", "c", "d"] and float(table[0]["val_accuracy"]) == 0.9
    as_json = json.loads((tmp_path / "results.json").read_text())
    assert as_json[3]["val_accuracy"] is None and as_json[0]["lr"] == 0.1
    for png in ("search.png", "best_curves.png"):
        assert (tmp_path / png).stat().st_size > 1000 and str(tmp_path / png) in out
    # The best trial's curves: the series reported every epoch (train accuracy came only at the end).
    assert list(drawn) == ["val_accuracy"] and drawn["val_accuracy"][0] == [1, 2, 3]
    best = json.loads((tmp_path / "best.json").read_text())
    assert best == {"script": "softmax", "seed": 0, "quick": True, "batch_size": "50", "lr": 0.1, "reg": 1e-3}


def test_no_scatter_without_two_log_scaled_settings(tmp_path, capsys):
    settings = {"script": "softmax", "folder": str(tmp_path), "metric": "val_accuracy", "mode": "min",
                "space": {"lr": "loguniform:0.001:1.0", "reg": "uniform:0:0.01"}, "base": {}, "options": []}
    rows = sweep_results.write(settings, _fake_trials())
    assert [r["trial"] for r in rows] == ["c", "a", "b", "d"]  # min first; NaN last
    assert not (tmp_path / "search.png").exists()
    assert "no search.png" in capsys.readouterr().out


# ------------------------------------------------------------- a real sweep
@pytest.fixture(scope="module")
def ray_session():
    """One local Ray for the module's sweeps (they reuse a running Ray, and leave it running)."""
    ray = pytest.importorskip("ray")
    for attempt in range(3):  # a heavily loaded machine can time a node's start-up out
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
            break
        except Exception:
            ray.shutdown()
            if attempt == 2:
                raise
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_a_sweep_of_softmax_on_local_ray(tmp_path, capsys, ray_session):
    argv = ["sweep", "softmax", "--quick", "--samples", "4", "--out", str(tmp_path),
            "--space", "lr=loguniform:1e-3:1", "reg=loguniform:1e-6:1e-2"]
    start = time.perf_counter()
    assert cli.main(argv) == 0
    seconds = time.perf_counter() - start
    out = capsys.readouterr().out
    folder = tmp_path / "softmax-sweep"
    with open(folder / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4 and len({(r["lr"], r["reg"]) for r in rows}) == 4
    assert all(math.isfinite(float(r["val_accuracy"])) and r["status"] == "done" for r in rows)
    assert [float(r["val_accuracy"]) for r in rows] == sorted((float(r["val_accuracy"]) for r in rows), reverse=True)
    assert all(1e-3 <= float(r["lr"]) < 1 and 1e-6 <= float(r["reg"]) < 1e-2 for r in rows)
    assert [r["trial"] for r in json.loads((folder / "results.json").read_text())] == [r["trial"] for r in rows]
    assert all(r["trial"] in out for r in rows)  # the table is printed
    assert (folder / "search.png").stat().st_size > 1000 and (folder / "best_curves.png").stat().st_size > 1000
    print(f"4-trial sweep of softmax --quick: {seconds:.1f} s")

    # The best config reproduces the best trial's validation accuracy.
    best = json.loads((folder / "best.json").read_text())
    assert best["lr"] == float(rows[0]["lr"]) and best["quick"] is True
    assert cli.main(["run", "softmax", "--config", str(folder / "best.json"), "--out", str(tmp_path)]) == 0
    metrics = json.loads((tmp_path / "softmax" / "metrics.json").read_text())
    assert metrics["val_accuracy"] == float(rows[0]["val_accuracy"])

    # --resume runs no finished trial again: each trial's records (which hold its run's wall
    # time, different in every run) stay as they were.
    def records():
        return {p: p.read_text() for pattern in ("trials/*/softmax/metrics.json", "trials/*/result.json")
                for p in folder.glob(pattern)}
    written = records()
    assert len(written) == 8
    capsys.readouterr()
    assert cli.main(["sweep", "softmax", "--resume", "--out", str(tmp_path)]) == 0
    assert records() == written
    with open(folder / "results.csv") as f:
        assert list(csv.DictReader(f)) == rows
