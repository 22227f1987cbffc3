"""Segmentation by clustering: ``segment`` equals the clustering of its pixel
features (and scikit-learn's), ``label_to_rgb`` and ``mark_boundaries`` equal
scikit-image's; the ``segment`` command."""
import numpy as np
import pytest

from classic_cv import clustering, segmentation
from classic_cv.__main__ import main
from tests.conftest import assert_close


@pytest.fixture(scope="module")
def sklearn():
    sklearn = pytest.importorskip("sklearn.cluster")
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1):  # its OpenMP loops stall on a loaded 2-core machine
        yield sklearn


def _crop(skimage, name="chelsea", size=60):
    return getattr(skimage.data, name)()[:size, :size]


def test_pixel_features_layout():
    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    X = segmentation.pixel_features(image, "color+position", position_weight=1.5)
    assert X.shape == (6, 5)
    assert_close(X[:, :3], image.reshape(6, 3) / 255, 1e-15, "colours")
    # Row-major pixels; (x, y) = (column, row), the longer side (3) spanning 1.5.
    assert_close(X[:, 3:], np.array([[0, 0], [1, 0], [2, 0], [0, 1], [1, 1], [2, 1]]) * 0.5, 1e-15, "positions")
    gray = segmentation.pixel_features(np.ones((4, 2)), "color")
    assert gray.shape == (8, 1)


@pytest.mark.parametrize("features", ["color", "color+position"])
def test_segment_kmeans_is_kmeans_on_pixel_features(skimage, features):
    image = _crop(skimage)
    labels = segmentation.segment(image, "kmeans", features, k=5, position_weight=0.7, rng=3)
    X = segmentation.pixel_features(image, features, 0.7)
    ref = clustering.kmeans(X, 5, rng=3)
    assert labels.shape == image.shape[:2]
    np.testing.assert_array_equal(labels.ravel(), ref.labels)


def test_segment_mean_shift_equals_sklearn(skimage, sklearn):
    image = _crop(skimage, "coffee", 50)
    labels = segmentation.segment(image, "mean_shift", "color+position", bandwidth=0.15, position_weight=0.5)
    X = segmentation.pixel_features(image, "color+position", 0.5)
    ref = sklearn.MeanShift(bandwidth=0.15, bin_seeding=True).fit(X)
    assert labels.max() > 0
    np.testing.assert_array_equal(labels.ravel(), ref.labels_)


def test_segment_gray_and_gaussian_kernel(skimage):
    image = skimage.data.camera()[::8, ::8]
    labels = segmentation.segment(image, "mean_shift", bandwidth=0.1, kernel="gaussian")
    assert labels.shape == image.shape and labels.min() == 0
    # Colour-only segments of a gray image are intensity intervals: sorted by mean, they do not overlap.
    ranges = sorted((image[labels == s].min(), image[labels == s].max()) for s in np.unique(labels))
    assert all(hi <= lo for (_, hi), (lo, _) in zip(ranges, ranges[1:]))


@pytest.mark.parametrize("name", ["chelsea", "camera"])
def test_label_to_rgb_equals_skimage_label2rgb_avg(skimage, name):
    image = getattr(skimage.data, name)()[::4, ::4]
    labels = segmentation.segment(image, k=6, features="color+position", rng=0)
    ours = segmentation.label_to_rgb(labels, image)
    rgb = skimage.color.gray2rgb(image) if image.ndim == 2 else image
    ref = skimage.color.label2rgb(labels, skimage.util.img_as_float(rgb), kind="avg", bg_label=-1)
    assert_close(ours if ours.ndim == 3 else np.repeat(ours[:, :, None], 3, axis=2), ref, 1e-12, "mean colours")
    # Negative labels mean "no segment": black.
    labels[:5] = -1
    assert (segmentation.label_to_rgb(labels, image)[:5] == 0).all()


@pytest.mark.parametrize("name", ["chelsea", "camera"])
def test_mark_boundaries_equals_skimage_thick(skimage, name):
    image = getattr(skimage.data, name)()[::3, ::3]
    labels = segmentation.segment(image, k=7, features="color+position", rng=1)
    for color in ((1, 1, 0), (0.2, 0.5, 1.0)):
        ours = segmentation.mark_boundaries(image, labels, color=color)
        ref = skimage.segmentation.mark_boundaries(image, labels, color=color, mode="thick")
        assert_close(ours, ref, 1e-12, "marked image")


