"""Timing harness shared by the benchmark suites.

Each side of a comparison runs in its own worker process (a fresh interpreter,
started with the "spawn" method): one worker for our side, one for the
reference. Both get the same thread count, and the parent drives them over
pipes in alternating rounds (ours, reference, ours, ...), so background load
on these shared machines spreads over both sides; before each round the parent
waits until the other worker's idle thread pools stop spinning. Each worker pins only the
libraries it uses: NumPy/BLAS (threadpoolctl) and Numba on our side,
NumPy/BLAS and PyTorch or OpenCV on the reference side. The worker for our
side never runs PyTorch code and the reference's worker never runs our Numba
kernels: in one process, two OpenMP runtimes spin-waiting over the same cores
made PyTorch look up to 100x slower.

Same inputs: a worker does not receive arrays; it imports the case module,
looks the case up by name in ``cases(quick)`` and builds its own side. So
``cases(quick)`` runs in every worker: it may import the reference libraries,
but must not run PyTorch or OpenCV code (that starts their thread pools in our
worker too); a side that needs them to build is ``deferred``. Case
modules draw every input and parameter from NumPy generators with fixed seeds,
so both workers hold bit-identical arrays without sending them.

Memory: after the timing, each side runs once more in a fresh worker that
reads the kernel's resident-set counters around its calls (``measure_memory``),
so that the table gives each side's peak beside its time.

Self-check: before the pair of workers starts, the reference is timed alone in
a fresh process (the calibration). A row whose in-harness reference median
differs from the calibration median by more than ``DRIFT`` is flagged in the
table's note column: the two sides disturbed each other and the ratio is not
to be trusted.
"""
import multiprocessing
import os
import statistics
import sys
import time
import traceback
from dataclasses import dataclass, field

#: Relative difference between a reference's in-harness median and its
#: calibration median beyond which a row is flagged.
DRIFT = 0.25


class Deferred:
    """One side of a ``Case`` that is built inside its worker: ``factory()`` imports what that
    side needs, prepares its state and returns the zero-argument callable to time."""

    def __init__(self, factory):
        self.factory = factory

    def build(self):
        return self.factory()


def deferred(factory):
    """Mark ``factory`` as building one side of a case in its own worker (see ``Deferred``)."""
    return Deferred(factory)


@dataclass
class Case:
    """One benchmark: our callable against one or more reference callables.

    ``references`` maps a library name ("torch", "skimage", "cv2", ...) to the
    same work on the same inputs. ``ours`` and each reference are either a
    zero-argument callable to time, or ``deferred(factory)`` when building that
    side needs its library (PyTorch modules, our kernels): the factory runs in
    that side's worker only. ``cases(quick)`` must be cheap and deterministic,
    since every worker calls it to find its case by name.
    """

    name: str
    ours: object
    references: dict
    note: str = ""


def build_side(side):
    """The callable to time for one side of a case (runs a ``Deferred`` factory)."""
    return side.build() if isinstance(side, Deferred) else side


#: Each round's untimed calls last at least this long. The sides take turns, so each round
#: starts after the other side's: on these virtual machines, after such a pause, the scheduler
#: put a waking worker thread on the CPU of the thread that woke it, and threads that block
#: between calls (ours, OpenBLAS's) then shared one CPU for the next ~100 ms (a stride-2 conv2d:
#: 7-15 ms a call for a while, 4.5 ms after). Spinning pools (PyTorch's OpenMP) never pause.
#: The table is of steady-state calls, as a training loop makes them.
WARMUP_SECONDS = 0.2


def sample_times(fn, repeat=7, warmup=2, warmup_seconds=0.0):
    """Wall times of ``repeat`` calls of ``fn()`` in seconds, after untimed calls: at least
    ``warmup`` of them, and for at least ``warmup_seconds``."""
    warm_until = time.perf_counter() + warmup_seconds
    done = 0
    while done < warmup or time.perf_counter() < warm_until:
        fn()
        done += 1
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return samples


