"""The ddpm script: the time-conditioned U-Net (shapes, gradients, the timestep mattering),
its PyTorch twin being the same network, one training step, bad options, a --quick run."""
import argparse
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from assignments import cli, ddpm, diffusion
from optim.ema import ExponentialMovingAverage
from tests.conftest import assert_close


@settings(max_examples=6)
@given(widths=st.sampled_from([(4, 8), (4, 4, 8), (8, 8, 16, 16)]), batch=st.integers(1, 3),
       channels=st.integers(1, 2), data=st.data())
def test_unet_predicts_noise_of_the_input_shape(widths, batch, channels, data):
    factor = 2 ** (len(widths) - 1)
    h, w = (factor * data.draw(st.integers(1, 3)) for _ in range(2))
    model = ddpm.TimeUNet(channels, widths, groups=4, rng=0)
    rng = np.random.default_rng(1)
    x = mg.Tensor(rng.standard_normal((batch, channels, h, w)).astype(np.float32))
    t = rng.integers(0, 1000, batch)
    out = model(x, t)
    assert out.shape == x.shape and out.dtype == np.float32
    out.sum().backward()
    assert all(p.grad is not None and np.isfinite(p.grad).all() for p in model.parameters())


def test_the_timestep_changes_the_prediction(rng):
    model = ddpm.TimeUNet(1, (4, 8), groups=2, rng=0)
    x = rng.standard_normal((1, 1, 8, 8)).astype(np.float32)
    x2 = np.concatenate([x, x])
    with mg.no_grad():
        out = model(mg.Tensor(x2), np.array([3, 900])).data
    assert np.abs(out[0] - out[1]).max() > 1e-4
    with mg.no_grad():  # images of a batch are independent of each other
        alone = model(mg.Tensor(x), np.array([900])).data
    assert_close(alone[0], out[1], 1e-5, "batch independence")


def test_twin_is_the_same_network(torch, rng):
    from benchmarks.twins.ddpm import build

    widths = (8, 16, 32)
    ours = ddpm.TimeUNet(1, widths, rng=0)
    for p in ours.parameters():
        p.data = p.data.astype(np.float64)
    twin = build(torch, 1, widths).double()
    state = ours.state_dict()
    assert set(twin.state_dict()) == set(state)
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    x = rng.standard_normal((3, 1, 12, 8))
    t = np.array([0, 17, 999])
    with mg.no_grad():
        out = ours(mg.Tensor(x), t).data
    assert_close(out, twin(torch.from_numpy(x), t).detach().numpy(), 1e-10, "predicted noise")


def test_one_training_step_equals_the_twins(torch):
    # Algorithm 1 on the same batch, timesteps and noise (drawn in the same order), then the EMA.
    from benchmarks.twins.ddpm import build, schedule, train as twin_train

    widths = (4, 8)
    X = np.random.default_rng(3).uniform(-1, 1, (6, 1, 8, 8))
    args = argparse.Namespace(epochs=1, batch_size=6, lr=1e-3, ema_decay=0.9, seed=0)
    ours = ddpm.TimeUNet(1, widths, groups=2, rng=0)
    for p in ours.parameters():
        p.data = p.data.astype(np.float64)
    twin = build(torch, 1, widths, groups=2).double()
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    s = diffusion.make_schedule("linear", 50)
    ema = ExponentialMovingAverage(ours, decay=0.9)
    losses = ddpm.train(ours, ema, s, X, args, np.random.default_rng(0))
    betas, abar = schedule(torch, "linear", 50)
    averaged = twin_train(torch, twin, X, betas.double(), abar, args, np.random.default_rng(0))
    assert len(losses) == 1 and np.isfinite(losses[0])
    for name, value in ours.state_dict().items():
        assert_close(value, twin.state_dict()[name].numpy(), 1e-10, f"weights {name}")
    with ema.swapped_in():
        for name, value in ours.state_dict().items():
            assert_close(value, averaged.state_dict()[name].numpy(), 1e-10, f"averages {name}")


