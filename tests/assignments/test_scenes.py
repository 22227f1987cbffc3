"""Digit scenes: labels agree with boxes, splits never share a digit, seeds reproduce scenes."""
import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assignments.data import load_mnist5k
from assignments.scenes import INK, NUM_CLASSES, _interpolation_matrix, load_digit_scenes, make_scenes


@pytest.fixture(scope="module")
def mnist():
    return load_mnist5k()


@pytest.fixture(scope="module")
def splits():
    return load_digit_scenes(n_train=120, n_val=30, n_test=30, seed=3)


def _iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = lambda r: (r[2] - r[0]) * (r[3] - r[1])  # noqa: E731
    return w * h / (area(a) + area(b) - w * h)


def test_masks_agree_with_boxes_and_images(splits):
    for scenes in (splits.train, splits.val, splits.test):
        assert scenes.images.shape == (len(scenes), 1, 64, 64) and scenes.images.dtype == np.float32
        assert scenes.masks.min() >= 0 and scenes.masks.max() < NUM_CLASSES
        for image, mask, boxes, labels in zip(scenes.images[:, 0], scenes.masks, scenes.boxes, scenes.labels):
            assert 1 <= len(boxes) <= 4 and len(labels) == len(boxes)
            # Labelled pixels are ink (>= rather than >: the float32 image may round 0.5000001 down).
            assert np.all(image[mask > 0] >= INK)
            inside = np.zeros(mask.shape, bool)
            for (x1, y1, x2, y2), digit in zip(boxes.astype(int), labels):
                assert 0 <= x1 < x2 <= 64 and 0 <= y1 < y2 <= 64 and max(x2 - x1, y2 - y1) <= 36
                box_mask = mask[y1:y2, x1:x2]
                assert np.any(box_mask == 1 + digit), "a digit must stay visible in its box"
                inside[y1:y2, x1:x2] |= box_mask == 1 + digit
            # Every pixel of class 1 + d lies in a box of digit d.
            assert np.array_equal(inside, mask > 0)
            for i in range(len(boxes)):
                for j in range(i):
                    assert _iou(boxes[i], boxes[j]) <= 0.1 + 1e-9


def test_splits_draw_from_disjoint_digits(mnist, splits):
    """Train scenes use the training digits, val/test scenes the held-out ones, and no
    held-out image is also a training image."""
    pools = {"train": (mnist.X_train, mnist.y_train), "val": (mnist.X_val, mnist.y_val),
             "test": (mnist.X_test, mnist.y_test)}
    for name, (X, y) in pools.items():
        scenes = getattr(splits, name)
        for labels, sources in zip(scenes.labels, scenes.sources):
            assert np.all(sources < len(X)) and np.array_equal(labels, y[sources])
    digest = lambda a: hashlib.sha1(np.ascontiguousarray(a).tobytes()).hexdigest()  # noqa: E731
    train = {digest(x) for x in mnist.X_train}
    used_test = {digest(mnist.X_test[s]) for sources in splits.test.sources for s in sources}
    assert used_test and not used_test & train


def test_scenes_are_deterministic_under_a_seed(splits):
    again = load_digit_scenes(n_train=120, n_val=30, n_test=30, seed=3)
    np.testing.assert_array_equal(again.train.images, splits.train.images)
    np.testing.assert_array_equal(again.test.masks, splits.test.masks)
    # A split's scenes do not depend on the other splits' sizes.
    np.testing.assert_array_equal(load_digit_scenes(n_train=5, n_val=30, n_test=30, seed=3).test.masks,
                                  splits.test.masks)
    other = load_digit_scenes(n_train=120, n_val=1, n_test=1, seed=4)
    assert not np.array_equal(other.train.images, splits.train.images)


@settings(max_examples=20)
@given(n_out=st.integers(1, 40), n_in=st.integers(1, 30), seed=st.integers(0, 99))
def test_interpolation_matrix_resizes_like_classic_cv(n_out, n_in, seed):
    from classic_cv import resize

    image = np.random.default_rng(seed).random((n_in, n_in))
    matrix = _interpolation_matrix(n_out, n_in)
    np.testing.assert_allclose(matrix @ image @ matrix.T, resize(image, (n_out, n_out), mode="constant"),
                               atol=1e-12)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n_scenes=-1), ValueError, r"n_scenes must be"),
    (dict(n_scenes=1, scale=(30, 20)), ValueError, r"scale and per_scene must be \(min, max\) with min <= max"),
    (dict(n_scenes=1, size=20), ValueError, r"size must be"),
    (dict(n_scenes=1, max_overlap=1.0), ValueError, r"max_overlap must be"),
    (dict(n_scenes=1, per_scene=(0, 2)), ValueError, r"per_scene must be"),
    (dict(n_scenes=1, rng="seed"), TypeError, r"rng must be"),
])
def test_make_scenes_rejects_bad_arguments(mnist, kwargs, error, match):
    with pytest.raises(error, match=rf"^make_scenes: {match}"):
        make_scenes(mnist.X_val[:5], mnist.y_val[:5], **kwargs)


def test_make_scenes_rejects_mismatched_pools(mnist):
    with pytest.raises(ValueError, match=r"^make_scenes: digits and digit_labels must hold the same number"):
        make_scenes(mnist.X_val[:5], mnist.y_val[:4], 1)
