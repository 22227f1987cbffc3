"""Point-set registration held against scikit-image (Umeyama), scipy (Kabsch via align_vectors)
and the known pose of a point cloud built from a real image (ICP)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classic_cv import registration
from classic_cv.rotations import matrix_to_rotvec, rotvec_to_matrix
from tests.conftest import assert_close


def random_rotation(rng, d, angle=None):
    if d == 2:
        a = rng.uniform(-np.pi, np.pi) if angle is None else angle
        return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    axis = rng.normal(size=3)
    axis /= np.linalg.norm(axis)
    return rotvec_to_matrix(axis * (rng.uniform(0, np.pi) if angle is None else angle))


def height_cloud(skimage, step=8):
    """A 3-D point cloud from a real image: (x, y, grey level) of every ``step``-th pixel of ``camera``."""
    image = skimage.data.camera()[::step, ::step] / 255.0
    h, w = image.shape
    rows, cols = np.mgrid[0:h, 0:w]
    return np.column_stack([cols.ravel() / w, rows.ravel() / w, 0.3 * image.ravel()])


@settings(max_examples=25)
@given(d=st.sampled_from([2, 3]), n=st.integers(3, 40), seed=st.integers(0, 2**32 - 1),
       scale=st.floats(0.2, 5.0), noise=st.sampled_from([0.0, 0.05]))
def test_umeyama_and_kabsch_equal_skimage(d, n, seed, scale, noise, skimage):
    rng = np.random.default_rng(seed)
    src = rng.normal(size=(n, d))
    dst = scale * src @ random_rotation(rng, d).T + rng.normal(size=d) + rng.normal(0, noise, (n, d))
    transform = skimage.transform
    similarity = registration.umeyama(src, dst)
    assert_close(similarity.matrix, transform.SimilarityTransform.from_estimate(src, dst).params, 1e-9, "similarity")
    rigid = registration.rigid_transform(src, dst)
    assert_close(rigid.matrix, transform.EuclideanTransform.from_estimate(src, dst).params, 1e-9, "rigid")
    assert rigid.scale == 1.0
    for fit in (similarity, rigid):
        assert np.isclose(np.linalg.det(fit.R), 1.0)
        assert np.isclose(fit.rmse, np.sqrt(((fit.apply(src) - dst) ** 2).sum(axis=1).mean()))
    if noise == 0:
        assert_close(similarity.apply(src), dst, 1e-9, "exact similarity")
        assert similarity.rmse < 1e-9


@settings(max_examples=15)
@given(n=st.integers(3, 30), seed=st.integers(0, 2**32 - 1))
def test_kabsch_rotation_equals_scipy_align_vectors(n, seed):
    Rotation = pytest.importorskip("scipy.spatial.transform").Rotation
    rng = np.random.default_rng(seed)
    src = rng.normal(size=(n, 3))
    dst = src @ random_rotation(rng, 3).T + rng.normal(0, 0.1, (n, 3)) + 5.0
    fit = registration.rigid_transform(src, dst)
    ref = Rotation.align_vectors(dst - dst.mean(axis=0), src - src.mean(axis=0))[0].as_matrix()
    assert_close(fit.R, ref, 1e-9, "rotation")


def test_reflection_is_never_returned():
    # dst is a mirror image of src: the best *rotation* differs from the best orthogonal map.
    rng = np.random.default_rng(1)
    src = rng.normal(size=(20, 3))
    dst = src * [1.0, 1.0, -1.0]
    u, _, vt = np.linalg.svd((dst - dst.mean(0)).T @ (src - src.mean(0)))
    assert np.linalg.det(u @ vt) < 0  # the unconstrained orthogonal fit is the reflection
    fit = registration.rigid_transform(src, dst)
    assert np.isclose(np.linalg.det(fit.R), 1.0)
    Rotation = pytest.importorskip("scipy.spatial.transform").Rotation
    ref = Rotation.align_vectors(dst - dst.mean(axis=0), src - src.mean(axis=0))[0].as_matrix()
    assert_close(fit.R, ref, 1e-9, "best proper rotation")


def test_coplanar_points_are_fine_in_3d():
    rng = np.random.default_rng(2)
    src = np.column_stack([rng.normal(size=(10, 2)), np.zeros(10)])
    R = random_rotation(rng, 3)
    fit = registration.rigid_transform(src, src @ R.T + 1.0)
    assert_close(fit.R, R, 1e-9, "rotation from a planar set")


@settings(max_examples=4)
@given(seed=st.integers(0, 2**32 - 1))
def test_icp_recovers_a_20_degree_pose_of_a_real_point_cloud(seed, skimage):
    cloud = height_cloud(skimage)
    rng = np.random.default_rng(seed)
    R = random_rotation(rng, 3, angle=np.deg2rad(20))  # about a random axis
    t = rng.normal(0, 0.1, 3)
    target = cloud @ R.T + t + rng.normal(0, 0.002, cloud.shape)
    result = registration.icp(cloud, target)
    assert result.converged
    assert np.linalg.norm(matrix_to_rotvec(result.R.T @ R)) < 1e-3
    assert np.linalg.norm(result.t - t) < 1e-3
    assert result.rmse < 0.005  # the noise level: sqrt(3) * 0.002
    assert result.n_pairs == len(cloud)
    # Starting from the answer, ICP stays there.
    again = registration.icp(cloud, target, initial=result.matrix)
    assert_close(again.R, result.R, 1e-9, "fixed point")


def test_icp_with_outliers_and_partial_overlap(skimage):
    cloud = height_cloud(skimage)
    rng = np.random.default_rng(3)
    R, t = random_rotation(rng, 3, angle=np.deg2rad(10)), np.array([0.02, 0.03, -0.01])
    target = cloud @ R.T + t
    source = np.vstack([cloud[: len(cloud) * 3 // 4], rng.uniform(-1, 2, (200, 3))])  # 200 clutter points
    result = registration.icp(source, target, max_distance=0.05, max_iterations=100)
    assert result.converged
    # A clutter point that lands within max_distance of the surface may still pull a little.
    assert np.linalg.norm(matrix_to_rotvec(result.R.T @ R)) < 1e-3
    assert np.linalg.norm(result.t - t) < 1e-3
    assert len(cloud) * 3 // 4 <= result.n_pairs < len(source)


def test_icp_in_2d_and_non_convergence():
    rng = np.random.default_rng(4)
    src = rng.uniform(0, 10, (300, 2))
    R = random_rotation(rng, 2, angle=0.1)
    result = registration.icp(src, src @ R.T + [0.2, -0.1])
    assert_close(result.R, R, 1e-9, "2-D rotation")
    short = registration.icp(src, src @ R.T + [0.2, -0.1], max_iterations=1)
    assert not short.converged and short.iterations == 1
    lost = registration.icp(src, src + 100.0, max_distance=1.0)
    assert not lost.converged and lost.n_pairs == 0


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("func", [registration.rigid_transform, registration.umeyama])
def test_bad_correspondences_are_refused(func):
    rng = np.random.default_rng(5)
    src = rng.normal(size=(10, 3))
    with pytest.raises(ValueError, match="need at least 3 correspondences in 3-D, got 2"):
        func(src[:2], src[:2])
    with pytest.raises(ValueError, match="need at least 2 correspondences in 2-D, got 1"):
        func(src[:1, :2], src[:1, :2])
    with pytest.raises(ValueError, match="src must not be collinear"):
        line = np.outer(np.arange(10.0), [1.0, 2.0, 3.0])
        func(line, src)
    with pytest.raises(ValueError, match="dst must not be collinear"):
        func(src, np.outer(np.arange(10.0), [1.0, 2.0, 3.0]) + 1e-14 * rng.normal(size=(10, 3)))
    with pytest.raises(ValueError, match="src must not be all the same point"):
        func(np.ones((5, 2)), rng.normal(size=(5, 2)))
    with pytest.raises(ValueError, match="dst must be finite"):
        func(src, np.where(src > 1, np.nan, src))
    with pytest.raises(ValueError, match="src and dst must have the same shape"):
        func(src, src[:-1])
    with pytest.raises(ValueError, match=r"src must be \(N, 2\) or \(N, 3\) points"):
        func(np.zeros((10, 4)), np.zeros((10, 4)))
    with pytest.raises(ValueError, match="src must not be empty"):
        func(np.zeros((0, 3)), np.zeros((0, 3)))


def test_bad_icp_arguments_are_refused():
    rng = np.random.default_rng(6)
    cloud = rng.normal(size=(50, 3))
    with pytest.raises(ValueError, match="source and target must have the same dimension"):
        registration.icp(cloud, cloud[:, :2])
    with pytest.raises(ValueError, match="target must hold at least 3 points"):
        registration.icp(cloud, cloud[:2])
    with pytest.raises(ValueError, match="target must not be collinear"):
        registration.icp(cloud, np.outer(np.arange(5.0), [1.0, 0.0, 0.0]))
    mirror = np.diag([1.0, 1.0, -1.0, 1.0])
    with pytest.raises(ValueError, match=r"initial\[:3, :3\] must be a rotation matrix.*determinant -1"):
        registration.icp(cloud, cloud, initial=mirror)
    with pytest.raises(ValueError, match=r"initial must be a \(4, 4\) homogeneous matrix"):
        registration.icp(cloud, cloud, initial=np.eye(3))
    with pytest.raises(ValueError, match="max_distance must be > 0"):
        registration.icp(cloud, cloud, max_distance=0.0)
    with pytest.raises(ValueError, match="max_iterations must be an integer >= 1"):
        registration.icp(cloud, cloud, max_iterations=0)
    with pytest.raises(TypeError, match="with_scale must be True or False"):
        registration.umeyama(cloud, cloud, with_scale=None)
    fit = registration.rigid_transform(cloud, cloud)
    with pytest.raises(ValueError, match=r"points must be \(N, 3\)"):
        fit.apply(cloud[:, :2])
