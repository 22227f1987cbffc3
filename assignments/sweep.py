"""``python -m assignments sweep NAME``: a course script's training as Ray Tune trials.

Each trial is one ``run NAME`` with a configuration drawn from the search
space (:mod:`assignments.search_space`): random search by default, Optuna's
TPE with ``--search optuna``. The scripts report their validation metric
after every epoch (:mod:`assignments.reporting`), so ASHA stops the worst
trials early. Ray starts in this process unless ``--address`` names a
cluster (``auto``, or ``ray://HOST:PORT``).

Everything lands in ``OUT/NAME-sweep/``: ``sweep.json`` (the sweep's
settings, read again by ``--resume``), Ray Tune's experiment in ``trials/``,
and, when the sweep ends, ``results.csv``/``results.json`` (one row per
trial), ``search.png`` (two log-scaled hyper-parameters coloured by the
metric), ``best_curves.png`` (the best trial's metrics per epoch) and
``best.json``, which ``python -m assignments run NAME --config best.json``
reproduces.

Ray and Optuna (the ``sweep`` extra) are imported inside this module's
functions only, so the rest of the package never needs them.
"""
import argparse
import contextlib
import json
import math
import os
import sys

from minigrad.validation import argument_type, check_int, check_positive

from . import cli, reporting
from . import search_space as spaces
from . import sweep_results
from .settings import OptionError

SEARCHES = ("random", "optuna")
SCHEDULERS = ("asha", "none")
DEFAULT_SAMPLES = 8
# Settings read again from sweep.json by --resume (None in the parser: "not given").
SWEEP_SETTINGS = ("space", "space_file", "samples", "search", "metric", "mode", "scheduler")


def add_parser(commands):
    """Add the ``sweep`` command to the ``commands`` sub-parsers; return its parser."""
    sweep = commands.add_parser("sweep", help="search a script's hyper-parameters with Ray Tune")
    cli.add_script_arguments(sweep)
    sweep.add_argument("--space", nargs="+", action="extend", metavar="NAME=KIND:ARGS",
                       help="search space, e.g. lr=loguniform:1e-4:1e-1 hidden_dims=choice:64,128 "
                            "(kinds: uniform, loguniform, randint, lograndint, choice, or a fixed value)")
    sweep.add_argument("--space-file", metavar="FILE", help="search space as a JSON/YAML mapping")
    sweep.add_argument("--samples", type=argument_type(check_int, kind=int, low=1),
                       help=f"trials to run (default {DEFAULT_SAMPLES})")
    sweep.add_argument("--search", choices=SEARCHES, help="random (default) or optuna (TPE)")
    sweep.add_argument("--metric", help="metric to optimise (default val_accuracy)")
    sweep.add_argument("--mode", choices=("max", "min"), help="maximise (default) or minimise it")
    sweep.add_argument("--scheduler", choices=SCHEDULERS,
                       help="asha (default): stop the worst trials early; none: run all to the end")
    sweep.add_argument("--cpus-per-trial", type=argument_type(check_positive), default=1.0,
                       help="CPUs reserved per trial; its BLAS and Numba threads (default 1)")
    sweep.add_argument("--address", help="Ray cluster: auto, or ray://HOST:PORT (default: a local Ray)")
    sweep.add_argument("--resume", action="store_true",
                       help="continue the sweep in OUT/NAME-sweep; finished trials are not run again")
    return sweep


def main(args, parser):
    """Run (or resume) the sweep described by the parsed ``args``; return the exit code."""
    try:
        settings = load_settings(args)
    except (OptionError, ValueError, TypeError) as exc:
        parser.error(str(exc))
    try:
        from ray import tune  # noqa: F401
        if settings["search"] == "optuna":
            import optuna  # noqa: F401
    except ImportError as exc:
        print(f"error: sweep needs Ray Tune and Optuna ({exc.name} is missing): "
              f"pip install 'minigrad[sweep]'", file=sys.stderr)
        return 2
    try:
        grid = run_trials(settings, args.address, args.resume)
    except SweepError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sweep_results.write(settings, trials_of(grid))
    return 0


class SweepError(RuntimeError):
    """Ray could not be started or reached; the message is one line."""


