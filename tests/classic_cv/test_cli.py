"""``python -m classic_cv``: every command reads, runs and writes an image."""
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from classic_cv import io
from classic_cv.__main__ import main


@pytest.fixture
def camera_png(skimage, tmp_path):
    path = tmp_path / "camera.png"
    Image.fromarray(skimage.data.camera()[::2, ::2]).save(path)
    return path


def test_canny_writes_the_edge_map(camera_png, tmp_path, capsys):
    from classic_cv.canny import canny

    out = tmp_path / "edges.png"
    assert main(["canny", str(camera_png), str(out), "--sigma", "2"]) == 0
    edges = io.read_image(out) > 0.5
    np.testing.assert_array_equal(edges, canny(io.read_image(camera_png), 2.0))
    assert f"{edges.sum()} edge pixels" in capsys.readouterr().out
    assert main(["canny", str(camera_png), str(out), "--overlay"]) == 0
    assert io.read_image(out).shape == (256, 256, 3)


@pytest.mark.parametrize("args", [
    ["harris"], ["harris", "--shi-tomasi", "--num-peaks", "5"],
    ["hough"], ["hough", "--shape", "segments"], ["hough", "--shape", "circles", "--radii", "8", "12"],
])
def test_drawing_commands(camera_png, tmp_path, args):
    out = tmp_path / "out.png"
    assert main([args[0], str(camera_png), str(out)] + args[1:]) == 0
    drawn = io.read_image(out)
    assert drawn.shape == (256, 256, 3)
    # Something was drawn in pure red on the gray photo.
    assert ((drawn[..., 0] == 1.0) & (drawn[..., 1] == 0.0)).any()


def test_feature_commands(skimage, tmp_path):
    astro = skimage.data.astronaut()
    left, right = tmp_path / "l.png", tmp_path / "r.png"
    Image.fromarray(astro[:200, :200]).save(left)
    Image.fromarray(astro[50:250, 60:260]).save(right)
    assert main(["sift", str(left), str(right), str(tmp_path / "m.png")]) == 0
    assert io.read_image(tmp_path / "m.png").shape == (200, 400, 3)
    assert main(["sift", str(left), str(tmp_path / "k.png")]) == 0
    assert main(["seam-carve", str(left), str(tmp_path / "s.png"), "--width", "180"]) == 0
    assert io.read_image(tmp_path / "s.png").shape == (200, 180, 3)
    assert main(["stitch", str(left), str(right), str(tmp_path / "p.png")]) == 0
    pano = io.read_image(tmp_path / "p.png")
    assert pano.shape[0] >= 240 and pano.shape[1] >= 250


def test_errors_exit_nonzero(tmp_path, capsys):
    assert main(["canny", str(tmp_path / "missing.png"), str(tmp_path / "o.png")]) == 1
    assert "canny: error" in capsys.readouterr().err
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "z.png")
    assert main(["canny", str(tmp_path / "z.png"), str(tmp_path / "o.png"), "--low", "0.5", "--high", "0.1"]) == 1
    assert "low_threshold must be <= high_threshold" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["nope"])


def test_module_entry_point(camera_png, tmp_path):
    result = subprocess.run([sys.executable, "-m", "classic_cv", "canny", str(camera_png), str(tmp_path / "e.png")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "e.png").exists()
