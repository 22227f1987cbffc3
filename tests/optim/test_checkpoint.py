"""The .npz checkpoint format: exact round trips, no pickle, atomic writes, one error for bad files."""
import gc
import os
import tempfile
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optim import CheckpointError, load_checkpoint, save_checkpoint


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


# --------------------------------------------------- unreadable checkpoints
def _valid_bytes(tmp_path):
    path = tmp_path / "valid.npz"
    save_checkpoint(str(path), {"model": {"W": np.arange(6.0).reshape(2, 3)}, "epoch": 3})
    return path.read_bytes()


def _write_npz(path, **arrays):
    np.savez(path, **arrays)
    return path.read_bytes()


BAD_FILES = {
    "empty": (lambda tmp: b"", "is empty"),
    "random bytes": (lambda tmp: bytes(np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8)),
                     "not an .npz archive"),
    "npy, not npz": (lambda tmp: (np.save(tmp / "a.npy", np.ones(3)), (tmp / "a.npy").read_bytes())[1],
                     "not an .npz archive"),
    "truncated": (lambda tmp: _valid_bytes(tmp)[:-30], "truncated, damaged"),
    "zip header only": (lambda tmp: _valid_bytes(tmp)[:40], "truncated, damaged"),
    "npz without the tree": (lambda tmp: _write_npz(tmp / "p.npz", a=np.ones(2)), "no '__tree__' member"),
    "tree not JSON": (lambda tmp: _write_npz(tmp / "j.npz", __tree__=np.array("{nope")),
                      "truncated, damaged"),
    "tree not a dict": (lambda tmp: _write_npz(tmp / "l.npz", __tree__=np.array("[1, 2]")),
                        "tree is not a dict"),
    "tree names a missing array": (
        lambda tmp: _write_npz(tmp / "m.npz", __tree__=np.array('{"__dict__": [["W", {"__array__": "W"}]]}')),
        "truncated, damaged"),
    "pickled object array": (lambda tmp: _write_npz(tmp / "o.npz", __tree__=np.array([{}], dtype=object)),
                             "truncated, damaged"),
}


@pytest.mark.filterwarnings("error")  # an unclosed file would be a ResourceWarning
@pytest.mark.parametrize("case", BAD_FILES)
def test_unreadable_files_raise_one_checkpoint_error(tmp_path, case):
    make, message = BAD_FILES[case]
    path = tmp_path / "bad.npz"
    path.write_bytes(make(tmp_path))
    with pytest.raises(CheckpointError, match=message) as info:
        load_checkpoint(str(path))
    assert str(path) in str(info.value) and isinstance(info.value, ValueError)
    del info
    gc.collect()  # finalise anything left open while warnings are still errors


@settings(max_examples=30)
@given(st.binary(max_size=300), st.booleans())
def test_random_bytes_raise_checkpoint_error(data, zip_header):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "x.npz")
        with open(path, "wb") as f:
            f.write((b"PK\x03\x04" if zip_header else b"") + data)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(CheckpointError, match="x.npz"):
                load_checkpoint(path)
            gc.collect()


@settings(max_examples=30)
@given(st.data())
def test_every_truncation_raises_checkpoint_error(tmp_path_factory, data):
    tmp = tmp_path_factory.mktemp("trunc")
    valid = _valid_bytes(tmp)
    cut = data.draw(st.integers(0, len(valid) - 1))
    path = tmp / "cut.npz"
    path.write_bytes(valid[:cut])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(CheckpointError, match="cut.npz"):
            load_checkpoint(str(path))
        gc.collect()


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_checkpoint(str(tmp_path / "nothing.npz"))
