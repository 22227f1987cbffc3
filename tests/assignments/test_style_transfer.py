"""The style_transfer script: its extractor and objective against the PyTorch twin's, the pixel
range under both optimisers, the images it reads, a --quick run and the options it refuses."""
import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st_

import minigrad as mg
from assignments import cli
from assignments import style_transfer as st
from tests.conftest import assert_close

WIDTHS = (4, 6, 8, 8)


def _image(rng, h, w):
    return rng.random((3, h, w))


@settings(max_examples=8)
@given(h=st_.integers(8, 20), w=st_.integers(8, 20), seed=st_.integers(0, 99))
def test_extractor_equals_the_twins(torch, h, w, seed):
    from benchmarks.twins.style_transfer import build

    extractor = st.RandomFeatures(WIDTHS, rng=seed, dtype=np.float64)
    x = np.random.default_rng(seed).random((2, 3, h, w))
    ours = extractor(mg.Tensor(x))
    theirs = build(torch, extractor)(torch.from_numpy(x))
    assert [f.shape for f in ours] == [(2, c, h >> k, w >> k) for k, c in enumerate(WIDTHS)]
    for k, (a, b) in enumerate(zip(ours, theirs)):
        assert_close(a.data, b.numpy(), 1e-12, f"scale {k}")


def test_extractor_filters_are_fixed_and_frozen():
    a, b = st.RandomFeatures(), st.RandomFeatures()
    for (name, p), q in zip(a.named_parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
        assert not p.requires_grad
    first = a.convs[0].weight.data
    assert first.shape == (st.WIDTHS[0], 3, 3, 3) and first.dtype == np.float32
    assert 0.5 < first.std() / np.sqrt(2.0 / 27) < 1.5  # He-normal scale
    assert not np.array_equal(first, st.RandomFeatures(rng=1).convs[0].weight.data)


@pytest.mark.parametrize("content_weight, tv_weight", [(0.7, 0.01), (0.0, 0.0)])
def test_one_objective_evaluation_equals_torchs(torch, rng, content_weight, tv_weight):
    from benchmarks.twins import style_transfer as twin

    extractor = st.RandomFeatures(WIDTHS, rng=3, dtype=np.float64)
    content, style, x = _image(rng, 16, 12), _image(rng, 16, 12), _image(rng, 16, 12)
    targets = st.Targets(extractor, style, content, content_weight)
    assert (targets.content is None) == (content_weight == 0)
    ours = st.objective(extractor, targets, x.shape, tv_weight, np.float64)
    theirs = twin.objective(torch, twin.build(torch, extractor), targets, x.shape, tv_weight, np.float64)
    (loss, grad), (ref_loss, ref_grad) = ours(x.ravel()), theirs(x.ravel())
    assert grad.dtype == np.float64 and grad.shape == (x.size,)
    assert loss > 0 and abs(loss - ref_loss) <= 1e-12 * ref_loss
    assert_close(grad, ref_grad, 1e-12 * np.abs(ref_grad).max(), "gradient")
    for key in ("style", "content", "tv"):
        assert abs(ours.last[1][key] - theirs.last[1][key]) <= 1e-12 * max(1.0, theirs.last[1][key]), key
    # The parts add up to the loss, and the gradient is the loss's (a central difference along it).
    assert abs(sum(ours.last[1].values()) - loss) <= 1e-12 * loss
    h = 1e-6
    slope = (ours(x.ravel() + h * grad)[0] - ours(x.ravel() - h * grad)[0]) / (2 * h)
    assert abs(slope - grad @ grad) <= 1e-5 * (grad @ grad)


def test_targets_make_each_term_relative(rng):
    extractor = st.RandomFeatures(WIDTHS, rng=0, dtype=np.float64)
    style = _image(rng, 16, 16)
    targets = st.Targets(extractor, style)
    # A black image has features of the constant input -0.5: far from any texture; the style
    # image itself has loss 0, and each of its layers weighs 1 / ||G||^2.
    parts = st.losses(extractor, mg.Tensor(style[None]), targets, 0.0)[1]
    assert parts == {"style": 0.0, "content": 0.0, "tv": 0.0}
    zero_grams = sum(w * np.sum(g ** 2) for g, w in zip(targets.grams, targets.style_weights))
    assert abs(zero_grams - len(WIDTHS)) < 1e-12


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_pixels_stay_in_range(rng, optimizer):
    """The features of an image brighter than white pull every pixel past 1; they stop there."""
    extractor = st.RandomFeatures(WIDTHS, rng=0, dtype=np.float64)
    beyond = np.full((3, 16, 16), 2.0)
    targets = st.Targets(extractor, beyond, beyond, 1.0)
    start = rng.random((3, 16, 16))
    if optimizer == "lbfgs":
        fun = st.objective(extractor, targets, start.shape, 0.0, np.float64)
        image, history = st.run_lbfgs(fun, start, 15, "test")
    else:
        image, history = st.run_adam(extractor, targets, start, 30, 0.1, 0.0, "test")
    assert image.shape == start.shape and image.dtype == start.dtype
    assert image.min() >= 0.0 and image.max() <= 1.0
    # The bounds were active: pixels rest on them while the gradient still pushes them outwards.
    grad = st.objective(extractor, targets, start.shape, 0.0, np.float64)(image.ravel())[1].reshape(image.shape)
    high = image == 1.0
    assert high.mean() > 0.2 and np.mean(grad[high] < 0) > 0.9
    assert history[-1]["content"] < 0.8 * history[0]["content"]


def test_bundled_images_are_read_without_importing_skimage():
    pytest.importorskip("skimage")  # the files ship with it
    code = ("import sys; from assignments import style_transfer as s; "
            "a = s.load_image('gravel', 40); b = s.load_image('chelsea', 24); "
            "print(a.shape, a.dtype, b.shape, float(a.min()) >= 0, float(b.max()) <= 1, "
            "bool((a[0] == a[1]).all() and (a[1] == a[2]).all()), bool((b[0] != b[2]).any()), "
            "all(s.load_image(n, 16).shape == (3, 16, 16) for n in s.BUNDLED), 'skimage' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["(3,", "40,", "40)", "float32", "(3,", "24,", "24)", "True", "True", "True", "True",
                           "True", "False"]


def test_an_image_file_is_read_and_shrunk(tmp_path, rng):
    from classic_cv.io import write_image

    image = np.zeros((60, 90, 3))
    image[:, 45:] = 1.0  # right half white: the central 60 x 60 crop is half dark, half bright
    write_image(tmp_path / "half.png", image)
    loaded = st.load_image(str(tmp_path / "half.png"), 20)
    assert loaded.shape == (3, 20, 20)
    assert loaded[:, :, :8].max() < 0.05 and loaded[:, :, 12:].min() > 0.95


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_quick_run_losses_decrease(tmp_path, capsys, optimizer):
    pytest.importorskip("skimage")  # the default images ship with it
    argv = ["run", "style_transfer", "--quick", "--out", str(tmp_path), "--set", f"optimizer={optimizer}"]
    assert cli.main(argv) == 0
    run_dir = tmp_path / "style_transfer"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    transfer, texture = metrics["history"]["transfer"], metrics["history"]["texture"]
    assert len(transfer) == len(texture) == st.QUICK_ITERATIONS + 1
    assert transfer[0]["content"] == 0.0 < transfer[-1]["content"]  # it starts from the content image
    for history in (transfer, texture):
        styles = [p["style"] for p in history]
        assert styles[-1] < 0.1 * styles[0]
    assert metrics["test_style_loss"] == transfer[-1]["style"]
    assert metrics["test_texture_style_loss"] == texture[-1]["style"]
    for png in ("losses.png", "pictures.png", "result.png", "texture.png"):
        assert (run_dir / png).stat().st_size > 1000
    checkpoint = np.load(run_dir / "checkpoint.npz")
    for key in ("result", "texture"):
        assert checkpoint[key].shape == (3, st.QUICK_SIZE, st.QUICK_SIZE)
        assert 0.0 <= checkpoint[key].min() and checkpoint[key].max() <= 1.0
    assert "style_transfer: test_style_loss = " in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--set", "optimizer=sgd"], "--set: optimizer must be one of lbfgs, adam, got 'sgd'"),
    (["--set", "size=8"], "--set: size must be an integer >= 16, got '8'"),
    (["--set", "style=no_such.png"], "--set: style must be one of astronaut"),
    (["--set", "iterations=0"], "--set: iterations must be an integer >= 1"),
    (["--set", "content_weight=-1"], "--set: content_weight must be a finite number >= 0"),
    (["--epochs", "3"], "--epochs: style_transfer takes no --epochs"),
])
def test_bad_options_are_refused(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "style_transfer", "--out", str(tmp_path)] + argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "style_transfer" / "metrics.json").exists()