# ------------------------------------------------------------------ settings
def load_settings(args):
    """The sweep's settings: read from ``sweep.json`` with ``--resume``, else from ``args`` and checked.

    A new sweep's settings are written to ``OUT/NAME-sweep/sweep.json``.
    """
    folder = os.path.abspath(os.path.join(args.out, f"{args.name}-sweep"))
    path = os.path.join(folder, "sweep.json")
    if args.resume:
        given = [f"--{k.replace('_', '-')}" for k in SWEEP_SETTINGS if getattr(args, k) is not None]
        if given:
            raise OptionError(f"--resume continues the sweep as it was started ({path}); drop {', '.join(given)}")
        if not os.path.isfile(path):
            raise OptionError(f"--resume: no sweep to resume in {folder} (sweep.json is missing)")
        with open(path) as f:
            return json.load(f)
    if os.path.exists(os.path.join(folder, "trials")):
        raise OptionError(f"--out: {folder} holds an earlier sweep; pass --resume to continue it, "
                          f"or choose another --out")
    space = read_space(args)
    base = {key: getattr(args, key) for key in cli.CONFIG_FLAGS if getattr(args, key) is not None}
    settings = {
        "script": args.name, "folder": folder, "space": {k: str(v) for k, v in space.items()},
        "base": base, "options": list(args.options), "samples": args.samples or DEFAULT_SAMPLES,
        "search": args.search or "random", "metric": args.metric or "val_accuracy",
        "mode": args.mode or "max", "scheduler": args.scheduler or "asha",
        "cpus_per_trial": args.cpus_per_trial,
    }
    settings["max_epochs"] = check_space(settings, space)
    cli.prepare_run_dir(os.path.dirname(folder), os.path.basename(folder))
    with open(path, "w") as f:
        json.dump(settings, f, indent=2)
    return settings


def read_space(args):
    """The space of ``--space-file`` and ``--space`` (the script's ``SEARCH_SPACE`` if neither)."""
    space = spaces.load(args.space_file) if args.space_file else {}
    for name, dist in spaces.parse(args.space or []).items():
        if name in space:
            raise ValueError(f"--space: {name} is also in --space-file {args.space_file}")
        space[name] = dist
    if not space:
        space = dict(getattr(cli.load_script(args.name), "SEARCH_SPACE", {}))
    if not space:
        raise ValueError(f"--space: {args.name} has no default search space; give one, "
                         f"e.g. --space lr=loguniform:1e-4:1e-1")
    return space


def space_of(settings):
    """The parsed space recorded in ``settings``."""
    return {name: spaces.distribution(spec, f"sweep.json: {name}") for name, spec in settings["space"].items()}


def check_space(settings, space):
    """Refuse a space that names no setting of the script or can draw a value it refuses.

    Every edge of every distribution is checked (the others at their first
    edge) before Ray starts. Returns the most epochs a trial can run.
    """
    name = settings["script"]
    script = cli.load_script(name)
    known = {"seed", *script.DEFAULTS, *getattr(script, "OPTIONS", {})}
    for key, dist in space.items():
        if key not in known:
            raise OptionError(f"--space: {key} is not a setting of {name} (its settings: {', '.join(sorted(known))})")
    corner = {key: dist.extremes()[0] for key, dist in space.items()}
    epochs = []
    for key, dist in space.items():
        for value in dist.extremes():
            try:
                _, args = cli.settle(name, trial_args(settings, {**corner, key: value}, out=""))
            except OptionError as exc:
                raise OptionError(f"--space: {key}={dist} can draw {value!r}, which {name} refuses "
                                  f"({str(exc).split(': ', 1)[-1]})") from None
            epochs.append(getattr(args, "epochs", None))
    return max((e for e in epochs if e is not None), default=None)


def trial_args(settings, config, out):
    """The ``run`` namespace of one trial: the sweep's flags, then the trial's ``config``."""
    args = argparse.Namespace(command="run", name=settings["script"], epochs=None, batch_size=None,
                              lr=None, seed=0, data="mnist5k", data_dir=None, quick=False, out=out,
                              options=list(settings["options"]))
    for flags, options in (cli.split_config(settings["script"], settings["base"]),
                           cli.split_config(settings["script"], config, func="--space")):
        vars(args).update(flags)
        args.options += options
    return args


