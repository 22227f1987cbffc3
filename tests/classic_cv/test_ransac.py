"""RANSAC and its models, held against OpenCV on synthetic correspondences with known truth."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classic_cv.ransac import (
    AffineModel,
    FundamentalModel,
    HomographyModel,
    LineModel,
    apply_homography,
    find_fundamental,
    find_homography,
    ransac,
    required_trials,
)

H_TRUE = np.array([[0.9, 0.1, 20.0], [-0.15, 1.1, -10.0], [2e-4, -1e-4, 1.0]])


def homography_data(seed, n=1000, outlier_ratio=0.5, noise=1.0):
    rng = np.random.default_rng(seed)
    src = rng.uniform(0, 512, (n, 2))
    truth = apply_homography(H_TRUE, src)
    dst = truth + rng.normal(0, noise, (n, 2))
    outliers = rng.random(n) < outlier_ratio
    dst[outliers] = rng.uniform(0, 512, (outliers.sum(), 2))
    return src, dst, truth, ~outliers


def stereo_data(seed, n=1000, outlier_ratio=0.5, noise=1.0):
    """Two calibrated views of a random point cloud; returns noisy x1, x2 (with
    outliers in x2), the noise-free projections and the inlier mask."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.uniform(-2, 2, n), rng.uniform(-2, 2, n), rng.uniform(4, 8, n)])
    K = np.array([[500.0, 0, 256], [0, 500, 256], [0, 0, 1]])
    a = 0.2
    R = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    t = np.array([-1.0, 0.2, 0.1])

    def project(Xc):
        p = Xc @ K.T
        return p[:, :2] / p[:, 2:]

    t1, t2 = project(X), project(X @ R.T + t)
    x1 = t1 + rng.normal(0, noise, (n, 2))
    x2 = t2 + rng.normal(0, noise, (n, 2))
    outliers = rng.random(n) < outlier_ratio
    x2[outliers] = rng.uniform(0, 512, (outliers.sum(), 2))
    return x1, x2, t1, t2, ~outliers


def symmetric_epipolar_error(F, x1, x2):
    h1 = np.hstack([x1, np.ones((len(x1), 1))])
    h2 = np.hstack([x2, np.ones((len(x2), 1))])
    l2, l1 = h1 @ F.T, h2 @ F
    num = np.abs((h2 * l2).sum(axis=1))
    return 0.5 * (num / np.hypot(l2[:, 0], l2[:, 1]) + num / np.hypot(l1[:, 0], l1[:, 1])).mean()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_homography_matches_opencv(cv2, seed):
    src, dst, truth, inl = homography_data(seed)
    ours = find_homography(src, dst, threshold=4.0, rng=seed)
    H_cv, _ = cv2.findHomography(src, dst, cv2.RANSAC, 4.0)
    recall = (ours.inliers & inl).sum() / inl.sum()
    assert recall >= 0.99, recall
    # Reprojection error of the true inliers against their noise-free positions.
    err = lambda H: np.linalg.norm(apply_homography(H, src[inl]) - truth[inl], axis=1).mean()
    assert err(ours.params) <= 1.1 * err(H_cv), (err(ours.params), err(H_cv))
    assert err(ours.params) < 0.5


@pytest.mark.parametrize("seed", [0, 1])
def test_fundamental_matches_opencv(cv2, seed):
    x1, x2, t1, t2, inl = stereo_data(seed)
    ours = find_fundamental(x1, x2, threshold=3.0, rng=seed)
    F_cv, _ = cv2.findFundamentalMat(x1, x2, cv2.FM_RANSAC, 3.0, 0.99)
    assert (ours.inliers & inl).sum() / inl.sum() >= 0.99
    assert abs(np.linalg.det(ours.params)) < 1e-10
    e_ours = symmetric_epipolar_error(ours.params, t1[inl], t2[inl])
    e_cv = symmetric_epipolar_error(F_cv, t1[inl], t2[inl])
    assert e_ours <= 1.5 * e_cv + 0.05, (e_ours, e_cv)
    assert e_ours < 1.0


