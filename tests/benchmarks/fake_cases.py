"""Tiny cases for the harness tests, imported by the harness' worker processes.

Every timed call appends ``side pid`` to the file named by ``FAKE_CASES_LOG``
(inherited by the workers). The "disturbed" case simulates a reference that our
side slows down: building our side creates a marker file, and the reference
sleeps longer while it exists, so the reference timed alone (calibration, before
our worker starts) is faster than in the harness. The "memory" case keeps
``HELD_MB`` from its first call and needs a ``PEAK_MB`` temporary in every call.
"""
import os
import time

import numpy as np

from benchmarks.harness import Case, deferred


def _log(side):
    path = os.environ.get("FAKE_CASES_LOG")
    if path:
        with open(path, "a") as f:
            f.write(f"{side} {os.getpid()}\n")


def _sleeper(side, seconds):
    def run():
        _log(side)
        time.sleep(seconds)

    return run


def _marker():
    return os.environ["FAKE_CASES_LOG"] + ".ours-built"


def _disturbing_ours():
    open(_marker(), "w").close()
    return _sleeper("ours", 0.001)


def _disturbed_reference():
    def run():
        _log("ref")
        time.sleep(0.012 if os.path.exists(_marker()) else 0.002)

    return run


HELD_MB, PEAK_MB, REF_PEAK_MB = 24, 48, 8


def _allocating(held_mb, peak_mb):
    kept = []

    def run():
        if held_mb and not kept:
            kept.append(np.ones(held_mb * 2**20, dtype=np.uint8))  # ones: every page touched
        np.ones(peak_mb * 2**20, dtype=np.uint8)

    return run


def cases(quick):
    return [
        Case("steady", _sleeper("ours", 0.002), {"ref": _sleeper("ref", 0.001)}, "a note"),
        Case("disturbed", deferred(_disturbing_ours), {"ref": deferred(_disturbed_reference)}),
        Case("memory", deferred(lambda: _allocating(HELD_MB, PEAK_MB)),
             {"ref": deferred(lambda: _allocating(0, REF_PEAK_MB))}),
        Case("broken", deferred(lambda: 1 / 0), {"ref": _sleeper("ref", 0.001)}),
    ]