# ----------------------------------------------------------------------------- CLI
def test_cli_segment_writes_mean_colours(skimage, tmp_path):
    from classic_cv import io

    src = tmp_path / "in.png"
    io.write_image(src, skimage.data.chelsea()[::3, ::3])
    out = tmp_path / "out.png"
    assert main(["segment", str(src), str(out), "--k", "4"]) == 0
    written = io.read_image(out)
    assert written.shape == (100, 151, 3)
    assert len(np.unique(written.reshape(-1, 3), axis=0)) <= 4
    boxed = tmp_path / "boxed.png"
    assert main(["segment", str(src), str(boxed), "--method", "mean-shift", "--bandwidth", "0.15",
                 "--position-weight", "1", "--boundaries"]) == 0
    colors = io.read_image(boxed).reshape(-1, 3)
    assert (colors == [1.0, 1.0, 0.0]).all(axis=1).any()  # yellow borders drawn


@pytest.mark.parametrize("option, value, message", [
    ("--k", "0", "argument --k: must be an integer >= 1, got 0"),
    ("--bandwidth", "-1", "argument --bandwidth: must be > 0, got -1.0"),
    ("--method", "slic", "argument --method: invalid choice"),
])
def test_cli_segment_bad_options(tmp_path, capsys, option, value, message):
    from classic_cv import io

    src = tmp_path / "in.png"
    io.write_image(src, np.zeros((4, 4)))
    with pytest.raises(SystemExit) as exit_info:
        main(["segment", str(src), str(tmp_path / "out.png"), option, value])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_cli_segment_k_larger_than_image_names_the_option(tmp_path, capsys):
    from classic_cv import io

    src = tmp_path / "in.png"
    io.write_image(src, np.zeros((2, 3)))
    assert main(["segment", str(src), str(tmp_path / "out.png"), "--k", "7"]) == 2
    err = capsys.readouterr().err.strip()
    assert "argument --k: must be an integer in [1, 6], got 7" in err and "\n" not in err


# ----------------------------------------------------------------------------- bad input
IMG = np.random.default_rng(0).random((6, 5, 3))
LABELS = np.zeros((6, 5), dtype=np.int64)


@pytest.mark.parametrize("call, error, match", [
    (lambda: segmentation.segment(np.zeros((0, 5, 3))), ValueError, "image must not be empty"),
    (lambda: segmentation.segment(np.full((4, 4), np.nan)), ValueError, "image must be finite"),
    (lambda: segmentation.segment(np.zeros((4, 4, 4))), ValueError, r"image must be \(H, W\) or \(H, W, 3\)"),
    (lambda: segmentation.segment(IMG, method="slic"), ValueError, "method must be one of"),
    (lambda: segmentation.segment(IMG, features="position"), ValueError, "features must be one of"),
    (lambda: segmentation.segment(IMG, k=31), ValueError, r"k must be an integer in \[1, 30\]"),
    (lambda: segmentation.segment(IMG, k=0), ValueError, "k must be an integer in"),
    (lambda: segmentation.segment(IMG, method="mean_shift", bandwidth=0), ValueError, "bandwidth must be > 0"),
    (lambda: segmentation.segment(IMG, method="mean_shift", kernel="box"), ValueError, "kernel must be one of"),
    (lambda: segmentation.segment(IMG, position_weight=-1), ValueError, "position_weight must be >= 0"),
    (lambda: segmentation.segment(IMG, max_iter=0), ValueError, "max_iter must be"),
    (lambda: segmentation.segment(IMG, rng=1.5), TypeError, "rng must be"),
    (lambda: segmentation.segment([[0.0]]), TypeError, "image must be a numpy array"),
    (lambda: segmentation.pixel_features(IMG, "colour"), ValueError, "features must be one of"),
    (lambda: segmentation.label_to_rgb(LABELS[:3], IMG), ValueError, "labels must have the image's shape"),
    (lambda: segmentation.label_to_rgb(LABELS.astype(float), IMG), TypeError, "labels must hold integers"),
    (lambda: segmentation.label_to_rgb(LABELS[0], IMG), ValueError, "labels must be 2-D"),
    (lambda: segmentation.mark_boundaries(IMG, LABELS[:, :2]), ValueError, "labels must have the image's shape"),
    (lambda: segmentation.mark_boundaries(IMG, LABELS, color=(1, 0)), ValueError, "color must be 3 numbers"),
    (lambda: segmentation.mark_boundaries(IMG, LABELS, color=(1, np.nan, 0)), ValueError, "color must be finite"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
