"""The .npz checkpoint format: exact round trips, no pickle, atomic writes."""
import os

import numpy as np
import pytest

from optim import load_checkpoint, save_checkpoint


def test_round_trip_is_exact(tmp_path):
    state = {
        "model": {"fc.W": np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32),
                  "fc.b": np.arange(4, dtype=np.int64)},
        "optimizer": {"state": {0: {"step": 7, "exp_avg": np.full(2, 1 / 3)}}, "param_groups": [
            {"lr": 0.1, "betas": (0.9, 0.999), "amsgrad": False, "params": [0]}]},
        "rng": np.random.default_rng(123).bit_generator.state,  # 128-bit integers
        "legacy": np.random.RandomState(1).get_state(),  # a tuple holding a uint32 array
        "history": {"loss": [0.1 + 0.2, float("nan"), float("inf")], "note": None, "name": "run/1"},
        "a/b": np.zeros(1), "a": {"b": np.ones(1)},  # paths that would collide
    }
    path = tmp_path / "ck.npz"
    save_checkpoint(str(path), state)
    loaded = load_checkpoint(str(path))
    assert loaded["optimizer"]["state"][0]["step"] == 7  # int keys and values survive
    assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert loaded["rng"] == state["rng"]
    assert loaded["legacy"][0] == "MT19937" and isinstance(loaded["legacy"], tuple)
    np.testing.assert_array_equal(loaded["legacy"][1], state["legacy"][1])
    assert loaded["legacy"][1].dtype == state["legacy"][1].dtype
    assert loaded["history"]["loss"][0] == 0.1 + 0.2 and np.isnan(loaded["history"]["loss"][1])
    assert loaded["history"]["note"] is None and loaded["history"]["name"] == "run/1"
    for key in ("fc.W", "fc.b"):
        assert loaded["model"][key].dtype == state["model"][key].dtype
        np.testing.assert_array_equal(loaded["model"][key], state["model"][key])
    np.testing.assert_array_equal(loaded["a/b"], 0.0)
    np.testing.assert_array_equal(loaded["a"]["b"], 1.0)
    assert "model/fc.W" in np.load(path).files  # inspectable with NumPy alone


def test_overwrite_is_atomic_and_leaves_no_temporaries(tmp_path, monkeypatch):
    path = str(tmp_path / "ck.npz")
    save_checkpoint(path, {"x": np.ones(3)})

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"x": np.zeros(3)})
    monkeypatch.undo()
    np.testing.assert_array_equal(load_checkpoint(path)["x"], 1.0)
    assert os.listdir(tmp_path) == ["ck.npz"]


def test_errors(tmp_path):
    with pytest.raises(TypeError, match="cannot store a object at 'bad'"):
        save_checkpoint(str(tmp_path / "x.npz"), {"bad": object()})
    with pytest.raises(TypeError, match="state must be a dict"):
        save_checkpoint(str(tmp_path / "x.npz"), [1, 2])
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    with pytest.raises(ValueError, match="is not a checkpoint"):
        load_checkpoint(str(tmp_path / "plain.npz"))
