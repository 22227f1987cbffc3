"""Solver: learning, determinism, bit-identical resume, best model, early stopping, NaN guard,
refused checkpoints and arguments."""
import copy
import math
import numbers
import os
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from optim import (
    SGD,
    Adam,
    CheckpointError,
    LinearLR,
    NonFiniteError,
    Solver,
    StepLR,
    load_checkpoint,
    overfit_small,
    save_checkpoint,
)


class ScaleGrad(mg.Function):
    """Identity forward; backward multiplies the gradient by ``factor`` (NaN or huge: tests the guard)."""

    factor = 1.0

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return (grad * ScaleGrad.factor,)


def scale_gradient_at(solver, iteration, factor):
    """Make ``solver``'s update number ``iteration + 1`` see its W2 gradient times ``factor``."""
    original_step = solver._train_step

    def step(X, y):
        ScaleGrad.factor = factor if solver.iteration == iteration else 1.0
        try:
            return original_step(X, y)
        finally:
            ScaleGrad.factor = 1.0

    solver._train_step = step


class MLP(mg.Module):
    """``tanh`` MLP from minigrad ops, with optional dropout drawing from its own generator."""

    def __init__(self, d=4, hidden=16, classes=3, seed=0, dropout=0.0):
        super().__init__()
        rng = np.random.default_rng(seed)
        self.W1 = mg.Parameter(rng.standard_normal((d, hidden)) / np.sqrt(d))
        self.b1 = mg.Parameter(np.zeros(hidden))
        self.W2 = mg.Parameter(rng.standard_normal((hidden, classes)) / np.sqrt(hidden))
        self.b2 = mg.Parameter(np.zeros(classes))
        self.dropout = dropout
        self.mask_rng = np.random.default_rng(seed + 100)

    def forward(self, x):
        h = (x @ self.W1 + self.b1).tanh()
        if self.training and self.dropout:
            keep = self.mask_rng.random(h.shape) >= self.dropout
            h = h * (keep / (1 - self.dropout))
        return h @ ScaleGrad.apply(self.W2) + self.b2


def cross_entropy(scores, y):
    return -scores.log_softmax(axis=1)[np.arange(len(y)), y].mean()


def blobs(n_train=120, n_val=60, seed=0, d=4, classes=3):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((classes, d)) * 2.5

    def sample(n):
        y = rng.integers(0, classes, n)
        return centers[y] + rng.standard_normal((n, d)), y

    (X_train, y_train), (X_val, y_val) = sample(n_train), sample(n_val)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}


def make_solver(model_seed=0, epochs=4, tmp=None, **kwargs):
    model = MLP(seed=model_seed, dropout=kwargs.pop("dropout", 0.0))
    opt = kwargs.pop("optimizer", None) or Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
    schedule = kwargs.pop("schedule", None)
    schedule = schedule(opt) if schedule else None
    kwargs.setdefault("progress", False)
    return Solver(model, kwargs.pop("data", None) or blobs(), opt, cross_entropy, kwargs.pop("batch_size", 16),
                  epochs, schedule, checkpoint_dir=tmp, **kwargs)


def params_of(solver):
    return {name: p.data.copy() for name, p in solver.model.named_parameters()}


def test_training_learns_and_fills_history():
    solver = make_solver(epochs=5)
    history = solver.train()
    iterations = 5 * math.ceil(120 / 16)
    assert len(history["loss"]) == len(history["lr"]) == iterations == solver.iteration
    assert all(len(history[k]) == 5 for k in ("train_acc", "val_acc", "val_loss"))
    assert np.mean(history["loss"][-8:]) < 0.5 * np.mean(history["loss"][:8])
    assert history["val_acc"][-1] > 0.8 and history["train_acc"][-1] > 0.8
    assert solver.epoch == 5 and not solver.model.training


def test_same_seed_same_run_different_seed_different_run():
    a, b, c = make_solver(epochs=2), make_solver(epochs=2), make_solver(epochs=2, seed=1)
    for s in (a, b, c):
        s.train()
    assert a.history == b.history
    assert any(not np.array_equal(x, y) for x, y in zip(params_of(a).values(), params_of(c).values()))


