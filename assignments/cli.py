"""The one command line for every course script: ``python -m assignments list|run|sweep NAME``.

A script is a module ``assignments/<name>.py`` listed in ``SCRIPTS`` that defines

``DESCRIPTION``
    One line for ``list``.
``DEFAULTS``
    Its default ``epochs``, ``batch_size`` and ``lr`` (the configuration that
    meets the script's accuracy target on the default data), declared with
    ``settings.training``.
``OPTIONS`` (optional)
    Script-specific settings and their defaults, e.g. a network's hidden
    sizes, declared with ``settings.declare`` (each with the values it
    accepts) and set with ``--set KEY=VALUE``; they arrive as attributes of ``args``.
``main(args) -> dict``
    Trains and evaluates. ``args`` is the parsed namespace with every default
    filled in and ``args.out`` set to the run directory (``<--out>/<name>``),
    where the script writes its PNG plots and a checkpoint. It returns its
    metrics; every ``test_*`` entry is printed as the run's headline.

The runner times the run and writes ``metrics.json`` (the returned metrics,
wall time and configuration) beside the script's files, then prints the test
metrics and every file the run wrote. ``run NAME --config FILE`` takes its
settings from a JSON (or YAML) file, such as the ``best.json`` a sweep writes;
flags on the command line win over the file. ``sweep NAME`` runs the script's
training as Ray Tune trials (:mod:`assignments.sweep`).

Every value is checked before a script starts: a bad option, a missing data
file or an output folder that cannot be written ends the command with one line
on stderr and exit code 2, and a run that diverges ends with one line naming
the ``NonFiniteError`` and exit code 1, leaving the run folder's files as they were.
"""
import argparse
import importlib
import json
import os
import sys
import time

import numpy as np

from minigrad import validation
from minigrad.validation import ArgumentParser, check_writable_dir

from . import data as datasets
from .settings import OptionError, declare, integer, training

# name -> module; the module's DESCRIPTION is shown by `list`.
SCRIPTS = {
    "knn": "assignments.knn",
    "linear_svm": "assignments.linear_svm",
    "softmax": "assignments.softmax",
    "two_layer_net": "assignments.two_layer_net",
    "features": "assignments.features",
    "fc_net": "assignments.fc_net",
    "cnn": "assignments.cnn",
    "resnet": "assignments.resnet",
    "detection": "assignments.detection",
    "segmentation": "assignments.segmentation",
    "rnn": "assignments.rnn",
    "captioning": "assignments.captioning",
    "transformer": "assignments.transformer",
    "vae": "assignments.vae",
    "autoencoder": "assignments.autoencoder",
    "style_transfer": "assignments.style_transfer",
    "gan": "assignments.gan",
    "ddpm": "assignments.ddpm",
    "simclr": "assignments.simclr",
    "visualization": "assignments.visualization",
}

# A tiny subset for `--quick` smoke runs: enough to beat chance, seconds to run.
QUICK_SIZES = (500, 100, 100)

# What --epochs, --batch-size and --lr accept (each script declares its defaults
# with the same ranges), and --seed.
TRAINING_OPTIONS = ("epochs", "batch_size", "lr")
COMMON = declare(**training(epochs=None, batch_size=None, lr=None).declared, seed=integer(0, low=0))