def test_line_with_outliers():
    rng = np.random.default_rng(3)
    x = rng.uniform(-50, 50, 300)
    pts = np.column_stack([x, 0.5 * x + 3]) + rng.normal(0, 0.2, (300, 2))
    outliers = rng.random(300) < 0.4
    pts[outliers] = rng.uniform(-50, 50, (outliers.sum(), 2))
    res = ransac(pts, LineModel, threshold=1.0)
    a, b, c = res.params
    assert abs(-a / b - 0.5) < 0.01 and abs(-c / b - 3) < 0.1
    assert (res.inliers & ~outliers).sum() >= 0.99 * (~outliers).sum()


def test_affine_with_outliers():
    rng = np.random.default_rng(4)
    A = np.array([[1.2, -0.3, 5.0], [0.2, 0.8, -7.0], [0, 0, 1]])
    src = rng.uniform(0, 100, (200, 2))
    dst = src @ A[:2, :2].T + A[:2, 2] + rng.normal(0, 0.1, (200, 2))
    dst[:80] = rng.uniform(0, 100, (80, 2))
    res = ransac((src, dst), AffineModel, threshold=1.0)
    np.testing.assert_allclose(res.params, A, atol=0.02)
    assert res.inliers[80:].all()


@settings(max_examples=20)
@given(st.integers(4, 30), st.integers(0, 2**31))
def test_dlt_recovers_exact_homography(n, seed):
    rng = np.random.default_rng(seed)
    H = np.eye(3) + rng.normal(0, 0.1, (3, 3)) * np.array([[1, 1, 50], [1, 1, 50], [1e-3, 1e-3, 0]])
    src = rng.uniform(0, 100, (n, 2))
    dst = apply_homography(H, src)
    est = HomographyModel.fit(src, dst)
    np.testing.assert_allclose(est, H / H[2, 2], rtol=1e-6, atol=1e-8)


def test_eight_point_exact():
    x1, x2, t1, t2, _ = stereo_data(5, n=50, outlier_ratio=0.0, noise=0.0)
    F = FundamentalModel.fit(t1, t2)
    assert FundamentalModel.residuals(F, t1, t2).max() < 1e-6
    assert np.linalg.matrix_rank(F, tol=1e-9) == 2


def test_required_trials_formula():
    assert required_trials(0.5, 4, 0.99) == int(np.ceil(np.log(0.01) / np.log(1 - 0.5**4)))
    assert required_trials(1.0, 4, 0.99) == 1
    assert required_trials(0.0, 4, 0.99) == np.inf


def test_adaptive_trials_stop_early_on_clean_data():
    src, dst, _, _ = homography_data(0, n=100, outlier_ratio=0.0, noise=0.1)
    res = find_homography(src, dst, max_trials=5000)
    assert res.n_trials < 20
    assert res.inliers.all()


def test_seeded_and_reproducible():
    src, dst, _, _ = homography_data(7)
    a = find_homography(src, dst, rng=3)
    b = find_homography(src, dst, rng=3)
    assert a.n_trials == b.n_trials and np.array_equal(a.params, b.params)
    c = find_homography(src, dst, rng=np.random.default_rng(3))  # a Generator seeded alike draws alike
    assert c.n_trials == a.n_trials and np.array_equal(c.params, a.params)
    d, e = find_homography(src, dst), find_homography(src, dst)  # the default is a fixed seed
    assert d.n_trials == e.n_trials and np.array_equal(d.params, e.params)


def test_apply_homography_maps_zero_points():
    out = apply_homography(H_TRUE, np.zeros((0, 2)))
    assert out.shape == (0, 2) and out.dtype == np.float64
    with pytest.raises(ValueError, match=r"apply_homography: points must be \(N, 2\)"):
        apply_homography(H_TRUE, np.zeros((0, 3)))


