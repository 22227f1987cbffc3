"""The autoencoder script: its model against its PyTorch twin's, the latent projection, a --quick run."""
import argparse
import json

import numpy as np
import pytest

import minigrad as mg
from assignments import autoencoder, cli
from tests.conftest import assert_close


def test_model_equals_the_twins_model(torch):
    from benchmarks.twins.autoencoder import build

    ours = autoencoder.ConvAutoencoder((1, 12, 8), latent=3, rng=0)
    for p in ours.parameters():
        p.data = p.data.astype(np.float64)
    theirs = build(torch, (1, 12, 8), latent=3).double()
    names = [name for name, _ in theirs.named_parameters()]
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()], names
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            q.copy_(torch.from_numpy(p.data))
    x = np.random.default_rng(0).random((5, 1, 12, 8))
    out = ours(mg.Tensor(x))
    assert out.shape == x.shape and ours.encode(mg.Tensor(x)).shape == (5, 3)
    assert_close(out.data, theirs(torch.from_numpy(x)).detach().numpy(), 1e-12, "logits")


def test_model_refuses_sizes_it_cannot_halve_twice():
    with pytest.raises(ValueError, match=r"ConvAutoencoder: image_shape must have H and W divisible by 4, "
                                         r"got \(1, 10, 8\)"):
        autoencoder.ConvAutoencoder((1, 10, 8), latent=2)


def test_principal_axes(rng):
    # Points along two known directions of a 5-D space, the first three times wider.
    directions = np.linalg.qr(rng.standard_normal((5, 5)))[0][:, :2]
    codes = (rng.standard_normal((400, 2)) * [3.0, 1.0]) @ directions.T + 7.0
    projected = autoencoder.principal_axes(codes)
    assert projected.shape == (400, 2)
    variances = projected.var(axis=0)
    assert variances[0] > 5 * variances[1]
    assert_close(variances.sum(), (codes - codes.mean(0)).var(axis=0).sum(), 1e-9, "all the spread is kept")
    np.testing.assert_array_equal(autoencoder.principal_axes(codes[:, :2]), codes[:, :2])


@pytest.mark.slow
def test_autoencoder_quick_run(tmp_path, capsys):
    assert cli.main(["run", "autoencoder", "--quick", "--out", str(tmp_path)]) == 0
    run_dir = tmp_path / "autoencoder"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    data = cli.load_data(argparse.Namespace(data="mnist5k", data_dir=None, quick=True))
    untrained = autoencoder.reconstruct(autoencoder.ConvAutoencoder(data.image_shape, 16, rng=0), data.X_test)
    # Eight quick steps already beat the untrained network (outputs near 0.5, error ~0.2),
    # though not yet the noisy inputs themselves (~0.08).
    untrained_error = autoencoder.mse(untrained, data.X_test)
    assert max(metrics["test_mse_plain"], metrics["test_mse_denoising"]) < untrained_error - 0.05
    assert 0.05 < metrics["noisy_input_mse"] < 0.12
    assert set(metrics["val_mse_history"]) == {"plain", "denoising"}
    for png in ("loss.png", "reconstructions.png", "latent_plain.png", "latent_denoising.png"):
        assert (run_dir / png).stat().st_size > 1000
    out = capsys.readouterr().out
    assert "autoencoder: test_mse_plain = " in out and "autoencoder: test_mse_denoising = " in out
    checkpoint = np.load(run_dir / "checkpoint.npz")
    assert checkpoint["plain.expand.weight"].shape == checkpoint["denoising.expand.weight"].shape == (32 * 7 * 7, 16)