def test_resume_from_checkpoint_is_bit_identical(tmp_path):
    """4 epochs straight == 2 epochs, checkpoint, fresh objects (other init), load, 2 more."""
    options = dict(dropout=0.3, schedule=lambda opt: StepLR(opt, step_size=1, gamma=0.7),
                   clip_grad_norm=1.0, num_train_samples=50, restore_best=False)
    straight = make_solver(epochs=4, tmp=str(tmp_path / "a"), **options)
    straight.train()

    interrupted = make_solver(epochs=2, tmp=str(tmp_path / "b"), **options)
    interrupted.train()
    resumed = make_solver(model_seed=7, epochs=4, tmp=str(tmp_path / "b"), **options)
    resumed.load_checkpoint(str(tmp_path / "b" / "epoch_0002.npz"))
    assert resumed.epoch == 2 and resumed.optimizer.param_groups[0]["lr"] == pytest.approx(1e-2 * 0.49)
    resumed.train()

    for name, value in params_of(straight).items():
        np.testing.assert_array_equal(params_of(resumed)[name], value, err_msg=name)
    assert resumed.history == straight.history
    assert resumed.best_epoch == straight.best_epoch
    for name, value in straight.best_state.items():
        np.testing.assert_array_equal(resumed.best_state[name], value)
    np.testing.assert_array_equal(resumed.model.mask_rng.random(3), straight.model.mask_rng.random(3))


def test_best_model_is_restored_and_early_stopping(tmp_path):
    data = blobs()
    data["y_val"] = np.random.default_rng(5).integers(0, 3, len(data["y_val"]))  # unlearnable
    solver = make_solver(epochs=40, tmp=str(tmp_path), data=data, patience=3)
    solver.train()
    assert solver.stopped_early and solver.epoch == solver.best_epoch + 3 < 40
    assert solver.history["val_acc"][solver.best_epoch - 1] == max(solver.history["val_acc"])
    for name, value in params_of(solver).items():
        np.testing.assert_array_equal(value, solver.best_state[name])
    last = np.load(tmp_path / f"epoch_{solver.epoch:04d}.npz")
    assert not np.array_equal(last["model/W1"], solver.model.W1.data)  # the last epoch's were replaced


def test_monitor_val_loss_and_iteration_schedule():
    solver = make_solver(epochs=2, monitor="val_loss", schedule_every="iteration",
                         schedule=lambda opt: LinearLR(opt, start_factor=0.1, total_iters=10))
    solver.train()
    assert solver.best_score == -min(solver.history["val_loss"])
    expected = [1e-2 * (0.1 + 0.9 * min(t, 10) / 10) for t in range(solver.iteration)]
    np.testing.assert_allclose(solver.history["lr"], expected, rtol=1e-12)


def test_nonfinite_gradient_stops_training_and_keeps_checkpoints(tmp_path):
    clean = make_solver(epochs=1, tmp=str(tmp_path / "clean"))
    clean.train()
    poisoned = make_solver(epochs=3, tmp=str(tmp_path / "run"))
    scale_gradient_at(poisoned, 10, np.nan)  # the 11th update, in epoch 2
    with pytest.raises(NonFiniteError) as info:
        poisoned.train()
    err = info.value
    assert isinstance(err, FloatingPointError)
    assert (err.iteration, err.epoch, err.parameter) == (11, 2, "W2")
    message = str(err)
    assert "iteration 11 (epoch 2)" in message and "'W2'" in message
    assert "lower learning rate" in message and "epoch_0001.npz" in message
    assert os.listdir(tmp_path / "run") == ["epoch_0001.npz"]
    saved, reference = np.load(tmp_path / "run" / "epoch_0001.npz"), np.load(tmp_path / "clean" / "epoch_0001.npz")
    for key in reference.files:
        np.testing.assert_array_equal(saved[key], reference[key], err_msg=key)


def test_nonfinite_loss_names_the_iteration():
    calls = []

    def exploding(scores, y):
        calls.append(1)
        loss = cross_entropy(scores, y)
        return loss * np.inf if len(calls) == 3 else loss

    model = MLP()
    solver = Solver(model, blobs(), SGD(model.parameters(), lr=0.1), exploding, 16, 2, progress=False)
    with pytest.raises(NonFiniteError, match=r"loss is inf at iteration 3 \(epoch 1\).*overflowed.*lower learning rate"):
        solver.train()


