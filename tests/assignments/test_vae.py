"""The VAE: its loss against a direct NumPy computation, gradients, and a --quick run."""
import argparse
import json

import numpy as np
import pytest

import minigrad as mg
from assignments import cli, vae
from assignments.models import VAE, negative_elbo
from tests.conftest import assert_close


def _float64_vae(seed=0):
    model = VAE(6, hidden=5, latent=3, rng=seed)
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    return model


def test_negative_elbo_is_bce_plus_kl(rng):
    model = _float64_vae()
    X = rng.random((4, 1, 2, 3))
    eps = np.random.default_rng(7).standard_normal((4, 3))
    model.rng = np.random.default_rng(7)  # the same noise as eps
    loss = negative_elbo(model, mg.Tensor(X)).item()

    def affine(layer, a):
        return a @ layer.weight.data.T + layer.bias.data

    x = X.reshape(4, -1)
    h = np.maximum(affine(model.encoder[1], x), 0)
    mean, log_var = affine(model.mean, h), affine(model.log_var, h)
    z = mean + np.exp(0.5 * log_var) * eps
    p = 1 / (1 + np.exp(-affine(model.decoder[2], np.maximum(affine(model.decoder[0], z), 0))))
    bce = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(axis=1)
    kl = 0.5 * (np.exp(log_var) + mean ** 2 - 1 - log_var).sum(axis=1)
    np.testing.assert_allclose(loss, np.mean(bce + kl), rtol=1e-12)


def test_negative_elbo_gradients_match_central_differences(rng):
    model = _float64_vae()
    X = rng.random((4, 6))

    def loss():
        model.rng = np.random.default_rng(3)  # the same z noise for every evaluation
        return negative_elbo(model, mg.Tensor(X))

    model.zero_grad()
    loss().backward()
    for name, p in model.named_parameters():
        numeric = mg.numerical_gradient(lambda _: loss().data, p.data, 1.0)
        # Absolute: the central difference's round-off (~1e-10 here) would dominate
        # a relative error on the smallest gradient elements.
        assert_close(p.grad, numeric, atol=1e-8, what=name)


@pytest.mark.slow
def test_vae_quick_run(tmp_path, capsys):
    assert cli.main(["run", "vae", "--quick", "--out", str(tmp_path)]) == 0
    run_dir = tmp_path / "vae"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    data = cli.load_data(argparse.Namespace(data="mnist5k", data_dir=None, quick=True))
    untrained = vae.elbo(vae.build_model(data, seed=0), data.X_test)
    assert metrics["test_elbo"] > untrained + 50  # one quick epoch already helps a lot
    assert len(metrics["val_elbo_history"]) == 1
    for png in ("elbo.png", "reconstructions.png", "samples.png"):
        assert (run_dir / png).stat().st_size > 1000
    assert "vae: test_elbo = " in capsys.readouterr().out
    checkpoint = np.load(run_dir / "checkpoint.npz")
    assert checkpoint["model.mean.weight"].shape == (vae.LATENT, vae.HIDDEN)
