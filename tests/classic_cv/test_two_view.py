"""Two-view geometry held against OpenCV (recoverPose, decomposeEssentialMat, triangulatePoints)
and scipy's least_squares, on synthetic calibrated scenes with known truth and pixel noise."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classic_cv import two_view
from classic_cv._kernels import two_view as kern
from classic_cv.naive import two_view as naive
from classic_cv.ransac import find_fundamental
from classic_cv.rotations import matrix_to_rotvec, rotvec_to_matrix
from tests.conftest import assert_close

K = np.array([[520.0, 0.0, 320.0], [0.0, 510.0, 240.0], [0.0, 0.0, 1.0]])


def scene(seed, n=150, noise=0.5, angle=0.3):
    """Points in front of two cameras K[I|0] and K[R|t]; returns R, t, X, noisy x1, x2."""
    rng = np.random.default_rng(seed)
    R = rotvec_to_matrix(rng.normal(size=3) * angle / np.sqrt(3))
    t = rng.normal(size=3)
    t[0] += 2.0 * np.sign(t[0])  # mostly sideways motion, as in a stereo pair
    X = np.column_stack([rng.uniform(-2, 2, n), rng.uniform(-2, 2, n), rng.uniform(5, 10, n)])
    x1 = project(camera(np.eye(3), np.zeros(3)), X) + rng.normal(0, noise, (n, 2))
    x2 = project(camera(R, t), X) + rng.normal(0, noise, (n, 2))
    return R, t, X, x1, x2


def camera(R, t):
    return K @ np.column_stack([R, t])


def project(P, X):
    u = X @ P[:, :3].T + P[:, 3]
    return u[:, :2] / u[:, 2:]


def angle_between(R1, R2):
    return np.linalg.norm(matrix_to_rotvec(R1.T @ R2))


def reprojection_error(P1, P2, X, x1, x2):
    """Per-point squared reprojection error summed over both views."""
    return ((project(P1, X) - x1) ** 2).sum(axis=1) + ((project(P2, X) - x2) ** 2).sum(axis=1)


@settings(max_examples=12)
@given(seed=st.integers(0, 2**32 - 1))
def test_recover_pose_equals_cv2_and_the_truth(seed, cv2):
    R, t, _, x1, x2 = scene(seed)
    F = find_fundamental(x1, x2, threshold=3.0, rng=0).params
    E = two_view.essential_from_fundamental(F, K)
    ours = two_view.recover_pose(E, x1, x2, K)
    count, R_cv, t_cv, mask = cv2.recoverPose(E, x1, x2, K)
    assert_close(ours.R, R_cv, 1e-9, "R vs cv2")
    assert_close(ours.t, t_cv.ravel(), 1e-9, "t vs cv2")
    np.testing.assert_array_equal(ours.inliers, mask.ravel() > 0)
    assert ours.n_inliers == count
    # Both the pose and the scene are right, not only equal to OpenCV's.
    assert angle_between(ours.R, R) < 0.02
    assert np.linalg.norm(ours.t - t / np.linalg.norm(t)) < 0.05
    assert ours.n_inliers == len(x1)
    assert np.allclose(np.linalg.det(ours.R), 1.0)


def test_recover_pose_max_depth_matches_cv2(cv2):
    R, t, X, x1, x2 = scene(3, noise=0.0)
    E = two_view.essential_from_pose(R, t)
    # With the baseline as the unit, the points lie 5-10 / |t| away: a limit
    # between drops some of them, the same ones as OpenCV's distanceThresh.
    limit = 7.5 / np.linalg.norm(t)
    ours = two_view.recover_pose(E, x1, x2, K, max_depth=limit)
    count, R_cv, t_cv, mask = cv2.recoverPose(E, x1, x2, K, distanceThresh=limit)[:4]
    assert 0 < ours.n_inliers < len(x1)
    np.testing.assert_array_equal(ours.inliers, mask.ravel() > 0)
    assert_close(ours.R, R_cv, 1e-9, "R")
    assert_close(ours.points[ours.inliers] * np.linalg.norm(t), X[ours.inliers], 1e-9, "points up to the baseline's scale")


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1))
def test_decompose_essential_equals_cv2(seed, cv2):
    R, t, *_ = scene(seed)
    E = two_view.essential_from_pose(R, t)
    R1, R2, u = two_view.decompose_essential(E)
    C1, C2, cu = cv2.decomposeEssentialMat(E)
    ours, theirs = sorted([R1, R2], key=lambda m: m[0, 0]), sorted([C1, C2], key=lambda m: m[0, 0])
    for a, b in zip(ours, theirs):
        assert_close(a, b, 1e-9, "rotation candidates")
    assert_close(u * np.sign(u @ cu.ravel()), cu.ravel(), 1e-9, "t up to sign")
    # The true pose is among the four.
    unit = t / np.linalg.norm(t)
    assert min(angle_between(R1, R), angle_between(R2, R)) < 1e-9
    assert min(np.linalg.norm(u - unit), np.linalg.norm(u + unit)) < 1e-9


def test_essential_from_fundamental_and_pose_agree():
    R, t, *_ = scene(7)
    E_true = two_view.essential_from_pose(R, t)
    Kinv = np.linalg.inv(K)
    F = Kinv.T @ E_true @ Kinv
    E = two_view.essential_from_fundamental(3.7 * F, K, K)
    assert_close(np.linalg.svd(E, compute_uv=False), [1.0, 1.0, 0.0], 1e-12, "singular values")
    scale = np.linalg.svd(E_true, compute_uv=False)[0]
    sign = np.sign((E * E_true).sum())
    assert_close(sign * E * scale, E_true, 1e-9, "E up to scale")
    # Different cameras: E = K2^T F K1.
    K2 = K * [[1.1], [0.9], [1.0]]
    F2 = np.linalg.inv(K2).T @ E_true @ Kinv
    E2 = two_view.essential_from_fundamental(F2, K, K2)
    assert_close(np.sign((E2 * E_true).sum()) * E2 * scale, E_true, 1e-9, "E with two cameras")


def test_triangulate_equals_cv2(cv2, rng):
    R, t, X, x1, x2 = scene(11, n=500)
    P1, P2 = camera(np.eye(3), np.zeros(3)), camera(R, t)
    ours = two_view.triangulate(P1, P2, x1, x2)
    ref = cv2.triangulatePoints(P1, P2, x1.T.copy(), x2.T.copy())
    assert_close(ours, (ref[:3] / ref[3]).T, 1e-9, "triangulated points")
    assert np.abs(ours - X).mean() < 0.05  # and near the truth
    # Random, inconsistent pairs: far and ill-conditioned points, compared relative to their size.
    y1, y2 = rng.uniform(0, 640, (500, 2)), rng.uniform(0, 480, (500, 2))
    ours = two_view.triangulate(P1, P2, y1, y2)
    ref = cv2.triangulatePoints(P1, P2, y1.T.copy(), y2.T.copy())
    ref = (ref[:3] / ref[3]).T
    assert (np.abs(ours - ref).max(axis=1) / np.abs(ref).max(axis=1)).max() < 1e-9


@settings(max_examples=25)
@given(n=st.integers(1, 40), seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([1e-3, 1.0, 500.0]))
def test_dlt_kernel_equals_naive_twin(n, seed, scale):
    rng = np.random.default_rng(seed)
    P1, P2 = rng.normal(size=(3, 4)) * scale, rng.normal(size=(3, 4))
    x1, x2 = rng.normal(size=(n, 2)) * scale, rng.normal(size=(n, 2))
    out = np.empty((n, 4))
    kern.dlt_points(P1, P2, x1, x2, out)
    ref = naive.dlt_points(P1, P2, x1, x2)
    sign = np.sign((out * ref).sum(axis=1, keepdims=True))  # a null vector's sign is free
    assert_close(out, sign * ref, 1e-9, "unit null vectors")


def test_triangulate_refine_minimises_reprojection_error():
    least_squares = pytest.importorskip("scipy.optimize").least_squares
    R, t, X, x1, x2 = scene(5, n=60, noise=2.0)
    P1, P2 = camera(np.eye(3), np.zeros(3)), camera(R, t)
    linear = two_view.triangulate(P1, P2, x1, x2)
    refined = two_view.triangulate(P1, P2, x1, x2, refine=True)
    before, after = reprojection_error(P1, P2, linear, x1, x2), reprojection_error(P1, P2, refined, x1, x2)
    assert (after <= before).all() and after.sum() < before.sum()
    for i in range(0, 60, 6):
        def residual(p, i=i):
            return np.concatenate([project(P1, p[None])[0] - x1[i], project(P2, p[None])[0] - x2[i]])

        ref = least_squares(residual, linear[i], xtol=1e-15, ftol=1e-15, gtol=1e-15).x
        assert_close(refined[i], ref, 1e-6, f"refined point {i} vs least_squares")


def test_triangulate_point_at_infinity_is_inf():
    P1, P2 = camera(np.eye(3), np.zeros(3)), camera(np.eye(3), np.array([1.0, 0.0, 0.0]))
    x = np.array([[320.0, 240.0]])  # zero disparity: the rays are parallel
    assert np.isinf(two_view.triangulate(P1, P2, x, x)).all()
    assert np.isinf(two_view.triangulate(P1, P2, x, x, refine=True)).all()


# ------------------------------------------------------------------ bad input


def test_bad_input_is_refused():
    R, t, _, x1, x2 = scene(1, n=20)
    P1, P2 = camera(np.eye(3), np.zeros(3)), camera(R, t)
    E = two_view.essential_from_pose(R, t)
    with pytest.raises(ValueError, match=r"x1 must not be empty, got shape \(0, 2\)"):
        two_view.triangulate(P1, P2, np.zeros((0, 2)), np.zeros((0, 2)))
    with pytest.raises(ValueError, match="x1 and x2 must have the same shape"):
        two_view.triangulate(P1, P2, x1, x2[:5])
    with pytest.raises(ValueError, match=r"x1 must be \(N, 2\) points"):
        two_view.recover_pose(E, np.zeros((5, 3)), np.zeros((5, 3)), K)
    with pytest.raises(ValueError, match="x2 must be finite"):
        two_view.triangulate(P1, P2, x1, np.where(x2 > 300, np.nan, x2))
    with pytest.raises(ValueError, match=r"P1 must be \(3, 4\)"):
        two_view.triangulate(P1[:, :3], P2, x1, x2)
    with pytest.raises(ValueError, match="P2 must be a camera matrix of rank 3"):
        two_view.triangulate(P1, np.zeros((3, 4)), x1, x2)
    with pytest.raises(TypeError, match="refine must be True or False"):
        two_view.triangulate(P1, P2, x1, x2, refine=1)
    with pytest.raises(ValueError, match="E must have rank 2"):
        two_view.recover_pose(np.outer([1.0, 2, 3], [0.0, 1, 1]), x1, x2, K)
    with pytest.raises(ValueError, match="K must be an invertible"):
        two_view.recover_pose(E, x1, x2, np.diag([500.0, 500.0, 0.0]))
    with pytest.raises(ValueError, match="max_depth must be > 0"):
        two_view.recover_pose(E, x1, x2, K, max_depth=0)
    with pytest.raises(ValueError, match="no decomposition of E puts any point in front"):
        two_view.recover_pose(E, x1[:1], x1[:1] + [[0.0, 400.0]], K, max_depth=1e-3)
    with pytest.raises(ValueError, match="R must be a rotation matrix.*determinant -1"):
        two_view.essential_from_pose(np.diag([1.0, 1.0, -1.0]), t)
    with pytest.raises(ValueError, match="R must be a rotation matrix"):
        two_view.essential_from_pose(R * 1.01, t)
    with pytest.raises(ValueError, match="t must be nonzero"):
        two_view.essential_from_pose(R, np.zeros(3))
    with pytest.raises(ValueError, match="F must have rank 2"):
        two_view.essential_from_fundamental(np.zeros((3, 3)), K)
    with pytest.raises(ValueError, match=r"K2 must be \(3, 3\)"):
        two_view.essential_from_fundamental(E, K, np.eye(4))
    with pytest.raises(ValueError, match="E must be finite"):
        two_view.decompose_essential(np.full((3, 3), np.nan))
