"""Image files: exact uint8 round trips, gray conversion, drawing helpers."""
import numpy as np
import pytest
from PIL import Image

from classic_cv import io


def test_round_trip_rgb_and_gray(tmp_path, rng):
    rgb = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    io.write_image(tmp_path / "a.png", rgb / 255.0)
    back = io.read_image(tmp_path / "a.png")
    assert back.dtype == np.float64 and back.shape == (20, 30, 3)
    np.testing.assert_array_equal(np.round(back * 255).astype(np.uint8), rgb)
    gray = io.read_image(tmp_path / "a.png", gray=True)
    np.testing.assert_allclose(gray, (rgb / 255.0) @ [0.2125, 0.7154, 0.0721], atol=1e-12)
    io.write_image(tmp_path / "g.png", rgb[..., 0])
    np.testing.assert_array_equal(io.read_image(tmp_path / "g.png"), rgb[..., 0] / 255.0)


def test_other_modes(tmp_path):
    Image.fromarray(np.full((4, 5, 4), 200, np.uint8), "RGBA").save(tmp_path / "a.png")
    assert io.read_image(tmp_path / "a.png").shape == (4, 5, 3)
    Image.fromarray(np.full((4, 5), 65535, np.uint16)).save(tmp_path / "b.png")
    np.testing.assert_allclose(io.read_image(tmp_path / "b.png"), 1.0)


def test_to_uint8_clips_and_rounds():
    out = io.to_uint8(np.array([[-0.5, 0.5, 1.5, 0.999]]))
    assert out.tolist() == [[0, 128, 255, 255]]
    assert io.to_uint8(np.array([[True, False]])).tolist() == [[255, 0]]
    with pytest.raises(ValueError, match="to_uint8: image must be finite"):
        io.to_uint8(np.array([[np.nan]]))
    with pytest.raises(ValueError, match=r"write_image: image must be \(H, W\) or \(H, W, 3\)"):
        io.write_image("x.png", np.zeros((4, 4, 2)))


def test_line_segments_clip_to_image():
    segs = io.line_segments([0.0, np.pi / 2, np.pi / 4], [10.0, 20.0, 1000.0], (50, 80))
    assert segs.shape == (2, 2, 2)  # the third line misses the image
    np.testing.assert_allclose(segs[0], [[10, 0], [10, 49]], atol=1e-9)
    np.testing.assert_allclose(segs[1], [[0, 20], [79, 20]], atol=1e-9)


def test_drawing_marks_expected_pixels():
    img = np.zeros((40, 40))
    out = io.draw_segments(img, [[[5, 10], [30, 10]]], color=(0, 255, 0))
    assert out.shape == (40, 40, 3) and out[10, 5:31, 1].min() == 255 and out[20].max() == 0
    out = io.draw_circles(img, [[20, 20]], [10])
    assert out[10, 20, 0] == 255 and out[20, 20, 0] == 0
    out = io.draw_points(img, [[20, 10]], radius=2)  # (x, y)
    assert out[8, 20, 0] == 255 and out[18, 10, 0] == 0
    assert not io.draw_points(img, []).any() and not io.draw_circles(img, np.zeros((0, 2)), 3).any()
    mask = np.zeros((40, 40), bool)
    mask[3, 4] = True
    assert io.overlay_mask(img, mask)[3, 4].tolist() == [255, 0, 0]


def test_draw_keypoints_circle_and_orientation_line():
    img = np.zeros((60, 60))
    # sigma 5 magnified 2x: radius 10; orientation pi/2 points down (y grows downwards).
    out = io.draw_keypoints(img, [[30, 20]], [5.0], [np.pi / 2], magnify=2.0, color=(0, 0, 255))
    assert out.shape == (60, 60, 3) and out.dtype == np.uint8
    blue = out[..., 2] == 255
    assert blue[20, 40] and blue[20, 20] and blue[10, 30]  # on the circle: right, left, top
    assert blue[25:30, 30].all() and not blue[11:20, 30].any()  # the line runs from the centre down only
    assert not blue[20, 30 + 3:38].any()  # nothing inside the circle but the line
    assert out[..., :2].max() == 0
    # Default magnify is 1: the circle has the keypoint's sigma as radius.
    assert (io.draw_keypoints(img, [[30, 20]], [5.0], [0.0])[..., 1] == 255)[20, 25]
    assert not io.draw_keypoints(img, np.zeros((0, 2)), [], []).any()


def test_draw_keypoints_draws_sift_output(skimage):
    from classic_cv.sift import sift

    image = skimage.data.camera()[100:300, 150:350]
    kp, _ = sift(image)
    out = io.draw_keypoints(image, kp.xy, kp.scale, kp.orientation, magnify=3.0)
    green = (out[..., 1] == 255) & (out[..., 0] == 0)  # the gray photo has R = G = B
    assert len(kp) > 10
    # Halfway along each orientation line the drawing is green (within a pixel:
    # the rasteriser's rounding is its own).
    mid = kp.xy + 1.5 * kp.scale[:, None] * np.column_stack([np.cos(kp.orientation), np.sin(kp.orientation)])
    x, y = np.round(mid).astype(int).T
    inside = (x >= 1) & (x < 199) & (y >= 1) & (y < 199) & (kp.scale >= 2)
    near = np.lib.stride_tricks.sliding_window_view(np.pad(green, 1), (3, 3)).any(axis=(2, 3))
    assert inside.sum() > 5 and near[y[inside], x[inside]].all()


def test_draw_keypoints_bad_input():
    img = np.zeros((10, 10))
    with pytest.raises(ValueError, match="draw_keypoints: scale and orientation must have one value per point"):
        io.draw_keypoints(img, [[1, 2], [3, 4]], [1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="draw_keypoints: scale must be > 0"):
        io.draw_keypoints(img, [[1, 2]], [0.0], [0.0])
    with pytest.raises(ValueError, match="draw_keypoints: magnify must be > 0"):
        io.draw_keypoints(img, [[1, 2]], [1.0], [0.0], magnify=0)
    with pytest.raises(ValueError, match="draw_keypoints: orientation must be finite"):
        io.draw_keypoints(img, [[1, 2]], [1.0], [np.nan])
    with pytest.raises(ValueError, match=r"draw_keypoints: xy must be \(N, 2\) points"):
        io.draw_keypoints(img, [[1, 2, 3]], [1.0], [0.0])
