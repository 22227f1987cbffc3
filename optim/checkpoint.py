"""Save and load nested training state as one ``.npz`` file.

A state is a tree of dicts, lists and tuples whose leaves are ndarrays,
numbers, strings, bools or None (model and optimizer state dicts, RNG
states, histories). Each array is stored as its own ``.npy`` member, named
by its path in the tree (``model/fc1.W``, ``optimizer/state/0/exp_avg``),
so a checkpoint can be inspected with ``np.load`` alone; the rest of the tree
is one JSON document in the member ``__tree__``. Loading needs no pickle,
so opening a checkpoint cannot run code. Arrays and floats round-trip
exactly, which is what lets a resumed run continue bit-identically.

A file that is empty, truncated, damaged or not a checkpoint raises one
``CheckpointError`` naming the file and what is wrong.
"""
import json
import os
import tempfile

import numpy as np

_TREE_KEY = "__tree__"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a member, or the end record of an empty archive


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or that does not fit what it is loaded into."""


def _encode(node, path, arrays):
    if isinstance(node, np.ndarray):
        key = path or "array"
        if key in arrays:  # a dict key containing "/" can mimic a nested path
            key = f"{key}#{len(arrays)}"
        arrays[key] = node
        return {"__array__": key}
    if isinstance(node, np.generic):
        return node.item()
    if isinstance(node, dict):
        # Keys may be ints (optimizer state); store (key, value) pairs to keep their type.
        return {"__dict__": [[k, _encode(v, f"{path}/{k}" if path else str(k), arrays)]
                             for k, v in node.items()]}
    if isinstance(node, (list, tuple)):
        items = [_encode(v, f"{path}/{i}" if path else str(i), arrays) for i, v in enumerate(node)]
        return {"__tuple__": items} if isinstance(node, tuple) else items
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    raise TypeError(f"save_checkpoint: cannot store a {type(node).__name__} at '{path}'")


def _decode(node, arrays):
    if isinstance(node, list):
        return [_decode(v, arrays) for v in node]
    if isinstance(node, dict):
        if "__array__" in node:
            return arrays[node["__array__"]]
        if "__tuple__" in node:
            return tuple(_decode(v, arrays) for v in node["__tuple__"])
        return {k: _decode(v, arrays) for k, v in node["__dict__"]}
    return node


def save_checkpoint(path, state):
    """Write ``state`` (a nested dict) to ``path`` atomically.

    The file is written under a temporary name in the same directory and
    then renamed over ``path``, so a crash mid-write never leaves a torn
    checkpoint, and an existing file at ``path`` stays intact until the new
    one is complete.
    """
    if not isinstance(state, dict):
        raise TypeError(f"save_checkpoint: state must be a dict, got {type(state).__name__}")
    arrays = {}
    tree = _encode(state, "", arrays)
    if _TREE_KEY in arrays:
        raise ValueError(f"save_checkpoint: '{_TREE_KEY}' is reserved and cannot name an array")
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".npz", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{_TREE_KEY: np.array(json.dumps(tree))}, **arrays)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def load_checkpoint(path):
    """Read a state written by ``save_checkpoint``; arrays come back with their dtypes.

    Raises
    ------
    CheckpointError
        The file is empty, truncated, damaged, or not a checkpoint.
    OSError
        The file cannot be opened (missing, unreadable).
    """
    arrays = load_arrays(path, "load_checkpoint")
    if _TREE_KEY not in arrays:
        raise CheckpointError(f"load_checkpoint: {path} is not a checkpoint (no '{_TREE_KEY}' member)")
    try:
        state = _decode(json.loads(str(arrays.pop(_TREE_KEY))), arrays)
    except Exception as exc:  # JSON, a tree naming a missing array, a tree of the wrong shape
        raise CheckpointError(f"load_checkpoint: {path} is truncated, damaged or not a checkpoint "
                              f"({type(exc).__name__}: {exc})") from exc
    if not isinstance(state, dict):
        raise CheckpointError(f"load_checkpoint: {path} is not a checkpoint (its tree is not a dict)")
    return state


def load_arrays(path, func="load_arrays"):
    """Every array of the ``.npz`` file at ``path``, by member name, read without pickle.

    The one check of a checkpoint file, for ``load_checkpoint`` and for any
    plain ``np.savez`` archive (e.g. a course script's model weights).

    Raises
    ------
    CheckpointError
        ``"{func}: {path} ..."``: the file is empty, not an ``.npz`` archive,
        truncated, damaged, or holds pickled (object) arrays.
    OSError
        The file cannot be opened (missing, unreadable).
    """
    # Our own file object, closed whatever happens: np.load on a path leaks it
    # (a ResourceWarning) when the archive turns out to be damaged.
    with open(path, "rb") as file:
        head = file.read(4)
        if not head:
            raise CheckpointError(f"{func}: {path} is empty")
        if head not in _ZIP_MAGIC:
            raise CheckpointError(f"{func}: {path} is not a checkpoint (not an .npz archive)")
        file.seek(0)
        try:
            with np.load(file, allow_pickle=False) as data:
                return {name: data[name] for name in data.files}
        except Exception as exc:  # zipfile, zlib and NumPy each raise their own kinds
            raise CheckpointError(f"{func}: {path} is truncated, damaged or not a checkpoint "
                                  f"({type(exc).__name__}: {exc})") from exc
