"""``Solver``: the training loop (minibatches, validation, history, checkpoints).

A model is any ``minigrad.Module`` mapping a batch ``X : (N, ...)`` to class
scores ``(N, C)``; ``loss_fn(scores, y)`` returns a scalar Tensor for integer
labels ``y : (N,)``. Predictions are ``argmax`` over the scores.

::

    solver = Solver(model, data, Adam(model.parameters(), lr=1e-3), cross_entropy,
                    batch_size=64, epochs=10, schedule=None, checkpoint_dir="runs/mlp")
    history = solver.train()
    # later, after a crash: build the same objects, then
    solver.load_checkpoint("runs/mlp/epoch_0004.npz"); solver.train()

Everything random in the loop (shuffling, training-accuracy subsamples)
draws from one generator seeded by ``seed``; its state, NumPy's global
generator and every ``np.random.Generator`` held by a sub-module (e.g. a
dropout layer's) go into checkpoints together with the model, optimizer and
schedule, so a resumed run continues bit-identically to an uninterrupted one.
A checkpoint is loaded only when all of it fits this solver (the model's
arrays, the optimizer's class and settings, the schedule's, the generators,
the history); otherwise ``CheckpointError`` says what differs, and nothing
has changed.

Every update is guarded: a NaN or inf loss, gradient or updated parameter
stops training with ``NonFiniteError`` (iteration, parameter, a hint) before
a broken model is evaluated or checkpointed, so the last checkpoint is good.
"""
import math
import os
import sys
import time

import numpy as np

import minigrad as mg
from minigrad.validation import (
    check_bool,
    check_choice,
    check_finite,
    check_float_array,
    check_int,
    check_int_array,
    check_positive,
    check_writable_dir,
)

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .clipping import clip_grad_norm_
from .guard import NonFiniteError, divergence_hint, first_nonfinite
from .optimizers import Adam, Optimizer
from .resume import CHECKPOINT_FORMAT, check_state, module_generators
from .schedules import LRScheduler

_DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")
def _check_data(data, dtype):
    """The four arrays of ``data``, checked; ``X_*`` must have the model's parameter ``dtype`` (if any)."""
    if not isinstance(data, dict):
        raise TypeError(f"Solver: data must be a dict with keys {list(_DATA_KEYS)}, got {type(data).__name__}")
    missing = [k for k in _DATA_KEYS if k not in data]
    if missing:
        raise ValueError(f"Solver: data is missing keys {missing}")
    arrays = {}
    for split in ("train", "val"):
        X = check_float_array("Solver", f"data['X_{split}']", data[f"X_{split}"])
        if dtype is not None and X.dtype != dtype:  # refused here, not inside the first step
            raise TypeError(f"Solver: data['X_{split}'] must have the dtype of the model's parameters "
                            f"({dtype}), got {X.dtype}")
        y = check_int_array("Solver", f"data['y_{split}']", data[f"y_{split}"], ndim=1)
        if X.ndim < 1 or len(X) != len(y) or len(y) == 0:
            raise ValueError(
                f"Solver: data['X_{split}'] and data['y_{split}'] must hold the same positive number "
                f"of samples, got shapes {X.shape} and {y.shape}"
            )
        if y.min() < 0:  # a negative label would silently index the last classes
            raise ValueError(f"Solver: data['y_{split}'] must hold labels >= 0, got {y.min()}")
        check_finite("Solver", f"data['X_{split}']", X)
        arrays[f"X_{split}"], arrays[f"y_{split}"] = X, y
    return arrays


def _check_owned(model, optimizer):
    """Raise ValueError if the optimizer updates a parameter that is not the model's (by identity)."""
    owned = {id(p) for p in model.parameters()}
    foreign = [(k, i, p) for k, group in enumerate(optimizer.param_groups)
               for i, p in enumerate(group["params"]) if id(p) not in owned]
    if foreign:
        k, i, p = foreign[0]
        raise ValueError(
            f"Solver: optimizer holds {len(foreign)} parameter(s) that are not the model's (the first: "
            f"group {k}, position {i}, shape {p.shape}), so training would not change the model; "
            f"build the optimizer from this model's parameters()"
        )


