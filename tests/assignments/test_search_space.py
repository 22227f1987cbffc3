"""The search-space text (`--space`, space files): parsing, sampling, and one-line refusals."""
import json
import math

import numpy as np
import pytest

from assignments import search_space as spaces


def test_each_kind_parses_to_its_distribution():
    space = spaces.parse(["lr=loguniform:1e-4:1e-1", "drop=uniform:0:0.5", "layers=randint:1:4",
                          "width=lograndint:16:257", "hidden=choice:64,128,none,relu", "seed=3"])
    assert list(space) == ["lr", "drop", "layers", "width", "hidden", "seed"]
    assert space["lr"] == spaces.Distribution("loguniform", (1e-4, 1e-1))
    assert space["drop"] == spaces.Distribution("uniform", (0.0, 0.5))
    assert space["layers"] == spaces.Distribution("randint", (1, 4))
    assert space["width"] == spaces.Distribution("lograndint", (16, 257))
    assert space["hidden"] == spaces.Distribution("choice", (64, 128, None, "relu"))
    assert space["seed"] == spaces.Distribution("fixed", (3,))
    assert [d.log for d in space.values()] == [True, False, False, True, False, False]
    # Written back, each reads as itself (sweep.json stores a space this way).
    assert {k: spaces.distribution(str(d)) for k, d in space.items()} == space


def test_samples_stay_in_their_ranges_and_spread_as_declared():
    space = spaces.parse(["lr=loguniform:1e-4:1e-1", "drop=uniform:0:0.5", "layers=randint:1:4",
                          "width=lograndint:16:257", "act=choice:relu,tanh", "seed=3"])
    rng = np.random.default_rng(0)
    draws = [spaces.sample(space, rng) for _ in range(2000)]
    lr = np.array([d["lr"] for d in draws])
    assert lr.min() >= 1e-4 and lr.max() < 1e-1
    # Log-uniform: each decade gets about a third of the draws.
    decades = np.histogram(np.log10(lr), bins=[-4, -3, -2, -1])[0] / len(lr)
    assert np.allclose(decades, 1 / 3, atol=0.05)
    drop = np.array([d["drop"] for d in draws])
    assert 0 <= drop.min() and drop.max() < 0.5 and abs(drop.mean() - 0.25) < 0.02
    assert {d["layers"] for d in draws} == {1, 2, 3}
    assert all(isinstance(d["layers"], int) and isinstance(d["width"], int) for d in draws)
    width = np.array([d["width"] for d in draws])
    assert width.min() >= 16 and width.max() <= 256
    assert np.mean(width < 64) == pytest.approx(0.5, abs=0.05)  # 64 is the geometric middle
    assert {d["act"] for d in draws} == {"relu", "tanh"} and {d["seed"] for d in draws} == {3}


def test_sampling_is_reproducible_from_the_generator():
    space = spaces.parse(["lr=loguniform:1e-4:1e-1", "reg=loguniform:1e-6:1e-2"])
    first = [spaces.sample(space, np.random.default_rng(5)) for _ in range(2)]
    assert first[0] == first[1]
    assert spaces.sample(space, np.random.default_rng(6)) != first[0]


def test_extremes_are_the_edges_a_draw_can_reach():
    assert spaces.distribution("randint:1:4").extremes() == (1, 3)
    assert spaces.distribution("lograndint:16:257").extremes() == (16, 256)
    assert spaces.distribution("loguniform:1e-4:1e-1").extremes() == (1e-4, 1e-1)
    assert spaces.distribution("choice:a,b,c").extremes() == ("a", "b", "c")


