"""Two-image panorama from overlapping crops of a scikit-image photograph."""
import numpy as np
import pytest

from classic_cv.ransac import apply_homography
from classic_cv.stitching import estimate_homography, stitch


@pytest.fixture(scope="module")
def astronaut():
    from skimage import data

    return data.astronaut()[::2, ::2].astype(np.float64) / 255.0  # (256, 256, 3)


def test_stitch_two_shifted_crops(astronaut):
    left, right = astronaut[:, :160], astronaut[:, 96:]  # 64 columns of overlap
    H, n_inliers = estimate_homography(left, right)
    expected = np.array([[1, 0, 96], [0, 1, 0], [0, 0, 1]], float)
    assert n_inliers >= 20
    corners = np.array([[0.0, 0.0], [159.0, 0.0], [0.0, 255.0], [159.0, 255.0]])
    np.testing.assert_allclose(apply_homography(H, corners), apply_homography(expected, corners), atol=0.5)
    pano = stitch(left, right)
    assert abs(pano.shape[0] - 256) <= 1 and abs(pano.shape[1] - 256) <= 1 and pano.shape[2] == 3
    h, w = min(pano.shape[0], 256), min(pano.shape[1], 256)
    diff = np.abs(pano[:h, :w] - astronaut[:h, :w])
    assert np.median(diff) < 0.01 and diff.mean() < 0.03


def test_stitch_rotated_second_view(astronaut):
    import cv2

    left = astronaut[:, :170]
    # Second view: the right part, rotated by 10 degrees about its centre.
    right = astronaut[:, 86:]
    R = cv2.getRotationMatrix2D((85.0, 128.0), 10, 1.0)
    rotated = cv2.warpAffine(right, R, (right.shape[1], right.shape[0]))
    H, _ = estimate_homography(left, rotated)
    # img2 -> img1: undo the rotation, then shift by 86 columns.
    R3 = np.vstack([R, [0, 0, 1]])
    expected = np.array([[1, 0, 86], [0, 1, 0], [0, 0, 1]], float) @ np.linalg.inv(R3)
    probe = np.array([[40.0, 40.0, 1.0], [130.0, 200.0, 1.0]])
    got = probe @ (H / H[2, 2]).T
    want = probe @ expected.T
    np.testing.assert_allclose(got[:, :2] / got[:, 2:], want[:, :2] / want[:, 2:], atol=1.5)
    pano = stitch(left, rotated)
    assert pano.shape[1] >= 250 and pano.ndim == 3


def test_gray_and_errors(astronaut):
    gray = astronaut.mean(axis=2)
    pano = stitch(gray[:, :160], gray[:, 96:])
    assert pano.ndim == 2
    with pytest.raises(ValueError, match="same channels"):
        stitch(gray, astronaut)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="overlap"):
        stitch(rng.random((64, 64)), rng.random((64, 64)))
