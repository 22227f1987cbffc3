"""The quick-start demo: a minigrad-only MLP must actually learn the spiral."""
import numpy as np

from assignments import spiral


def test_spiral_data_shapes_and_balance():
    X, y = spiral.make_spiral(points_per_class=50, num_classes=4, seed=1)
    assert X.shape == (200, 2) and X.dtype == np.float32
    np.testing.assert_array_equal(np.bincount(y), [50, 50, 50, 50])


def test_demo_learns_beyond_a_linear_classifier():
    lines = []
    _, accuracy = spiral.train(epochs=60, log=lines.append)
    assert len(lines) == 60 and "loss" in lines[0]
    first, last = (float(line.split()[-1]) for line in (lines[0], lines[-1]))
    assert last < 0.5 * first
    assert accuracy >= 0.9  # a linear model reaches only about 0.5 on three spirals


def test_demo_main_reaches_95_percent(capsys):
    spiral.main([])
    out = capsys.readouterr().out
    accuracy = float(out.strip().splitlines()[-1].split()[3].rstrip("%"))
    assert accuracy >= 95.0
