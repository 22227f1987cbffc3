"""A deep fully connected network with batch normalisation and dropout.

The default network is 784-256-128-64-10 with batch normalisation after every
hidden affine layer and dropout 0.2 after every hidden ReLU, trained with
Adam. Any depth, either normalisation or none, and any dropout can be set
from the command line, e.g. ``--set hidden_dims=512,512,256 normalization=layernorm
dropout=0``. The script also trains the same network briefly with each of SGD,
SGD with momentum, RMSProp and Adam and plots their training losses side by
side (CS231n's update-rule comparison).
"""
import numpy as np

from optim import SGD, Adam, RMSProp

from . import plots
from .cli import load_data, progress, save_checkpoint, single_threaded_blas
from .models import NORMALIZATIONS, FullyConnectedNet, fit, report
from .settings import choice, declare, integers, number, training

DESCRIPTION = ("fully connected net 784-256-128-64-10 + batchnorm + dropout, Adam; "
               "SGD/Momentum/RMSProp/Adam compared")
DEFAULTS = training(epochs=30, batch_size=100, lr=1e-3)
# The network: hidden widths, "batchnorm" / "layernorm" / None, dropout probability.
OPTIONS = declare(hidden_dims=integers((256, 128, 64), low=1),
                  normalization=choice("batchnorm", NORMALIZATIONS),
                  dropout=number(0.2, low=0, high=1, high_open=True))
COMPARE_EPOCHS = 3  # epochs per update rule in the comparison (1 with --quick)
# The other update rules of the comparison, at learning rates that suit each;
# Adam's curve is the first epochs of the main run (same seed, same result).
OTHER_RULES = {
    "SGD": lambda params: SGD(params, lr=0.1),
    "Momentum": lambda params: SGD(params, lr=0.02, momentum=0.9),
    "RMSProp": lambda params: RMSProp(params, lr=1e-3),
}
SMOOTHING = 10  # moving-average window (iterations) of the comparison's loss curves


def build_model(data, args):
    """The network for ``data`` (a SplitData) configured by ``args`` (seed and ``OPTIONS``)."""
    return FullyConnectedNet(int(np.prod(data.image_shape)), args.hidden_dims, data.num_classes,
                             normalization=args.normalization, dropout=args.dropout, rng=args.seed)


def compare_update_rules(data, args, epochs, adam_history):
    """Train a fresh network like the main one per rule of ``OTHER_RULES`` for ``epochs`` epochs.

    ``adam_history`` is the main (Adam) run's ``Solver.history``: a fresh
    Adam run with the same seed would repeat its first ``epochs`` epochs exactly.

    Returns
    -------
    dict : rule name -> {"loss": per-iteration losses, "val_accuracy": after ``epochs`` epochs}
    """
    run = type(args)(**{**vars(args), "epochs": epochs})
    results = {}
    for name, make in progress(OTHER_RULES.items(), desc="update rules", total=len(OTHER_RULES)):
        model = build_model(data, args)
        solver = fit(model, make(model.parameters()), data.X_train, data.y_train,
                     data.X_val, data.y_val, run, progress=False)
        results[name] = {"loss": solver.history["loss"], "val_accuracy": solver.history["val_acc"][-1]}
    iterations = len(results[name]["loss"])
    results["Adam"] = {"loss": adam_history["loss"][:iterations],
                       "val_accuracy": adam_history["val_acc"][epochs - 1]}
    return results


def _moving_average(values, window):
    values = np.asarray(values, dtype=np.float64)
    window = max(1, min(window, len(values)))
    smoothed = np.convolve(values, np.ones(window) / window, mode="valid")
    return np.arange(window, len(values) + 1), smoothed


def main(args):
    data = load_data(args)
    # Matrices of a few hundred columns: one BLAS thread is faster than two on 2 cores
    # (5 epochs took 3.1 s single-threaded, 26 s with two threads under load).
    with single_threaded_blas():
        model = build_model(data, args)
        solver = fit(model, Adam(model.parameters(), lr=args.lr), data.X_train, data.y_train,
                     data.X_val, data.y_val, args)
        metrics = report(solver, data.X_test, data.y_test, args.out)
        comparison = compare_update_rules(data, args, min(args.epochs, 1 if args.quick else COMPARE_EPOCHS),
                                          solver.history)

    plots.curves(f"{args.out}/update_rules.png",
                 {name: _moving_average(r["loss"], SMOOTHING) for name, r in comparison.items()},
                 "iteration", "training loss",
                 f"update rules, {len(args.hidden_dims) + 1}-layer net (moving average of {SMOOTHING})")
    save_checkpoint(args, **{f"model.{k}": v for k, v in model.state_dict().items()})
    return {**metrics,
            "update_rules": {name: {"val_accuracy": r["val_accuracy"], "final_loss": r["loss"][-1]}
                             for name, r in comparison.items()}}
