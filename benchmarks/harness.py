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


def sample_times(fn, repeat=7, warmup=2):
    """Wall times of ``repeat`` calls of ``fn()`` in seconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return samples


def compare(ours, reference, repeat=7, warmup=2, rounds=3):
    """Time two callables in alternating rounds; return ``(ours, reference)`` sample lists.

    Alternating the two sides spreads background load over both, so the
    ratio is steadier than either time alone.
    """
    ours_samples, ref_samples = [], []
    for _ in range(rounds):
        ours_samples += sample_times(ours, repeat, warmup)
        ref_samples += sample_times(reference, repeat, warmup)
        warmup = 1
    return ours_samples, ref_samples


@dataclass
class Row:
    """One case against one reference: the medians and best times of both sides."""

    name: str
    ours: list
    ref: list
    note: str = ""

    @property
    def ratio(self):
        return statistics.median(self.ours) / statistics.median(self.ref)

    @property
    def best_ratio(self):
        # On a shared machine the median swings with other load; the best
        # time is what each side costs when it gets the core to itself.
        return min(self.ours) / min(self.ref)


def print_table(title, rows, ref_name):
    """Print rows as an aligned table: case, median times (ms), median ratio, best-time ratio."""
    width = max([len(r.name) for r in rows] + [len("case")])
    print(f"\n{title}")
    header = (f"{'case':<{width}}  {'ours ms':>9}  {ref_name + ' ms':>11}  {'ratio':>6}  "
              f"{'best':>6}  note")
    print(header)
    print("-" * len(header))
    for r in rows:
        ours_ms, ref_ms = statistics.median(r.ours) * 1e3, statistics.median(r.ref) * 1e3
        print(f"{r.name:<{width}}  {ours_ms:9.2f}  {ref_ms:11.2f}  {r.ratio:6.2f}  "
              f"{r.best_ratio:6.2f}  {r.note}")


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
                row = Row(case.name, *compare(case.ours, reference, repeat=repeat), case.note)
                rows.setdefault(ref_name, []).append(row)
                print(f"  {case.name} vs {ref_name}: median ratio {row.ratio:.2f}, "
                      f"best {row.best_ratio:.2f}", flush=True)
    env = "MALLOC_MMAP_MAX_=" + os.environ.get("MALLOC_MMAP_MAX_", "default")
    for ref_name, ref_rows in rows.items():
        print_table(f"{title}: ours / {ref_name} ({args.threads} threads, {env})", ref_rows, ref_name)