def test_overfit_small():
    data = blobs(n_train=60)
    data["y_train"] = np.random.default_rng(3).integers(0, 3, 60)  # labels only memorisation can fit
    assert overfit_small(MLP(hidden=64), data, n=30, loss_fn=cross_entropy, lr=3e-2)

    class BiasOnly(mg.Module):
        def __init__(self):
            super().__init__()
            self.b = mg.Parameter(np.zeros(3))

        def forward(self, x):
            return x[:, :1] * 0.0 + self.b

    assert not overfit_small(BiasOnly(), data, n=30, loss_fn=cross_entropy, epochs=5)


def test_progress_bar_shows_epoch_loss_and_throughput(capsys):
    pytest.importorskip("tqdm")
    make_solver(epochs=2, progress=True).train()
    out = capsys.readouterr().out
    assert "epoch 2/2" in out and "loss=" in out and "samples/s=" in out
    make_solver(epochs=1, progress=None).train()  # stdout is captured, not a TTY: no bar
    assert capsys.readouterr().out == ""


def test_verbose_logs_each_epoch(capsys):
    make_solver(epochs=2, verbose=True).train()
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("(epoch")]
    assert len(lines) == 2 and "val acc" in lines[-1]


@pytest.mark.parametrize("change, error, message", [
    (dict(batch_size=0), ValueError, "Solver: batch_size must be an integer >= 1, got 0"),
    (dict(epochs=1.5), TypeError, "epochs must be an integer"),
    (dict(monitor="acc"), ValueError, "monitor"),
    (dict(schedule_every="batch"), ValueError, "schedule_every"),
    (dict(patience=0), ValueError, "patience"),
    (dict(clip_grad_norm=-1.0), ValueError, "clip_grad_norm"),
    (dict(progress="yes"), TypeError, "progress"),
])
def test_invalid_arguments_raise(change, error, message):
    with pytest.raises(error, match=message):
        make_solver(**change)


@pytest.mark.parametrize("edit, error, message", [
    (lambda d: d.pop("y_val"), ValueError, "missing keys \\['y_val'\\]"),
    (lambda d: d.update(y_train=d["y_train"][:-1]), ValueError, "same positive number"),
    (lambda d: d.update(y_train=d["y_train"].astype(float)), TypeError, "y_train'\\] must hold integers"),
    (lambda d: d.update(X_val=d["X_val"].astype(int)), TypeError, "float32 or float64"),
    (lambda d: d["X_train"].__setitem__((3, 1), np.nan), ValueError, "X_train'\\] must be finite"),
])
def test_invalid_data_raise(edit, error, message):
    data = blobs()
    edit(data)
    with pytest.raises(error, match=message):
        make_solver(data=data)


def test_checkpoint_from_another_model_is_rejected(tmp_path):
    solver = make_solver(epochs=1, tmp=str(tmp_path))
    solver.train()
    model = MLP(hidden=8)
    other = Solver(model, blobs(), Adam(model.parameters()), cross_entropy, 16, 2, progress=False)
    with pytest.raises(ValueError, match="shape mismatch"):
        other.load_checkpoint(str(tmp_path / "epoch_0001.npz"))


def test_modes_train_for_updates_eval_without_grad_for_evaluation():
    seen = []

    class Probe(MLP):
        def forward(self, x):
            seen.append((self.training, mg.is_grad_enabled()))
            return super().forward(x)

    model = Probe()
    Solver(model, blobs(), SGD(model.parameters(), lr=0.1), cross_entropy, 40, 1, progress=False).train()
    # 3 training batches, then train-accuracy and validation passes.
    assert seen[:3] == [(True, True)] * 3
    assert seen[3:] and set(seen[3:]) == {(False, False)}


def test_float32_model_trains_and_resumes_in_float32(tmp_path):
    data = {k: v.astype(np.float32) if k.startswith("X") else v for k, v in blobs().items()}

    def build():
        model = MLP()
        for p in model.parameters():
            p.data = p.data.astype(np.float32)
        opt = SGD(model.parameters(), lr=0.05, momentum=0.9)
        return Solver(model, data, opt, cross_entropy, 16, 2, checkpoint_dir=str(tmp_path), progress=False,
                      restore_best=False)

    first = build()
    first.train()
    assert first.history["val_acc"][-1] > 0.7
    second = build()
    second.load_checkpoint(str(tmp_path / "epoch_0002.npz"))
    assert second.optimizer.state[id(second.model.W1)]["momentum_buffer"].dtype == np.float32
    np.testing.assert_array_equal(second.model.W1.data, first.model.W1.data)
    assert second.model.W1.dtype == np.float32