# ----------------------------------------------------------------------------- workers
def _pin_threads(n, side):
    """Give the libraries this worker uses ``n`` threads, after its case is built
    (threadpoolctl only sees the libraries loaded so far)."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:
        pass
    if side == "ours":
        if "numba" in sys.modules:
            import numba

            numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
        return
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    if "cv2" in sys.modules:
        sys.modules["cv2"].setNumThreads(n)


def find_case(module_name, case_name, quick):
    import importlib

    module = importlib.import_module(module_name)
    for case in module.cases(quick):
        if case.name == case_name:
            return case
    raise LookupError(f"no case {case_name!r} in {module_name}")


def _build_in_worker(module_name, case_name, side, quick, threads):
    """In a worker: build one side of a case with ``threads`` threads; return the callable."""
    # Set before any library starts its OpenMP runtime.
    os.environ["OMP_NUM_THREADS"] = str(threads)
    case = find_case(module_name, case_name, quick)
    fn = build_side(case.ours if side == "ours" else case.references[side])
    if side == "ours" and "torch" in sys.modules:
        raise RuntimeError(f"building our side of {case_name!r} imported torch")
    _pin_threads(threads, side)
    return fn


def _worker_main(conn, module_name, case_name, side, quick, threads):
    """A worker's life: build one side of one case, then time rounds on request."""
    try:
        fn = _build_in_worker(module_name, case_name, side, quick, threads)
        conn.send(("ready", os.getpid()))
        while True:
            message = conn.recv()
            if message[0] == "stop":
                break
            _, repeat, warmup, warmup_seconds = message
            start = time.monotonic()
            samples = sample_times(fn, repeat, warmup, warmup_seconds)
            conn.send(("samples", samples, start, time.monotonic()))
    except BaseException:  # reported to the parent, which raises it
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


class WorkerError(RuntimeError):
    """A worker failed to build or to time its side; the message holds its traceback."""


class _Worker:
    """The parent's handle on one worker process."""

    def __init__(self, context, module_name, case_name, side, quick, threads):
        self.side = side
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(child, module_name, case_name, side, quick, threads),
            daemon=True)
        self.process.start()
        child.close()
        self.pid = None

    def _receive(self):
        try:
            message = self.conn.recv()
        except EOFError:
            raise WorkerError(f"the {self.side} worker died (exit code {self.process.exitcode})")
        if message[0] == "error":
            raise WorkerError(f"the {self.side} worker failed:\n{message[1]}")
        return message[1:]

    def wait_ready(self):
        (self.pid,) = self._receive()

    def round(self, repeat, warmup, warmup_seconds=WARMUP_SECONDS):
        """Time one round; return ``(samples, start, end)`` (start and end on the system-wide
        monotonic clock)."""
        self.conn.send(("round", repeat, warmup, warmup_seconds))
        return self._receive()

    def close(self):
        try:
            self.conn.send(("stop",))
        except (BrokenPipeError, OSError):
            pass
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join()
        self.conn.close()