# --------------------------------------------------------------------- Ray
def run_trials(settings, address, resume):
    """Run the sweep's trials on Ray Tune; return its ``ResultGrid``.

    Ray is started here (``address`` None: a local Ray; else that cluster's)
    and shut down at the end, unless this process had already started it.
    """
    import ray
    from ray import tune

    started = not ray.is_initialized()
    if started:
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
        except Exception as exc:  # Ray raises plain Exceptions (timeouts, no cluster at the address)
            where = f"the Ray cluster at {address}" if address else "a local Ray"
            raise SweepError(f"sweep: could not start or reach {where}: {str(exc).splitlines()[0]}") from None
    try:
        cpus = settings["cpus_per_trial"]
        trainable = tune.with_resources(tune.with_parameters(trial, settings=settings), {"cpu": cpus})
        path = os.path.join(settings["folder"], "trials")
        if resume and tune.Tuner.can_restore(path):
            tuner = tune.Tuner.restore(path, trainable, resume_unfinished=True, resume_errored=True)
        else:
            tuner = tune.Tuner(
                trainable,
                param_space={k: to_tune(d) for k, d in space_of(settings).items()},
                tune_config=tune.TuneConfig(
                    metric=settings["metric"], mode=settings["mode"], num_samples=settings["samples"],
                    search_alg=searcher(settings), scheduler=scheduler(settings), reuse_actors=True),
                # Each trial's run folder (plots, checkpoint) is copied into trials/ when it ends.
                run_config=tune.RunConfig(name="trials", storage_path=settings["folder"], verbose=1,
                                          sync_config=tune.SyncConfig(sync_artifacts=True)))
        return tuner.fit()
    finally:
        if started:
            ray.shutdown()


def trials_of(grid):
    """Plain dicts of a Tune ``ResultGrid``: trial id, config, last metrics, per-epoch history, error."""
    trials = []
    for result in grid:
        metrics = dict(result.metrics or {})
        frame = result.metrics_dataframe
        history = {} if frame is None else {c: frame[c].tolist() for c in frame.columns}
        trials.append({"trial": metrics.get("trial_id") or os.path.basename(result.path),
                       "config": dict(result.config or {}), "metrics": metrics, "history": history,
                       "error": None if result.error is None else str(result.error).strip().splitlines()[-1]})
    return trials


def to_tune(dist):
    """Ray Tune's domain for a :class:`search_space.Distribution` (a plain value when fixed)."""
    from ray import tune

    if dist.kind == "fixed":
        return dist.values[0]
    if dist.kind == "choice":
        return tune.choice(list(dist.values))
    return getattr(tune, dist.kind)(*dist.values)


def searcher(settings):
    """Random search (seeded by the sweep's seed), or Optuna's TPE."""
    seed = settings["base"].get("seed", 0)
    if settings["search"] == "optuna":
        from ray.tune.search.optuna import OptunaSearch

        return OptunaSearch(seed=seed)
    from ray.tune.search.basic_variant import BasicVariantGenerator

    return BasicVariantGenerator(random_state=seed)


def scheduler(settings):
    """ASHA over the epochs the scripts report, or None (every trial runs to its end)."""
    if settings["scheduler"] == "none":
        return None
    from ray.tune.schedulers import ASHAScheduler

    return ASHAScheduler(max_t=settings["max_epochs"] or 100, grace_period=1, reduction_factor=2)


def trial(config, settings):
    """One trial (runs in a Ray worker): ``run NAME`` with ``config``, reporting every epoch."""
    from ray import tune

    from optim import NonFiniteError

    cli.keep_loaded_data()  # a worker runs trial after trial: the data is loaded once
    out = tune.get_context().get_trial_dir()
    reports = EpochReports(tune.report)
    with thread_limits(settings["cpus_per_trial"]), reporting.listen(reports.epoch):
        try:
            record = cli.run(settings["script"], trial_args(settings, config, out))
        except NonFiniteError as exc:
            message = str(exc).splitlines()[0]
            reports.finish({settings["metric"]: math.nan, "diverged": True, "error": message})
            return
    final = {k: v for k, v in record.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    reports.finish({**final, "completed": True})


class EpochReports:
    """Sends each epoch's metrics one epoch late, so the last report also holds the final metrics.

    A trial's number of reports is then its number of epochs (ASHA's clock),
    and its last one holds what the script returned (test accuracy, times).
    """

    def __init__(self, send):
        self.send, self.pending = send, None

    def epoch(self, epoch, metrics):
        if self.pending is not None:
            self.send(self.pending)
        self.pending = {"epoch": epoch, **metrics}

    def finish(self, final):
        self.send({**(self.pending or {}), **final})
        self.pending = None


@contextlib.contextmanager
def thread_limits(cpus):
    """Limit BLAS and Numba to the trial's CPUs (at least one thread) inside the block."""
    import numba
    from threadpoolctl import threadpool_limits

    threads = max(1, int(cpus))
    previous = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        with threadpool_limits(limits=threads):
            yield threads
    finally:
        numba.set_num_threads(previous)
