"""``import minigrad`` keeps freed array memory in the process (``minigrad._allocator``)."""
import json
import os
import subprocess
import sys

import pytest

# Four 2 MB arrays written and freed, 20 times over, after a warm-up: glibc's default trims
# the 8 MB the four leave free at the top of the heap each time, and writing them again
# faults every page back in (4 x 512 pages per round).
FAULTS = """
import json, resource
import minigrad
import numpy as np
for _ in range(5):
    arrays = [np.ones(1 << 18) for _ in range(4)]
    del arrays
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    arrays = [np.ones(1 << 18) for _ in range(4)]
    del arrays
print(json.dumps((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20))
"""


def _faults_per_round(**env):
    clean = {k: v for k, v in os.environ.items() if not (k.startswith("MALLOC_") or k == "MINIGRAD_KEEP_MALLOC")}
    out = subprocess.run([sys.executable, "-c", FAULTS], env={**clean, **env}, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt and the fault count are glibc's")
def test_freed_arrays_stay_in_the_process():
    kept = _faults_per_round()
    returned = _faults_per_round(MINIGRAD_KEEP_MALLOC="1")
    assert returned > 1000, "the workload no longer makes glibc return memory: the test checks nothing"
    assert kept < 50, f"{kept} page faults per round with minigrad's thresholds"


def test_user_settings_are_kept(monkeypatch):
    from minigrad import _allocator

    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert _allocator.configure() is False
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_")
    monkeypatch.setenv("MINIGRAD_KEEP_MALLOC", "1")
    assert _allocator.configure() is False
