"""Camera calibration against OpenCV and known cameras; ``corner_subpix`` against
OpenCV's ``cornerSubPix`` and scikit-image's ``corner_subpix``.

Synthetic checkerboard views are rendered here the way a camera would see the
board: a checkerboard image is warped by the homography ``K [r1 r2 t]``
(``warp_perspective``), then distorted radially by inverse mapping (each output
pixel samples the pinhole image where its undistorted ray lands).
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy import ndimage
from scipy.spatial.transform import Rotation

from classic_cv import calibration as cal
from classic_cv._kernels import calibration as kernels
from classic_cv.naive import calibration as naive
from classic_cv import io
from classic_cv.__main__ import main
from classic_cv.filters import gaussian_blur
from classic_cv.harris import corner_peaks, corner_shi_tomasi, corner_subpix
from classic_cv.warp import warp_perspective

K_TRUE = np.array([[520.0, 0.0, 240.0], [0.0, 515.0, 180.0], [0.0, 0.0, 1.0]])
DIST_TRUE = np.array([-0.25, 0.1])
SHAPE = (360, 480)
PATTERN = (7, 5)  # inner corners (cols, rows)
SQUARE_PX, MARGIN = 32, 1  # texture pixels per square, white squares around the board


# ------------------------------------------------------------------ synthetic views
def _random_poses(rng, n_views, centre, distance, tilt=0.6):
    """Poses looking at ``centre`` (a target point) from about ``distance``, tilted up to ``tilt`` rad."""
    poses = []
    for _ in range(n_views):
        R = Rotation.from_euler("xyz", rng.uniform(-tilt, tilt, 3) * [1, 1, 0.5]).as_matrix()
        offset = np.array([rng.uniform(-0.1, 0.1), rng.uniform(-0.07, 0.07), rng.uniform(0.9, 1.1)]) * distance
        poses.append((R, offset - R @ centre))
    return poses


def _board_texture():
    cols, rows = PATTERN
    n_x, n_y = cols + 1 + 2 * MARGIN, rows + 1 + 2 * MARGIN
    sy, sx = np.mgrid[0:n_y * SQUARE_PX, 0:n_x * SQUARE_PX] // SQUARE_PX
    inside = (sx >= MARGIN) & (sx < n_x - MARGIN) & (sy >= MARGIN) & (sy < n_y - MARGIN)
    return gaussian_blur(np.where(inside & ((sx + sy) % 2 == 0), 0.1, 0.9), 0.7)


def _render(R, t, rng, K=K_TRUE, dist=DIST_TRUE):
    """The board seen by camera (K, dist) at pose (R, t), with a little noise; (H, W) in [0, 1]."""
    # Texture pixel (x, y) -> target point (X, Y) in squares, (0, 0) the first inner corner.
    offset = 0.5 / SQUARE_PX - MARGIN - 1
    to_target = np.array([[1 / SQUARE_PX, 0, offset], [0, 1 / SQUARE_PX, offset], [0, 0, 1]])
    pinhole = warp_perspective(_board_texture(), K @ np.column_stack([R[:, 0], R[:, 1], t]) @ to_target,
                               output_shape=SHAPE, cval=0.5)
    y, x = np.mgrid[0:SHAPE[0], 0:SHAPE[1]].astype(np.float64)
    Kinv = np.linalg.inv(K)
    distorted = np.stack([x, y], axis=-1) @ Kinv[:2, :2].T + Kinv[:2, 2]
    ideal = distorted.copy()
    for _ in range(20):  # fixed-point inversion of x_d = x (1 + k1 r^2 + k2 r^4)
        r2 = (ideal**2).sum(axis=-1, keepdims=True)
        ideal = distorted / (1 + r2 * (dist[0] + dist[1] * r2))
    source = ideal @ K[:2, :2].T + K[:2, 2]
    image = ndimage.map_coordinates(pinhole, [source[..., 1], source[..., 0]], order=1, cval=0.5)
    return np.clip(image + rng.normal(scale=0.01, size=image.shape), 0.0, 1.0)


@pytest.fixture(scope="module")
def rendered_views():
    """Eight rendered views and the true pixel positions of their inner corners."""
    rng = np.random.default_rng(7)
    target = cal.checkerboard_points(PATTERN)
    centre = target.mean(axis=0)
    views = []
    for R, t in _random_poses(rng, 8, centre, 15.0):
        truth = cal.project_points(target, K_TRUE, R, t, DIST_TRUE)
        views.append((_render(R, t, rng), truth))
    return views


def _planar_views(rng, n_views, noise, K=K_TRUE, dist=DIST_TRUE, pattern=(9, 6), tilt=0.6, distance=500.0):
    """Image points of a planar target (squares of 30) in ``n_views`` random views about
    ``distance`` away, with Gaussian noise of ``noise`` px."""
    target = cal.checkerboard_points(pattern, 30.0)
    poses = _random_poses(rng, n_views, target.mean(axis=0), distance, tilt)
    views = np.stack([cal.project_points(target, K, R, t, dist) for R, t in poses])
    return target, views + rng.normal(scale=noise, size=views.shape), poses


# ------------------------------------------------------------------ corner_subpix
@pytest.mark.parametrize("name", ["camera", "coins", "checkerboard"])
def test_corner_subpix_matches_opencv_on_real_images(skimage, cv2, name):
    image = getattr(skimage.data, name)().astype(np.float32) / 255
    start = corner_peaks(corner_shi_tomasi(image), min_distance=7, threshold_rel=0.02, num_peaks=150) + 0.3
    ours = corner_subpix(image, start, window=5, max_iter=40, tol=1e-3)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_COUNT, 40, 1e-3)
    ref = cv2.cornerSubPix(image, start.astype(np.float32).reshape(-1, 1, 2), (5, 5), (-1, -1), criteria)
    gap = np.linalg.norm(ours - ref.reshape(-1, 2), axis=1)
    # OpenCV samples in float32; the rare point at its drift limit may go either way.
    assert np.median(gap) < 1e-3
    assert (gap < 0.01).mean() >= 0.97


def test_corner_subpix_finds_true_corners_like_skimage(skimage, rendered_views):
    image, truth = rendered_views[0]
    start = np.rint(truth)
    ours = np.linalg.norm(corner_subpix(image, start, window=5) - truth, axis=1)
    theirs = skimage.feature.corner_subpix(image, start[:, ::-1].astype(int), window_size=11)[:, ::-1]
    theirs = np.linalg.norm(theirs - truth, axis=1)
    assert np.linalg.norm(start - truth, axis=1).mean() > 0.25  # the starts are off by a fair amount
    assert ours.max() < 0.2
    assert ours.mean() < np.nanmean(theirs) + 0.03


@settings(max_examples=15)
@given(x=st.floats(8, 24), y=st.floats(8, 24), angle=st.floats(0, np.pi / 2))
def test_corner_subpix_converges_on_an_ideal_x_corner(x, y, angle):
    rows, cols = np.mgrid[0:32, 0:32].astype(np.float64)
    c, s = np.cos(angle), np.sin(angle)
    u, v = (cols - x) * c + (rows - y) * s, -(cols - x) * s + (rows - y) * c
    image = 0.5 + 0.4 * np.tanh(u / 2) * np.tanh(v / 2)  # a saddle at (x, y), edges ~4 px wide
    found = corner_subpix(image, [[round(x), round(y)]], window=4, tol=1e-5)
    np.testing.assert_allclose(found[0], [x, y], atol=0.02)


@settings(max_examples=15)
@given(h=st.integers(3, 30), w=st.integers(3, 30), window=st.integers(1, 6), n=st.integers(0, 12),
       seed=st.integers(0, 2**16))
def test_corner_subpix_kernel_equals_naive_twin(h, w, window, n, seed):
    rng = np.random.default_rng(seed)
    image = gaussian_blur(rng.random((h, w)), 1.0)
    points = rng.random((n, 2)) * [w - 1, h - 1]
    out = np.empty_like(points)
    kernels.corner_subpix(image, points, window, 20, 1e-3, out)
    # Ill-conditioned 2x2 solves on noise amplify rounding differences to ~1e-9.
    np.testing.assert_allclose(out, naive.corner_subpix(image, points, window, 20, 1e-3), atol=1e-7)


@settings(max_examples=15)
@given(h=st.integers(3, 20), w=st.integers(3, 20), seed=st.integers(0, 2**16))
def test_saddle_kernel_equals_naive_twin(h, w, seed):
    smooth = np.random.default_rng(seed).random((h, w))
    out = np.empty_like(smooth)
    kernels.saddle_response(smooth, out)
    np.testing.assert_allclose(out, naive.saddle_response(smooth), rtol=1e-12, atol=1e-15)


def test_corner_subpix_bad_input():
    image = np.zeros((20, 20))
    with pytest.raises(ValueError, match="inside the image"):
        corner_subpix(image, [[25.0, 3.0]])
    with pytest.raises(ValueError, match=r"\(K, 2\)"):
        corner_subpix(image, [[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="window must be"):
        corner_subpix(image, [[5.0, 5.0]], window=0)
    with pytest.raises(ValueError, match="tol must be"):
        corner_subpix(image, [[5.0, 5.0]], tol=0)
    with pytest.raises(ValueError, match="finite"):
        corner_subpix(np.full((20, 20), np.nan), [[5.0, 5.0]])
    with pytest.raises(ValueError, match="finite"):
        corner_subpix(image, [[np.nan, 5.0]])
    assert corner_subpix(image, np.zeros((0, 2))).shape == (0, 2)
    # A flat patch has no corner: the point stays where it was.
    np.testing.assert_array_equal(corner_subpix(image, [[5.5, 6.0]]), [[5.5, 6.0]])


# ------------------------------------------------------------------ DLT and decomposition
def _random_camera(rng):
    K = np.array([[rng.uniform(400, 900), rng.uniform(-5, 5), rng.uniform(200, 400)],
                  [0.0, rng.uniform(400, 900), rng.uniform(150, 300)], [0.0, 0.0, 1.0]])
    return K, Rotation.random(random_state=rng.integers(2**31)).as_matrix(), rng.normal(size=3)


def _points_in_front(rng, R, t, n):
    """n world points 4-8 units in front of the camera (R, t), spread in 3-D."""
    cam = np.column_stack([rng.uniform(-2, 2, n), rng.uniform(-2, 2, n), rng.uniform(4, 8, n)])
    return (cam - t) @ R  # R^T (cam - t)


@settings(max_examples=20)
@given(seed=st.integers(0, 2**16), scale=st.floats(-1e3, 1e3).filter(lambda s: abs(s) > 1e-3))
def test_dlt_and_decomposition_recover_an_exact_camera(seed, scale):
    rng = np.random.default_rng(seed)
    K, R, t = _random_camera(rng)
    X = _points_in_front(rng, R, t, 12)
    x = cal.project_points(X, K, R, t)
    P = cal.calibrate_dlt(X, x)
    assert np.isclose(np.linalg.norm(P[2, :3]), 1.0) and np.linalg.det(P[:, :3]) > 0
    for P_any in (P, scale * P):  # the decomposition ignores P's scale and sign
        K2, R2, t2 = cal.decompose_projection(P_any)
        np.testing.assert_allclose(K2, K, rtol=1e-6, atol=1e-6 * K[0, 0])
        np.testing.assert_allclose(R2, R, atol=1e-8)
        np.testing.assert_allclose(t2, t, atol=1e-7 * max(1.0, np.abs(t).max()))
        assert np.isclose(np.linalg.det(R2), 1.0)


def test_decomposition_matches_opencv(cv2, rng):
    for _ in range(5):
        K, R, t = _random_camera(rng)
        P = rng.uniform(0.1, 10) * K @ np.column_stack([R, t])
        K2, R2, t2 = cal.decompose_projection(P)
        Kc, Rc, C = cv2.decomposeProjectionMatrix(P)[:3]
        np.testing.assert_allclose(K2, Kc / Kc[2, 2], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(R2, Rc, atol=1e-10)
        np.testing.assert_allclose(t2, -Rc @ (C[:3, 0] / C[3, 0]), atol=1e-8)


def test_dlt_with_noise_finds_the_focal_length(rng):
    K, R, t = _random_camera(rng)
    X = _points_in_front(rng, R, t, 100)
    x = cal.project_points(X, K, R, t) + rng.normal(scale=0.3, size=(100, 2))
    K2, R2, _ = cal.decompose_projection(cal.calibrate_dlt(X, x))
    assert abs(K2[0, 0] / K[0, 0] - 1) < 0.01 and abs(K2[1, 1] / K[1, 1] - 1) < 0.01
    assert np.degrees(np.linalg.norm(Rotation.from_matrix(R2 @ R.T).as_rotvec())) < 0.5


def test_dlt_and_decomposition_bad_input(rng):
    K, R, t = _random_camera(rng)
    X = _points_in_front(rng, R, t, 10)
    x = cal.project_points(X, K, R, t)
    with pytest.raises(ValueError, match="at least 6"):
        cal.calibrate_dlt(X[:5], x[:5])
    with pytest.raises(ValueError, match="as many points"):
        cal.calibrate_dlt(X, x[:8])
    flat = X.copy()
    flat[:, 2] = 3.0
    with pytest.raises(ValueError, match="one plane"):
        cal.calibrate_dlt(flat, x)
    bad = X.copy()
    bad[0, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        cal.calibrate_dlt(bad, x)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        cal.calibrate_dlt(X[:, :2], x)
    with pytest.raises(ValueError, match="coincide"):
        cal.calibrate_dlt(X, np.ones_like(x))
    with pytest.raises(ValueError, match="invertible"):
        cal.decompose_projection(np.hstack([np.ones((3, 3)), np.ones((3, 1))]))
    with pytest.raises(ValueError, match=r"\(3, 4\)"):
        cal.decompose_projection(np.eye(3))


# ------------------------------------------------------------------ vanishing points
@settings(max_examples=25)
@given(seed=st.integers(0, 2**16))
def test_vanishing_points_of_orthogonal_directions_give_k(seed):
    rng = np.random.default_rng(seed)
    f = rng.uniform(300, 1500)
    K = np.array([[f, 0, rng.uniform(200, 500)], [0, f, rng.uniform(150, 400)], [0, 0, 1]])
    R = Rotation.random(random_state=seed).as_matrix()
    vanishing = K @ R  # column i: the image of direction i, homogeneous
    if np.abs(vanishing[2]).min() < 1e-3 * np.abs(vanishing[:2]).max():
        return  # a direction almost parallel to the image: vanishing point near infinity
    v1, v2, v3 = (vanishing[:2] / vanishing[2]).T
    np.testing.assert_allclose(cal.calibrate_from_vanishing_points(v1, v2, v3), K, rtol=1e-6, atol=1e-6 * f)


def test_vanishing_points_bad_input():
    with pytest.raises(ValueError, match="collinear"):
        cal.calibrate_from_vanishing_points([0, 0], [100, 100], [300, 300])
    with pytest.raises(ValueError, match="acute"):
        cal.calibrate_from_vanishing_points([0, 0], [1000, 0], [500, 50])
    with pytest.raises(ValueError, match="finite"):
        cal.calibrate_from_vanishing_points([0, np.inf], [1000, 0], [500, 800])
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        cal.calibrate_from_vanishing_points([0, 0, 1], [1000, 0], [500, 800])


# ------------------------------------------------------------------ Zhang
def test_zhang_recovers_an_exact_camera(rng):
    target, views, poses = _planar_views(rng, 4, noise=0.0)
    result = cal.calibrate_camera(target, views)
    np.testing.assert_allclose(result.K, K_TRUE, rtol=1e-7, atol=1e-6)
    np.testing.assert_allclose(result.dist, DIST_TRUE, atol=1e-7)
    np.testing.assert_allclose(result.R, np.stack([R for R, _ in poses]), atol=1e-8)
    np.testing.assert_allclose(result.t, np.stack([t for _, t in poses]), atol=1e-5)
    np.testing.assert_allclose(Rotation.from_rotvec(result.rvecs).as_matrix(), result.R, atol=1e-12)
    assert result.rms < 1e-6 and result.per_view_rms.shape == (4,)
    # (N, 2) target points and a list of views give the same answer.
    again = cal.calibrate_camera(target[:, :2], list(views))
    np.testing.assert_allclose(again.K, result.K, rtol=1e-10)


def test_zhang_with_skew_and_with_two_views(rng):
    K = K_TRUE.copy()
    K[0, 1] = 3.0
    target, views, _ = _planar_views(rng, 3, noise=0.0, K=K)
    np.testing.assert_allclose(cal.calibrate_camera(target, views, zero_skew=False).K, K, rtol=1e-7, atol=1e-6)
    target, views, _ = _planar_views(rng, 2, noise=0.0)
    np.testing.assert_allclose(cal.calibrate_camera(target, views).K, K_TRUE, rtol=1e-7)
    with pytest.raises(ValueError, match="at least 3 views"):
        cal.calibrate_camera(target, views, zero_skew=False)


def test_zhang_matches_opencv_with_noise(cv2, rng):
    # The board fills most of the image: f is then determined to ~0.2 % (one sigma) by 15 views.
    target, views, _ = _planar_views(rng, 15, noise=0.3, distance=400.0)
    ours = cal.calibrate_camera(target, views)
    flags = cv2.CALIB_FIX_K3 | cv2.CALIB_ZERO_TANGENT_DIST  # OpenCV's model reduced to (k1, k2)
    rms, K, dist, _, _ = cv2.calibrateCamera([target.astype(np.float32)] * len(views),
                                             list(views.astype(np.float32)), SHAPE[::-1], None, None, flags=flags)
    assert abs(ours.rms / rms - 1) < 0.02
    assert abs(ours.K[0, 0] / K_TRUE[0, 0] - 1) < 0.005 and abs(ours.K[1, 1] / K_TRUE[1, 1] - 1) < 0.005
    np.testing.assert_allclose(ours.K, K, rtol=1e-4)  # the same minimum
    np.testing.assert_allclose(ours.dist, dist.ravel()[:2], atol=1e-3)
    assert (ours.intrinsics_std > 0).all() and (ours.intrinsics_std < 0.01 * K_TRUE[0, 0]).all()


@pytest.mark.parametrize("zero_skew", [True, False])
def test_refinement_jacobian_and_uncertainty(rng, zero_skew):
    """The analytic Jacobian equals central differences (rotation vectors near 0 included),
    and the intrinsics' standard deviations equal the dense sigma^2 (J^T J)^-1."""
    target = cal.checkerboard_points((4, 3), 30.0)
    n_views, n_global = 3, 6 if zero_skew else 7
    K = K_TRUE.copy()
    K[0, 1] = 0.0 if zero_skew else 2.0
    rvecs = np.vstack([[1e-7, 0.0, -2e-7], rng.normal(scale=0.5, size=(n_views - 1, 3))])
    t = np.tile([-40.0, -30.0, 500.0], (n_views, 1))
    glob = [K[0, 0], K[1, 1], K[0, 2], K[1, 2]] + ([] if zero_skew else [K[0, 1]]) + list(DIST_TRUE)
    x = np.concatenate([glob, np.hstack([rvecs, t]).ravel()])

    def pixels(x):
        K = np.array([[x[0], 0.0 if zero_skew else x[4], x[2]], [0, x[1], x[3]], [0, 0, 1]])
        poses = x[n_global:].reshape(n_views, 6)
        R = Rotation.from_rotvec(poses[:, :3]).as_matrix()
        return cal._project(target, K, x[n_global - 2:n_global], R, poses[:, 3:]).ravel()

    by_global, by_pose = cal._jacobian(target, K, DIST_TRUE, rvecs, t, zero_skew)
    dense = np.zeros((n_views, len(target), 2, len(x)))
    dense[..., :n_global] = by_global
    for v in range(n_views):
        dense[v, ..., n_global + 6 * v:n_global + 6 * v + 6] = by_pose[v]
    dense = dense.reshape(-1, len(x))
    steps = 1e-6 * (1 + np.abs(x))
    numeric = np.stack([(pixels(x + e) - pixels(x - e)) / (2 * h) for e, h in zip(np.diag(steps), steps)], axis=1)
    assert np.abs(dense - numeric).max() < 1e-7 * np.abs(numeric).max()

    residuals = rng.normal(size=len(dense))
    A, g = cal._normal_equations(by_global, by_pose, residuals.reshape(n_views, -1, 2))
    np.testing.assert_allclose(A, dense.T @ dense, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(g, dense.T @ residuals, rtol=1e-12, atol=1e-9)
    sigma2 = residuals @ residuals / (len(dense) - len(x))
    expected = np.sqrt(sigma2 * np.diag(np.linalg.inv(dense.T @ dense))[:n_global])
    np.testing.assert_allclose(cal._global_std(A, residuals, n_global), expected, rtol=1e-6)


def test_project_points_matches_opencv(cv2, rng):
    K, R, t = _random_camera(rng)
    K[0, 1] = 0.0
    X = _points_in_front(rng, R, t, 20)
    ours = cal.project_points(X, K, Rotation.from_matrix(R).as_rotvec(), t, DIST_TRUE)
    ref = cv2.projectPoints(X, cv2.Rodrigues(R)[0], t, K, np.r_[DIST_TRUE, 0, 0, 0])[0].reshape(-1, 2)
    np.testing.assert_allclose(ours, ref, atol=1e-8)
    behind = cal.project_points(-(X @ R.T + t) @ R - t @ R, K, R, t)  # the points mirrored behind the camera
    assert np.isnan(behind).all()


def test_zhang_bad_input(rng):
    target, views, _ = _planar_views(rng, 3, noise=0.0)
    with pytest.raises(ValueError, match="at least 2 views"):
        cal.calibrate_camera(target, views[:1])
    with pytest.raises(ValueError, match=r"image_points\[1\] must be \(54, 2\)"):
        cal.calibrate_camera(target, [views[0], views[1][:50], views[2]])
    with pytest.raises(ValueError, match=r"must be \(54, 2\)"):
        cal.calibrate_camera(target, views[:, :50])
    bad = views.copy()
    bad[1, 3, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        cal.calibrate_camera(target, bad)
    with pytest.raises(ValueError, match="at least 4"):
        cal.calibrate_camera(target[:3], views[:, :3])
    with pytest.raises(ValueError, match="one line"):
        cal.calibrate_camera(target[:9], views[:, :9])  # the first row of the board
    lifted = target.copy()
    lifted[0, 2] = 1.0
    with pytest.raises(ValueError, match="Z = 0"):
        cal.calibrate_camera(lifted, views)
    with pytest.raises(TypeError, match="zero_skew"):
        cal.calibrate_camera(target, views, zero_skew=1)
    with pytest.raises(TypeError, match="sequence"):
        cal.calibrate_camera(target, iter(views))


@pytest.mark.parametrize("noise, dist", [(0.0, (0.0, 0.0)), (0.3, tuple(DIST_TRUE))])
def test_zhang_refuses_parallel_views(rng, noise, dist):
    """The target moved without turning: the views do not determine K."""
    target = cal.checkerboard_points((9, 6), 30.0)
    R = Rotation.from_rotvec([0.3, -0.2, 0.1]).as_matrix()
    shifts = np.array([[-100.0, -60, 500], [-150, -70, 600], [-90, -40, 550], [-120, -30, 650]])
    views = np.stack([cal.project_points(target, K_TRUE, R, t, np.array(dist)) for t in shifts])
    views += rng.normal(scale=noise, size=views.shape)
    with pytest.raises(ValueError, match="do not determine|no valid intrinsics"):
        cal.calibrate_camera(target, views)


def test_zhang_refuses_views_that_barely_turn(rng):
    target, views, _ = _planar_views(rng, 3, noise=1.0, tilt=0.03)
    with pytest.raises(ValueError, match="do not determine|no valid intrinsics"):
        cal.calibrate_camera(target, views)


def test_project_points_bad_input():
    X = np.ones((3, 3))
    with pytest.raises(ValueError, match="rotation matrix"):
        cal.project_points(X, K_TRUE, 2 * np.eye(3), np.zeros(3))
    with pytest.raises(ValueError, match="upper triangular"):
        cal.project_points(X, K_TRUE.T, np.eye(3), np.zeros(3))
    with pytest.raises(ValueError, match="positive focal"):
        cal.project_points(X, np.diag([-1.0, 1.0, 1.0]), np.eye(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"dist must have shape \(2,\)"):
        cal.project_points(X, K_TRUE, np.eye(3), np.zeros(3), dist=np.zeros(5))


# ------------------------------------------------------------------ checkerboards, end to end
def test_checkerboard_points_order():
    points = cal.checkerboard_points((3, 2), square_size=2.5)
    np.testing.assert_array_equal(points, [[0, 0, 0], [2.5, 0, 0], [5, 0, 0], [0, 2.5, 0], [2.5, 2.5, 0], [5, 2.5, 0]])
    with pytest.raises(ValueError, match=r"pattern_size\[1\]"):
        cal.checkerboard_points((3, 1))
    with pytest.raises(TypeError, match="pair"):
        cal.checkerboard_points(6)
    with pytest.raises(ValueError, match="square_size"):
        cal.checkerboard_points((3, 3), square_size=0)


def test_end_to_end_calibration_from_rendered_views(rendered_views):
    """Our corners on rendered views, ordered into the grid, calibrate the camera to 1 %."""
    corners = []
    for image, truth in rendered_views:
        found = cal.find_checkerboard_corners(image, PATTERN)
        assert np.linalg.norm(found - truth, axis=1).max() < 0.25
        corners.append(found)
    result = cal.calibrate_camera(cal.checkerboard_points(PATTERN), corners)
    assert abs(result.K[0, 0] / K_TRUE[0, 0] - 1) < 0.01 and abs(result.K[1, 1] / K_TRUE[1, 1] - 1) < 0.01
    assert np.abs(result.K[:2, 2] - K_TRUE[:2, 2]).max() < 3.0
    assert result.rms < 0.15


@pytest.mark.parametrize("which", ["rendered", "skimage"])
def test_checkerboard_corners_match_opencv(cv2, skimage, rendered_views, which):
    if which == "skimage":  # scikit-image's 8x8-square test image
        image8, pattern = skimage.data.checkerboard(), (7, 7)
        ours = cal.find_checkerboard_corners(image8, pattern)
    else:
        image, pattern = rendered_views[1][0], PATTERN
        ours = cal.find_checkerboard_corners(image, pattern)
        image8 = (image * 255).round().astype(np.uint8)
    found, ref = cv2.findChessboardCorners(image8, pattern)
    assert found
    ref = cv2.cornerSubPix(image8, ref, (5, 5), (-1, -1), (3, 40, 1e-3)).reshape(-1, 2)
    # OpenCV may start the grid at another corner: compare each corner with its nearest.
    gap = np.linalg.norm(ours[:, None] - ref[None], axis=-1).min(axis=1)
    assert gap.max() < 0.2


def test_rotated_board_keeps_the_image_orientation():
    """Seen upside down, the grid still starts top left and rows run left to right."""
    rng = np.random.default_rng(3)
    target = cal.checkerboard_points(PATTERN)
    R = Rotation.from_euler("xyz", [0.1, -0.2, np.pi]).as_matrix()
    t = np.array([0.0, 0.0, 14.0]) - R @ target.mean(axis=0)
    found = cal.find_checkerboard_corners(_render(R, t, rng), PATTERN)
    truth = cal.project_points(target, K_TRUE, R, t, DIST_TRUE)
    np.testing.assert_allclose(found, truth[::-1], atol=0.25)  # truth starts bottom right here
    assert found[0, 0] < found[PATTERN[0] - 1, 0] and found[0, 1] < found[-1, 1]


@pytest.mark.parametrize("pattern", [(6, 4), (5, 5)])
@pytest.mark.parametrize("angle", [0, 35, 90, 160, 250])
def test_grid_order_in_any_orientation(pattern, angle):
    """Shuffled corners of a turned, foreshortened grid come back row by row, rows
    left to right, not mirrored; a square grid also has its rows the more horizontal way."""
    cols, rows = pattern
    R = Rotation.from_euler("xyz", [0.4, -0.3, np.radians(angle)]).as_matrix()
    target = cal.checkerboard_points(pattern)
    t = np.array([0.0, 0.0, 12.0]) - R @ target.mean(axis=0)
    truth = cal.project_points(target, K_TRUE, R, t, DIST_TRUE)
    shuffled = np.random.default_rng(angle).permutation(len(truth))
    order = cal._order_grid(truth[shuffled], cols, rows)
    assert order is not None and order.shape == (rows, cols)
    grid = truth[shuffled][order]  # (rows, cols, 2)
    along_row, along_col = (grid[:, -1] - grid[:, 0]).mean(axis=0), (grid[-1] - grid[0]).mean(axis=0)
    assert along_row[0] > 0 and along_row[0] * along_col[1] - along_row[1] * along_col[0] > 0
    if cols == rows:
        assert abs(along_row[0]) >= abs(along_col[0])
    # Neighbours in the grid are neighbours on the board.
    steps = np.linalg.norm(np.diff(grid, axis=1), axis=-1)
    assert steps.max() < 2 * steps.min()


def test_checkerboard_corners_bad_input(rendered_views):
    image, _ = rendered_views[2]
    with pytest.raises(ValueError, match="7x6 inner corners"):
        cal.find_checkerboard_corners(image, (7, 6))
    with pytest.raises(ValueError, match="inner corners"):
        cal.find_checkerboard_corners(np.full((100, 100), 0.5), PATTERN)
    with pytest.raises(ValueError, match="at least 16x16"):
        cal.find_checkerboard_corners(np.zeros((10, 10)), PATTERN)
    with pytest.raises(ValueError, match="window must be"):
        cal.find_checkerboard_corners(image, PATTERN, window=1)
    with pytest.raises(TypeError, match="pattern_size"):
        cal.find_checkerboard_corners(image, "7x5")


def _write_views(tmp_path, rendered_views, n):
    paths = []
    for i, (image, _) in enumerate(rendered_views[:n]):
        paths.append(str(tmp_path / f"view{i}.png"))
        Image.fromarray((image * 255).round().astype(np.uint8)).save(paths[-1])
    return paths


def test_cli_calibrate(tmp_path, rendered_views, capsys):
    views = _write_views(tmp_path, rendered_views, 5)
    out = tmp_path / "drawn.png"
    assert main(["calibrate", *views, str(out), "--pattern", "7x5", "--square", "25"]) == 0
    drawn = io.read_image(out)
    assert drawn.shape == SHAPE + (3,)
    truth = rendered_views[0][1]
    x, y = np.rint(truth[0]).astype(int)
    around = drawn[y - 2:y + 3, x - 2:x + 3]
    assert ((around[..., 0] > 0.9) & (around[..., 1] < 0.3)).any()  # a red reprojected corner
    summary = capsys.readouterr().out
    fx = float(summary.split("fx ")[1].split()[0])
    assert summary.startswith("calibrate: 5 views") and abs(fx / K_TRUE[0, 0] - 1) < 0.02
    distance = float(summary.split("at distance ")[1].split()[0])
    assert 12 * 25 < distance < 20 * 25  # the board is ~15 squares away; --square 25 sets the unit


def test_cli_calibrate_errors(tmp_path, rendered_views, capsys):
    views = _write_views(tmp_path, rendered_views, 2)
    out = str(tmp_path / "drawn.png")
    with pytest.raises(SystemExit) as exit_info:
        main(["calibrate", *views, out, "--pattern", "7by5"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "argument --pattern: must be COLSxROWS" in err and "\n" not in err
    assert main(["calibrate", *views, out, "--pattern", "6x5"]) == 2
    err = capsys.readouterr().err.strip()
    assert f"argument views ({views[0]}): must show a checkerboard with 6x5" in err and "\n" not in err
    assert main(["calibrate", views[0], out, "--pattern", "7x5"]) == 2
    assert "at least 2 views" in capsys.readouterr().err
    assert main(["calibrate", str(tmp_path / "missing.png"), views[0], out, "--pattern", "7x5"]) == 2
    assert "argument views: cannot read image" in capsys.readouterr().err
