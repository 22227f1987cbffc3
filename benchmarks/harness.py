"""Timing helpers shared by the benchmark suites.

Both sides of a comparison run in the same process, on the same inputs,
interleaved, and we report medians: these machines are shared and noisy.
"""
import os
import statistics
import time
from dataclasses import dataclass


def pin_threads(n):
    """Give NumPy/BLAS, Numba and (if imported) PyTorch the same thread count."""
    os.environ.setdefault("OMP_NUM_THREADS", str(n))
    try:
        import numba

        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    except ImportError:
        pass
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:
        pass


def median_time(fn, repeat=7, warmup=2, min_time=0.0):
    """Median wall time of ``fn()`` in seconds after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    start = time.perf_counter()
    while len(samples) < repeat or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def compare(ours, reference, repeat=7, warmup=2, rounds=3):
    """Median times of two callables, measured in alternating rounds.

    Alternating the two sides spreads background load over both, so the
    ratio is steadier than either time alone. Returns ``(ours_s, ref_s)``.
    """
    ours_samples, ref_samples = [], []
    for _ in range(rounds):
        ours_samples.append(median_time(ours, repeat, warmup))
        ref_samples.append(median_time(reference, repeat, warmup))
        warmup = 1
    return statistics.median(ours_samples), statistics.median(ref_samples)


@dataclass
class Row:
    name: str
    ours_s: float
    ref_s: float
    note: str = ""

    @property
    def ratio(self):
        return self.ours_s / self.ref_s if self.ref_s > 0 else float("inf")


def print_table(title, rows, ref_name):
    """Print rows as an aligned table: case, ours (ms), reference (ms), ratio."""
    width = max([len(r.name) for r in rows] + [len("case")])
    print(f"\n{title}")
    header = f"{'case':<{width}}  {'ours ms':>9}  {ref_name + ' ms':>11}  {'ratio':>6}  note"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.name:<{width}}  {r.ours_s * 1e3:9.2f}  {r.ref_s * 1e3:11.2f}  {r.ratio:6.2f}  {r.note}"
        )


@dataclass
class Case:
    """One benchmark: our callable against one or more reference callables.

    ``references`` maps a library name ("torch", "skimage", "cv2", ...) to a
    zero-argument callable doing the same work on the same inputs.
    """

    name: str
    ours: object
    references: dict
    note: str = ""


def run_suite(title, prefix, argv):
    """Collect ``cases(quick)`` from every ``benchmarks/cases/{prefix}*.py`` module,
    time each case against each of its references, and print one table per reference."""
    import argparse
    import importlib
    import pkgutil

    from . import cases as cases_pkg

    parser = argparse.ArgumentParser(prog=f"python -m benchmarks {prefix.rstrip('_')}")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller inputs")
    parser.add_argument("--threads", type=int, default=2, help="threads for every library")
    parser.add_argument("--only", default="", help="substring filter on case names")
    args = parser.parse_args(argv)
    pin_threads(args.threads)
    repeat = 3 if args.quick else 7
    rows = {}
    for info in sorted(pkgutil.iter_modules(cases_pkg.__path__), key=lambda m: m.name):
        if not info.name.startswith(prefix):
            continue
        module = importlib.import_module(f"{cases_pkg.__name__}.{info.name}")
        for case in module.cases(args.quick):
            if args.only not in case.name:
                continue
            for ref_name, reference in case.references.items():
                ours_s, ref_s = compare(case.ours, reference, repeat=repeat)
                rows.setdefault(ref_name, []).append(Row(case.name, ours_s, ref_s, case.note))
                print(f"  {case.name} vs {ref_name}: {ours_s * 1e3:.2f} / {ref_s * 1e3:.2f} ms", flush=True)
    env = "MALLOC_MMAP_MAX_=" + os.environ.get("MALLOC_MMAP_MAX_", "default")
    for ref_name, ref_rows in rows.items():
        print_table(f"{title}: ours / {ref_name} ({args.threads} threads, {env})", ref_rows, ref_name)
