"""The segmentation script: U-Net and FCN shapes, FCN's bilinear start, the PyTorch twin
being the same network, and a --quick run of each model that beats the all-background score."""
import json

import numpy as np
import pytest

import minigrad as mg
from assignments import cli, segmentation
from assignments.scenes import NUM_CLASSES, load_digit_scenes
from layers.conv import conv_transpose2d
from layers.upsample import upsample2d
from tests.conftest import assert_close


@pytest.mark.parametrize("name", segmentation.MODELS)
@pytest.mark.parametrize("widths", [(4, 8, 8), (4, 6, 8, 10)])
def test_models_score_every_pixel(name, widths, rng):
    model = segmentation.ARCHITECTURES[name](2, 5, widths, rng=0)
    x = mg.Tensor(rng.random((3, 2, 16, 24), dtype=np.float32))
    scores = model(x)
    assert scores.shape == (3, 5, 16, 24)
    scores.sum().backward()
    assert all(p.grad is not None and np.isfinite(p.grad).all() for p in model.parameters())


def test_bad_model_arguments_are_refused():
    with pytest.raises(ValueError, match="UNet: widths must list at least 2 levels"):
        segmentation.UNet(1, 3, (8,))
    with pytest.raises(ValueError, match="FCN: widths must list at least 3 levels"):
        segmentation.FCN(1, 3, (8, 16))
    with pytest.raises(ValueError, match="UNet: num_classes"):
        segmentation.UNet(1, 0)


@pytest.mark.parametrize("factor", [2, 4])
def test_bilinear_kernel_upsamples_like_bilinear_interpolation(factor, rng):
    x = rng.random((2, 3, 6, 6))
    weight = segmentation.bilinear_kernel(3, 2 * factor).astype(np.float64)
    up = conv_transpose2d(mg.Tensor(x), mg.Tensor(weight), stride=factor, padding=factor // 2).data
    expected = upsample2d(mg.Tensor(x), factor, mode="bilinear").data
    # Equal away from the border, where the interpolation clamps and the transposed convolution sees zeros.
    inner = slice(factor, -factor)
    assert up.shape == expected.shape
    assert_close(up[..., inner, inner], expected[..., inner, inner], 1e-12, "bilinear upsampling")


@pytest.mark.parametrize("name", segmentation.MODELS)
def test_twin_is_the_same_network(torch, name, rng):
    from benchmarks.twins.segmentation import build

    ours = segmentation.build_model(name, seed=0)
    twin = build(torch, name)
    assert set(twin.state_dict()) == set(ours.state_dict())
    twin.load_state_dict({k: torch.from_numpy(v.astype(np.float64) if v.dtype.kind == "f" else v)
                          for k, v in ours.state_dict().items()})
    x = rng.random((2, 1, 32, 32), dtype=np.float32)
    for training in (True, False):
        ours.train(training)
        twin.train(training)
        assert_close(ours(mg.Tensor(x)).data, twin(torch.from_numpy(x.astype(np.float64))).detach().numpy(), 1e-4,
                     f"{name} scores (training={training})")


@pytest.mark.parametrize("loss", segmentation.LOSSES)
def test_losses_equal_the_twins(torch, loss, rng):
    from benchmarks.twins.segmentation import loss_fn

    scores = rng.standard_normal((3, NUM_CLASSES, 8, 8))
    masks = rng.integers(0, NUM_CLASSES, (3, 8, 8))
    ours = mg.Tensor(scores, requires_grad=True)
    value = segmentation.segmentation_loss(ours, masks, loss)
    value.backward()
    theirs = torch.tensor(scores, requires_grad=True)
    expected = loss_fn(torch, theirs, torch.from_numpy(masks), loss)
    expected.backward()
    assert value.item() == pytest.approx(expected.item(), rel=1e-12)
    assert_close(ours.grad, theirs.grad.numpy(), 1e-12, f"{loss} gradient")


def test_scores_start_at_the_class_frequencies(rng):
    masks = load_digit_scenes(20, 1, 1, seed=2).train.masks
    log_frequencies = segmentation.class_log_frequencies(masks)
    np.testing.assert_allclose(np.exp(log_frequencies), np.bincount(masks.ravel(), minlength=NUM_CLASSES) / masks.size,
                               rtol=1e-6)
    assert np.isfinite(segmentation.class_log_frequencies(np.zeros((1, 4, 4), np.int64))).all()
    for name in segmentation.MODELS:
        model = segmentation.build_model(name, 0, masks)
        np.testing.assert_array_equal(model.scoring_bias.data, log_frequencies)


def test_evaluate_scores_a_perfect_and_an_empty_prediction(monkeypatch):
    scenes = load_digit_scenes(4, 3, 3, seed=1).test
    monkeypatch.setattr(segmentation, "predict", lambda model, images: scenes.masks)
    iou, pixel_accuracy, confusion = segmentation.evaluate(None, scenes)
    assert iou == 1.0 and pixel_accuracy == 1.0 and confusion.sum() == scenes.masks.size
    monkeypatch.setattr(segmentation, "predict", lambda model, images: np.zeros_like(scenes.masks))
    iou, pixel_accuracy, _ = segmentation.evaluate(None, scenes)
    background = np.mean(scenes.masks == 0)
    present = len(np.unique(scenes.masks))
    assert pixel_accuracy == pytest.approx(background) and iou == pytest.approx(background / present)


@pytest.mark.slow
@pytest.mark.parametrize("name", segmentation.MODELS)
def test_quick_run_beats_the_all_background_score(tmp_path, name):
    assert cli.main(["run", "segmentation", "--quick", "--epochs", "3", "--set", f"model={name}",
                     "--out", str(tmp_path)]) == 0
    run_dir = tmp_path / "segmentation"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    test = load_digit_scenes(*segmentation.QUICK_SCENES, segmentation.QUICK_SCENES[1], seed=0).test
    background = np.mean(test.masks == 0)
    # Predicting background everywhere scores IoU `background` on one class and 0 on the others.
    assert metrics["test_mean_iou"] > 1.5 * background / NUM_CLASSES
    assert metrics["test_pixel_accuracy"] > background
    for png in ("predictions.png", "confusion.png", "val_mean_iou.png", "train_loss.png"):
        assert (run_dir / png).stat().st_size > 1000
    model = segmentation.build_model(name, seed=1)
    checkpoint = np.load(run_dir / "checkpoint.npz")
    model.load_state_dict({k[len("model."):]: checkpoint[k] for k in checkpoint.files})
    assert segmentation.evaluate(model, test)[0] == pytest.approx(metrics["test_mean_iou"], abs=1e-12)
