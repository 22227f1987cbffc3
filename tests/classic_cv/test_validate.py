"""Shared input validation: every bad input is rejected with a message naming the argument."""
import numpy as np
import pytest

from classic_cv._validate import as_float_image, as_gray, check_choice, check_mask, check_number, check_positive


def test_float_image_keeps_float32_and_float64():
    for dtype in (np.float32, np.float64):
        x = np.ones((3, 4), dtype=dtype)
        assert as_float_image(x, "image", "f").dtype == dtype


def test_integer_images_are_scaled_by_dtype_max():
    x = np.array([[0, 128, 255]], dtype=np.uint8)
    np.testing.assert_allclose(as_float_image(x, "image", "f"), [[0.0, 128 / 255, 1.0]])
    y = np.array([[0, 65535]], dtype=np.uint16)
    np.testing.assert_allclose(as_float_image(y, "image", "f", dtype=np.float32), [[0.0, 1.0]])
    assert as_float_image(np.array([[True, False]]), "m", "f").tolist() == [[1.0, 0.0]]


@pytest.mark.parametrize(
    "bad, exc, fragment",
    [
        ([[1.0, 2.0]], TypeError, "numpy array"),
        (np.zeros(5), ValueError, "2-D or 3-D"),
        (np.zeros((2, 2, 2, 2)), ValueError, "got shape (2, 2, 2, 2)"),
        (np.zeros((0, 4)), ValueError, "empty"),
        (np.array([[1.0, np.nan]]), ValueError, "finite"),
        (np.array([[1.0, np.inf]]), ValueError, "finite"),
        (np.array([["a", "b"]]), TypeError, "dtype"),
        (np.zeros((2, 2), dtype=complex), TypeError, "dtype"),
    ],
)
def test_bad_images_rejected(bad, exc, fragment):
    with pytest.raises(exc, match="^myfunc: img .*") as info:
        as_float_image(bad, "img", "myfunc")
    assert fragment in str(info.value)


def test_as_gray_converts_rgb_and_rejects_other_channel_counts():
    rgb = np.random.default_rng(0).random((4, 5, 3))
    np.testing.assert_allclose(as_gray(rgb, "image", "f"), rgb @ [0.2125, 0.7154, 0.0721])
    with pytest.raises(ValueError, match="f: image must be"):
        as_gray(np.zeros((4, 5, 4)), "image", "f")


def test_check_mask():
    assert check_mask(None, (2, 2), "mask", "f") is None
    assert check_mask(np.ones((2, 2), dtype=np.uint8), (2, 2), "mask", "f").dtype == bool
    with pytest.raises(ValueError, match=r"f: mask must have shape \(2, 2\), got \(2, 3\)"):
        check_mask(np.ones((2, 3)), (2, 2), "mask", "f")
    with pytest.raises(TypeError, match="f: mask must be a numpy array"):
        check_mask([[1, 0]], (1, 2), "mask", "f")


def test_check_numbers():
    assert check_positive(2, "sigma", "f") == 2.0
    assert check_positive(0, "sigma", "f", allow_zero=True) == 0.0
    assert check_number(3, "n", "f", integer=True) == 3
    with pytest.raises(ValueError, match="f: sigma must be > 0, got 0.0"):
        check_positive(0.0, "sigma", "f")
    with pytest.raises(ValueError, match="f: sigma must be >= 0, got -1.0"):
        check_positive(-1.0, "sigma", "f", allow_zero=True)
    with pytest.raises(ValueError, match="finite"):
        check_positive(float("nan"), "sigma", "f")
    with pytest.raises(TypeError, match="f: sigma must be a real number"):
        check_positive("1", "sigma", "f")
    with pytest.raises(TypeError, match="f: n must be an integer"):
        check_number(1.5, "n", "f", integer=True)
    with pytest.raises(TypeError):
        check_number(True, "n", "f")
    with pytest.raises(ValueError, match="f: q must be <= 1"):
        check_number(1.5, "q", "f", low=0, high=1)
    with pytest.raises(ValueError, match="f: mode must be one of 'a', 'b', got 'c'"):
        check_choice("c", "mode", "f", ("a", "b"))