def _cpu_ticks(pid):
    """User + system CPU time of process ``pid`` in clock ticks (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_idle(pid, poll=0.02, quiet_polls=2, timeout=2.0):
    """Wait until process ``pid`` stops using CPU (at most ``timeout`` seconds).

    After a round, a worker's idle thread pools (OpenBLAS, OpenMP) keep spinning for up to a few
    hundred milliseconds; a round of the other side started meanwhile shares the cores with
    them (we measured PyTorch's attention step at 2x its time alone). Without ``/proc``, sleep
    a fixed 0.3 s instead.
    """
    try:
        last = _cpu_ticks(pid)
    except OSError:
        time.sleep(0.3)
        return
    quiet, deadline = 0, time.monotonic() + timeout
    while quiet < quiet_polls and time.monotonic() < deadline:
        time.sleep(poll)
        try:
            now = _cpu_ticks(pid)
        except OSError:
            return
        quiet = quiet + 1 if now == last else 0
        last = now


def _start(module_name, case_name, sides, quick, threads):
    context = multiprocessing.get_context("spawn")
    workers = [_Worker(context, module_name, case_name, s, quick, threads) for s in sides]
    try:
        for w in workers:
            w.wait_ready()
    except BaseException:
        for w in workers:
            w.close()
        raise
    return workers


def calibrate(module_name, case_name, ref_name, quick=False, threads=2, repeat=7, warmup=2,
              rounds=3, warmup_seconds=WARMUP_SECONDS):
    """The reference's samples timed alone in a fresh process, in the same rounds as in
    ``compare_case`` (no worker of ours alive meanwhile). As there, each round starts once the
    process is idle: between rounds, its thread pools go quiet as they do while ours runs."""
    (worker,) = _start(module_name, case_name, [ref_name], quick, threads)
    try:
        samples = []
        for r in range(rounds):
            wait_idle(worker.pid)
            samples += worker.round(repeat, warmup if r == 0 else 1, warmup_seconds)[0]
        return samples
    finally:
        worker.close()


def compare_case(module_name, case_name, ref_name, quick=False, threads=2, repeat=7, warmup=2,
                 rounds=3, calibration=True, note="", measure_peak=False, warmup_seconds=WARMUP_SECONDS):
    """Time one case against one reference, each side in its own worker, in alternating
    rounds; return a ``Row`` (with the reference's calibration samples unless
    ``calibration`` is false, and each side's memory when ``measure_peak``). Each round's
    untimed calls last ``warmup`` calls (1 after the first round) and ``warmup_seconds``."""
    alone = (calibrate(module_name, case_name, ref_name, quick, threads, repeat, warmup, rounds,
                       warmup_seconds) if calibration else None)
    workers = _start(module_name, case_name, ["ours", ref_name], quick, threads)
    ours, ref, log = [], [], []
    try:
        for r in range(rounds):
            for worker, other, dest in ((workers[0], workers[1], ours),
                                        (workers[1], workers[0], ref)):
                wait_idle(other.pid)
                samples, start, end = worker.round(repeat, warmup if r == 0 else 1, warmup_seconds)
                dest += samples
                log.append((worker.side, worker.pid, start, end))
    finally:
        for worker in workers:
            worker.close()
    memory = {}
    if measure_peak:
        for side, name in (("ours", "ours"), ("ref", ref_name)):
            measured = measure_memory(module_name, case_name, name, quick, threads)
            if measured is not None:
                memory[side] = measured
    return Row(case_name, ours, ref, note, calibration=alone,
               pids={w.side: w.pid for w in workers}, log=log, memory=memory)


# ----------------------------------------------------------------------------- memory
#: glibc then serves every allocation of 64 KiB or more with its own mapping and unmaps it
#: when freed, so the resident set follows live memory and its high-water mark is a call's
#: true peak. (By default freed heap memory stays resident, and a later call's peak hides in
#: it.) Only the memory workers run with it: allocator settings move timings too.
MEMORY_ENV = {"MALLOC_MMAP_THRESHOLD_": "65536"}
#: Below this, a peak is within what the interpreter's own allocations move the resident set.
MEMORY_RESOLUTION = 2**20


def _status_bytes(field):
    """A ``/proc/self/status`` counter (``VmRSS``, ``VmHWM``) in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise OSError(f"no {field} in /proc/self/status")


def _memory_worker_main(conn, module_name, case_name, side, quick, threads, calls=3):
    """Build one side, call it once (libraries load their code, layers allocate their
    workspaces), then measure: ``held`` is the resident memory that first call kept,
    ``peak`` the most the later calls used on top of it."""
    try:
        fn = _build_in_worker(module_name, case_name, side, quick, threads)
        before = _status_bytes("VmRSS")
        fn()
        between = _status_bytes("VmRSS")
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # restart the high-water mark (VmHWM) from the current resident set
        for _ in range(calls - 1):
            fn()
        conn.send(("memory", _status_bytes("VmHWM") - between, between - before))
    except BaseException:
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


def measure_memory(module_name, case_name, side, quick=False, threads=2):
    """``(peak, held)`` in bytes for one side of a case, measured in a fresh process (see
    ``_memory_worker_main``), or None where ``/proc`` cannot report it."""
    if not os.path.exists("/proc/self/clear_refs"):
        return None
    context = multiprocessing.get_context("spawn")
    conn, child = context.Pipe()
    saved = {k: os.environ.get(k) for k in MEMORY_ENV}
    os.environ.update(MEMORY_ENV)  # the allocator reads it when the child starts
    try:
        process = context.Process(target=_memory_worker_main,
                                  args=(child, module_name, case_name, side, quick, threads), daemon=True)
        process.start()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key)
            else:
                os.environ[key] = value
    child.close()
    try:
        message = conn.recv()
    except EOFError:
        raise WorkerError(f"the {side} memory worker died (exit code {process.exitcode})")
    finally:
        process.join(timeout=30)
        conn.close()
    if message[0] == "error":
        if "clear_refs" in message[1] and "PermissionError" in message[1]:
            return None
        raise WorkerError(f"the {side} memory worker failed:\n{message[1]}")
    return message[1:]


# ------------------------------------------------------------------------------- rows
@dataclass
class Row:
    """One case against one reference: the medians and best times of both sides, and the
    reference's calibration samples (timed alone in a fresh process) when taken."""

    name: str
    ours: list
    ref: list
    note: str = ""
    calibration: list = None
    pids: dict = field(default_factory=dict)  # side -> worker process id
    log: list = field(default_factory=list)  # (side, pid, start, end) per round, in order
    memory: dict = field(default_factory=dict)  # side -> (peak, held) bytes, see measure_memory

    @property
    def memory_ratio(self):
        """Our peak / the reference's peak (None unless both were measured). A peak below
        ``MEMORY_RESOLUTION`` counts as that much: smaller differences are page-level noise."""
        ours, ref = self.memory.get("ours"), self.memory.get("ref")
        if not (ours and ref):
            return None
        return max(ours[0], MEMORY_RESOLUTION) / max(ref[0], MEMORY_RESOLUTION)

    @property
    def ratio(self):
        return statistics.median(self.ours) / statistics.median(self.ref)

    @property
    def best_ratio(self):
        # On a shared machine the median swings with other load; the best
        # time is what each side costs when it gets the core to itself.
        return min(self.ours) / min(self.ref)

    @property
    def drift(self):
        """In-harness reference median / calibration median - 1 (None without calibration)."""
        if not self.calibration:
            return None
        return statistics.median(self.ref) / statistics.median(self.calibration) - 1

    @property
    def flag(self):
        """"CALIBRATION +43 %" when the reference's median moved by more than ``DRIFT``."""
        drift = self.drift
        if drift is None or abs(drift) <= DRIFT:
            return ""
        return f"CALIBRATION {drift * 100:+.0f} %"


def _megabytes(memory, index):
    return f"{memory[index] / 2**20:.1f}" if memory else "-"


def print_table(title, rows, ref_name):
    """Print rows as an aligned table: case, median times (ms), median ratio, best-time ratio,
    peak memory of a call (MB) on each side and their ratio, the memory each side held between
    calls, and a note (the calibration flag first, when raised)."""
    width = max([len(r.name) for r in rows] + [len("case")])
    print(f"\n{title}")
    header = (f"{'case':<{width}}  {'ours ms':>9}  {ref_name + ' ms':>11}  {'ratio':>6}  "
              f"{'best':>6}  {'ours MB':>8}  {ref_name + ' MB':>10}  {'mem':>5}  {'held MB':>11}  note")
    print(header)
    print("-" * len(header))
    for r in rows:
        ours_ms, ref_ms = statistics.median(r.ours) * 1e3, statistics.median(r.ref) * 1e3
        ours_mem, ref_mem = r.memory.get("ours"), r.memory.get("ref")
        memory_ratio = "-" if r.memory_ratio is None else f"{r.memory_ratio:.2f}"
        held = f"{_megabytes(ours_mem, 1)}/{_megabytes(ref_mem, 1)}"
        note = "; ".join(s for s in (r.flag, r.note) if s)
        print(f"{r.name:<{width}}  {ours_ms:9.2f}  {ref_ms:11.2f}  {r.ratio:6.2f}  "
              f"{r.best_ratio:6.2f}  {_megabytes(ours_mem, 0):>8}  {_megabytes(ref_mem, 0):>10}  "
              f"{memory_ratio:>5}  {held:>11}  {note}")


def run_suite(title, prefix, argv):
    """Collect ``cases(quick)`` from every ``benchmarks/cases/{prefix}*.py`` module,
    time each case against each of its references, and print one table per reference."""
    import importlib
    import pkgutil

    from minigrad.validation import ArgumentParser, argument_type, check_int

    from . import cases as cases_pkg

    parser = ArgumentParser(prog=f"python -m benchmarks {prefix.rstrip('_')}")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller inputs")
    parser.add_argument("--threads", type=argument_type(check_int, int, low=1), default=2,
                        help="threads for every library")
    parser.add_argument("--only", default="", help="substring filter on case names")
    parser.add_argument("--no-calibration", action="store_true",
                        help="skip timing each reference alone in a fresh process")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip measuring each side's peak memory in a fresh process")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else 7
    rows = {}
    for info in sorted(pkgutil.iter_modules(cases_pkg.__path__), key=lambda m: m.name):
        if not info.name.startswith(prefix):
            continue
        module_name = f"{cases_pkg.__name__}.{info.name}"
        module = importlib.import_module(module_name)
        for case in module.cases(args.quick):
            if args.only not in case.name:
                continue
            for ref_name in case.references:
                row = compare_case(module_name, case.name, ref_name, quick=args.quick,
                                   threads=args.threads, repeat=repeat,
                                   calibration=not args.no_calibration, note=case.note,
                                   measure_peak=not args.no_memory)
                rows.setdefault(ref_name, []).append(row)
                alone = (f", {ref_name} alone {statistics.median(row.calibration) * 1e3:.2f} ms"
                         if row.calibration else "")
                memory = "" if row.memory_ratio is None else f", peak memory ratio {row.memory_ratio:.2f}"
                print(f"  {case.name} vs {ref_name}: median ratio {row.ratio:.2f}, "
                      f"best {row.best_ratio:.2f}{alone}{memory} {row.flag}".rstrip(), flush=True)
    if not rows:
        parser.error(f"--only {args.only!r} matches no case")
    env = "MALLOC_MMAP_MAX_=" + os.environ.get("MALLOC_MMAP_MAX_", "default")
    for ref_name, ref_rows in rows.items():
        print_table(f"{title}: ours / {ref_name} ({args.threads} threads, separate processes, "
                    f"{env})", ref_rows, ref_name)