def build_parser():
    parser = ArgumentParser(
        prog="python -m assignments",
        description="CS231n-style course scripts on real data, with plots and checkpoints.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    commands.add_parser("list", help="list the available scripts")
    run = commands.add_parser("run", help="run one script")
    add_script_arguments(run)
    run.add_argument("--config", metavar="FILE",
                     help="settings from a JSON/YAML file, e.g. a sweep's best.json "
                          "(flags given here win over it)")
    parser.run_parser = run  # reports the errors found after parsing (bad option values)
    from . import sweep

    parser.sweep_parser = sweep.add_parser(commands)
    return parser


def add_script_arguments(run):
    """The script name and the flags that configure its run (shared by ``run`` and ``sweep``)."""
    run.add_argument("name", choices=sorted(SCRIPTS), metavar="NAME",
                     help="script to run (see `list`)")
    run.add_argument("--epochs", type=argument_type("epochs"),
                     help="training epochs (script default if omitted)")
    run.add_argument("--batch-size", type=argument_type("batch_size"),
                     help="minibatch size (script default if omitted)")
    run.add_argument("--lr", type=argument_type("lr"), help="learning rate (script default if omitted)")
    run.add_argument("--seed", type=argument_type("seed"), default=0, help="random seed (default 0)")
    run.add_argument("--data", choices=datasets.DATASETS, default="mnist5k",
                     help="dataset (default mnist5k, bundled; mnist and cifar10 need --data-dir)")
    run.add_argument("--data-dir", help="directory holding the mnist IDX files or cifar10 batches")
    run.add_argument("--out", default="runs", help="output root; files go to OUT/NAME (default runs)")
    # extend: a second --set adds to the first instead of silently replacing it.
    run.add_argument("--set", nargs="+", action="extend", default=[], metavar="KEY=VALUE", dest="options",
                     help="script options, e.g. --set hidden_dims=512,256 normalization=layernorm "
                          "(`list` shows each script's; a comma list for a tuple, none for None)")
    run.add_argument("--quick", action="store_true",
                     help=f"smoke run: {QUICK_SIZES[0]}/{QUICK_SIZES[1]}/{QUICK_SIZES[2]} examples, 1 epoch")


def argument_type(name):
    """The argparse ``type`` reading option ``name`` as declared in ``COMMON``."""
    setting = COMMON.declared[name]
    return validation.argument_type(lambda func, _, text: setting.read(func, name, text), kind=str)


def load_script(name):
    """Import a registered script module."""
    if name not in SCRIPTS:
        raise ValueError(f"load_script: unknown script {name!r}; expected one of {', '.join(sorted(SCRIPTS))}")
    return importlib.import_module(SCRIPTS[name])


def main(argv=None):
    """The command line; returns the exit code (0 done, 1 the run diverged, 2 a bad argument)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "list":
        for name in sorted(SCRIPTS):
            script = load_script(name)
            options = " ".join(f"{k}={_show(v)}" for k, v in getattr(script, "OPTIONS", {}).items())
            print(f"{name:16s} {script.DESCRIPTION}" + (f" [--set {options}]" if options else ""))
        return 0
    if args.command == "sweep":
        from . import sweep

        return sweep.main(args, parser.sweep_parser)
    if args.config is not None:
        try:
            flags, options = split_config(args.name, read_config(args.config))
        except OptionError as exc:
            parser.run_parser.error(str(exc))
        parser.run_parser.set_defaults(**flags)  # flags typed on the command line still win
        args = parser.parse_args(argv)
        args.options = options + args.options
    from optim import NonFiniteError

    retain_freed_memory()
    try:
        run(args.name, args)
    except OptionError as exc:
        parser.run_parser.error(str(exc))
    except datasets.DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except NonFiniteError as exc:
        # The scripts write their files only after training, so a diverged run
        # leaves the run folder (and a checkpoint of an earlier run) as it was.
        message = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        print(f"error: {args.name} diverged, {message} (nothing was written)", file=sys.stderr)
        return 1
    return 0


def run(name, args):
    """Run script ``name`` with the parsed ``args``; return its metrics (as written to metrics.json).

    Every setting is filled in and checked, and the run folder made and
    probed for writing, before the script starts (:class:`OptionError` otherwise).
    """
    script, args = settle(name, args)
    args.out = prepare_run_dir(args.out, name)
    config = {k: v for k, v in sorted(vars(args).items()) if k != "command"}

    start, cpu_start = time.perf_counter(), time.process_time()
    # A diverging run overflows before its NaN guard stops it with one clear
    # NonFiniteError; NumPy's overflow warnings would only repeat it as noise.
    with np.errstate(over="ignore", invalid="ignore"):
        metrics = script.main(args)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start

    # CPU time beside wall time: on a shared machine the two can differ several-fold.
    record = {"script": name, **metrics, "wall_seconds": wall, "cpu_seconds": cpu, "config": config}
    metrics_path = os.path.join(args.out, "metrics.json")
    with open(metrics_path, "w") as f:
        json.dump(record, f, indent=2, default=_to_json)
    timing = f"wall {wall:.1f} s"
    if "train_seconds" in metrics:
        timing += f", training {metrics['train_seconds']:.1f} s"
    for key, value in metrics.items():
        if key.startswith("test_") and np.isscalar(value):
            shown = f"{value:.2%}" if "accuracy" in key else f"{value:.4g}"
            print(f"{name}: {key} = {shown}  ({timing})")
    print("wrote:")
    for path in sorted(os.listdir(args.out)):
        print(f"  {os.path.join(args.out, path)}")
    return record


def settle(name, args):
    """Script ``name`` and a copy of ``args`` with every setting filled in and checked.

    Raises :class:`OptionError` naming the first refused setting.
    """
    script = load_script(name)
    args = argparse.Namespace(**vars(args))
    check_training_options(name, script, args)
    if args.quick and args.epochs is None and "epochs" in script.DEFAULTS:
        args.epochs = 1
    for key, value in script.DEFAULTS.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    for key, value in parse_options(script, getattr(args, "options", [])).items():
        setattr(args, key, value)
    check_settings(script, args)
    return script, args


# The flags of `run` a config file may set; its other keys are script options (--set).
CONFIG_FLAGS = ("epochs", "batch_size", "lr", "seed", "data", "data_dir", "quick")


def read_config(path):
    """The mapping in the JSON (or YAML) file ``path``; :class:`OptionError` if unreadable."""
    try:
        with open(path) as f:
            text = f.read()
        if str(path).endswith((".yaml", ".yml")):
            import yaml

            try:
                config = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise ValueError(str(exc)) from None
        else:
            config = json.loads(text)
    except ImportError:
        raise OptionError(f"--config: {path} is YAML, which needs PyYAML (pip install pyyaml)") from None
    except (OSError, ValueError) as exc:  # yaml's and json's errors are ValueErrors
        raise OptionError(f"--config: cannot read {path} ({str(exc).splitlines()[0]})") from None
    if not isinstance(config, dict):
        raise OptionError(f"--config: {path} must hold a mapping of settings, got {type(config).__name__}")
    return config


def split_config(name, config, func="--config"):
    """``config`` (setting -> value) as ``(flags, options)``: run's flags and ``--set`` items.

    An optional ``script`` key must be ``name``. ``data`` and ``quick`` are
    checked here; the other values are checked by :func:`settle`.
    """
    flags, options = {}, []
    for key, value in config.items():
        if key == "script":
            if value != name:
                raise OptionError(f"{func}: script must be {name!r} (the script run), got {value!r}")
        elif key == "data" and value not in datasets.DATASETS:
            raise OptionError(f"{func}: data must be one of {', '.join(datasets.DATASETS)}, got {value!r}")
        elif key == "quick" and not isinstance(value, bool):
            raise OptionError(f"{func}: quick must be true or false, got {value!r}")
        elif key in CONFIG_FLAGS:
            flags[key] = value
        else:
            options.append(f"{key}={_show(value)}")
    return flags, options


def parse_options(script, items):
    """The script's ``OPTIONS`` with the ``KEY=VALUE`` strings ``items`` applied.

    Each value is read and checked by its declared setting (see
    :mod:`assignments.settings`); :class:`OptionError` names the first bad one.
    """
    declared = getattr(script, "OPTIONS", declare()).declared
    options = {key: setting.default for key, setting in declared.items()}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or key not in options:
            known = ", ".join(sorted(options)) or "none: this script takes no options"
            raise OptionError(f"--set: expected KEY=VALUE with KEY one of ({known}), got {item!r}")
        options[key] = declared[key].read("--set", key, text)
    return options


def check_training_options(name, script, args):
    """Refuse ``--epochs``, ``--batch-size`` or ``--lr`` for a script that does not declare it.

    Accepted and ignored, such a value would still be recorded in metrics.json
    as if the run had used it.
    """
    for key in TRAINING_OPTIONS:
        value = getattr(args, key, None)
        if value is not None and key not in script.DEFAULTS:
            flag = "--" + key.replace("_", "-")
            takes = ", ".join("--" + k.replace("_", "-") for k in script.DEFAULTS) or "none"
            raise OptionError(f"{flag}: {name} takes no {flag} (its training options: {takes}), "
                              f"got {value!r}")


def check_settings(script, args):
    """Check the seed and every setting ``script`` declares, as they stand in ``args``.

    The command line has read each value already; this also holds when
    :func:`run` is called with a namespace built in Python.
    """
    declared = {"seed": COMMON.declared["seed"], **script.DEFAULTS.declared,
                **getattr(script, "OPTIONS", declare()).declared}
    for key, setting in declared.items():
        value = getattr(args, key)
        try:
            setting.check("run", key, value)
        except (ValueError, TypeError):
            raise OptionError(f"run: {key} {setting.refusal(value)}") from None


def prepare_run_dir(root, name):
    """Make ``<root>/<name>`` and make sure a file can be written there; return its path."""
    path = os.path.join(root, name)
    try:
        return check_writable_dir("--out", "the run folder", path)
    except (TypeError, ValueError) as exc:
        raise OptionError(str(exc)) from None


def _show(value):
    if value is None:
        return "none"
    return ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


_kept_data = None  # (data, data_dir, quick) -> SplitData, once keep_loaded_data() was called


def load_data(args):
    """The dataset named by ``args.data`` (``--quick``: a tiny subset of it)."""
    key = (args.data, args.data_dir, bool(args.quick))
    if _kept_data is not None and key in _kept_data:
        return _kept_data[key]
    data = datasets.load(args.data, args.data_dir)
    data = data.subset(*QUICK_SIZES) if args.quick else data
    if _kept_data is not None:
        for array in vars(data).values():
            if isinstance(array, np.ndarray):
                array.flags.writeable = False  # shared by every later run of this process
        _kept_data[key] = data
    return data


def keep_loaded_data():
    """From now on, keep every dataset this process loads, for the next runs in it.

    A sweep's worker runs trial after trial; each loads its data once. The
    kept arrays are read-only, so no run can change another's data.
    """
    global _kept_data
    if _kept_data is None:
        _kept_data = {}


def save_checkpoint(args, **arrays):
    """Write ``arrays`` to ``<run dir>/checkpoint.npz``; return the path."""
    path = os.path.join(args.out, "checkpoint.npz")
    np.savez(path, **arrays)
    return path


def progress(iterable, desc, total=None):
    """A tqdm progress bar on an interactive terminal; the bare iterable otherwise."""
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, leave=False, disable=None, dynamic_ncols=True)


def retain_freed_memory():
    """Ask glibc's allocator to keep freed memory for reuse instead of returning it to the OS.

    Every training step allocates activations and gradients of the same sizes
    again. By default glibc serves blocks above 128 KiB with fresh ``mmap``
    calls and unmaps them on free, so each step pays page faults on every
    large array: a ConvNet step (batch 64, one thread) measured 66–68 ms by
    default and 52–54 ms with mmap off and trimming raised. It only changes
    where memory comes from, never a result; elsewhere than glibc it does nothing.
    """
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_max = -1, -4  # from glibc's <malloc.h>
    mallopt(m_mmap_max, 0)
    mallopt(m_trim_threshold, 2**31 - 1)


def single_threaded_blas():
    """Context manager limiting BLAS to one thread.

    For the small matrix products of the linear and two-layer scripts
    (a 200 x 785 batch against 10 columns), OpenBLAS's thread start-up and
    spin-waits cost far more than they save: on a loaded 2-core machine ten
    epochs of softmax SGD took 7.4 s with threads and 0.22 s without.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _to_json(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"metrics.json: cannot serialise {type(value).__name__}")
