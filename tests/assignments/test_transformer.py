"""The vision transformer: patch layout, gradients, and a --quick run."""
import json

import numpy as np
import pytest

import minigrad as mg
from assignments import cli, transformer
from assignments.models import VisionTransformer
from layers.losses import cross_entropy
from tests.conftest import assert_close


def test_patches_are_row_major_blocks(rng):
    model = VisionTransformer((2, 6, 4), 3, patch=2, embed_dim=8, depth=1, num_heads=2, rng=0)
    X = rng.standard_normal((3, 2, 6, 4))
    tokens = model.patches(mg.Tensor(X)).data
    assert tokens.shape == (3, 6, 2 * 2 * 2)
    for i in range(3):
        for j in range(2):
            block = X[:, :, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
            np.testing.assert_array_equal(tokens[:, 2 * i + j], block.reshape(3, -1))


def test_vit_gradients_match_central_differences(rng):
    model = VisionTransformer((1, 4, 4), 3, patch=2, embed_dim=4, depth=2, num_heads=2, rng=0)
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    X, y = rng.standard_normal((3, 1, 4, 4)), rng.integers(0, 3, 3)

    def loss():
        return cross_entropy(model(mg.Tensor(X)), y, reduction="sum")

    model.zero_grad()
    loss().backward()
    names = [name for name, _ in model.named_parameters()]
    assert "position" in names and sum(n.startswith("blocks.") for n in names) > 0
    for name, p in model.named_parameters():
        numeric = mg.numerical_gradient(lambda _: loss().data, p.data, 1.0)
        # An absolute bound: the key bias's gradient is exactly zero (softmax ignores a
        # shift shared by all keys), where a relative error only measures round-off.
        assert_close(p.grad, numeric, atol=1e-8, what=name)


def test_image_must_tile_into_patches():
    with pytest.raises(ValueError, match=r"^VisionTransformer: patch must divide the image size 28x28, got 5$"):
        VisionTransformer((1, 28, 28), 10, patch=5)
    with pytest.raises(ValueError, match=r"^VisionTransformer: patch must divide the image size 28x20, got 7$"):
        VisionTransformer((1, 28, 20), 10)  # the default patch=7 divides the height only


@pytest.mark.slow
def test_transformer_quick_run(tmp_path, capsys):
    argv = ["run", "transformer", "--quick", "--epochs", "3", "--batch-size", "25"]
    assert cli.main([*argv, "--out", str(tmp_path)]) == 0
    run_dir = tmp_path / "transformer"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test_accuracy"] > 0.3  # chance is 0.1
    for png in ("loss.png", "accuracy.png", "position_similarity.png"):
        assert (run_dir / png).stat().st_size > 1000
    assert "transformer: test_accuracy = " in capsys.readouterr().out
    checkpoint = np.load(run_dir / "checkpoint.npz")
    assert checkpoint["model.position"].shape == (1, 16, transformer.EMBED_DIM)
