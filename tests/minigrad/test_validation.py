"""``minigrad.validation``: the one set of argument checks every package uses."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad import validation as v

NON_FINITE = st.sampled_from([float("nan"), float("inf"), -float("inf"), np.float32("nan")])


@given(value=NON_FINITE)
def test_check_number_never_passes_nan_or_inf(value):
    with pytest.raises(ValueError, match=r"^f: lr must be > 0, got "):
        v.check_number("f", "lr", value, low=0, low_open=True)


@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_check_number_returns_a_float_exactly_when_in_range(value):
    if 0 <= value < 1:
        assert v.check_number("f", "p", value, low=0, high=1, high_open=True) == value
    else:
        with pytest.raises(ValueError, match=r"p must be in \[0, 1\), got"):
            v.check_number("f", "p", value, low=0, high=1, high_open=True)


@pytest.mark.parametrize("value", [True, np.bool_(False), "1", None, [1.0], 1j])
def test_check_number_refuses_non_numbers_with_a_type_error(value):
    with pytest.raises(TypeError, match=r"^f: eps must be a real number, got"):
        v.check_number("f", "eps", value)


@given(value=st.integers(-5, 5))
def test_check_int_bounds(value):
    if value >= 1:
        assert v.check_int("f", "n", np.int64(value), low=1) == value
    else:
        with pytest.raises(ValueError, match=r"^f: n must be an integer >= 1, got"):
            v.check_int("f", "n", value, low=1)


@pytest.mark.parametrize("value", [1.0, True, "2", None])
def test_check_int_refuses_non_integers(value):
    with pytest.raises(TypeError, match="n must be an integer"):
        v.check_int("f", "n", value)


def test_check_bool_and_choice():
    assert v.check_bool("f", "flag", np.bool_(True)) is True
    with pytest.raises(TypeError, match="flag must be True or False, got 1"):
        v.check_bool("f", "flag", 1)
    assert v.check_choice("f", "mode", "tanh", ("none", "tanh")) == "tanh"
    with pytest.raises(ValueError, match=r"mode must be one of 'none', 'tanh', got 'gru'"):
        v.check_choice("f", "mode", "gru", ("none", "tanh"))
    with pytest.raises(ValueError, match="got True"):  # True == 1 must not pass for 1
        v.check_choice("f", "k", True, (1, 2))


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.bool_, np.complex64, object])
def test_check_float_array_accepts_only_float32_and_float64(dtype):
    with pytest.raises(TypeError, match=f"f: x must be float32 or float64, got dtype {np.dtype(dtype)}"):
        v.check_float_array("f", "x", np.zeros(3, dtype=dtype))
    assert v.check_float_array("f", "x", mg.Tensor(np.zeros(3))).dtype == np.float64


def test_check_float_array_names_the_layout_on_a_wrong_ndim():
    with pytest.raises(ValueError, match=r"f: x must be 4-D \(N, C, H, W\), got shape \(3, 32, 32\)"):
        v.check_float_array("f", "x", np.zeros((3, 32, 32)), ndim=4, layout="(N, C, H, W)")


def test_check_same_dtype_refuses_mixed_precision():
    x, w = np.zeros(2, np.float32), mg.Tensor(np.zeros(2))
    with pytest.raises(TypeError, match=r"f: weight must have the dtype of x \(float32\), got float64"):
        v.check_same_dtype("f", x=x, weight=w, bias=None)
    v.check_same_dtype("f", x=x, weight=x, bias=None)


@given(position=st.integers(0, 9), bad=NON_FINITE)
def test_check_finite_finds_one_bad_element_anywhere(position, bad):
    array = np.ones(10)
    v.check_finite("f", "x", array)
    array[position] = bad
    with pytest.raises(ValueError, match="f: x must be finite, got NaN or inf"):
        v.check_finite("f", "x", array)


def test_check_finite_accepts_an_overflowing_but_finite_sum():
    v.check_finite("f", "x", np.full(4, np.finfo(np.float32).max, np.float32))


def test_as_generator():
    gen = np.random.default_rng(1)
    assert v.as_generator("f", "rng", gen) is gen
    assert v.as_generator("f", "rng", 3).random() == np.random.default_rng(3).random()
    with pytest.raises(ValueError, match="rng must be an integer >= 0, got -1"):
        v.as_generator("f", "rng", -1)
    with pytest.raises(TypeError, match="f: rng must be a numpy Generator, an int seed or None, got float"):
        v.as_generator("f", "rng", 1.5)


def test_check_number_bounds_are_inclusive_unless_open():
    # Moved from classic_cv's tests: the bound wordings its sigma/threshold checks rely on.
    assert v.check_number("f", "sigma", 0, low=0) == 0.0
    assert v.check_number("f", "sigma", 2, low=0, low_open=True) == 2.0
    with pytest.raises(ValueError, match=r"^f: sigma must be > 0, got 0.0$"):
        v.check_number("f", "sigma", 0.0, low=0, low_open=True)
    with pytest.raises(ValueError, match=r"^f: sigma must be >= 0, got -1.0$"):
        v.check_number("f", "sigma", -1.0, low=0)
    with pytest.raises(ValueError, match=r"^f: q must be in \[0, 1\], got 1.5$"):
        v.check_number("f", "q", 1.5, low=0, high=1)
    with pytest.raises(TypeError, match="^f: n must be an integer, got 1.5$"):
        v.check_int("f", "n", 1.5)


@pytest.mark.parametrize("text", ["-1", "nan", "inf", "abc", "", "1e400"])
def test_argument_type_turns_a_refusal_into_one_argparse_line(text, capsys):
    parser = v.ArgumentParser(prog="prog")
    parser.add_argument("--sigma", type=v.argument_type(v.check_number, low=0))
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["--sigma", text])
    err = capsys.readouterr().err
    assert info.value.code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith("prog: error: argument --sigma: must be ") and "(see prog --help)" in err
    assert parser.parse_args(["--sigma", "2.5"]).sigma == 2.5


def test_argument_type_names_the_kind_of_unparsable_text(capsys):
    parser = v.ArgumentParser(prog="prog")
    parser.add_argument("--n", type=v.argument_type(v.check_int, int, low=1))
    with pytest.raises(SystemExit):
        parser.parse_args(["--n", "2.5"])
    assert "argument --n: must be an integer, got '2.5'" in capsys.readouterr().err


def test_check_int_sequence():
    assert v.check_int_sequence("f", "dims", [256, np.int64(128)], low=1) == (256, 128)
    with pytest.raises(ValueError, match=r"f: dims\[1\] must be an integer >= 1, got 0"):
        v.check_int_sequence("f", "dims", (3, 0), low=1)
    with pytest.raises(TypeError, match="f: dims must be a sequence of integers, got '256'"):
        v.check_int_sequence("f", "dims", "256")


def test_check_writable_dir_creates_the_folder_and_refuses_a_path_below_a_file(tmp_path):
    made = v.check_writable_dir("f", "out", tmp_path / "a" / "b")
    assert made == str(tmp_path / "a" / "b") and (tmp_path / "a" / "b").is_dir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="f: out must be a directory where files can be written, got"):
        v.check_writable_dir("f", "out", tmp_path / "file" / "runs")
    with pytest.raises(TypeError, match="f: out must be a path, got int"):
        v.check_writable_dir("f", "out", 3)
