"""Image argument checks: every bad input is rejected with a message naming the argument.

The generic checks (numbers, integers, choices) live in ``minigrad.validation``
and are tested with it (``tests/minigrad/test_validation.py``).
"""
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from classic_cv._validate import as_float_array, as_float_image, as_gray, check_image, check_mask, check_min_size


def test_float_image_keeps_float32_and_float64():
    for dtype in (np.float32, np.float64):
        x = np.ones((3, 4), dtype=dtype)
        assert as_float_image("f", "image", x).dtype == dtype


def test_integer_images_are_scaled_by_dtype_max():
    x = np.array([[0, 128, 255]], dtype=np.uint8)
    np.testing.assert_allclose(as_float_image("f", "image", x), [[0.0, 128 / 255, 1.0]])
    y = np.array([[0, 65535]], dtype=np.uint16)
    np.testing.assert_allclose(as_float_image("f", "image", y, dtype=np.float32), [[0.0, 1.0]])
    assert as_float_image("f", "m", np.array([[True, False]])).tolist() == [[1.0, 0.0]]


def test_float16_images_are_computed_in_float64():
    x = np.array([[0.5, 0.25]], dtype=np.float16)
    out = as_float_image("f", "image", x)
    assert out.dtype == np.float64 and out.tolist() == [[0.5, 0.25]]


@pytest.mark.parametrize(
    "bad, exc, fragment",
    [
        ([[1.0, 2.0]], TypeError, "numpy array"),
        (np.zeros(5), ValueError, "2-D or 3-D"),
        (np.zeros((2, 2, 2, 2)), ValueError, "got shape (2, 2, 2, 2)"),
        (np.zeros((0, 4)), ValueError, "empty"),
        (np.array([[1.0, np.nan]]), ValueError, "finite"),
        (np.array([[1.0, np.inf]]), ValueError, "finite"),
        (np.array([[1.0, -np.inf]], dtype=np.float16), ValueError, "finite"),
        (np.array([["a", "b"]]), TypeError, "dtype"),
        (np.zeros((2, 2), dtype=complex), TypeError, "dtype"),
        (np.zeros((2, 2), dtype=object), TypeError, "dtype"),
    ],
)
def test_bad_images_rejected(bad, exc, fragment):
    with pytest.raises(exc, match="^myfunc: img .*") as info:
        as_float_image("myfunc", "img", bad)
    assert fragment in str(info.value)


@given(shape=st.tuples(st.integers(1, 6), st.integers(1, 6)), bad=st.sampled_from([np.nan, np.inf, -np.inf]),
       dtype=st.sampled_from([np.float16, np.float32, np.float64]), data=st.data())
def test_any_non_finite_pixel_is_found(shape, bad, dtype, data):
    image = np.zeros(shape, dtype=dtype)
    image[data.draw(st.integers(0, shape[0] - 1)), data.draw(st.integers(0, shape[1] - 1))] = bad
    with pytest.raises(ValueError, match="f: image must be finite"):
        check_image("f", "image", image)


def test_as_gray_converts_rgb_and_rejects_other_channel_counts():
    rgb = np.random.default_rng(0).random((4, 5, 3))
    np.testing.assert_allclose(as_gray("f", "image", rgb), rgb @ [0.2125, 0.7154, 0.0721])
    with pytest.raises(ValueError, match="f: image must be"):
        as_gray("f", "image", np.zeros((4, 5, 4)))


def test_check_mask():
    assert check_mask("f", "mask", None, (2, 2), optional=True) is None
    with pytest.raises(TypeError, match="^f: mask must be a numpy array, got NoneType$"):
        check_mask("f", "mask", None, (2, 2))  # required unless optional
    assert check_mask("f", "mask", np.ones((2, 2), dtype=np.uint8), (2, 2)).dtype == bool
    with pytest.raises(ValueError, match=r"f: mask must have shape \(2, 2\), got \(2, 3\)"):
        check_mask("f", "mask", np.ones((2, 3)), (2, 2))
    with pytest.raises(TypeError, match="f: mask must be a numpy array"):
        check_mask("f", "mask", [[1, 0]], (1, 2))
    with pytest.raises(ValueError, match="f: mask must be finite"):
        check_mask("f", "mask", np.array([[1.0, np.nan]]), (1, 2))


def test_float_arrays_take_lists_and_scalars_and_keep_values():
    assert as_float_array("f", "radii", 3, ndim=1).tolist() == [3.0]
    assert as_float_array("f", "theta", [0, 2], ndim=1).tolist() == [0.0, 2.0]  # integers not scaled
    assert as_float_array("f", "xy", np.zeros((0, 2)), ndim=2, allow_empty=True).shape == (0, 2)
    with pytest.raises(TypeError, match="f: radii must be an array of numbers"):
        as_float_array("f", "radii", [[1, 2], [3]], ndim=2)
    with pytest.raises(TypeError, match="f: radii must have a real numeric dtype, got object"):
        as_float_array("f", "radii", object(), ndim=1)
    with pytest.raises(ValueError, match="f: radii must not be empty"):
        as_float_array("f", "radii", [], ndim=1)


def test_check_min_size():
    check_min_size("f", "image", np.zeros((8, 9, 3)), 8)
    for shape in ((7, 9), (9, 7), (7, 7, 3)):
        with pytest.raises(ValueError, match=re.escape(f"f: image must be at least 8x8, got shape {shape}")):
            check_min_size("f", "image", np.zeros(shape), 8)


def test_empty_arrays_pass_only_when_allowed():
    assert check_image("f", "desc", np.zeros((0, 128)), ndim=2, allow_empty=True).shape == (0, 128)
    with pytest.raises(ValueError, match="f: desc must not be empty"):
        check_image("f", "desc", np.zeros((0, 128)), ndim=2)
