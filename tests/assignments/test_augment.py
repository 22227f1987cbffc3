from functools import partial

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assignments import augment as A
from assignments.data import random_crop
from classic_cv import resize
from tests.conftest import assert_close

dtypes = st.sampled_from([np.float32, np.float64])
batches = st.tuples(st.integers(0, 4), st.integers(1, 3), st.integers(1, 9), st.integers(1, 9))


def _images(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).random(shape).astype(dtype)


TRANSFORMS = {
    "crop": partial(A.random_resized_crop, scale=(0.3, 1.0)),
    "crop_resized": partial(A.random_resized_crop, size=(5, 4)),
    "shift": partial(A.random_shift, max_shift=2),
    "rotation": partial(A.random_rotation, degrees=20),
    "noise": partial(A.gaussian_noise, std=0.1),
    "recipe": A.contrastive_augmentation(),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
@given(shape=batches, dtype=dtypes, seed=st.integers(0, 999))
def test_seeded_shape_and_dtype_kept(name, shape, dtype, seed):
    t = TRANSFORMS[name]
    x = _images(shape, dtype, seed)
    out = t(x, rng=seed)
    expected_shape = shape[:2] + (5, 4) if name == "crop_resized" else shape
    assert out.shape == expected_shape and out.dtype == dtype
    np.testing.assert_array_equal(t(x, rng=seed), out)  # an int seed fixes the draw
    np.testing.assert_array_equal(t(x, rng=np.random.default_rng(seed)), out)  # as does its Generator
    np.testing.assert_array_equal(x, _images(shape, dtype, seed))  # the input is left alone


@pytest.mark.parametrize("name", ["crop", "rotation", "noise", "recipe"])
def test_different_seeds_give_different_views(name):
    x = _images((8, 1, 12, 12))
    assert not np.array_equal(TRANSFORMS[name](x, rng=1), TRANSFORMS[name](x, rng=2))


@given(shape=batches, dtype=dtypes)
def test_identity_at_zero_strength(shape, dtype):
    x = _images(shape, dtype)
    aspect = shape[3] / shape[2]
    for out in (A.random_resized_crop(x, scale=(1, 1), ratio=(aspect, aspect), rng=0),
                A.random_shift(x, 0, rng=0), A.random_rotation(x, 0, rng=0), A.rotate(x, 0.0),
                A.gaussian_noise(x, 0.0, rng=0)):
        assert out.dtype == dtype
        np.testing.assert_array_equal(out, x)


@given(n=st.integers(1, 3), size=st.integers(1, 8), dtype=dtypes, seed=st.integers(0, 999))
def test_quarter_turns_of_square_images_are_rot90(n, size, dtype, seed):
    x = _images((n, 2, size, size), dtype, seed)
    for k in range(-2, 5):
        np.testing.assert_array_equal(A.rotate(x, 90.0 * k), np.rot90(x, k, axes=(2, 3)))
    # One angle per image.
    turns = np.arange(n) % 4
    expected = np.stack([np.rot90(x[i], turns[i], axes=(1, 2)) for i in range(n)])
    np.testing.assert_array_equal(A.rotate(x, 90.0 * turns), expected)


@pytest.mark.parametrize("angle", [-33.0, 7.5, 15.0, 120.0])
def test_rotation_matches_skimage(skimage, angle):
    from skimage.transform import rotate as sk_rotate

    image = skimage.data.camera()[::16, ::12].astype(np.float64) / 255  # 32 x 43, not square
    ours = A.rotate(image[None, None], angle, fill=0.25)[0, 0]
    theirs = sk_rotate(image, angle, order=1, mode="constant", cval=0.25)
    assert_close(ours, theirs, 1e-12, f"rotate {angle}")


@given(n=st.integers(0, 20), height=st.integers(1, 40), width=st.integers(1, 40),
       scale=st.tuples(st.floats(0.01, 1.0), st.floats(0.01, 1.0)).map(sorted),
       ratio=st.tuples(st.floats(0.2, 5.0), st.floats(0.2, 5.0)).map(sorted), seed=st.integers(0, 999))
def test_crop_boxes_stay_inside_with_their_ratio_and_area(n, height, width, scale, ratio, seed):
    boxes = A.sample_crop_boxes(n, (height, width), tuple(scale), tuple(ratio), rng=seed)
    assert boxes.shape == (n, 4) and boxes.dtype == np.float64
    x1, y1, x2, y2 = boxes.T
    assert np.all((0 <= x1) & (x1 < x2) & (x2 <= width) & (0 <= y1) & (y1 < y2) & (y2 <= height))
    r = (x2 - x1) / (y2 - y1)
    assert np.all((r >= ratio[0] * (1 - 1e-9)) & (r <= ratio[1] * (1 + 1e-9)))
    area = (x2 - x1) * (y2 - y1) / (height * width)
    # The drawn area is in ``scale`` wherever the box fits at its ratio; otherwise it is the largest that fits.
    largest = np.minimum((width / height) / r, r / (width / height))
    fits = largest >= scale[0]
    assert np.all(area[fits] >= scale[0] * (1 - 1e-9)) and np.all(area[fits] <= scale[1] * (1 + 1e-9))
    assert_close(area[~fits], largest[~fits], 1e-9, "area of boxes that cannot reach scale[0]")


@given(n=st.integers(1, 3), h=st.integers(1, 9), w=st.integers(1, 9), out_h=st.integers(1, 12),
       out_w=st.integers(1, 12), seed=st.integers(0, 999))
def test_resized_crop_samples_like_classic_cv_resize(n, h, w, out_h, out_w, seed):
    x = _images((n, 2, h, w), np.float64, seed)
    whole = np.tile([0.0, 0.0, w, h], (n, 1))
    out = A.resized_crop(x, whole, size=(out_h, out_w))
    for i in range(n):
        expected = resize(np.moveaxis(x[i], 0, -1), (out_h, out_w), mode="nearest")
        assert_close(np.moveaxis(out[i], 0, -1), expected, 1e-12, f"image {i}")
    # A box on whole pixels, resampled at its own size, is the slice.
    rng = np.random.default_rng(seed)
    x1, y1 = rng.integers(0, w), rng.integers(0, h)
    x2, y2 = rng.integers(x1 + 1, w + 1), rng.integers(y1 + 1, h + 1)
    box = np.tile([x1, y1, x2, y2], (n, 1)).astype(np.float64)
    np.testing.assert_array_equal(A.resized_crop(x, box, size=(y2 - y1, x2 - x1)), x[:, :, y1:y2, x1:x2])


def test_random_resized_crop_samples_inside_the_image():
    # On a ramp image each output value is the sampled column itself (bilinear is exact on a ramp).
    h, w = 10, 16
    x = np.broadcast_to(np.arange(w, dtype=np.float64), (50, 1, h, w)).copy()
    out = A.random_resized_crop(x, scale=(0.1, 0.5), ratio=(0.5, 2.0), rng=3)
    assert np.all((out >= 0) & (out <= w - 1))
    assert np.all(np.diff(out, axis=3) >= 0)  # a crop is never mirrored
    spans = out[:, 0, 0, -1] - out[:, 0, 0, 0]
    assert np.all(spans < (w - 1) * 0.9)  # and really zooms in


def test_random_shift_is_data_random_crop():
    x = _images((6, 2, 7, 7))
    np.testing.assert_array_equal(A.random_shift(x, 3, rng=5), random_crop(x, 3, np.random.default_rng(5)))


def test_gaussian_noise_statistics_and_clip():
    x = np.full((20, 3, 30, 30), 0.5)
    noise = A.gaussian_noise(x, 0.2, rng=0) - x
    assert abs(noise.mean()) < 0.005 and abs(noise.std() - 0.2) < 0.005
    clipped = A.gaussian_noise(x, 1.0, clip=(0, 1), rng=0)
    assert clipped.min() == 0 and clipped.max() == 1


def test_compose_and_two_views_share_one_generator():
    x = _images((4, 1, 8, 8))
    crop, noise = TRANSFORMS["crop"], TRANSFORMS["noise"]
    g = np.random.default_rng(9)
    np.testing.assert_array_equal(A.compose(crop, noise)(x, rng=9), noise(crop(x, rng=g), rng=g))
    g = np.random.default_rng(4)
    view1, view2 = A.two_views(x, crop, rng=4)
    np.testing.assert_array_equal(view1, crop(x, rng=g))
    np.testing.assert_array_equal(view2, crop(x, rng=g))
    assert not np.array_equal(view1, view2)
    np.testing.assert_array_equal(A.compose()(x, rng=0), x)


def test_bad_parameters_are_refused():
    x = _images((2, 1, 6, 6))
    cases = [
        (ValueError, r"random_resized_crop: x must be 4-D \(N, C, H, W\), got shape \(6, 6\)",
         lambda: A.random_resized_crop(x[0, 0])),
        (TypeError, "random_rotation: x must be float32 or float64, got dtype int64",
         lambda: A.random_rotation(np.ones((1, 1, 3, 3), dtype=np.int64), 5)),
        (ValueError, "random_resized_crop: scale must have low <= high, got", lambda: A.random_resized_crop(x, (0.5, 0.2))),
        (ValueError, r"random_resized_crop: scale\[0\] must be in \(0, 1\], got 0.0",
         lambda: A.random_resized_crop(x, (0, 1))),
        (ValueError, r"random_resized_crop: ratio\[0\] must be > 0, got -1.0",
         lambda: A.random_resized_crop(x, ratio=(-1, 1))),
        (TypeError, r"random_resized_crop: scale must be a pair \(low, high\), got 0.5",
         lambda: A.random_resized_crop(x, 0.5)),
        (ValueError, r"random_resized_crop: size\[1\] must be an integer >= 1, got 0",
         lambda: A.random_resized_crop(x, size=(4, 0))),
        (ValueError, r"sample_crop_boxes: shape\[0\] must be an integer >= 1, got 0",
         lambda: A.sample_crop_boxes(3, (0, 4))),
        (ValueError, r"resized_crop: boxes must satisfy 0 <= x1 < x2 <= 6 and 0 <= y1 < y2 <= 6, got box 1",
         lambda: A.resized_crop(x, np.array([[0, 0, 6, 6], [1, 1, 7, 3.0]]))),
        (ValueError, r"resized_crop: boxes must have shape \(2, 4\), one per image, got \(1, 4\)",
         lambda: A.resized_crop(x, np.array([[0, 0, 6, 6.0]]))),
        (ValueError, "random_shift: max_shift must be an integer >= 0, got -1", lambda: A.random_shift(x, -1)),
        (TypeError, "random_shift: max_shift must be an integer, got 1.5", lambda: A.random_shift(x, 1.5)),
        (ValueError, r"random_rotation: degrees must be in \[0, 180\], got 200.0", lambda: A.random_rotation(x, 200)),
        (ValueError, r"rotate: angle must be a number or \(2,\), one per image, got shape \(3,\)",
         lambda: A.rotate(x, [1.0, 2.0, 3.0])),
        (ValueError, "rotate: angle must be finite", lambda: A.rotate(x, np.nan)),
        (ValueError, "gaussian_noise: std must be >= 0, got -0.1", lambda: A.gaussian_noise(x, -0.1)),
        (TypeError, "gaussian_noise: rng must be a numpy Generator, an int seed or None, got str",
         lambda: A.gaussian_noise(x, 0.1, rng="seed")),
        (TypeError, r"compose: transforms\[1\] must be callable, got int", lambda: A.compose(A.rotate, 3)),
        (TypeError, "two_views: transform must be callable, got NoneType", lambda: A.two_views(x, None)),
        (ValueError, r"contrastive_augmentation: degrees must be in \[0, 180\], got -5.0",
         lambda: A.contrastive_augmentation(degrees=-5)),
    ]
    for error, message, call in cases:
        with pytest.raises(error, match=message):
            call()