def test_progress_without_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(ImportError, match="progress=True needs tqdm"):
        make_solver(epochs=1, progress=True).train()
    make_solver(epochs=1, progress=None).train()  # automatic: silently no bar


# ------------------------------------------------------ parameters of the model
def test_optimizer_over_another_models_parameters_is_refused():
    model, other = MLP(), MLP()
    with pytest.raises(ValueError, match=r"optimizer holds 4 parameter\(s\) that are not the model's"):
        Solver(model, blobs(), SGD(other.parameters(), lr=0.1), cross_entropy, progress=False)
    # Same shapes and values, other objects: identity, not equality, decides.
    mixed = [model.W1, model.b1, other.W2, model.b2]
    with pytest.raises(ValueError, match=r"1 parameter\(s\) .* group 0, position 2, shape \(16, 3\)"):
        Solver(model, blobs(), SGD(mixed, lr=0.1), cross_entropy, progress=False)
    # A subset of the model's parameters is fine (the others stay frozen).
    Solver(model, blobs(), SGD([model.W2, model.b2], lr=0.1), cross_entropy, progress=False)


# ----------------------------------------------------------- refused checkpoints
def assert_identical(a, b, path="state"):
    """``a`` and ``b`` are the same tree, arrays bit for bit."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} vs {type(b).__name__}"
    if isinstance(a, dict):
        assert list(a) == list(b), path
        for key in a:
            assert_identical(a[key], b[key], f"{path}/{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_identical(x, y, f"{path}/{i}")
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), path
    else:
        assert a == b or (a != a and b != b), f"{path}: {a!r} vs {b!r}"


def scheduled_solver(tmp, model_seed=0):
    return make_solver(model_seed=model_seed, epochs=3, tmp=str(tmp), dropout=0.2,
                       schedule=lambda opt: StepLR(opt, step_size=1, gamma=0.5))


def _set(tree, keys, value):
    for key in keys[:-1]:
        tree = tree[key]
    tree[keys[-1]] = value


REFUSED = {
    "not a solver checkpoint": (lambda s: s.pop("rng"), r"is not a Solver checkpoint \(missing \['rng'\]\)"),
    "format": (lambda s: _set(s, ["format"], 1), "has format 1, this version reads format 2"),
    "another model": (lambda s: _set(s, ["model", "W1"], np.zeros((4, 8))),
                      r"shape mismatch for model 'W1': model has \(4, 16\), checkpoint has \(4, 8\)"),
    "model dtype": (lambda s: _set(s, ["model", "W1"], s["model"]["W1"].astype(np.float32)),
                    "dtype mismatch for model 'W1': model has float64, checkpoint has float32"),
    "model keys": (lambda s: _set(s, ["model", "W3"], np.zeros(2)), r"unexpected keys \['W3'\]"),
    "optimizer type": (lambda s: _set(s, ["optimizer", "type"], "AdamW"),
                       r"does not fit the optimizer: Adam.load_state_dict: the state is of AdamW\(lr=0.01, "
                       r".*\), this optimizer is Adam\(lr=0.01, "),
    "optimizer betas": (lambda s: _set(s, ["optimizer", "param_groups", 0, "betas"], (0.5, 0.9)),
                        r"is of Adam\(lr=0.01, betas=\(0.5, 0.9\).*this optimizer is Adam\(lr=0.01, betas=\(0.9"),
    "optimizer base lr": (lambda s: _set(s, ["optimizer", "param_groups", 0, "initial_lr"], 0.5),
                          r"is of Adam\(lr=0.5, .*this optimizer is Adam\(lr=0.01,"),
    "optimizer state shape": (lambda s: _set(s, ["optimizer", "state", 0, "exp_avg"], np.zeros((2, 2))),
                              r"does not fit the optimizer: .*'exp_avg' of parameter 0 has shape \(2, 2\)"),
    "optimizer state entries": (lambda s: s["optimizer"]["state"][1].pop("exp_avg_sq"),
                                "does not fit the optimizer: .*state of parameter 1 must hold"),
    "schedule type": (lambda s: _set(s, ["schedule", "config"], {"type": "ExponentialLR", "gamma": 0.5}),
                      r"does not fit the schedule: StepLR.load_state_dict: the state is of ExponentialLR\(gamma=0.5\), "
                      r"this schedule is StepLR\(step_size=1, gamma=0.5\)"),
    "schedule config": (lambda s: _set(s, ["schedule", "config", "step_size"], 2),
                        r"the state is of StepLR\(step_size=2, gamma=0.5\), this schedule is StepLR\(step_size=1"),
    "no schedule": (lambda s: _set(s, ["schedule"], None), r"has no schedule, this solver has StepLR"),
    "schedule clock": (lambda s: _set(s, ["schedule", "last_epoch"], -1),
                       "does not fit the schedule: .*last_epoch"),
    "rng": (lambda s: _set(s, ["rng", "bit_generator"], "MT19937"), "invalid rng generator state"),
    "module rngs": (lambda s: _set(s, ["module_rngs"], {}),
                    r"random generators for \[\], the model has \['mask_rng'\]"),
    "module rng state": (lambda s: _set(s, ["module_rngs", "mask_rng", "state"], "x"),
                         r"invalid module_rngs\['mask_rng'\] generator state"),
    "numpy global rng": (lambda s: _set(s, ["numpy_global_rng"],
                                        ("MT19937", np.zeros(3, np.uint32), 0, 0, 0.0)),
                         "invalid numpy_global_rng state"),
    "history length": (lambda s: s["history"]["loss"].pop(), "history whose 'loss' is not a list of 8 numbers"),
    "history keys": (lambda s: s["history"].pop("lr"), "history without the keys"),
    "history values": (lambda s: _set(s, ["history", "val_acc", 0], "high"),
                       r"invalid history\['val_acc'\]\[0\] \(.* must be a real number, got 'high'\)"),
    "epoch": (lambda s: _set(s, ["epoch"], -1),
              r"holds an invalid epoch \(epoch must be an integer >= 0, got -1\)"),
    "iteration type": (lambda s: _set(s, ["iteration"], 8.0),
                       r"holds an invalid iteration \(iteration must be an integer, got 8.0\)"),
    "best state": (lambda s: _set(s, ["best", "state", "b1"], np.zeros(3)),
                   "shape mismatch for best model 'b1'"),
    "best epoch": (lambda s: _set(s, ["best", "epoch"], 7),
                   r"holds an invalid best epoch \(best epoch must be an integer in \[1, 1\], got 7\)"),
    "stopped_early": (lambda s: _set(s, ["stopped_early"], "no"),
                      r"invalid stopped_early \(stopped_early must be True or False, got 'no'\)"),
    # A checkpoint of a diverged model must not bring NaN weights back.
    "NaN model weight": (lambda s: s["model"]["W2"].__setitem__((0, 1), np.nan),
                         r"holds NaN or inf in model 'W2' \(weights of a diverged run\)"),
    "inf best weight": (lambda s: s["best"]["state"]["b1"].__setitem__(2, -np.inf),
                        r"holds NaN or inf in best model 'b1'"),
    "NaN history entry": (lambda s: _set(s, ["history", "loss", 3], math.nan),
                          r"invalid history\['loss'\]\[3\] \(history\['loss'\]\[3\] must be finite, got nan\)"),
    "inf history entry": (lambda s: _set(s, ["history", "val_loss", 0], math.inf),
                          r"invalid history\['val_loss'\]\[0\]"),
    "bool history entry": (lambda s: _set(s, ["history", "lr", 0], True),
                           r"invalid history\['lr'\]\[0\] \(history\['lr'\]\[0\] must be a real number"),
    "bool best score": (lambda s: _set(s, ["best", "score"], True),
                        r"invalid best score \(best score must be a real number, got True\)"),
    "NaN best score": (lambda s: _set(s, ["best", "score"], math.nan), r"invalid best score"),
}


@pytest.fixture(scope="module")
def one_epoch_checkpoint(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("source")
    scheduled_solver(tmp).run_epoch()
    solver = scheduled_solver(tmp)
    solver.run_epoch()
    solver.save_checkpoint(str(tmp / "source.npz"))
    return str(tmp / "source.npz")


@pytest.mark.parametrize("case", REFUSED)
def test_refused_checkpoint_changes_nothing(tmp_path, one_epoch_checkpoint, case):
    edit, message = REFUSED[case]
    state = load_checkpoint(one_epoch_checkpoint)
    edit(state)
    bad = str(tmp_path / "bad.npz")
    save_checkpoint(bad, state)

    # A solver in the middle of its own run (other weights, moments, clock, history, generators).
    solver = scheduled_solver(tmp_path, model_seed=5)
    solver.run_epoch()
    np.random.seed(11)
    before = copy.deepcopy(solver.state_dict())
    lr_before, last_before = solver.optimizer.param_groups[0]["lr"], solver.last_checkpoint
    with pytest.raises(CheckpointError, match=message) as info:
        solver.load_checkpoint(bad)
    assert f"checkpoint {bad} " in str(info.value)
    assert_identical(solver.state_dict(), before)  # model, optimizer, schedule, RNGs, history, best
    assert solver.optimizer.param_groups[0]["lr"] == lr_before and solver.last_checkpoint == last_before
    # ... and the loaded state dict is refused the same way, without a file.
    with pytest.raises(CheckpointError, match=message):
        solver.load_state_dict(state)
    assert_identical(solver.state_dict(), before)


def test_adam_checkpoint_into_sgd_solver_is_refused(tmp_path, one_epoch_checkpoint):
    model = MLP(dropout=0.2)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    solver = Solver(model, blobs(), opt, cross_entropy, 16, 3, StepLR(opt, step_size=1, gamma=0.5),
                    progress=False)
    with pytest.raises(CheckpointError, match=r"the state is of Adam\(lr=0.01, betas=\(0.9, 0.999\), "
                                              r"eps=1e-08, weight_decay=0.0001, amsgrad=False\), this "
                                              r"optimizer is SGD\(lr=0.1, momentum=0.9, dampening=0.0"):
        solver.load_checkpoint(one_epoch_checkpoint)
    assert opt.param_groups[0]["lr"] == 0.1 and "betas" not in opt.param_groups[0] and opt.state == {}


def test_unreadable_checkpoint_file_is_a_checkpoint_error(tmp_path):
    path = tmp_path / "epoch_0001.npz"
    path.write_bytes(b"")
    with pytest.raises(CheckpointError, match="epoch_0001.npz is empty"):
        make_solver().load_checkpoint(str(path))


# ---------------------------------------------------------------- checkpoint_dir
WRITABLE = "Solver: checkpoint_dir must be a directory where files can be written, got"


def test_checkpoint_dir_that_is_a_file_is_refused_at_construction(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match=f"{WRITABLE} '.*file' \\(File exists\\)"):
        make_solver(tmp=str(tmp_path / "file"))
    with pytest.raises(TypeError, match="Solver: checkpoint_dir must be a path, got int"):
        make_solver(tmp=3)


def test_unwritable_checkpoint_dir_is_refused_before_any_training(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match=f"{WRITABLE} '.*file/runs'"):  # below a file: cannot be created
        make_solver(tmp=str(tmp_path / "file" / "runs"))


def test_read_only_checkpoint_dir_is_refused_before_any_training(tmp_path, monkeypatch):
    # Root may write anywhere, so the refusal of a read-only folder is simulated.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("minigrad.validation.tempfile.TemporaryFile", refuse)
    with pytest.raises(ValueError, match=f"{WRITABLE} '.*ro' \\(Permission denied\\)"):
        make_solver(tmp=str(tmp_path / "ro"))


def test_checkpoint_dir_is_created_by_the_solver_and_holds_only_checkpoints(tmp_path):
    solver = make_solver(epochs=1, tmp=str(tmp_path / "a" / "b"))
    assert os.listdir(tmp_path / "a" / "b") == []  # probed: the scratch file is gone
    solver.train()
    assert os.listdir(tmp_path / "a" / "b") == ["epoch_0001.npz"]


def test_data_of_another_dtype_than_the_model_is_refused_at_construction(tmp_path):
    data = {k: v.astype(np.float32) if k.startswith("X") else v for k, v in blobs().items()}
    with pytest.raises(TypeError, match=r"Solver: data\['X_train'\] must have the dtype of the model's "
                                        r"parameters \(float64\), got float32"):
        make_solver(data=data, tmp=str(tmp_path / "runs"))
    assert not (tmp_path / "runs").exists()  # refused before the folder was made


# --------------------------------------------------------------------- NaN guard
class LogOf(MLP):
    """Takes the log of the hidden layer (negative entries: NaN) at one chosen iteration."""

    poison_at = None

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += self.training
        h = (x @ self.W1 + self.b1).tanh()
        if self.training and self.calls == self.poison_at:
            h = h.log()
        return h @ self.W2 + self.b2


def test_nan_from_the_forward_pass_is_caught_with_its_iteration():
    model = LogOf()
    model.poison_at = 5
    solver = Solver(model, blobs(), SGD(model.parameters(), lr=0.1), cross_entropy, 16, 2, progress=False)
    with pytest.raises(NonFiniteError, match=r"the loss is nan at iteration 5 \(epoch 1\); all parameters "
                                             r"are finite, so the forward pass .*invalid value") as info:
        solver.train()
    assert (info.value.iteration, info.value.epoch, info.value.parameter) == (5, 1, None)
    assert solver.iteration == 4 and len(solver.history["loss"]) == len(solver.history["lr"]) == 4


def test_parameter_that_overflows_in_the_update_stops_before_the_checkpoint(tmp_path):
    """The last update of epoch 2 turns W2 into inf: no NaN checkpoint, epoch 1's survives."""
    model = MLP()
    solver = Solver(model, blobs(), SGD(model.parameters(), lr=1e10), cross_entropy, 16, 3,
                    checkpoint_dir=str(tmp_path), progress=False)
    scale_gradient_at(solver, 15, 1e300)  # the 16th update, the last of epoch 2
    with np.errstate(over="ignore"), pytest.raises(NonFiniteError) as info:
        solver.train()
    assert (info.value.iteration, info.value.epoch, info.value.parameter) == (16, 2, "W2")
    message = str(info.value)
    assert "parameter 'W2' holds NaN or inf after the update at iteration 16 (epoch 2)" in message
    assert "lower learning rate (now 1e+10)" in message and "epoch_0001.npz" in message
    assert os.listdir(tmp_path) == ["epoch_0001.npz"] and solver.epoch == 1
    assert len(solver.history["loss"]) == solver.iteration == 15
    assert np.isfinite(load_checkpoint(str(tmp_path / "epoch_0001.npz"))["model"]["W2"]).all()