def test_bad_input():
    with pytest.raises(ValueError, match="find_homography: src must be"):
        find_homography(np.zeros((10, 3)), np.zeros((10, 3)))
    with pytest.raises(ValueError, match="same shape"):
        find_homography(np.zeros((10, 2)), np.zeros((11, 2)))
    with pytest.raises(ValueError, match="at least 8"):
        find_fundamental(np.zeros((5, 2)), np.zeros((5, 2)))
    with pytest.raises(ValueError, match="threshold"):
        find_homography(np.ones((10, 2)), np.ones((10, 2)), threshold=0)
    pts = np.random.default_rng(0).random((10, 2))
    with pytest.raises(ValueError, match=r"find_homography: confidence must be in \(0, 1\)"):
        find_homography(pts, pts, confidence=1.0)
    with pytest.raises(ValueError, match="find_homography: max_trials must be an integer >= 1"):
        find_homography(pts, pts, max_trials=0)
    with pytest.raises(ValueError, match="ransac: data must hold at least 2 observations for LineModel"):
        ransac(np.zeros((1, 2)), LineModel, 1.0)
    bad = np.ones((10, 2))
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        find_homography(bad, np.ones((10, 2)))


class _PythonHomography(HomographyModel):
    kernel = None  # force the generic Python trial loop


class _PythonFundamental(FundamentalModel):
    kernel = None


def test_numba_trial_loop_equals_python_loop():
    src, dst, _, _ = homography_data(11, n=300)
    fast = ransac((src, dst), HomographyModel, 4.0, rng=5)
    slow = ransac((src, dst), _PythonHomography, 4.0, rng=5)
    assert fast.n_trials == slow.n_trials
    np.testing.assert_array_equal(fast.inliers, slow.inliers)
    np.testing.assert_allclose(fast.params, slow.params, rtol=1e-12)
    x1, x2, _, _, _ = stereo_data(12, n=200, outlier_ratio=0.3)
    fast = ransac((x1, x2), FundamentalModel, 2.0, rng=6)
    slow = ransac((x1, x2), _PythonFundamental, 2.0, rng=6)
    assert fast.n_trials == slow.n_trials
    np.testing.assert_array_equal(fast.inliers, slow.inliers)


@settings(max_examples=15)
@given(st.integers(0, 2**31))
def test_kernel_fits_equal_numpy_fits(seed):
    from classic_cv._kernels import ransac as k

    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0, 100, (8, 2)), rng.uniform(0, 100, (8, 2))
    ok, H = k.fit_homography(a[:4], b[:4])
    np.testing.assert_allclose(H, HomographyModel.fit(a[:4], b[:4]), rtol=1e-7, atol=1e-9)
    ok, F = k.fit_fundamental(a, b)
    F_np = FundamentalModel.fit(a, b)
    F = F * np.sign(F.ravel() @ F_np.ravel())  # the null vector's sign is arbitrary
    np.testing.assert_allclose(F, F_np, atol=1e-7)
    # Inlier counts of the kernel equal the NumPy residuals under the same threshold.
    pts1, pts2 = rng.uniform(0, 100, (50, 2)), rng.uniform(0, 100, (50, 2))
    assert k.count_inliers(k.HOMOGRAPHY, H, pts1, pts2, 30.0) == (HomographyModel.residuals(H, pts1, pts2) < 30).sum()
    assert k.count_inliers(k.FUNDAMENTAL, F_np, pts1, pts2, 3.0) == (FundamentalModel.residuals(F_np, pts1, pts2) < 3).sum()


@settings(max_examples=25)
@given(st.integers(0, 2**31))
def test_null_vector_equals_svd(seed):
    from classic_cv._kernels import ransac as k

    A = np.random.default_rng(seed).normal(size=(8, 9))
    ok, v = k.null_vector(A, 1e-10)
    expected = np.linalg.svd(A)[2][-1]
    assert ok
    np.testing.assert_allclose(v * np.sign(v @ expected), expected, atol=1e-9)
    A[7] = A[0] + A[1]  # rank 7: no unique null vector
    assert not k.null_vector(A, 1e-10)[0]
