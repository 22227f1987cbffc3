"""Training curves as PNG files (matplotlib, imported only when plotting)."""
import os

import numpy as np


def _figure():
    """A new matplotlib Figure drawn by the Agg (file-only) backend.

    Building the Figure directly, rather than through pyplot, neither needs
    a display nor touches the backend or figures of the calling program.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "plot_history needs matplotlib: pip install matplotlib "
            "(or this package's 'assignments' extra)"
        ) from None
    figure = Figure(figsize=(7, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def plot_history(history, path):
    """Write ``loss.png`` and ``accuracy.png`` for a ``Solver.history`` into directory ``path``.

    The loss plot shows the loss of every iteration (faint) with its
    per-epoch mean and, when present, the validation loss at the end of each
    epoch; the accuracy plot shows training and validation accuracy per epoch.

    Parameters
    ----------
    history : dict
        ``loss`` (per iteration) and ``train_acc``, ``val_acc`` (per epoch);
        ``val_loss`` (per epoch) is optional.
    path : str
        Directory to write into (created if needed).

    Returns
    -------
    list of str
        The two file paths written.
    """
    for key in ("loss", "train_acc", "val_acc"):
        if key not in history:
            raise ValueError(f"plot_history: history must have a '{key}' entry, got keys {sorted(history)}")
    loss = np.asarray(history["loss"], dtype=np.float64)
    epochs = np.arange(1, len(history["train_acc"]) + 1)
    os.makedirs(path, exist_ok=True)
    written = []
    # Markers help read a few epochs and only clutter many.
    markers = ("o", "s") if len(epochs) <= 30 else (None, None)

    figure = _figure()
    ax = figure.add_subplot()
    ax.plot(np.arange(1, len(loss) + 1), loss, color="tab:blue", alpha=0.3, lw=0.8, label="iteration")
    if len(epochs) and len(loss):
        # Iterations per epoch, so epoch-level curves line up with the iteration axis.
        per_epoch = len(loss) / len(epochs)
        ends = np.round(epochs * per_epoch).astype(int)
        means = [loss[a:b].mean() for a, b in zip(np.r_[0, ends[:-1]], ends) if b > a]
        ax.plot(ends[:len(means)], means, color="tab:blue", marker=markers[0], label="epoch mean")
        if history.get("val_loss"):
            ax.plot(ends, history["val_loss"], color="tab:orange", marker=markers[1], label="validation")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.set_title("Training loss")
    ax.grid(alpha=0.3)
    ax.legend()
    written.append(os.path.join(path, "loss.png"))
    figure.savefig(written[-1], bbox_inches="tight")

    figure = _figure()
    ax = figure.add_subplot()
    ax.plot(epochs, history["train_acc"], marker=markers[0], label="train")
    ax.plot(epochs, history["val_acc"], marker=markers[1], label="validation")
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title("Classification accuracy")
    ax.grid(alpha=0.3)
    ax.legend()
    written.append(os.path.join(path, "accuracy.png"))
    figure.savefig(written[-1], bbox_inches="tight")
    return written