class LinearModel(mg.Module):
    def __init__(self):
        super().__init__()
        self.W = mg.Parameter(np.random.default_rng(0).standard_normal((4, 3)))

    def forward(self, x):
        return x @ self.W


def test_diverging_run_ends_in_nonfinite_error():
    """Weights near the float64 limit: the next forward pass overflows to inf - inf = NaN."""
    model = LinearModel()
    solver = Solver(model, blobs(), SGD(model.parameters(), lr=1e308), cross_entropy, 16, 3, progress=False)
    with pytest.raises(NonFiniteError, match=r"loss is nan at iteration 2 \(epoch 1\); all parameters are "
                                             r"finite, so the forward pass overflowed.*lower learning rate "
                                             r"\(now 1e\+308\) or gradient clipping") as info:
        solver.train()
    assert (info.value.iteration, info.value.parameter) == (2, None) and solver.epoch == 0


def test_diverging_layers_model_ends_in_nonfinite_error():
    """With batch norm and cross-entropy in the model (every course script), NaN reaches the guard."""
    import layers
    model = layers.Sequential(layers.Linear(4, 16), layers.BatchNorm1d(16), layers.ReLU(), layers.Linear(16, 3))
    data = {k: v.astype(np.float32) if k.startswith("X") else v for k, v in blobs().items()}
    solver = Solver(model, data, SGD(model.parameters(), lr=1e30), layers.cross_entropy, 16, 3, progress=False)
    message = r"the loss is nan at iteration \d+ \(epoch 1\).*lower learning rate"
    with pytest.raises(NonFiniteError, match=message):
        solver.train()


