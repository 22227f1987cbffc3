"""The detection script: targets and decoding invert each other, the loss touches only what
it should, the PyTorch twin is the same network with the same loss, and a --quick run finds
digits."""
import json

import numpy as np
import pytest

import minigrad as mg
from assignments import cli, detection
from assignments.scenes import load_digit_scenes
from classic_cv.boxes import box_iou
from tests.conftest import assert_close


@pytest.fixture(scope="module")
def scenes():
    return load_digit_scenes(40, 10, 10, seed=3)


def test_targets_mark_cells_inside_their_boxes(scenes):
    train = scenes.train
    heat, distances, positive = detection.encode_all(train)
    grid = train.images.shape[-1] // detection.STRIDE
    assert heat.shape == (len(train), 10, grid, grid) and positive.shape == (len(train), 1, grid, grid)
    np.testing.assert_array_equal(heat.sum(axis=1, keepdims=True), positive)  # one class per positive cell
    centres = detection.cell_centres(grid)
    for s, (boxes, labels) in enumerate(zip(train.boxes, train.labels)):
        i, j = np.nonzero(positive[s, 0])
        assert len(i) >= len(boxes)  # every digit has at least its centre cell
        sides = np.exp(distances[s][:, i, j]) * detection.STRIDE
        decoded = np.stack([centres[j] - sides[0], centres[i] - sides[1], centres[j] + sides[2], centres[i] + sides[3]], 1)
        # Each positive cell encodes exactly one true box of its own class.
        owner = np.argmax(box_iou(decoded, boxes), axis=1)
        assert_close(decoded, boxes[owner], 1e-4, "decoded boxes")
        np.testing.assert_array_equal(heat[s][:, i, j].argmax(axis=0), labels[owner])


def test_smaller_box_wins_a_shared_cell():
    boxes = np.array([[0, 0, 40, 40], [13, 13, 27, 27]], dtype=np.float32)  # same centre, (20, 20)
    heat, distances, positive = detection.encode_targets(boxes, np.array([1, 2]), 64)
    # Both claim cells 4..6 (centres 18, 22, 26) on each axis; the smaller box takes all nine.
    assert heat[2].sum() == 9 and heat[1].sum() == 0 and positive.sum() == 9
    np.testing.assert_allclose(np.exp(distances[:, 5, 5]) * detection.STRIDE, [9, 9, 5, 5], rtol=1e-6)
    # Alone, the large box has the same nine cells.
    heat, _, _ = detection.encode_targets(boxes[:1], np.array([1]), 64)
    assert heat[1].sum() == 9


def test_decoding_perfect_predictions_returns_the_true_boxes(scenes):
    heat, distances, positive = detection.encode_all(scenes.test)
    logits = np.where(heat > 0, 8.0, -8.0).astype(np.float32)
    found = [detection.decode(c, d) for c, d in zip(logits, distances)]
    for f, boxes, labels in zip(found, scenes.test.boxes, scenes.test.labels):
        assert len(f["boxes"]) == len(boxes)  # the duplicates of each box's positive cells are suppressed
        order = np.argmax(box_iou(boxes, f["boxes"]), axis=1)
        assert_close(f["boxes"][order], boxes, 1e-4, "boxes")
        np.testing.assert_array_equal(f["classes"][order], labels)
    assert detection.mean_average_precision(found, detection.ground_truths(scenes.test)).map == 1.0


def test_decode_respects_the_score_threshold_and_the_image():
    logits = np.full((10, 16, 16), -1.0, dtype=np.float32)  # sigmoid 0.27
    distances = np.full((4, 16, 16), np.log(20.0), dtype=np.float32)  # 80-pixel sides: clipped
    assert len(detection.decode(logits, distances, score_threshold=0.3)["boxes"]) == 0
    found = detection.decode(logits, distances, score_threshold=0.2)
    assert 0 < len(found["boxes"]) <= detection.MAX_DETECTIONS
    assert found["boxes"].min() >= 0 and found["boxes"].max() <= 64


def test_loss_trains_box_distances_on_positive_cells_only(scenes):
    heat, distances, positive = detection.encode_all(scenes.train)
    batch = slice(0, 4)
    rng = np.random.default_rng(0)
    logits = mg.Tensor(rng.standard_normal(heat[batch].shape).astype(np.float32), requires_grad=True)
    predicted = mg.Tensor(rng.standard_normal(distances[batch].shape).astype(np.float32), requires_grad=True)
    detection.detection_loss(logits, predicted, heat[batch], distances[batch], positive[batch]).backward()
    assert np.all(predicted.grad[np.broadcast_to(positive[batch] == 0, predicted.shape)] == 0)
    assert np.abs(predicted.grad).sum() > 0 and np.all(logits.grad != 0)
    # With the true distances predicted, only the focal loss remains.
    exact = detection.detection_loss(logits, mg.Tensor(distances[batch]), heat[batch], distances[batch],
                                     positive[batch]).item()
    focal = detection.sigmoid_focal_loss(logits, heat[batch], reduction="sum").item() / positive[batch].sum()
    assert exact == pytest.approx(focal, rel=1e-6)


def test_twin_is_the_same_network_and_loss(torch, scenes):
    from benchmarks.twins.detection import build, loss_fn

    ours = detection.build_model(seed=0)
    twin = build(torch)
    assert set(twin.state_dict()) == set(ours.state_dict())
    twin.load_state_dict({k: torch.from_numpy(v.astype(np.float64) if v.dtype.kind == "f" else v)
                          for k, v in ours.state_dict().items()})
    heat, distances, positive = detection.encode_all(scenes.train)
    x = scenes.train.images[:6]
    logits, predicted = ours(mg.Tensor(x))
    loss = detection.detection_loss(logits, predicted, heat[:6], distances[:6], positive[:6])
    twin_logits, twin_predicted = twin(torch.from_numpy(x.astype(np.float64)))
    twin_loss = loss_fn(torch, twin_logits, twin_predicted, *(torch.from_numpy(a[:6].astype(np.float64))
                                                               for a in (heat, distances, positive)))
    assert_close(logits.data, twin_logits.detach().numpy(), 1e-4, "class logits")
    assert_close(predicted.data, twin_predicted.detach().numpy(), 1e-4, "distances")
    assert loss.item() == pytest.approx(twin_loss.item(), rel=1e-4)


@pytest.mark.slow
def test_quick_run_finds_digits(tmp_path):
    assert cli.main(["run", "detection", "--quick", "--epochs", "3", "--out", str(tmp_path)]) == 0
    run_dir = tmp_path / "detection"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test_map50"] > 0.05 and metrics["test_map"] > 0.01
    assert metrics["test_map50"] >= metrics["test_map"]
    for png in ("detections.png", "precision_recall.png", "val_map.png", "train_loss.png"):
        assert (run_dir / png).stat().st_size > 1000
