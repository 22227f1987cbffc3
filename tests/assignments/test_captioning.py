"""Digit-strip captioning: the strips, causal decoders, greedy decoding, and a --quick run."""
import argparse
import json

import numpy as np
import pytest

import minigrad as mg
from assignments import captioning, cli
from assignments.captioning import START, Captioner, evaluate, make_strips, teacher_tokens
from optim import Adam


def test_strips_are_three_source_images_side_by_side_with_their_labels(rng):
    X = rng.random((7, 1, 4, 5), dtype=np.float32)
    y = np.arange(7) + 10
    images, labels = make_strips(X, y, 6, rng)
    assert images.shape == (6, 1, 4, 15) and labels.shape == (6, 3)
    for image, label in zip(images, labels):
        for k in range(3):
            np.testing.assert_array_equal(image[:, :, 5 * k:5 * (k + 1)], X[label[k] - 10])


def test_teacher_tokens_shift_the_digits_right_after_the_start_token():
    np.testing.assert_array_equal(teacher_tokens(np.array([[3, 1, 4], [1, 5, 9]])),
                                  [[START, 3, 1], [START, 1, 5]])


@pytest.mark.parametrize("decoder", captioning.DECODERS)
def test_decoders_are_causal_and_greedy_feeds_back_its_own_choices(decoder, rng):
    model = Captioner((1, 8, 24), decoder, rng=0)
    model.eval()
    images = rng.random((4, 1, 8, 24), dtype=np.float32)
    tokens = np.array([[START, 1, 2], [START, 3, 4], [START, 5, 6], [START, 7, 8]])
    changed = tokens.copy()
    changed[:, 2] = 0
    with mg.no_grad():
        scores = model(mg.Tensor(images), tokens).data
        scores_changed = model(mg.Tensor(images), changed).data
        assert scores.shape == (4, 3, 10)
        # A later input token must not change the scores of earlier positions.
        np.testing.assert_allclose(scores[:, :2], scores_changed[:, :2], rtol=1e-5, atol=1e-6)
        assert not np.allclose(scores[:, 2], scores_changed[:, 2])

        predicted = model.greedy(images)
        fed_back = model(mg.Tensor(images), teacher_tokens(predicted)).data
    np.testing.assert_array_equal(fed_back.argmax(axis=2), predicted)


def test_evaluate_counts_exact_matches_and_digits(rng, monkeypatch):
    model = Captioner((1, 8, 24), "lstm", rng=0)
    labels = np.array([[1, 2, 3], [4, 5, 6]])
    monkeypatch.setattr(model, "greedy", lambda images: np.array([[1, 2, 3], [4, 0, 6]]))
    assert evaluate(model, np.zeros((2, 1, 8, 24), np.float32), labels) == (0.5, 5 / 6)


def test_learning_rate_warms_up_over_the_first_epoch_then_decays_to_zero():
    optimizer = Adam([mg.Parameter(np.zeros(3))], lr=2e-3)
    schedule = captioning.warmup_cosine(optimizer, epochs=4, steps_per_epoch=10)
    rates = []
    for _ in range(40):
        rates.append(optimizer.param_groups[0]["lr"])
        schedule.step()
    assert rates[0] == pytest.approx(2e-4) and rates[10] == pytest.approx(2e-3)
    assert np.all(np.diff(rates[:11]) > 0) and np.all(np.diff(rates[10:]) < 0)
    assert rates[-1] < 0.01 * 2e-3


def test_unknown_decoder_is_rejected():
    with pytest.raises(ValueError, match="Captioner: decoder must be one of"):
        Captioner((1, 8, 24), "gru")


@pytest.mark.slow
def test_captioning_quick_run(tmp_path):
    args = ["run", "captioning", "--quick", "--epochs", "2", "--batch-size", "32", "--out", str(tmp_path)]
    assert cli.main(args) == 0
    run_dir = tmp_path / "captioning"
    for name in ("loss.png", "captions.png", "checkpoint.npz"):
        assert (run_dir / name).stat().st_size > 0, name
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["config"]["decoder"] == "lstm"
    assert metrics["test_per_digit_accuracy"] > 0.2  # chance is 0.1
    assert metrics["losses"][-1] < metrics["losses"][0]


def test_training_keeps_the_weights_of_the_best_validation_epoch(rng, monkeypatch):
    model = Captioner((1, 8, 24), "lstm", rng=0)
    X, y = rng.random((10, 1, 8, 8), dtype=np.float32), rng.integers(0, 10, 10)
    snapshots, scripted = [], iter([0.2, 0.6, 0.4])

    def fake_evaluate(model, images, labels):
        snapshots.append({k: v.copy() for k, v in model.state_dict().items()})
        return next(scripted), 0.0

    monkeypatch.setattr(captioning, "evaluate", fake_evaluate)
    args = argparse.Namespace(epochs=3, batch_size=4, lr=1e-2)
    losses, val_exact = captioning.train(model, X, y, 8, None, None, args, rng)
    assert val_exact == [0.2, 0.6, 0.4] and len(losses) == 3 * 2
    final = model.state_dict()
    assert not np.array_equal(snapshots[1]["decoder.out.weight"], snapshots[2]["decoder.out.weight"])
    for key, value in snapshots[1].items():
        np.testing.assert_array_equal(final[key], value, err_msg=key)


def test_torch_twin_computes_the_same_scores_and_captions(torch, rng):
    """Our weights loaded into ``benchmarks.twins.captioning``'s model give the same
    teacher-forced scores (batch-norm in training mode) and the same greedy captions."""
    from benchmarks.twins.captioning import build, evaluate as twin_evaluate

    ours = Captioner((1, 28, 28 * captioning.DIGITS), "lstm", rng=0)
    twin = build(torch).float()  # the fixture makes float64 the default dtype
    renamed = {k.replace("encoder.net.", "encoder.").replace("decoder.", "").replace("init_hidden.1.", "init_hidden."): v
               for k, v in ours.state_dict().items()}
    twin.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in renamed.items()})
    images = rng.random((6, 1, 28, 28 * captioning.DIGITS), dtype=np.float32)
    labels = rng.integers(0, 10, (6, captioning.DIGITS))
    tokens = teacher_tokens(labels)
    want = ours(mg.Tensor(images), tokens).data
    got = twin(torch.from_numpy(images), torch.from_numpy(tokens)).detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    assert twin_evaluate(torch, twin, images, labels) == evaluate(ours, images, labels)