# ---------------------------------------------------------- hyper-parameters
INT_ARGS = {"batch_size": 1, "epochs": 1, "seed": 0, "num_train_samples": 1, "num_val_samples": 1,
            "eval_batch_size": 1, "patience": 1, "checkpoint_every": 1}
NOT_A_NUMBER = st.sampled_from([True, False, "3", [3], object()])


def _expected_error(value, integer):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return TypeError
    if integer and not isinstance(value, numbers.Integral):
        return TypeError
    return ValueError


@st.composite
def bad_solver_argument(draw):
    name = draw(st.sampled_from(sorted(INT_ARGS) + ["clip_grad_norm"]))
    if name == "clip_grad_norm":
        value = draw(st.one_of(st.floats(max_value=0.0), st.sampled_from([math.nan, math.inf, -math.inf]),
                               st.integers(max_value=0), NOT_A_NUMBER))
    else:
        value = draw(st.one_of(st.integers(max_value=INT_ARGS[name] - 1), st.floats(), NOT_A_NUMBER))
    return name, value


@settings(max_examples=60)
@given(bad_solver_argument())
def test_bad_numeric_arguments_raise_naming_the_argument(arg):
    name, value = arg
    with pytest.raises(_expected_error(value, name != "clip_grad_norm"), match=f"Solver: {name} must be"):
        make_solver(**{name: value})