class Solver:
    """Train a classifier with minibatch updates, validation, checkpoints and early stopping.

    Parameters
    ----------
    model : Module
        ``model(X_batch)`` -> scores Tensor ``(N, C)``.
    data : dict
        ``X_train (N, ...)``, ``y_train (N,)`` integer labels, ``X_val``, ``y_val``.
    optimizer : Optimizer
        Over (some of) the model's parameters.
    loss_fn : callable
        ``loss_fn(scores, y) -> scalar Tensor``; ``y`` is the batch's label array.
    batch_size : int
        Samples per update; the last batch of an epoch may be smaller.
    epochs : int
        Total epochs (a resumed run counts the ones already done).
    schedule : LRScheduler, optional
        Stepped after every epoch, or every iteration with ``schedule_every="iteration"``.
    seed : int
        Seeds the shuffling and the training-accuracy subsample.
    clip_grad_norm : float, optional
        Clip the joint gradient norm to this value (finite, > 0) before each
        update; None (the default) does not clip.
    num_train_samples : int or None
        Training accuracy is measured on this many random training samples
        each epoch (all when None), as in CS231n.
    num_val_samples : int or None
        Likewise for validation (all by default).
    eval_batch_size : int, optional
        Batch size for evaluation (default: ``batch_size``).
    monitor : {"val_acc", "val_loss"}
        What "best" means for best-model tracking and early stopping.
    patience : int, optional
        Stop after this many epochs without improvement of ``monitor``.
    restore_best : bool
        Load the best epoch's weights into the model when ``train`` ends.
    checkpoint_dir : str, optional
        Write ``epoch_NNNN.npz`` there every ``checkpoint_every`` epochs.
        The Solver creates it and checks that it can write there when it is
        built, so a bad folder fails before any training.
    progress : bool or None
        Show a tqdm bar (epoch, loss, samples/s). None: only when stdout is a TTY.
    verbose : bool
        Print one summary line per epoch.
    on_epoch : callable, optional
        ``on_epoch(solver)`` is called at the end of every epoch, after its
        evaluation and checkpoint (e.g. to report ``history`` to a sweep).

    Attributes
    ----------
    history : dict of lists
        ``loss`` and ``lr`` (of the first parameter group) per iteration;
        ``train_acc``, ``val_acc`` and ``val_loss`` per epoch.
    epoch, iteration : int
        Completed epochs and updates.
    best_epoch, best_score, best_state
        The best epoch so far by ``monitor``, its score and its model state dict.
    stopped_early : bool
        Whether early stopping ended training.
    """

    def __init__(self, model, data, optimizer, loss_fn, batch_size=100, epochs=10, schedule=None, *,
                 schedule_every="epoch", seed=0, clip_grad_norm=None, num_train_samples=1000,
                 num_val_samples=None, eval_batch_size=None, monitor="val_acc", patience=None,
                 restore_best=True, checkpoint_dir=None, checkpoint_every=1, progress=None,
                 verbose=False, on_epoch=None):
        if not isinstance(model, mg.Module):
            raise TypeError(f"Solver: model must be a minigrad Module, got {type(model).__name__}")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"Solver: optimizer must be an optim Optimizer, got {type(optimizer).__name__}")
        _check_owned(model, optimizer)
        if not callable(loss_fn):
            raise TypeError(f"Solver: loss_fn must be callable, got {type(loss_fn).__name__}")
        if schedule is not None and not isinstance(schedule, LRScheduler):
            raise TypeError(f"Solver: schedule must be an LRScheduler or None, got {type(schedule).__name__}")
        if schedule is not None and schedule.optimizer is not optimizer:
            raise ValueError("Solver: schedule belongs to a different optimizer")
        self.model, self.optimizer, self.loss_fn, self.schedule = model, optimizer, loss_fn, schedule
        self.data = _check_data(data, next((p.dtype for p in model.parameters()), None))
        self.batch_size = check_int("Solver", "batch_size", batch_size, low=1)
        self.epochs = check_int("Solver", "epochs", epochs, low=1)
        self.schedule_every = check_choice("Solver", "schedule_every", schedule_every, ("epoch", "iteration"))
        self.seed = check_int("Solver", "seed", seed, low=0)
        self.clip_grad_norm = (None if clip_grad_norm is None else
                               check_positive("Solver", "clip_grad_norm", clip_grad_norm))
        self.num_train_samples = None if num_train_samples is None else check_int(
            "Solver", "num_train_samples", num_train_samples, low=1)
        self.num_val_samples = None if num_val_samples is None else check_int(
            "Solver", "num_val_samples", num_val_samples, low=1)
        self.eval_batch_size = self.batch_size if eval_batch_size is None else check_int(
            "Solver", "eval_batch_size", eval_batch_size, low=1)
        self.monitor = check_choice("Solver", "monitor", monitor, ("val_acc", "val_loss"))
        self.patience = None if patience is None else check_int("Solver", "patience", patience, low=1)
        self.restore_best = check_bool("Solver", "restore_best", restore_best)
        self.checkpoint_every = check_int("Solver", "checkpoint_every", checkpoint_every, low=1)
        self.progress = None if progress is None else check_bool("Solver", "progress", progress)
        self.verbose = check_bool("Solver", "verbose", verbose)
        if on_epoch is not None and not callable(on_epoch):
            raise TypeError(f"Solver: on_epoch must be callable or None, got {type(on_epoch).__name__}")
        self.on_epoch = on_epoch
        # Last: the only check with a side effect (it creates the folder), made once all others passed.
        self.checkpoint_dir = (None if checkpoint_dir is None else
                               check_writable_dir("Solver", "checkpoint_dir", checkpoint_dir))

        self._rng = np.random.default_rng(self.seed)
        self._named_params = list(model.named_parameters())
        self.epoch = 0
        self.iteration = 0
        self.history = {"loss": [], "lr": [], "train_acc": [], "val_acc": [], "val_loss": []}
        self.best_epoch, self.best_score, self.best_state = None, None, None
        self.bad_epochs = 0
        self.stopped_early = False
        self.last_checkpoint = None
        self._bar = None
        self._timing = [0, 0.0]

    # ------------------------------------------------------------ training
    def train(self):
        """Run the remaining epochs (until ``epochs``, or early stopping); return ``history``."""
        self._bar = self._make_bar()
        self._timing = [0, 0.0]  # samples, seconds spent in updates
        try:
            while self.epoch < self.epochs and not self.stopped_early:
                self.run_epoch()
        finally:
            if self._bar is not None:
                self._bar.close()
            self._bar = None
        if self.restore_best and self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        return self.history

    def run_epoch(self):
        """One pass over the shuffled training set, then evaluation, bookkeeping and checkpoint."""
        X, y = self.data["X_train"], self.data["y_train"]
        order = self._rng.permutation(len(X))
        self.model.train()
        for start in range(0, len(X), self.batch_size):
            batch = order[start:start + self.batch_size]
            tic = time.perf_counter()
            loss = self._train_step(X[batch], y[batch])
            if self.schedule is not None and self.schedule_every == "iteration":
                self.schedule.step()
            # Throughput over all updates of this ``train`` call, evaluation excluded:
            # a per-batch rate jumps around too much to read.
            self._timing[0] += len(batch)
            self._timing[1] += time.perf_counter() - tic
            if self._bar is not None:
                rate = self._timing[0] / max(self._timing[1], 1e-9)
                self._bar.set_description(f"epoch {self.epoch + 1}/{self.epochs}", refresh=False)
                self._bar.set_postfix({"loss": f"{loss:.4f}", "samples/s": f"{rate:.0f}"}, refresh=False)
                self._bar.update(1)
        self.epoch += 1
        if self.schedule is not None and self.schedule_every == "epoch":
            self.schedule.step()
        train_acc, _ = self.check_accuracy(X, y, self.num_train_samples)
        val_acc, val_loss = self.check_accuracy(self.data["X_val"], self.data["y_val"], self.num_val_samples)
        self.history["train_acc"].append(train_acc)
        self.history["val_acc"].append(val_acc)
        self.history["val_loss"].append(val_loss)
        self._track_best(val_acc if self.monitor == "val_acc" else -val_loss)
        if self.verbose:
            self._log(f"(epoch {self.epoch} / {self.epochs}) train acc {train_acc:.4f}; "
                      f"val acc {val_acc:.4f}; val loss {val_loss:.4f}")
        if self.checkpoint_dir is not None and self.epoch % self.checkpoint_every == 0:
            path = os.path.join(self.checkpoint_dir, f"epoch_{self.epoch:04d}.npz")
            self.save_checkpoint(path)
        if self.on_epoch is not None:
            self.on_epoch(self)

    def _train_step(self, X_batch, y_batch):
        """One update; the NaN/inf guard checks the loss, the gradients and the new parameters."""
        where = f"iteration {self.iteration + 1} (epoch {self.epoch + 1})"
        self.model.zero_grad()
        # The guard names what went non-finite and where; NumPy's overflow
        # warnings would only say it earlier, without the iteration.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss = self.loss_fn(self.model(mg.Tensor(X_batch)), y_batch)
            if not isinstance(loss, mg.Tensor) or loss.size != 1:
                raise TypeError(f"Solver: loss_fn must return a scalar Tensor, got {loss!r:.80}")
            value = float(loss.item())
            if not math.isfinite(value):
                bad = first_nonfinite((n, p.data) for n, p in self._named_params)
                culprit = (f"parameter '{bad}' already holds NaN or inf" if bad else
                           "all parameters are finite, so the forward pass overflowed or computed "
                           "an invalid value")
                self._fail(f"the loss is {value} at {where}; {culprit}", bad)
            loss.backward()
            bad = first_nonfinite((n, p.grad) for n, p in self._named_params)
            if bad is not None:
                self._fail(f"the gradient of parameter '{bad}' holds NaN or inf at {where} "
                           f"(loss {value:.6g})", bad)
            if self.clip_grad_norm is not None:
                clip_grad_norm_([p for _, p in self._named_params], self.clip_grad_norm)
            lr = self.optimizer.param_groups[0]["lr"]
            self.optimizer.step()
        # Finite gradients can still overflow a parameter (a huge step); stop before
        # evaluation and checkpointing see it, so the last checkpoint stays a good one.
        bad = first_nonfinite((n, p.data) for n, p in self._named_params)
        if bad is not None:
            self._fail(f"parameter '{bad}' holds NaN or inf after the update at {where} "
                       f"(loss {value:.6g}, finite gradients)", bad, updated=True)
        self.iteration += 1
        self.history["lr"].append(lr)
        self.history["loss"].append(value)
        return value

    def _fail(self, message, parameter, updated=False):
        """Raise NonFiniteError for the update in progress, with a hint and the last checkpoint.

        ``updated``: the optimizer's step itself made the non-finite value.
        """
        hint = divergence_hint(self.iteration + 1, self.optimizer.param_groups[0]["lr"], updated,
                               clipping=self.clip_grad_norm is not None)
        if self.last_checkpoint is not None:
            hint += f"; the last checkpoint is {self.last_checkpoint}"
        raise NonFiniteError(f"Solver: {message}; {hint}", self.iteration + 1, self.epoch + 1, parameter)

    def _track_best(self, score):
        if self.best_score is None or score > self.best_score:
            self.best_score, self.best_epoch = score, self.epoch
            self.best_state = self.model.state_dict()
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
            if self.patience is not None and self.bad_epochs >= self.patience:
                self.stopped_early = True
                self._log(f"early stopping after epoch {self.epoch}: no better {self.monitor} "
                          f"for {self.bad_epochs} epochs (best at epoch {self.best_epoch})",
                          force=False)

    # ----------------------------------------------------------- evaluation
    def check_accuracy(self, X, y, num_samples=None):
        """Accuracy and mean loss of the model on ``(X, y)``, in eval mode without gradients.

        With ``num_samples`` smaller than ``len(X)``, a random subset of that
        size (drawn from the solver's generator) is used.

        Returns
        -------
        accuracy, loss : float
        """
        if num_samples is not None and len(X) > num_samples:
            subset = self._rng.choice(len(X), num_samples, replace=False)
            X, y = X[subset], y[subset]
        self.model.eval()
        correct, total_loss = 0, 0.0
        with mg.no_grad():
            for start in range(0, len(X), self.eval_batch_size):
                X_batch, y_batch = X[start:start + self.eval_batch_size], y[start:start + self.eval_batch_size]
                scores = self.model(mg.Tensor(X_batch))
                total_loss += float(self.loss_fn(scores, y_batch).item()) * len(y_batch)
                correct += int(np.sum(np.argmax(scores.data, axis=1) == y_batch))
        return correct / len(X), total_loss / len(X)

    # ---------------------------------------------------------- checkpoints
    def state_dict(self):
        """Everything needed to continue training exactly where it stands."""
        return {
            "format": CHECKPOINT_FORMAT,
            "epoch": self.epoch,
            "iteration": self.iteration,
            "history": self.history,
            "model": dict(self.model.state_dict()),
            "optimizer": self.optimizer.state_dict(),
            "schedule": None if self.schedule is None else self.schedule.state_dict(),
            "rng": self._rng.bit_generator.state,
            "numpy_global_rng": np.random.get_state(),
            "module_rngs": {name: g.bit_generator.state for name, g in module_generators(self.model)},
            "best": {"epoch": self.best_epoch, "score": self.best_score,
                     "state": None if self.best_state is None else dict(self.best_state)},
            "bad_epochs": self.bad_epochs,
            "stopped_early": self.stopped_early,
        }

    def load_state_dict(self, state):
        """Restore a ``state_dict()`` into this solver, its model, optimizer and schedule.

        Everything is checked before anything changes: the model's names,
        shapes and dtypes; the optimizer's class, hyper-parameters (its base
        learning rate included) and state shapes; the schedule's class and
        arguments; the random generators; the history and counters. A state
        that does not fit raises ``CheckpointError`` and leaves the solver,
        model, optimizer, schedule and random generators as they were. On
        success this also sets NumPy's global random state (the run may
        depend on it).
        """
        self._restore(state, "the state")

    def save_checkpoint(self, path):
        """Write ``state_dict()`` to ``path`` (``.npz``, written atomically)."""
        save_checkpoint(path, self.state_dict())
        self.last_checkpoint = path

    def load_checkpoint(self, path):
        """Continue from a checkpoint written by ``save_checkpoint`` (same model, optimizer, schedule).

        Raises ``CheckpointError`` naming the file when it is unreadable or
        does not fit this solver; then nothing has changed (see ``load_state_dict``).
        """
        self._restore(load_checkpoint(path), f"checkpoint {os.fspath(path)}")
        self.last_checkpoint = path

    def _restore(self, state, source):
        try:
            plan = check_state(self, state)
        except (TypeError, ValueError) as exc:
            raise CheckpointError(f"Solver: {source} {exc}") from None
        # From here on nothing can fail: every piece was checked above.
        self.model.load_state_dict(state["model"])
        self.optimizer._commit(plan["optimizer"])
        if self.schedule is not None:
            self.schedule._commit(plan["schedule"])
        self._rng.bit_generator.state = state["rng"]
        np.random.set_state(state["numpy_global_rng"])
        for name, generator in plan["generators"].items():
            generator.bit_generator.state = state["module_rngs"][name]
        self.epoch, self.iteration = state["epoch"], state["iteration"]
        self.history = {key: list(values) for key, values in state["history"].items()}
        best = state["best"]
        self.best_epoch, self.best_score = best["epoch"], best["score"]
        self.best_state = None if best["state"] is None else dict(best["state"])
        self.bad_epochs, self.stopped_early = state["bad_epochs"], state["stopped_early"]

    # ------------------------------------------------------------- output
    def _make_bar(self):
        enabled = self.progress if self.progress is not None else sys.stdout.isatty()
        if not enabled:
            return None
        try:
            from tqdm import tqdm
        except ImportError:
            if self.progress:
                raise ImportError("Solver: progress=True needs tqdm (pip install tqdm); "
                                  "or pass progress=False") from None
            return None
        per_epoch = math.ceil(len(self.data["X_train"]) / self.batch_size)
        return tqdm(total=(self.epochs - self.epoch) * per_epoch, file=sys.stdout, unit="batch",
                    dynamic_ncols=True, leave=True)

    def _log(self, message, force=True):
        if not (force or self.verbose):
            return
        if self._bar is not None:
            self._bar.write(message, file=sys.stdout)
        else:
            print(message)


