"""The benchmark plumbing: timing, worker processes, calibration, ratios, suite dispatch, and
every case module's interface."""
import importlib
import os
import pkgutil
import time

import numpy as np
import pytest

from benchmarks import __main__ as cli
from benchmarks import cases
from benchmarks.harness import (Case, Row, WorkerError, build_side, compare_case, deferred,
                                print_table, sample_times)

FAKE = "tests.benchmarks.fake_cases"


def test_sample_times_counts_calls_and_skips_warmup():
    calls = []
    samples = sample_times(lambda: calls.append(1), repeat=5, warmup=2)
    assert len(samples) == 5 and len(calls) == 7
    assert all(s >= 0 for s in samples)


def test_sample_times_warms_up_for_at_least_warmup_seconds():
    calls = []
    start = time.perf_counter()
    sample_times(lambda: calls.append(time.perf_counter()), repeat=1, warmup=1, warmup_seconds=0.05)
    untimed = calls[:-1]
    assert len(untimed) > 1 and untimed[-1] - start >= 0.05


def test_deferred_sides_are_built_on_demand():
    built = []
    case = Case("c", deferred(lambda: built.append(1) or (lambda: "ran")), {"r": lambda: "ref"})
    assert built == []
    assert build_side(case.ours)() == "ran" and built == [1]
    assert build_side(case.references["r"])() == "ref"


def _read_log(path):
    return [tuple(line.split()) for line in path.read_text().splitlines()]


def test_each_side_runs_in_its_own_process_in_alternating_rounds(tmp_path, monkeypatch):
    log = tmp_path / "calls"
    monkeypatch.setenv("FAKE_CASES_LOG", str(log))
    row = compare_case(FAKE, "steady", "ref", repeat=2, warmup=1, rounds=3, calibration=False,
                       note="a note", warmup_seconds=0.0)  # so that the calls can be counted
    assert len(row.ours) == len(row.ref) == 6 and row.calibration is None
    # Two worker processes, neither of them this one.
    assert row.pids["ours"] != row.pids["ref"]
    assert os.getpid() not in row.pids.values()
    # The parent drove them in turns, and no two rounds overlapped in time.
    assert [side for side, *_ in row.log] == ["ours", "ref"] * 3
    for (_, _, _, end), (_, _, start, _) in zip(row.log, row.log[1:]):
        assert end <= start
    # Every call ran in its side's worker: 3 rounds of (warmup + repeat), warmup 1 every round.
    calls = _read_log(log)
    assert {pid for side, pid in calls if side == "ours"} == {str(row.pids["ours"])}
    assert {pid for side, pid in calls if side == "ref"} == {str(row.pids["ref"])}
    assert [side for side, _ in calls] == (["ours"] * 3 + ["ref"] * 3) * 3
    assert row.note == "a note" and row.flag == ""


def test_calibration_runs_alone_in_a_fresh_process_and_flags_drift(tmp_path, monkeypatch):
    log = tmp_path / "calls"
    monkeypatch.setenv("FAKE_CASES_LOG", str(log))
    row = compare_case(FAKE, "disturbed", "ref", repeat=3, warmup=1, rounds=2, warmup_seconds=0.0)
    assert len(row.calibration) == 6
    calls = _read_log(log)
    calibration_pids = {pid for side, pid in calls[:8]}
    assert [side for side, _ in calls[:8]] == ["ref"] * 8  # before our worker existed
    assert calibration_pids.isdisjoint({str(p) for p in row.pids.values()})
    assert row.drift > 1.0 and row.flag.startswith("CALIBRATION +")


def test_memory_is_measured_per_side_in_fresh_processes():
    from tests.benchmarks.fake_cases import HELD_MB, PEAK_MB, REF_PEAK_MB

    row = compare_case(FAKE, "memory", "ref", repeat=1, warmup=0, rounds=1, calibration=False,
                       measure_peak=True)
    (peak, held), (ref_peak, ref_held) = [np.array(row.memory[s]) / 2**20 for s in ("ours", "ref")]
    # 2 MB of slack: the interpreter's own allocations move the resident set too.
    assert abs(peak - PEAK_MB) < 2 and abs(held - HELD_MB) < 2
    assert abs(ref_peak - REF_PEAK_MB) < 2 and ref_held < 2
    assert row.memory_ratio == pytest.approx(peak / ref_peak)
    # A peak below a MiB counts as one: a ratio of two page-level noises would mean nothing.
    assert Row("tiny", [1.0], [1.0], memory={"ours": (3 * 2**20, 0), "ref": (4096, 0)}).memory_ratio == 3.0
    assert compare_case(FAKE, "memory", "ref", repeat=1, warmup=0, rounds=1, calibration=False).memory == {}