@settings(max_examples=20)
@given(st.sampled_from(["restore_best", "verbose", "progress"]),
       st.sampled_from([1, 0, "yes", 1.0, np.float64(1.0), [True]]))
def test_bad_flags_raise_type_error(name, value):
    with pytest.raises(TypeError, match=f"Solver: {name} must be True or False"):
        make_solver(**{name: value})


@pytest.mark.parametrize("name, value", [("monitor", "val_accuracy"), ("monitor", None),
                                         ("schedule_every", "step"), ("schedule_every", 1)])
def test_bad_choices_raise(name, value):
    with pytest.raises(ValueError, match=f"Solver: {name} must be one of"):
        make_solver(**{name: value})


def test_negative_labels_are_refused():
    data = blobs()
    data["y_val"][4] = -1
    with pytest.raises(ValueError, match=r"y_val'\] must hold labels >= 0, got -1"):
        make_solver(data=data)


@pytest.mark.parametrize("data, error, message", [
    (None, TypeError, "overfit_small: data must be a dict with 'X_train' and 'y_train', got NoneType"),
    ([1, 2], TypeError, "got list"),
    ({"X_train": np.zeros((2, 4))}, ValueError, r"got keys \['X_train'\]"),
])
def test_overfit_small_data_must_be_a_dict_of_training_arrays(data, error, message):
    with pytest.raises(error, match=message):
        overfit_small(MLP(), data, loss_fn=cross_entropy)


