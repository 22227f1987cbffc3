"""The GAN: its networks, the sample judge (confidence share and class entropy), and a --quick run."""
import argparse
import json

import numpy as np
import pytest

import minigrad as mg
from assignments import cli
from assignments.gan import Discriminator, Generator, judge, noise, to_unit, train


class Logits(mg.Module):
    """A 'classifier' whose scores are its input: the judge's probabilities are chosen by the test."""

    def forward(self, x):
        return x.reshape(x.shape[0], -1)


def test_judge_counts_confident_samples_and_class_entropy():
    logits = np.full((8, 1, 1, 4), -10.0, np.float32)
    logits[np.arange(8), 0, 0, np.arange(8) % 4] = 10.0  # every class twice, confidently
    logits[:3] = 0.0  # three uniform (unconfident) rows, all predicted as class 0 by argmax
    share, entropy, histogram = judge(Logits(), logits, 4)
    assert share == pytest.approx(5 / 8)
    np.testing.assert_array_equal(histogram, [4, 1, 1, 2])
    p = np.array([4, 1, 1, 2]) / 8
    assert entropy == pytest.approx(-(p * np.log2(p)).sum(), rel=1e-6)


def test_judge_entropy_is_zero_for_one_mode_and_log2_k_for_all():
    one_mode = np.zeros((10, 1, 1, 5), np.float32)
    one_mode[..., 2] = 20.0
    entropy = judge(Logits(), one_mode, 5)[1]
    assert entropy == pytest.approx(0.0, abs=1e-12)
    assert not np.signbit(entropy), "printed as -0"
    all_modes = np.zeros((10, 1, 1, 5), np.float32)
    all_modes[np.arange(10), 0, 0, np.arange(10) % 5] = 20.0
    assert judge(Logits(), all_modes, 5)[1] == pytest.approx(np.log2(5))


def test_networks_shapes_and_the_generator_gets_gradients_through_the_discriminator(rng):
    generator, discriminator = Generator(8, (1, 6, 6), rng=0), Discriminator((1, 6, 6), rng=1)
    z = noise(rng, 5, 8)
    assert z.min() >= -1 and z.max() <= 1
    images = generator(mg.Tensor(z))
    assert images.shape == (5, 1, 6, 6) and np.abs(images.data).max() < 1
    logits = discriminator(images)
    assert logits.shape == (5, 1)
    logits.sum().backward()
    assert all(p.grad is not None and np.abs(p.grad).max() > 0 for p in generator.parameters())


def test_train_records_every_step_and_each_epochs_samples(rng):
    X = rng.random((40, 1, 6, 6), dtype=np.float32)
    args = argparse.Namespace(epochs=2, batch_size=16, lr=1e-3, noise_dim=8)
    generator, discriminator = Generator(8, (1, 6, 6), rng=0), Discriminator((1, 6, 6), rng=1)
    before = [p.data.copy() for p in generator.parameters()]
    losses, per_epoch = train(generator, discriminator, X, args, np.random.default_rng(0))
    assert len(losses["discriminator"]) == len(losses["generator"]) == 2 * 3  # ceil(40 / 16) steps per epoch
    assert np.all(np.isfinite(losses["generator"]))
    assert per_epoch.shape == (2, 10, 1, 6, 6) and per_epoch.min() >= 0 and per_epoch.max() <= 1
    assert not np.allclose(per_epoch[0], per_epoch[1])
    assert any(not np.array_equal(b, p.data) for b, p in zip(before, generator.parameters()))


def test_to_unit_maps_tanh_range_onto_pixels():
    np.testing.assert_allclose(to_unit(np.array([-1.0, 0.0, 1.0])), [0.0, 0.5, 1.0])


@pytest.mark.slow
def test_gan_quick_run(tmp_path):
    assert cli.main(["run", "gan", "--quick", "--out", str(tmp_path)]) == 0
    run_dir = tmp_path / "gan"
    for name in ("losses.png", "samples.png", "samples_by_epoch.png", "checkpoint.npz"):
        assert (run_dir / name).stat().st_size > 0, name
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["classifier"] == "trained"
    assert 0.0 <= metrics["test_confident_share"] <= 1.0
    assert 0.0 <= metrics["test_class_entropy_bits"] <= np.log2(10) + 1e-9
    assert sum(metrics["class_histogram"]) == 1000
    with np.load(run_dir / "checkpoint.npz") as saved:
        assert any(k.startswith("generator.") for k in saved.files)
        assert any(k.startswith("discriminator.") for k in saved.files)