def test_worker_errors_reach_the_parent():
    with pytest.raises(WorkerError, match="ZeroDivisionError"):
        compare_case(FAKE, "broken", "ref", repeat=1, warmup=0, rounds=1, calibration=False)


def test_row_ratios_use_medians_and_best_times():
    row = Row("case", ours=[2.0, 4.0, 30.0], ref=[1.0, 2.0, 2.0])
    assert row.ratio == pytest.approx(2.0)
    assert row.best_ratio == pytest.approx(2.0)
    assert row.drift is None and row.flag == ""


def test_row_flags_a_reference_that_drifted_from_its_calibration(capsys):
    steady = Row("steady", [1.0], ref=[1.0, 1.1, 1.2], calibration=[0.9, 1.0, 1.3], note="n")
    slow = Row("slow", [1.0], ref=[1.43, 1.43, 1.5], calibration=[1.0, 1.0, 0.9], note="n")
    fast = Row("fast", [1.0], ref=[0.5, 0.5], calibration=[1.0, 1.0])
    assert steady.flag == "" and steady.drift == pytest.approx(0.1)
    assert slow.flag == "CALIBRATION +43 %"
    assert fast.flag == "CALIBRATION -50 %"
    print_table("t", [steady, slow, fast], "ref")
    lines = capsys.readouterr().out.splitlines()
    assert lines[-3].endswith("  n") and "CALIBRATION" not in lines[-3]
    assert lines[-2].endswith("CALIBRATION +43 %; n")
    assert lines[-1].endswith("CALIBRATION -50 %")


def test_cli_rejects_unknown_suite(capsys):
    assert cli.main(["nope"]) == 2
    assert "unknown suite" in capsys.readouterr().err
    assert cli.main(["--help"]) == 0


@pytest.mark.parametrize("name", sorted(m.name for m in pkgutil.iter_modules(cases.__path__)))
def test_case_modules_follow_the_suite_naming_and_interface(name):
    assert name.startswith(("layers_", "cv_")), f"{name} would be collected by no suite"
    module = importlib.import_module(f"benchmarks.cases.{name}")
    assert callable(module.cases)


@pytest.mark.parametrize("name", sorted(m.name for m in pkgutil.iter_modules(cases.__path__)
                                        if m.name.startswith("layers_")))
def test_layer_cases_build_no_library_until_a_worker_asks(name):
    """Listing the layer cases (as every worker does) neither imports torch nor compiles; each
    side is built in its own worker, and names are unique so that a worker finds its case."""
    import subprocess
    import sys

    code = (f"import sys; import benchmarks.cases.{name} as m; names = [c.name for c in m.cases(True)];"
            " assert len(set(names)) == len(names), names;"
            " assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_wait_idle_returns_once_a_process_stops_using_cpu():
    import subprocess
    import sys
    import time

    from benchmarks.harness import wait_idle

    busy = subprocess.Popen([sys.executable, "-c", "import time\nt = time.time()\n"
                             "while time.time() - t < 0.3: pass\ntime.sleep(30)"])
    try:
        time.sleep(0.05)
        t0 = time.monotonic()
        wait_idle(busy.pid, timeout=5.0)
        assert 0.1 < time.monotonic() - t0 < 4.0  # waited out the busy loop, not the timeout
    finally:
        busy.kill()
        busy.wait()


@pytest.mark.parametrize("argv, message", [
    (["--threads", "0"], "argument --threads: must be an integer >= 1, got 0"),
    (["--only", "no case has this name"], "--only 'no case has this name' matches no case"),
])
def test_suite_options_are_refused_in_one_line(argv, message, capsys):
    from benchmarks.harness import run_suite

    with pytest.raises(SystemExit) as info:
        run_suite("layers", "layers_", argv)
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err and len(err.strip().splitlines()) == 1