@pytest.mark.parametrize("kwargs, message", [(dict(n=0), "overfit_small: n must be"),
                                             (dict(epochs=0), "overfit_small: epochs must be"),
                                             (dict(batch_size=1.5), "overfit_small: batch_size must be"),
                                             (dict(lr=math.inf), "Adam: lr must be")])
def test_overfit_small_arguments(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        overfit_small(MLP(), blobs(), loss_fn=cross_entropy, **kwargs)


def test_nan_before_any_update_blames_the_model_not_the_learning_rate():
    model = LogOf()
    model.poison_at = 1
    solver = Solver(model, blobs(), SGD(model.parameters(), lr=0.1), cross_entropy, 16, 2, progress=False)
    with pytest.raises(NonFiniteError, match=r"iteration 1 \(epoch 1\).*no update has been made yet") as info:
        solver.train()
    assert "learning rate" not in str(info.value)


def test_checkpoint_dir_may_be_a_path_object(tmp_path):
    solver = make_solver(epochs=1, tmp=tmp_path / "runs")
    assert solver.checkpoint_dir == str(tmp_path / "runs")
    solver.train()
    assert os.listdir(tmp_path / "runs") == ["epoch_0001.npz"]


def test_a_checkpoint_of_a_diverged_run_is_refused_and_changes_nothing(tmp_path):
    """The file a crashed run might leave by other means: every weight NaN."""
    solver = make_solver(epochs=2)
    solver.run_epoch()
    state = solver.state_dict()
    state["model"] = {k: np.full_like(v, np.nan) for k, v in state["model"].items()}
    before = params_of(solver)
    with pytest.raises(CheckpointError, match=r"holds NaN or inf in model '\w+' \(weights of a diverged run\)"):
        solver.load_state_dict(state)
    for name, value in params_of(solver).items():
        np.testing.assert_array_equal(value, before[name])