def overfit_small(model, data, n=50, *, loss_fn, optimizer=None, lr=1e-3, epochs=200,
                  batch_size=25, seed=0):
    """CS231n's sanity check: can the model reach 100 % accuracy on ``n`` training samples?

    Trains on the first ``n`` samples of ``data["X_train"]`` (Adam at ``lr``
    unless an optimizer is given) for up to ``epochs`` epochs and stops as
    soon as every one of them is classified correctly. A model that cannot
    memorise 50 samples has a bug (or far too little capacity).

    Returns
    -------
    bool
        Whether 100 % training accuracy was reached.
    """
    n = check_int("overfit_small", "n", n, low=1)
    epochs = check_int("overfit_small", "epochs", epochs, low=1)
    batch_size = check_int("overfit_small", "batch_size", batch_size, low=1)
    if not isinstance(data, dict):
        raise TypeError(f"overfit_small: data must be a dict with 'X_train' and 'y_train', "
                        f"got {type(data).__name__}")
    if "X_train" not in data or "y_train" not in data:
        raise ValueError(f"overfit_small: data must be a dict with 'X_train' and 'y_train', "
                         f"got keys {list(data)}")
    X, y = np.asarray(data["X_train"])[:n], np.asarray(data["y_train"])[:n]
    small = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    if optimizer is None:
        optimizer = Adam(model.parameters(), lr=lr)
    solver = Solver(model, small, optimizer, loss_fn, batch_size=min(batch_size, len(X)), epochs=epochs,
                    seed=seed, num_train_samples=None, restore_best=False, progress=False)
    for _ in range(solver.epochs):
        solver.run_epoch()
        if solver.history["train_acc"][-1] == 1.0:
            return True
    return False
