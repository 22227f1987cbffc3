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
    assert main(["canny", str(tmp_path / "missing.png"), str(tmp_path / "o.png")]) == 2
    assert "canny: error: argument input" in capsys.readouterr().err
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "z.png")
    assert main(["canny", str(tmp_path / "z.png"), str(tmp_path / "o.png"), "--low", "0.5", "--high", "0.1"]) == 2
    assert "argument --low: must be <= --high" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["nope"])


@pytest.fixture
def small_png(tmp_path):
    path = tmp_path / "small.png"
    Image.fromarray(np.zeros((4, 5), np.uint8)).save(path)
    return path


def _fails_with(argv, option, capsys):
    """The run ends with exit code 2 and one stderr line naming ``option``, no traceback."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and option in err and "Traceback" not in err, err


@pytest.mark.parametrize("args, option", [
    (["canny", "--sigma", "-1"], "argument --sigma: must be in [0, 100000], got -1.0"),
    (["canny", "--sigma", "nan"], "argument --sigma: must be in [0, 100000], got nan"),
    (["canny", "--low", "inf"], "argument --low"),
    (["canny", "--quantiles", "--high", "1.5"], "argument --high: must be in [0, 1], got 1.5"),
    (["canny", "--sigma", "1e9"], "argument --sigma: must be in [0, 100000], got 1000000000.0"),
    (["canny", "--low", "-1"], "argument --low: must be >= 0, got -1.0"),
    (["canny", "--high", "0.05"], "argument --low: must be <= --high, got 0.1 > 0.05"),  # the library's default low
    (["harris", "--sigma", "2e5"], "argument --sigma: must be in [0, 100000]"),
    (["hough", "--sigma", "1e300"], "argument --sigma: must be in [0, 100000]"),
    (["harris", "--k", "0.5"], "argument --k"),
    (["harris", "--min-distance", "0"], "argument --min-distance: must be an integer >= 1"),
    (["harris", "--min-distance", "2.5"], "argument --min-distance: must be an integer"),
    (["harris", "--threshold-rel", "-inf"], "argument --threshold-rel"),
    (["harris", "--num-peaks", "-3"], "argument --num-peaks"),
    (["harris", "--radius", "0"], "argument --radius"),
    (["hough", "--radii", "20", "10"], "argument --radii: MIN must be <= MAX"),
    (["hough", "--radii", "0", "10"], "argument --radii"),
    (["hough", "--threshold", "nan"], "argument --threshold"),
    (["hough", "--line-gap", "-1"], "argument --line-gap"),
    (["hough", "--shape", "squares"], "argument --shape"),
    (["seam-carve", "--width", "0"], "argument --width"),
    (["seam-carve", "--energy", "sideways"], "argument --energy"),
    (["sift", "--ratio", "1.5"], "argument --ratio"),
])
def test_bad_options_name_the_option(small_png, tmp_path, capsys, args, option):
    _fails_with([args[0], str(small_png), str(tmp_path / "o.png")] + args[1:], option, capsys)


def test_bad_files_name_the_argument(small_png, tmp_path, capsys):
    out = str(tmp_path / "o.png")
    _fails_with(["canny", str(tmp_path / "missing.png"), out], "argument input: cannot read", capsys)
    (tmp_path / "junk.png").write_bytes(b"not an image")
    _fails_with(["canny", str(tmp_path / "junk.png"), out], "argument input: cannot read", capsys)
    _fails_with(["canny", str(tmp_path), out], "argument input: cannot read", capsys)
    _fails_with(["stitch", str(small_png), str(tmp_path / "missing.png"), out], "argument input2", capsys)
    _fails_with(["canny", str(small_png), str(tmp_path / "o.xyz")], "argument output: must end in an image", capsys)
    _fails_with(["canny", str(small_png), str(tmp_path / "no" / "o.png")], "argument output: folder", capsys)
    # An image the algorithm cannot use: one line from the library, naming the image.
    _fails_with(["sift", str(small_png), out], "argument input: must be at least 8x8", capsys)
    big_png = tmp_path / "big.png"
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(big_png)
    _fails_with(["sift", str(big_png), str(small_png), out], "argument input2: must be at least 8x8", capsys)
    _fails_with(["stitch", str(big_png), str(small_png), out], "argument input2: must be at least 8x8", capsys)
    assert not (tmp_path / "o.png").exists()


def test_library_messages_name_the_options():
    from classic_cv.__main__ import _name_options

    options = {"low_threshold": "--low", "high_threshold": "--high", "img1": "input", "img2": "input2"}
    assert _name_options("canny: low_threshold must be <= high_threshold, got 0.5 > 0.1", options) == \
        "argument --low: must be <= --high, got 0.5 > 0.1"
    assert _name_options("stitch: img1 and img2 must overlap, got 3 matches", options) == \
        "argument input: input and input2 must overlap, got 3 matches"
    # An argument the command does not expose keeps the library's message.
    assert _name_options("canny: mask must be a numpy array, got list", options) == \
        "canny: mask must be a numpy array, got list"


def test_module_entry_point(camera_png, tmp_path):
    result = subprocess.run([sys.executable, "-m", "classic_cv", "canny", str(camera_png), str(tmp_path / "e.png")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "e.png").exists()


def test_harris_draws_circles_around_the_corners(tmp_path):
    from classic_cv.harris import corner_harris, corner_peaks

    image = np.zeros((80, 120))
    image[20:60, 30:100] = 1.0  # a wide rectangle: a (row, col) mix-up would miss its corners
    Image.fromarray((image * 255).astype(np.uint8)).save(tmp_path / "rect.png")
    assert main(["harris", str(tmp_path / "rect.png"), str(tmp_path / "c.png"), "--radius", "3"]) == 0
    drawn = io.read_image(tmp_path / "c.png")
    xy = corner_peaks(corner_harris(image), min_distance=5, threshold_rel=0.01)
    assert sorted(map(tuple, xy)) == [(30, 20), (30, 59), (99, 20), (99, 59)]  # (x, y)
    red = (drawn[..., 0] == 1.0) & (drawn[..., 1] == 0.0)
    for x, y in xy:
        assert red[y - 3, x] and red[y + 3, x] and red[y, x - 3] and red[y, x + 3], (x, y)