@pytest.mark.parametrize("piece, message", [
    ("lr", "'lr' must be NAME=KIND:ARGS"),
    ("=loguniform:1:2", "must be NAME=KIND:ARGS"),
    ("lr=", "the distribution is empty"),
    ("lr=loguniform", "loguniform needs its arguments, e.g. loguniform:1e-4:1e-1"),
    ("lr=logunifrom:1e-4:1e-1", "kind must be one of uniform, loguniform, randint, lograndint, choice"),
    ("lr=loguniform:1e-4", "loguniform takes LOW:HIGH, got 1 value(s) '1e-4'"),
    ("lr=loguniform:1e-4:1e-1:3", "loguniform takes LOW:HIGH, got 3 value(s)"),
    ("lr=loguniform:small:1", "loguniform LOW must be a finite number, got 'small'"),
    ("lr=uniform:0:inf", "uniform HIGH must be a finite number, got inf"),
    ("lr=loguniform:0:1", "loguniform needs LOW > 0 (a log scale), got 0"),
    ("lr=loguniform:-1:1", "loguniform needs LOW > 0"),
    ("lr=uniform:1:1", "uniform needs LOW < HIGH, got 1 and 1"),
    ("n=randint:1.5:4", "randint LOW must be an integer, got 1.5"),
    ("n=lograndint:0:8", "lograndint needs LOW >= 1"),
    ("h=choice:", "choice needs a comma-separated list of values"),
    ("h=choice:64,,128", "choice needs a comma-separated list"),
    ("h=choice:64,128,64", "choice lists a value twice: 64,128,64"),
])
def test_a_bad_piece_is_refused_in_one_line_naming_it(piece, message):
    with pytest.raises(ValueError) as exc:
        spaces.parse(["reg=loguniform:1e-6:1e-2", piece])
    text = str(exc.value)
    assert text.startswith(f"--space: {piece!r}") or text.startswith("--space: ") and piece in text
    assert message in text and "\n" not in text


def test_a_name_given_twice_is_refused():
    with pytest.raises(ValueError, match="--space: lr is given twice"):
        spaces.parse(["lr=0.1", "lr=loguniform:1e-4:1e-1"])


def test_a_space_file_in_json_and_yaml(tmp_path):
    content = {"lr": "loguniform:1e-4:1e-1", "hidden_dims": [64, 128], "dropout": 0.1}
    expected = {"lr": spaces.Distribution("loguniform", (1e-4, 1e-1)),
                "hidden_dims": spaces.Distribution("choice", (64, 128)),
                "dropout": spaces.Distribution("fixed", (0.1,))}
    path = tmp_path / "space.json"
    path.write_text(json.dumps(content))
    assert spaces.load(path) == expected
    pytest.importorskip("yaml")
    path = tmp_path / "space.yaml"
    path.write_text("lr: loguniform:1e-4:1e-1\nhidden_dims: [64, 128]\ndropout: 0.1\n")
    assert spaces.load(path) == expected


@pytest.mark.parametrize("text, message", [
    ("[1, 2]", "must hold a non-empty mapping of setting names to distributions, got list"),
    ("{}", "must hold a non-empty mapping"),
    ('{"lr": "loguniform:1:0.1"}', "space.json: lr: loguniform needs LOW < HIGH, got 1 and 0.1"),
    ('{"lr": [0.1, 0.1]}', "space.json: lr: choice lists a value twice"),
    ('{"lr": {"low": 1}}', "space.json: lr: values must be numbers, words or null"),
    ('{"lr": ', "is not valid JSON"),
])
def test_a_bad_space_file_is_refused_naming_the_entry(tmp_path, text, message):
    path = tmp_path / "space.json"
    path.write_text(text)
    with pytest.raises(ValueError) as exc:
        spaces.load(path)
    assert str(exc.value).startswith("--space-file: ") and message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_a_missing_space_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match="--space-file: .*nope.json cannot be read"):
        spaces.load(tmp_path / "nope.json")


def test_a_uniform_draw_is_a_float_even_with_integer_bounds():
    value = spaces.distribution("uniform:0:1").sample(np.random.default_rng(0))
    assert isinstance(value, float) and 0 <= value < 1 and not math.isnan(value)
