"""The residual-network script: a --quick run of both variants, and its checkpoint."""
import argparse
import json

import numpy as np
import pytest

from assignments import cli, resnet
from assignments.models import accuracy


@pytest.mark.slow
def test_resnet_quick_run(tmp_path, capsys):
    # Batch norm's running statistics, used at test time, lag the fast-changing weights of a deep net
    # early on: small batches and three epochs let them settle.
    assert cli.main(["run", "resnet", "--quick", "--epochs", "3", "--batch-size", "16", "--out", str(tmp_path)]) == 0
    run_dir = tmp_path / "resnet"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for name in resnet.VARIANTS:
        assert metrics[f"test_accuracy_{name}"] > 0.3, name  # chance is 0.1
        assert (run_dir / name / "accuracy.png").stat().st_size > 1000
    for png in ("val_accuracy.png", "train_loss.png"):
        assert (run_dir / png).stat().st_size > 1000
    assert "resnet: test_accuracy_resnet = " in capsys.readouterr().out
    checkpoint = np.load(run_dir / "checkpoint.npz")
    data = cli.load_data(argparse.Namespace(data="mnist5k", data_dir=None, quick=True))
    model = resnet.build_model(data, True, argparse.Namespace(seed=123, **resnet.OPTIONS))
    model.load_state_dict({k[len("resnet."):]: checkpoint[k] for k in checkpoint.files if k.startswith("resnet.")})
    assert accuracy(model, data.X_test, data.y_test) == metrics["test_accuracy_resnet"]


@pytest.mark.parametrize("depth", [1, 3])
@pytest.mark.parametrize("name", list(resnet.VARIANTS))
def test_depth_sets_the_blocks_per_stage_on_both_sides(torch, depth, name):
    from benchmarks.twins.resnet import build

    data = cli.load_data(argparse.Namespace(data="mnist5k", data_dir=None, quick=True))
    shortcuts = resnet.VARIANTS[name]
    ours = resnet.build_model(data, shortcuts, argparse.Namespace(seed=0, **{**resnet.OPTIONS, "depth": depth}))
    twin = build(torch, data.image_shape[0], data.num_classes, shortcuts, depth)
    # Projection shortcuts (1x1, where a stage changes the shape) are off the main path.
    path = [m for m in twin.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3)]
    assert len(path) == resnet.convolutions(depth)
    assert sum(p.size for p in ours.parameters()) == sum(p.numel() for p in twin.parameters())
