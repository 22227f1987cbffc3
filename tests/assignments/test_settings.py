"""Declared settings and every error path of the command line: one line, exit code 2, no work done.

The command line runs in-process (``cli.main(argv)``, stderr captured); a
script's ``main`` is replaced by one that fails the test, so a value that got
through would show rather than start a training run.
"""
import argparse
import contextlib
import gzip
import io
import os
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assignments import captioning, cli, data, gan, models, settings, spiral, visualization
from assignments.settings import OptionError, Setting

SCRIPTS = sorted(cli.SCRIPTS)


def _declared(name):
    script = cli.load_script(name)
    return {**script.DEFAULTS.declared, **getattr(script, "OPTIONS", settings.declare()).declared}


@pytest.fixture
def no_work(monkeypatch):
    """Make every script's ``main`` fail the test if reached."""
    def reached(*args, **kwargs):
        raise AssertionError("the script started although a value was bad")

    for name in SCRIPTS:
        monkeypatch.setattr(cli.load_script(name), "main", reached)


def _refused(capsys, argv, code=2):
    """Run the command line; return its only stderr line after checking the exit code."""
    with pytest.raises(SystemExit) as exc:
        cli.main(argv)
    assert exc.value.code == code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# ----------------------------------------------------------------------------- declarations

@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_declares_each_setting_and_its_default_passes_its_own_check(name):
    script = cli.load_script(name)
    assert isinstance(script.DEFAULTS, settings.Settings)
    options = getattr(script, "OPTIONS", settings.declare())
    assert isinstance(options, settings.Settings)
    for key, setting in _declared(name).items():
        assert isinstance(setting, Setting) and setting.accepts, key
        assert setting.check(name, key, setting.default) == setting.default, key
        assert {**script.DEFAULTS, **options}[key] == setting.default
    if name not in ("knn", "style_transfer"):  # the scripts that train no network
        assert set(script.DEFAULTS) == {"epochs", "batch_size", "lr"}


