"""Sequential MNIST: read each image row by row, a vanilla RNN against an LSTM.

Each 28x28 digit becomes a sequence of 28 time steps of 28 pixels; a
recurrent layer of ``HIDDEN`` units reads it and an affine layer classifies
its last hidden state. The vanilla RNN must carry the evidence of the top
rows through every later step, where its gradients shrink or explode; the
LSTM's additive cell state keeps them alive, which the accuracy curves show.
"""
import os

from optim import Adam

from . import plots
from .cli import load_data, save_checkpoint, single_threaded_blas
from .models import RecurrentClassifier, fit, report
from .settings import training

DESCRIPTION = "sequential MNIST (rows as time steps): vanilla RNN vs LSTM-128, Adam"
DEFAULTS = training(epochs=15, batch_size=64, lr=2e-3)
HIDDEN = 128
CELLS = ("rnn", "lstm")
# Clipping the joint gradient norm tames the vanilla RNN's occasional exploding steps.
CLIP_GRAD_NORM = 5.0


def build_model(data, cell, seed):
    """The ``cell`` ("rnn" or "lstm") classifier for ``data`` (a SplitData)."""
    return RecurrentClassifier(data.image_shape, data.num_classes, cell, HIDDEN, rng=seed)


def main(args):
    data = load_data(args)
    metrics, models = {}, {}
    # One BLAS thread: each time step multiplies a (batch, 128) state by a
    # (128, 4 * 128) matrix, far too small to share between threads.
    with single_threaded_blas():
        for cell in CELLS:
            model = build_model(data, cell, args.seed)
            solver = fit(model, Adam(model.parameters(), lr=args.lr), data.X_train, data.y_train,
                         data.X_val, data.y_val, args, clip_grad_norm=CLIP_GRAD_NORM)
            # Each cell's loss and accuracy plots go to its own directory.
            metrics[cell] = report(solver, data.X_test, data.y_test, os.path.join(args.out, cell))
            models[cell] = model

    plots.curves(f"{args.out}/val_accuracy.png",
                 {cell.upper(): metrics[cell]["val_acc_history"] for cell in CELLS},
                 "epoch", "validation accuracy", f"sequential MNIST, {HIDDEN} hidden units")
    save_checkpoint(args, **{f"{cell}.{k}": v for cell, model in models.items()
                             for k, v in model.state_dict().items()})
    return {**{f"test_accuracy_{cell}": metrics[cell]["test_accuracy"] for cell in CELLS},
            **{f"train_seconds_{cell}": metrics[cell]["train_seconds"] for cell in CELLS},
            **{f"train_cpu_seconds_{cell}": metrics[cell]["train_cpu_seconds"] for cell in CELLS},
            **metrics}
