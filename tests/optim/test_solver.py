"""Solver: learning, determinism, bit-identical resume, best model, early stopping, NaN guard."""
import math
import os
import sys

import numpy as np
import pytest

import minigrad as mg
from optim import SGD, Adam, LinearLR, NonFiniteError, Solver, StepLR, overfit_small


class PoisonGrad(mg.Function):
    """Identity forward; backward returns NaN while ``armed`` (to test the guard)."""

    armed = False

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, grad):
        return (grad * np.nan if PoisonGrad.armed else grad,)


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
        return h @ PoisonGrad.apply(self.W2) + self.b2


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
    original_step = poisoned._train_step

    def step_then_poison(X, y):
        PoisonGrad.armed = poisoned.iteration == 10  # the 11th update, in epoch 2
        try:
            return original_step(X, y)
        finally:
            PoisonGrad.armed = False

    poisoned._train_step = step_then_poison
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
    (dict(batch_size=0), ValueError, "batch_size must be >= 1"),
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
    (lambda d: d.update(y_train=d["y_train"].astype(float)), ValueError, "integer labels"),
    (lambda d: d.update(X_val=d["X_val"].astype(int)), TypeError, "floating point"),
    (lambda d: d["X_train"].__setitem__((3, 1), np.nan), ValueError, "X_train'\\] contains NaN"),
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