_TEXT = st.one_of(
    st.sampled_from(["nan", "-nan", "inf", "-inf", "1e400", "0", "-1", "1.5", "0.999", "3", "1e-300",
                     "none", "None", "", ",", "1,,2", "2,-3", "lstm", "transformer", "layernorm", "x"]),
    st.text(max_size=8),
    st.integers(-3, 10 ** 6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@pytest.mark.parametrize("name", SCRIPTS)
@given(text=_TEXT)
def test_a_set_value_is_either_refused_naming_what_is_accepted_or_valid(name, text):
    script = cli.load_script(name)
    for key, setting in getattr(script, "OPTIONS", settings.declare()).declared.items():
        try:
            value = cli.parse_options(script, [f"{key}={text}"])[key]
        except OptionError as exc:
            assert str(exc) == f"--set: {key} must be {setting.accepts}, got {text!r}"
            continue
        assert setting.check(name, key, value) == value  # what passes is what the script accepts
        if isinstance(value, float):
            assert np.isfinite(value)


@pytest.mark.parametrize("setting, good, bad", [
    (settings.integer(1, low=1), ["1", " 7 "], ["0", "-2", "1.0", "1e3", "x", "", "nan"]),
    (settings.number(0.5, low=0, high=1, high_open=True), ["0", "0.999", "1e-9"],
     ["1", "-0.1", "nan", "inf", "-inf", "x", ""]),
    (settings.positive(1.0), ["1e-8", "1e30"], ["0", "-1", "nan", "inf", "1e400", "x"]),
    (settings.integers((2,), low=1), ["3", "4,5", ""], ["0", "2,0", "a,b", "1.5"]),
    (settings.choice("a", ("a", None)), ["a", "none", "NONE"], ["b", "", "A"]),
])
def test_each_kind_of_setting_reads_what_it_declares(setting, good, bad):
    for text in good:
        setting.read("f", "name", text)
    for text in bad:
        with pytest.raises(OptionError, match=f"^f: name must be .*, got {text!r}$"):
            setting.read("f", "name", text)


def test_a_file_setting_takes_an_existing_file_or_none(tmp_path):
    setting = settings.existing_file("a test file")
    assert setting.read("f", "path", "none") is None
    (tmp_path / "x.npz").write_bytes(b"")
    assert setting.read("f", "path", str(tmp_path / "x.npz")) == str(tmp_path / "x.npz")
    for text in (str(tmp_path), str(tmp_path / "missing.npz")):
        with pytest.raises(OptionError, match=r"must be an existing file \(a test file\) or none"):
            setting.read("f", "path", text)


# ----------------------------------------------------------------------------- the command line

@pytest.mark.parametrize("argv, message", [
    # The values the issue found only deep inside the scripts, and their neighbours.
    (["fc_net", "--set", "hidden_dims=0"], "--set: hidden_dims must be comma-separated integers >= 1"),
    (["fc_net", "--set", "dropout=1.5"], "--set: dropout must be a finite number in [0, 1), got '1.5'"),
    (["fc_net", "--set", "dropout=nan"], "--set: dropout must be a finite number in [0, 1), got 'nan'"),
    (["fc_net", "--set", "normalization=groupnorm"], "--set: normalization must be one of none, batchnorm"),
    (["transformer", "--set", "patch=0"], "--set: patch must be an integer >= 1, got '0'"),
    (["captioning", "--set", "decoder=gru"], "--set: decoder must be one of lstm, transformer, got 'gru'"),
    (["captioning", "--set", "train_strips=0"], "--set: train_strips must be an integer >= 1, got '0'"),
    (["gan", "--set", "noise_dim=0"], "--set: noise_dim must be an integer >= 1, got '0'"),
    (["gan", "--set", "checkpoint=/no/such/file.npz"], "--set: checkpoint must be an existing file"),
    (["visualization", "--set", "checkpoint=/"], "--set: checkpoint must be an existing file"),
    (["visualization", "--set", "class_steps=-1"], "--set: class_steps must be an integer >= 0"),
    (["cnn", "--set", "shift=two"], "--set: shift must be an integer >= 0, got 'two'"),
    # The training settings, the same for every script.
    (["softmax", "--lr", "nan"], "argument --lr: must be a finite number > 0, got 'nan'"),
    (["softmax", "--lr", "inf"], "argument --lr: must be a finite number > 0, got 'inf'"),
    (["softmax", "--lr", "0"], "argument --lr: must be a finite number > 0, got '0'"),
    (["cnn", "--epochs", "0"], "argument --epochs: must be an integer >= 1, got '0'"),
    (["cnn", "--epochs", "1.5"], "argument --epochs: must be an integer >= 1, got '1.5'"),
    (["vae", "--batch-size", "-3"], "argument --batch-size: must be an integer >= 1, got '-3'"),
    (["rnn", "--seed", "-1"], "argument --seed: must be an integer >= 0, got '-1'"),
    # Malformed --set items, unknown keys, scripts and datasets.
    (["fc_net", "--set", "dropout"], "--set: expected KEY=VALUE with KEY one of (dropout, hidden_dims, "
                                     "normalization), got 'dropout'"),
    (["fc_net", "--set", "=0.1"], "--set: expected KEY=VALUE with KEY one of"),
    (["vae", "--set", "dropout=0.1"], "--set: expected KEY=VALUE with KEY one of (none: this script "
                                      "takes no options), got 'dropout=0.1'"),
    (["softmax", "--set", "dropout=0.1"], "--set: expected KEY=VALUE with KEY one of (reg), got 'dropout=0.1'"),
    (["nope"], "argument NAME: invalid choice: 'nope'"),
    (["softmax", "--data", "imagenet"], "argument --data: invalid choice: 'imagenet'"),
    (["softmax", "--unknown"], "unrecognized arguments: --unknown"),
])
def test_a_bad_option_is_one_line_naming_it_and_what_it_accepts(capsys, no_work, tmp_path, argv, message):
    line = _refused(capsys, ["run", *argv, "--out", str(tmp_path)])
    # argparse reports an unknown option from the top-level parser
    assert re.match(r"python -m assignments( run)?: error: ", line) and message in line, line
    assert not os.listdir(tmp_path)  # refused before the run folder was made


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_declared_setting_of_every_script_refuses_a_bad_value(capsys, no_work, tmp_path, name):
    for key, setting in _declared(name).items():
        for text in ("nan", "-1", "0", "none", "x"):
            try:
                setting.read("", key, text)
            except OptionError:
                break
        else:
            pytest.fail(f"{name}: {key} accepts every probe")
        option = ["--" + key.replace("_", "-"), text] if key in cli.COMMON else ["--set", f"{key}={text}"]
        line = _refused(capsys, ["run", name, *option, "--out", str(tmp_path)])
        assert f"must be {setting.accepts}, got {text!r}" in line, line


def test_the_top_level_errors_are_one_line_too(capsys):
    line = _refused(capsys, [])
    assert line.startswith("python -m assignments: error: the following arguments are required")
    assert "invalid choice: 'train'" in _refused(capsys, ["train"])


def test_run_checks_a_namespace_built_in_python(no_work, tmp_path):
    args = cli.build_parser().parse_args(["run", "softmax", "--out", str(tmp_path)])
    args.lr = float("nan")
    with pytest.raises(OptionError, match="run: lr must be a finite number > 0, got nan"):
        cli.run("softmax", args)
    args.lr, args.seed = 0.1, -2
    with pytest.raises(OptionError, match="run: seed must be an integer >= 0, got -2"):
        cli.run("softmax", args)


# ----------------------------------------------------------------------------- output folder

@pytest.mark.parametrize("where", ["file", "under_a_file"])
def test_an_output_root_that_cannot_hold_the_run_folder_is_refused_before_any_work(
        capsys, no_work, tmp_path, where):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    out = blocker if where == "file" else blocker / "runs"
    line = _refused(capsys, ["run", "softmax", "--out", str(out)])
    assert (f"--out: the run folder must be a directory where files can be written, "
            f"got '{out / 'softmax'}'") in line
    assert blocker.read_text() == "not a folder"


def test_a_run_folder_that_is_a_file_is_refused(capsys, no_work, tmp_path):
    (tmp_path / "softmax").write_text("")
    line = _refused(capsys, ["run", "softmax", "--out", str(tmp_path)])
    assert "--out: the run folder must be a directory where" in line and "(File exists)" in line


def test_a_read_only_output_folder_is_refused(capsys, no_work, tmp_path, monkeypatch):
    # Root may write anywhere, so the refusal of a read-only folder is simulated.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("minigrad.validation.tempfile.TemporaryFile", refuse)
    line = _refused(capsys, ["run", "softmax", "--out", str(tmp_path)])
    assert "--out: the run folder must be a directory where" in line and "(Permission denied)" in line


@pytest.mark.parametrize("flag, value", [("--epochs", "3"), ("--batch-size", "8"), ("--lr", "0.1")])
def test_a_training_option_of_a_script_without_training_is_refused(capsys, no_work, tmp_path, flag, value):
    line = _refused(capsys, ["run", "knn", flag, value, "--out", str(tmp_path)])
    assert line.startswith("python -m assignments run: error: "), line
    assert f"{flag}: knn takes no {flag} (its training options: none), got {value}" in line
    assert not os.path.exists(tmp_path / "knn")  # refused before the run folder was made


# ----------------------------------------------------------------------------- data

def _idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def _small_mnist(directory, train_labels, n_test=10):
    directory.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    arrays = {"train_images": rng.integers(0, 256, (len(train_labels), 28, 28)),
              "train_labels": np.asarray(train_labels),
              "test_images": rng.integers(0, 256, (n_test, 28, 28)), "test_labels": np.arange(n_test) % 10}
    for key, stem in data.MNIST_FILES.items():
        _idx(directory / (stem + ".gz"), arrays[key])
    return directory


@pytest.mark.parametrize("argv, message", [
    (["--data", "mnist"], "error: load: dataset 'mnist' is read from a directory; pass data_dir"),
    (["--data", "mnist", "--data-dir", "{tmp}/nowhere"], "error: load_mnist_idx: data directory"),
    (["--data", "cifar10", "--data-dir", "{tmp}"], "error: load_cifar10: missing data_batch_1 in"),
    (["--data", "mnist", "--data-dir", "{tmp}"], "error: load_mnist_idx: missing train-images-idx3-ubyte"),
    (["--data-dir", "{tmp}"], "error: load: dataset 'mnist5k' is bundled and takes no data_dir"),
])
def test_missing_or_misplaced_data_is_one_line(capsys, tmp_path, argv, message):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert cli.main(["run", "softmax", *argv, "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith(message), err


def test_a_training_file_too_small_to_split_says_the_minimum(capsys, tmp_path):
    directory = _small_mnist(tmp_path / "mnist", np.r_[np.arange(10), np.arange(9)])  # one 9
    assert cli.main(["run", "softmax", "--data", "mnist", "--data-dir", str(directory),
                     "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert ("load_mnist_idx: the training set must hold at least 2 images of every label it uses "
            "(at least 20 images) to split off a validation set, got 1 of label 9") in err


@pytest.mark.parametrize("n_train", [20, 300])
def test_small_but_valid_files_work_with_a_validation_set_that_fits(capsys, tmp_path, n_train):
    directory = _small_mnist(tmp_path / "mnist", np.arange(n_train) % 10)
    assert cli.main(["run", "softmax", "--data", "mnist", "--data-dir", str(directory), "--epochs", "1",
                     "--out", str(tmp_path / "runs")]) == 0
    assert "softmax: test_accuracy = " in capsys.readouterr().out
    d = data.load("mnist", directory)
    assert len(d.y_val) == max(10, n_train // 10) and len(d.y_train) == n_train - len(d.y_val)
    assert set(d.y_val) == set(range(10))  # stratified
    args = argparse.Namespace(data="mnist", data_dir=str(directory), quick=True)
    assert len(cli.load_data(args).y_train) == len(d.y_train)  # --quick takes what there is


@pytest.mark.parametrize("name, option, message", [
    ("transformer", "patch=5", "error: VisionTransformer: patch must divide the image size 28x28, got 5"),
    ("visualization", "checkpoint={bad}", "trained_cnn: {bad} is not a checkpoint (not an .npz archive); "
                                          "it must be the checkpoint.npz of the cnn script"),
    ("visualization", "checkpoint={pickled}", "trained_cnn: {pickled} is truncated, damaged or not a "
                                              "checkpoint (ValueError: Object arrays cannot be loaded"),
    ("gan", "checkpoint={empty}", "trained_cnn: {empty} is empty; it must be the checkpoint.npz"),
    ("gan", "checkpoint={other}", "trained_cnn: checkpoint '{other}' must hold the cnn for mnist5k images "
                                  "(1, 28, 28) with 10 classes, got a different network"),
])
def test_a_setting_that_does_not_fit_the_data_is_refused_before_training(capsys, tmp_path, name, option,
                                                                        message):
    paths = {key: str(tmp_path / f"{key}.npz") for key in ("bad", "other", "pickled", "empty")}
    (tmp_path / "bad.npz").write_bytes(b"not a zip file")
    (tmp_path / "empty.npz").write_bytes(b"")
    np.savez(tmp_path / "pickled.npz", **{"model.features.0.weight": np.array([{}], dtype=object)})
    np.savez(tmp_path / "other.npz", **{"model.features.0.weight": np.zeros((3, 1, 3, 3), np.float32)})
    line = _refused(capsys, ["run", name, "--quick", "--set", option.format(**paths),
                             "--out", str(tmp_path / "runs")])
    assert message.format(**paths) in line, line
    assert not os.listdir(tmp_path / "runs" / name)


def test_repeated_set_flags_add_up_and_a_repeated_key_takes_the_last_value():
    args = cli.build_parser().parse_args(["run", "fc_net", "--set", "dropout=0.1", "hidden_dims=8",
                                          "--set", "normalization=none", "dropout=0.3"])
    options = cli.parse_options(cli.load_script("fc_net"), args.options)
    assert options == {"hidden_dims": (8,), "normalization": None, "dropout": 0.3}


@given(text=_TEXT)
def test_the_training_arguments_are_a_valid_value_or_one_line_with_exit_2(text):
    for option, setting in (("--lr", settings.positive(None)), ("--epochs", settings.integer(None, low=1)),
                            ("--seed", settings.integer(0, low=0))):
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                args = cli.build_parser().parse_args(["run", "cnn", f"{option}={text}"])
        except SystemExit as exc:
            assert exc.code == 2 and len(err.getvalue().strip().splitlines()) == 1, err.getvalue()
            assert f"argument {option}: must be {setting.accepts}, got " in err.getvalue()
            continue
        value = getattr(args, option[2:])
        assert setting.check("test", option, value) == value
        if option == "--lr":
            assert np.isfinite(value) and value > 0


# ----------------------------------------------------------------------------- library entry points

@pytest.mark.parametrize("model, args, kwargs, error, message", [
    ("FullyConnectedNet", (4, (3, 0), 2), {}, ValueError,
     r"FullyConnectedNet: hidden_dims\[1\] must be an integer >= 1, got 0"),
    ("FullyConnectedNet", (4, 3, 2), {}, TypeError, "FullyConnectedNet: hidden_dims must be a sequence"),
    ("FullyConnectedNet", (4, (3,), 2), {"dropout": float("nan")}, ValueError,
     r"FullyConnectedNet: dropout must be in \[0, 1\), got nan"),
    ("FullyConnectedNet", (0, (3,), 2), {}, ValueError, "FullyConnectedNet: input_dim must be an integer"),
    ("ConvNet", ((1, 8, 8), 10), {"shift": -1}, ValueError, "ConvNet: shift must be an integer >= 0, got -1"),
    ("ConvNet", ((1, 8, 8), 10), {"channels": (4,)}, ValueError,
     r"ConvNet: channels must be \(int, int\), got \(4,\)"),
    ("ConvNet", ((1, 8, 8), 10), {"hidden": 1.5}, TypeError, "ConvNet: hidden must be an integer, got 1.5"),
    ("RandomShift", (-2,), {}, ValueError, "RandomShift: pixels must be an integer >= 0, got -2"),
    ("RecurrentClassifier", ((1, 4, 4), 2), {"hidden": 0}, ValueError, "RecurrentClassifier: hidden must be"),
    ("VisionTransformer", ((1, 28, 28), 10), {"patch": 0}, ValueError,
     "VisionTransformer: patch must be an integer >= 1, got 0"),
    ("VisionTransformer", ((1, 28, 28), 10), {"dropout": 1.0}, ValueError,
     r"VisionTransformer: dropout must be in \[0, 1\), got 1.0"),
    ("VAE", (16,), {"latent": 0}, ValueError, "VAE: latent must be an integer >= 1, got 0"),
])
def test_the_models_refuse_bad_settings_naming_them(model, args, kwargs, error, message):
    with pytest.raises(error, match=message):
        getattr(models, model)(*args, **kwargs)


def test_the_scripts_library_functions_refuse_bad_settings_naming_them(rng):
    with pytest.raises(ValueError, match="Generator: noise_dim must be an integer >= 1, got 0"):
        gan.Generator(0, (1, 6, 6))
    model = captioning.Captioner((1, 8, 24), "lstm", rng=0)
    with pytest.raises(ValueError, match="captioning.train: n_strips must be an integer >= 1, got 0"):
        captioning.train(model, np.zeros((2, 1, 8, 8), np.float32), np.zeros(2, int), 0, None, None,
                         argparse.Namespace(epochs=1, batch_size=2, lr=1e-3), rng)
    with pytest.raises(ValueError, match="class_visualisation: steps must be an integer >= 0, got -1"):
        visualization.class_visualisation(None, [0], (1, 4, 4), -1, rng)
    with pytest.raises(TypeError, match="fooling_images: steps must be an integer, got 2.5"):
        visualization.fooling_images(None, np.zeros((1, 1, 4, 4)), np.zeros(1, int), 2.5)
    for kwargs, message in (({"lr": float("inf")}, r"train: lr must be > 0, got inf"),
                            ({"epochs": 0}, "train: epochs must be an integer >= 1, got 0"),
                            ({"reg": -1e-4}, "train: reg must be >= 0"),
                            ({"seed": -1}, "train: seed must be an integer >= 0, got -1")):
        with pytest.raises(ValueError, match=message):
            spiral.train(**kwargs, log=lambda line: None)


@pytest.mark.parametrize("image_shape, error, message", [
    (5, TypeError, "image_shape must be a sequence of integers, got 5"),
    ("1x8x8", TypeError, "image_shape must be a sequence of integers, got '1x8x8'"),
    ((1, 8), ValueError, r"image_shape must be \(C, H, W\), got \(1, 8\)"),
    ((1, 8, 0), ValueError, r"image_shape\[2\] must be an integer >= 1, got 0"),
    ((1, 8.0, 8), TypeError, r"image_shape\[1\] must be an integer, got 8.0"),
])
@pytest.mark.parametrize("build", [
    lambda shape: models.ConvNet(shape, 10), lambda shape: models.RecurrentClassifier(shape, 10),
    lambda shape: models.VisionTransformer(shape, 10), lambda shape: gan.Generator(4, shape),
    lambda shape: gan.Discriminator(shape), lambda shape: captioning.Captioner(shape),
])
def test_an_image_shape_of_the_wrong_kind_or_size_is_refused_by_every_model(build, image_shape, error, message):
    with pytest.raises(error, match=r"^(ConvNet|RecurrentClassifier|VisionTransformer|Generator|Discriminator|"
                                    r"Captioner): " + message):
        build(image_shape)


@pytest.mark.parametrize("name, build", [
    ("FullyConnectedNet", lambda rng: models.FullyConnectedNet(4, (3,), 2, rng=rng)),
    ("ConvNet", lambda rng: models.ConvNet((1, 8, 8), 10, rng=rng)),
    ("RandomShift", lambda rng: models.RandomShift(2, rng=rng)),
    ("RecurrentClassifier", lambda rng: models.RecurrentClassifier((1, 4, 4), 2, rng=rng)),
    ("VisionTransformer", lambda rng: models.VisionTransformer((1, 28, 28), 10, rng=rng)),
    ("VAE", lambda rng: models.VAE(16, 8, 2, rng=rng)),
    ("Generator", lambda rng: gan.Generator(4, (1, 6, 6), rng=rng)),
    ("Discriminator", lambda rng: gan.Discriminator((1, 6, 6), rng=rng)),
    ("Captioner", lambda rng: captioning.Captioner((1, 8, 24), rng=rng)),
])
def test_every_model_checks_its_rng_naming_itself(name, build):
    with pytest.raises(ValueError, match=f"^{name}: rng must be an integer >= 0, got -1$"):
        build(-1)
    with pytest.raises(TypeError, match=f"^{name}: rng must be a numpy Generator, an int seed or None, got str"):
        build("0")
    a, b = build(np.random.default_rng(3)), build(3)  # a Generator and its seed build the same weights
    for (key, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(x, y, err_msg=key)


def test_integers_settings_and_models_share_one_sequence_check():
    setting = settings.integers((4,), low=1)
    for value in (5, "12", None):
        with pytest.raises(TypeError, match="^s: hidden must be a sequence of integers"):
            setting.check("s", "hidden", value)
    with pytest.raises(ValueError, match=r"^s: hidden\[1\] must be an integer >= 1, got 0$"):
        setting.check("s", "hidden", [3, 0])
    assert setting.check("s", "hidden", [np.int64(3), 2]) == (3, 2)
    with pytest.raises(TypeError, match="^FullyConnectedNet: hidden_dims must be a sequence of integers, got 8$"):
        models.FullyConnectedNet(4, 8, 2)


@given(dropout=st.one_of(st.floats(allow_nan=True, allow_infinity=True).filter(lambda d: not 0 <= d < 1),
                         st.sampled_from([1.0, -0.0 - 1e-12, float("nan"), float("inf")])))
def test_fully_connected_dropout_outside_0_1_is_refused(dropout):
    with pytest.raises(ValueError, match="FullyConnectedNet: dropout must be in"):
        models.FullyConnectedNet(4, (3,), 2, dropout=dropout)
