"""plot_history writes two real PNG files, and says clearly when matplotlib is missing."""
import sys

import numpy as np
import pytest

from optim import plot_history

HISTORY = {"loss": list(np.linspace(2.0, 0.5, 30)), "lr": [0.1] * 30,
           "train_acc": [0.4, 0.7, 0.9], "val_acc": [0.35, 0.6, 0.8], "val_loss": [1.5, 1.0, 0.7]}


def test_writes_loss_and_accuracy_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    paths = plot_history(HISTORY, str(tmp_path / "plots"))
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["loss.png", "accuracy.png"]
    for path in paths:
        with open(path, "rb") as f:
            header = f.read(8)
        assert header == b"\x89PNG\r\n\x1a\n"
        from PIL import Image

        with Image.open(path) as image:
            assert image.size[0] > 300 and image.size[1] > 200


def test_missing_matplotlib_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match="plot_history needs matplotlib"):
        plot_history(HISTORY, str(tmp_path))


def test_history_without_accuracy_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="'train_acc'"):
        plot_history({"loss": [1.0]}, str(tmp_path))
