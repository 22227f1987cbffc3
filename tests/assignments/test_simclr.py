"""The simclr script: its network and losses against its PyTorch twin's, pretraining steps of both
methods against the twin's, MoCo's queue and key encoder, the linear probe, and --quick runs."""
import argparse
import json

import numpy as np
import pytest

import minigrad as mg
from assignments import cli, simclr
from layers import info_nce_loss, nt_xent_loss
from tests.conftest import assert_close

SHAPE = (1, 12, 8)


def _float64(model):
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    for module in model.modules():
        for name in module._buffer_names:
            value = getattr(module, name)
            if value.dtype == np.float32:
                setattr(module, name, value.astype(np.float64))
    return model


def _pair(torch, projection=(6, 4)):
    """Ours (float64) and the twin's network holding our weights."""
    from benchmarks.twins.simclr import build

    ours = _float64(simclr.ContrastiveNet(SHAPE, channels=(3, 5), hidden=7, projection=projection, rng=0))
    twin = build(torch, SHAPE, channels=(3, 5), hidden=7, projection=projection).double()
    state = ours.state_dict()
    assert set(twin.state_dict()) == set(state)
    twin.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in state.items()})
    return ours, twin


def _args(method, **overrides):
    settings = dict(epochs=1, batch_size=4, lr=1e-2, seed=0, method=method, temperature=None,
                    projection=(6, 4), queue=5, momentum=0.9)
    return argparse.Namespace(**{**settings, **overrides})


def test_twin_is_the_same_network_and_losses(torch, rng):
    from benchmarks.twins.simclr import info_nce, nt_xent

    ours, twin = _pair(torch)
    x = rng.random((6, *SHAPE))
    for mode in ("train", "eval"):
        getattr(ours, mode)(), getattr(twin, mode)()
        z = ours(mg.Tensor(x))
        expected = twin(torch.from_numpy(x))
        assert z.shape == (6, 4)
        assert_close(z.data, expected.detach().numpy(), 1e-12, f"projections, {mode} mode")
        assert_close(ours.encoder(mg.Tensor(x)).data, twin.encoder(torch.from_numpy(x)).detach().numpy(), 1e-12,
                     f"representations, {mode} mode")
    z, expected = z.data, expected.detach()
    assert_close(nt_xent_loss(z[:3], z[3:], 0.5).data, nt_xent(torch, expected[:3], expected[3:], 0.5).numpy(),
                 1e-12, "NT-Xent")
    queue = rng.standard_normal((5, 4))
    assert_close(info_nce_loss(z[:3], z[3:], queue, 0.2).data,
                 info_nce(torch, expected[:3], expected[3:], torch.from_numpy(queue), 0.2).numpy(), 1e-12, "InfoNCE")


@pytest.mark.parametrize("method", simclr.METHODS)
def test_pretraining_steps_equal_the_twins(torch, method):
    # Two epochs of two batches (the second one short): same views, losses, Adam steps,
    # key-encoder averages and queue on both sides.
    from benchmarks.twins.simclr import pretrain

    X = np.random.default_rng(3).random((7, *SHAPE))
    args = _args(method, epochs=2)
    ours, twin = _pair(torch)
    result = simclr.pretrain(ours, X, args)
    losses, key_model, queue = pretrain(torch, twin, X, args)
    assert len(result.losses) == 4 and np.isfinite(result.losses).all()
    assert_close(np.array(result.losses), np.array(losses), 1e-10, "losses")
    for name, value in ours.state_dict().items():
        assert_close(value, twin.state_dict()[name].numpy(), 1e-9, f"weights {name}")
    if method == "moco":
        for name, value in result.key_model.state_dict().items():
            assert_close(value, key_model.state_dict()[name].numpy(), 1e-9, f"key encoder {name}")
        assert_close(result.queue, queue.numpy(), 1e-9, "queue")
    else:
        assert result.key_model is None and result.queue is None


