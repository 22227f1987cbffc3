"""A diverging run of every course script ends in optim's NonFiniteError.

On the command line that is one line on stderr and exit code 1, with the run
folder's files (a checkpoint of an earlier run) left as they were. The
scripts' own training loops (those not run by the Solver) are also held to
it directly, on tiny data.
"""
import argparse
import os

import numpy as np
import pytest

from assignments import captioning, cli, gan, linear_classifier, spiral, two_layer_net, vae
from assignments.models import VAE
from assignments.linear_svm import svm_loss_vectorized
from assignments.softmax import softmax_loss_vectorized
from optim import NonFiniteError

HUGE_LR = 1e38  # overflows float32 weights within a few steps in every script
BAD_LOSS = r"the loss is (nan|inf) at iteration \d+ \(epoch 1\)"


def _overflow_ok():
    """Divergence overflows: NumPy's warnings about it are expected here (the CLI silences them too)."""
    return np.errstate(over="ignore", invalid="ignore")

# knn trains nothing, and style_transfer's pixels are bounded or clipped: nothing to diverge.
TRAINED = sorted(name for name in cli.SCRIPTS if name not in ("knn", "style_transfer"))


# ----------------------------------------------------------------------------- own training loops

def _blobs(rng, n=40, d=6, classes=3):
    y = np.arange(n) % classes
    X = (rng.standard_normal((n, d)) + 3.0 * y[:, None]).astype(np.float32)
    return X, y


@pytest.mark.parametrize("loss_fn", [softmax_loss_vectorized, svm_loss_vectorized])
def test_linear_sgd_stops_at_the_first_non_finite_step(rng, loss_fn):
    X, y = _blobs(rng)
    X = linear_classifier.append_bias(X)
    message = r"train_sgd: .* at iteration \d+ \(epoch 1\); try a lower learning rate \(now 1e\+38\)"
    with _overflow_ok(), pytest.raises(NonFiniteError, match=message) as exc:
        linear_classifier.train_sgd(loss_fn, X, y, 3, lr=HUGE_LR, reg=1e-3, epochs=3,
                                    batch_size=10, rng=np.random.default_rng(0))
    assert exc.value.epoch == 1 and exc.value.iteration >= 1


def test_two_layer_net_stops_at_the_first_non_finite_loss(rng):
    X, y = _blobs(rng)
    model = two_layer_net.TwoLayerNet(X.shape[1], 5, 3, rng)
    with _overflow_ok(), pytest.raises(NonFiniteError, match="two_layer_net: " + BAD_LOSS):
        two_layer_net.train(model, X, y, HUGE_LR, 1e-4, epochs=3, batch_size=10, rng=rng)


def test_vae_stops_at_the_first_non_finite_loss(rng):
    X = rng.random((30, 1, 4, 4), dtype=np.float32)
    args = argparse.Namespace(epochs=3, batch_size=10, lr=HUGE_LR, seed=0)
    with _overflow_ok(), pytest.raises(NonFiniteError, match="vae: " + BAD_LOSS):
        vae.train(VAE(16, 8, 2, rng=0), X, X[:10], args)


def test_gan_stops_at_the_first_non_finite_loss(rng):
    X = rng.random((40, 1, 6, 6), dtype=np.float32)
    args = argparse.Namespace(epochs=2, batch_size=16, lr=HUGE_LR, noise_dim=8)
    generator, discriminator = gan.Generator(8, (1, 6, 6), rng=0), gan.Discriminator((1, 6, 6), rng=1)
    with _overflow_ok(), pytest.raises(NonFiniteError, match="gan: (generator|discriminator): " + BAD_LOSS):
        gan.train(generator, discriminator, X, args, np.random.default_rng(0))


def test_captioning_stops_at_the_first_non_finite_loss(rng):
    model = captioning.Captioner((1, 8, 24), "lstm", rng=0)
    X, y = rng.random((10, 1, 8, 8), dtype=np.float32), rng.integers(0, 10, 10)
    args = argparse.Namespace(epochs=2, batch_size=4, lr=HUGE_LR)
    with _overflow_ok(), pytest.raises(NonFiniteError, match="captioning: " + BAD_LOSS):
        captioning.train(model, X, y, 8, None, None, args, rng)


def test_spiral_stops_at_the_first_non_finite_loss_and_says_so_in_one_line(capsys):
    with _overflow_ok(), pytest.raises(NonFiniteError, match="spiral: " + BAD_LOSS):
        spiral.train(epochs=2, lr=HUGE_LR, log=lambda line: None)
    assert spiral.main(["--epochs", "2", "--lr", str(HUGE_LR)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: spiral diverged, NonFiniteError: spiral: the loss is")


@pytest.mark.parametrize("argv, message", [
    (["--lr", "nan"], "argument --lr: must be a finite number > 0, got 'nan'"),
    (["--epochs", "0"], "argument --epochs: must be an integer >= 1, got '0'"),
    (["--seed", "x"], "argument --seed: must be an integer >= 0, got 'x'"),
])
def test_spiral_refuses_a_bad_argument_in_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as exc:
        spiral.main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and message in err[0], err


# ----------------------------------------------------------------------------- every script, on the CLI

# Not marked slow: each run stops within two steps (well under a second once imported).
@pytest.mark.parametrize("name", TRAINED)
def test_a_diverging_run_is_one_line_exit_1_and_keeps_the_last_checkpoint(tmp_path, capsys, name):
    run_dir = tmp_path / name
    run_dir.mkdir()
    np.savez(run_dir / "checkpoint.npz", weights=np.arange(3.0))  # a good earlier run's
    before = (run_dir / "checkpoint.npz").read_bytes()
    code = cli.main(["run", name, "--quick", "--lr", str(HUGE_LR), "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1, err
    assert err[0].startswith(f"error: {name} diverged, NonFiniteError: "), err[0]
    assert "try a lower learning rate" in err[0] and err[0].endswith("(nothing was written)")
    assert os.listdir(run_dir) == ["checkpoint.npz"]
    assert (run_dir / "checkpoint.npz").read_bytes() == before
