"""The benchmark plumbing: timing, ratios, suite dispatch, and every case module's interface."""
import importlib
import pkgutil

import pytest

from benchmarks import __main__ as cli
from benchmarks import cases
from benchmarks.harness import Row, compare, sample_times


def test_sample_times_counts_calls_and_skips_warmup():
    calls = []
    samples = sample_times(lambda: calls.append(1), repeat=5, warmup=2)
    assert len(samples) == 5 and len(calls) == 7
    assert all(s >= 0 for s in samples)


def test_compare_alternates_rounds_and_returns_all_samples():
    order = []
    ours, ref = compare(lambda: order.append("o"), lambda: order.append("r"), repeat=2, warmup=1, rounds=2)
    assert len(ours) == len(ref) == 4
    assert order == ["o"] * 3 + ["r"] * 3 + ["o"] * 3 + ["r"] * 3


def test_row_ratios_use_medians_and_best_times():
    row = Row("case", ours=[2.0, 4.0, 30.0], ref=[1.0, 2.0, 2.0])
    assert row.ratio == pytest.approx(2.0)
    assert row.best_ratio == pytest.approx(2.0)


def test_cli_rejects_unknown_suite(capsys):
    assert cli.main(["nope"]) == 2
    assert "unknown suite" in capsys.readouterr().err
    assert cli.main(["--help"]) == 0


@pytest.mark.parametrize("name", sorted(m.name for m in pkgutil.iter_modules(cases.__path__)))
def test_case_modules_follow_the_suite_naming_and_interface(name):
    assert name.startswith(("layers_", "cv_")), f"{name} would be collected by no suite"
    module = importlib.import_module(f"benchmarks.cases.{name}")
    assert callable(module.cases)