def test_twin_schedule_is_ours(torch):
    from benchmarks.twins.ddpm import schedule

    for kind in diffusion.SCHEDULES:
        betas, abar = schedule(torch, kind, 300)
        ours = diffusion.make_schedule(kind, 300)
        assert_close(betas.numpy(), ours.betas, 1e-15, f"{kind} betas")
        assert_close(abar.numpy(), ours.alpha_bars, 1e-14, f"{kind} alpha_bars")


def test_bad_model_arguments_are_refused():
    with pytest.raises(ValueError, match="TimeUNet: widths must list at least 2 levels"):
        ddpm.TimeUNet(1, (8,))
    with pytest.raises(ValueError, match=r"TimeUNet: widths\[1\] must be a multiple of groups \(8\), got 12"):
        ddpm.TimeUNet(1, (8, 12))
    with pytest.raises(ValueError, match="TimeUNet: in_channels"):
        ddpm.TimeUNet(0)


@pytest.mark.parametrize("options, message", [
    (["widths=16,20"], r"--set widths: TimeUNet: widths\[1\] must be a multiple of groups"),
    (["widths=8,8,8,8"], r"--set widths: 4 levels halve the images 3 times, so H and W must be multiples of 8"),
    (["timesteps=20", "ddim_steps=21"], "--set ddim_steps: must be at most timesteps"),
    (["schedule=quadratic"], "--set: schedule must be one of linear, cosine"),
    (["variance=learned"], "--set: variance must be one of beta, posterior"),
    (["ema_decay=1.5"], "--set: ema_decay must be"),
    (["samples=1"], "--set: samples must be an integer >= 2"),
])
def test_bad_options_are_refused(tmp_path, capsys, options, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["run", "ddpm", "--quick", "--out", str(tmp_path), "--set", *options])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert __import__("re").search(message, err), err


@pytest.mark.slow
def test_ddpm_quick_run(tmp_path, capsys):
    assert cli.main(["run", "ddpm", "--quick", "--out", str(tmp_path)]) == 0
    run_dir = tmp_path / "ddpm"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for method in ("ddim", "ddpm"):
        distance = metrics[f"test_frechet_distance_{method}"]
        assert np.isfinite(distance) and distance > 0
        assert 0 <= metrics[f"test_confident_share_{method}"] <= 1
        assert 0 <= metrics[f"test_class_entropy_bits_{method}"] <= np.log2(10) + 1e-9
        assert sum(metrics["class_histogram"][method]) == metrics["samples"][method]
    assert metrics["samples"] == {"ddim": ddpm.QUICK_SAMPLES, "ddpm": ddpm.QUICK_ANCESTRAL}
    assert metrics["steps"] == {"ddim": ddpm.QUICK_DDIM_STEPS, "ddpm": ddpm.QUICK_TIMESTEPS}
    assert np.isfinite(metrics["reference_frechet_distance"])
    data = cli.load_data(argparse.Namespace(data="mnist5k", data_dir=None, quick=True))
    steps = -(-len(data.X_train) // ddpm.DEFAULTS["batch_size"])
    assert len(metrics["losses"]) == steps and np.isfinite(metrics["losses"]).all()
    # An untrained predictor of unit-variance noise starts near a loss of 1.
    assert 0.3 < metrics["losses"][0] < 3
    for png in ("samples_ddim.png", "samples_ddpm.png", "chain_ddim.png", "chain_ddpm.png", "train_loss.png"):
        assert (run_dir / png).stat().st_size > 1000
    checkpoint = np.load(run_dir / "checkpoint.npz")
    model = ddpm.TimeUNet(1, rng=1)
    model.load_state_dict({k[len("ema."):]: checkpoint[k] for k in checkpoint.files if k.startswith("ema.")})
    assert metrics["parameters"] == sum(p.size for p in model.parameters())
    assert not np.array_equal(checkpoint["ema.head.weight"], checkpoint["model.head.weight"])
    assert "ddpm: test_frechet_distance_ddim = " in capsys.readouterr().out