def test_moco_key_encoder_and_queue_after_one_step():
    X = np.random.default_rng(4).random((4, *SHAPE))
    args = _args("moco", momentum=0.75, queue=6)
    model = _float64(simclr.ContrastiveNet(SHAPE, channels=(3, 5), hidden=7, projection=(6, 4), rng=1))
    before = [p.data.copy() for p in model.parameters()]
    initial = simclr.initial_queue(6, 4, np.float64, np.random.default_rng(args.seed + 2))
    result = simclr.pretrain(model, X, args)
    # One step: the key encoder is 0.75 of the initial weights and 0.25 of the trained ones.
    moved = 0.0
    for old, new, key in zip(before, model.parameters(), result.key_model.parameters()):
        assert_close(key.data, 0.75 * old + 0.25 * new.data, 1e-14, "key = EMA of the query encoder")
        moved = max(moved, float(np.abs(new.data - old).max()))
    assert moved > 1e-4  # the query encoder was trained, so the check above is not trivial
    # The four new keys (unit length) came in first; the two newest initial rows stayed.
    assert result.queue.shape == (6, 4)
    assert_close(np.linalg.norm(result.queue, axis=1), np.ones(6), 1e-12, "unit keys")
    assert_close(result.queue[4:], initial[:2], 0, "oldest rows left")
    assert np.abs(result.queue[:4] - initial[:4]).max() > 1e-3


def test_enqueue_is_first_in_first_out():
    queue = np.arange(10.0).reshape(5, 2)
    keys = -np.arange(4.0).reshape(2, 2) - 1
    out = simclr.enqueue(queue, keys)
    np.testing.assert_array_equal(out, np.concatenate([keys, queue[:3]]))
    many = -np.arange(14.0).reshape(7, 2)
    np.testing.assert_array_equal(simclr.enqueue(queue, many), many[:5])
    assert queue[0, 1] == 1.0  # the old queue is left as it was


def test_linear_probe_separates_separable_features(rng):
    # Two informative features (on wildly different scales) and a constant one.
    y = rng.integers(0, 3, 300)
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    features = np.column_stack([(centres[y] + 0.5 * rng.standard_normal((300, 2))) * [1e3, 1e-3], np.ones(300)])
    train, test = simclr.linear_probe(features[:200], y[:200], features[200:], y[200:], num_classes=3)
    assert train > 0.97 and test > 0.95
    # Labels unrelated to the features: no better than chance on the held-out part.
    shuffled = rng.permutation(y)
    _, test = simclr.linear_probe(features[:200], shuffled[:200], features[200:], shuffled[200:], num_classes=3)
    assert test < 0.55


@pytest.mark.slow
@pytest.mark.parametrize("method", simclr.METHODS)
def test_simclr_quick_run(tmp_path, capsys, method):
    assert cli.main(["run", "simclr", "--quick", "--out", str(tmp_path), "--set", f"method={method}"]) == 0
    run_dir = tmp_path / "simclr"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    # 100 test digits, chance 10 %: even two steps of pretraining leave a probe far above it.
    for key in ("probe", "random_encoder", "raw_pixels", "supervised"):
        assert metrics[f"test_accuracy_{key}"] > 0.4, key
    assert metrics["method"] == method and metrics["temperature"] == simclr.TEMPERATURES[method]
    assert len(metrics["losses"]) == 2 and np.isfinite(metrics["losses"]).all()  # 500 images, batches of 256
    for png in ("loss.png", "views.png", "embedding_pretrained.png", "embedding_random.png"):
        assert (run_dir / png).stat().st_size > 1000
    out = capsys.readouterr().out
    assert "simclr: test_accuracy_probe = " in out and "simclr: test_accuracy_random_encoder = " in out
    checkpoint = np.load(run_dir / "checkpoint.npz")
    assert checkpoint["model.projection.2.weight"].shape == (64, 128)
    assert ("queue" in checkpoint.files) == (method == "moco")
