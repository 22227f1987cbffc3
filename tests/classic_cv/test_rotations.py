"""Rotation conversions held against scipy.spatial.transform.Rotation (1e-12) and cv2.Rodrigues (1e-9)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classic_cv import rotations
from classic_cv._kernels import rotations as kern
from classic_cv.naive import rotations as naive
from tests.conftest import assert_close

Rotation = pytest.importorskip("scipy.spatial.transform").Rotation

SEQUENCES = ["xyz", "zyx", "yzx", "XYZ", "ZYX", "XZY", "zxz", "xyx", "ZXZ", "YZY"]

# Angles where the naive formulas break: 0 (0/0 in sin(t)/t), pi (vanishing
# antisymmetric part), and their neighbourhoods down to 1e-15.
_edges = st.sampled_from([0.0, 1e-15, 1e-12, 1e-9, 1e-6, 1e-3, np.pi - 1e-3, np.pi - 1e-6,
                          np.pi - 1e-9, np.pi - 1e-12, np.pi])
angles = st.one_of(st.floats(0.0, np.pi), _edges)


@st.composite
def rotvecs(draw, max_n=6):
    """(N, 3) rotation vectors: random unit axes times angles in [0, pi], edges included."""
    n = draw(st.integers(1, max_n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    axis = rng.normal(size=(n, 3))
    axis /= np.linalg.norm(axis, axis=1, keepdims=True)
    return axis * np.array([draw(angles) for _ in range(n)])[:, None]


def _same_rotvec(ours, ref, atol):
    """At angle pi, v and -v are one rotation: compare up to that sign."""
    flip = np.isclose(np.linalg.norm(ref, axis=-1), np.pi, atol=1e-6)[..., None]
    assert_close(np.where(flip & ((ours * ref).sum(-1, keepdims=True) < 0), -ours, ours), ref, atol, "rotvec")


@settings(max_examples=60)
@given(v=rotvecs())
def test_rotvec_matrix_round_trip_equals_scipy(v):
    R = Rotation.from_rotvec(v).as_matrix()
    assert_close(rotations.rotvec_to_matrix(v), R, 1e-12, "rotvec -> matrix")
    back = rotations.matrix_to_rotvec(R)
    _same_rotvec(back, Rotation.from_matrix(R).as_rotvec(), 1e-12)
    _same_rotvec(back, v, 1e-12)  # the true rotation vector, not only scipy's


@settings(max_examples=60)
@given(v=rotvecs())
def test_quaternions_equal_scipy_scalar_last(v):
    R = Rotation.from_rotvec(v).as_matrix()
    q = rotations.matrix_to_quaternion(R)
    ref = Rotation.from_matrix(R).as_quat()
    # q and -q are one rotation; ours has w >= 0, scipy's may not at w ~ 0.
    sign = np.where((q * ref).sum(axis=1, keepdims=True) < 0, -1.0, 1.0)
    assert_close(q, sign * ref, 1e-12, "matrix -> quaternion")
    assert (q[:, 3] >= 0).all()
    assert_close(np.linalg.norm(q, axis=1), np.ones(len(q)), 1e-15, "unit norm")
    scaled = q * np.linspace(0.1, 7.0, len(q))[:, None]  # any nonzero length is normalised
    assert_close(rotations.quaternion_to_matrix(scaled), Rotation.from_quat(scaled).as_matrix(), 1e-12,
                 "quaternion -> matrix")


@settings(max_examples=60)
@given(v=rotvecs(), seq=st.sampled_from(SEQUENCES), degrees=st.booleans())
def test_euler_angles_equal_scipy(v, seq, degrees):
    R = Rotation.from_rotvec(v).as_matrix()
    ours = rotations.matrix_to_euler(seq, R, degrees=degrees)
    rebuilt = rotations.euler_to_matrix(seq, ours, degrees=degrees)
    assert_close(rebuilt, Rotation.from_euler(seq, ours, degrees=degrees).as_matrix(), 1e-12, "euler -> matrix")
    middle = np.deg2rad(ours[:, 1]) if degrees else ours[:, 1]
    if seq[0] != seq[2]:
        middle = middle + np.pi / 2
    to_lock = np.minimum(np.abs(middle), np.abs(middle - np.pi))  # 0 at gimbal lock
    # Rebuilding the matrix holds everywhere; within 1e-7 of gimbal lock the
    # third angle is zeroed (as scipy does), which costs up to that much.
    regular = to_lock > 1e-6
    assert_close(rebuilt[regular], R[regular], 1e-12, "euler round trip")
    assert_close(rebuilt, R, 1e-6, "euler round trip near gimbal lock")
    # The angles themselves are well conditioned only away from gimbal lock; there they equal scipy's.
    regular = to_lock > 1e-3
    ref = Rotation.from_matrix(R[regular]).as_euler(seq, degrees=degrees) if regular.any() else ours[regular]
    assert_close(ours[regular], ref, 1e-12 * (180 / np.pi if degrees else 1), "matrix -> euler")


# The singular middle angles: +-pi/2 for Tait-Bryan sequences, 0 and pi for proper Euler ones.
@pytest.mark.parametrize("seq, middle", [(seq, m) for seq in ["xyz", "XYZ", "yxz"] for m in (np.pi / 2, -np.pi / 2)]
                         + [(seq, m) for seq in ["zxz", "ZXZ", "YZY"] for m in (0.0, np.pi)])
def test_euler_at_gimbal_lock_sets_third_angle_to_zero(seq, middle):
    R = rotations.euler_to_matrix(seq, [0.3, middle, 0.2])
    ours = rotations.matrix_to_euler(seq, R)
    with pytest.warns(UserWarning, match="Gimbal lock"):
        ref = Rotation.from_matrix(R).as_euler(seq)
    assert ours[2] == 0.0
    assert_close(ours, ref, 1e-12, "gimbal lock")
    assert_close(rotations.euler_to_matrix(seq, ours), R, 1e-12, "round trip")


@settings(max_examples=30)
@given(v=rotvecs(max_n=4))
def test_rodrigues_equals_cv2(v, cv2):
    for vec in v:
        assert_close(rotations.rodrigues(vec), cv2.Rodrigues(vec)[0], 1e-9, "vector -> matrix")
        assert_close(rotations.rodrigues(vec[:, None]), rotations.rodrigues(vec), 0, "(3, 1) column vector")
        R = rotations.rodrigues(vec)
        theta = np.linalg.norm(vec)
        # cv2 returns 0 below angle 1e-5 and loses digits in arccos near pi (it
        # flips the sign at pi); there the tests above hold us to scipy and the truth.
        if 1e-3 < theta < np.pi - 1e-3:
            assert_close(rotations.rodrigues(R), cv2.Rodrigues(R)[0].ravel(), 1e-9, "matrix -> vector")


@settings(max_examples=30)
@given(v=rotvecs(max_n=12), d=st.sampled_from([2, 3]), seed=st.integers(0, 2**32 - 1))
def test_kernels_equal_naive_twins(v, d, seed):
    R = naive.rotvec_to_matrix(v)
    out = np.empty_like(R)
    kern.rotvec_to_matrix(v, out)
    assert_close(out, R, 1e-14, "rotvec -> matrix")
    q = np.empty((len(R), 4))
    kern.matrix_to_quaternion(R, q)
    assert_close(q, naive.matrix_to_quaternion(R), 1e-14, "matrix -> quaternion")
    kern.quaternion_to_matrix(q, out)
    assert_close(out, naive.quaternion_to_matrix(q), 1e-14, "quaternion -> matrix")
    rotvec = np.empty((len(q), 3))
    kern.quaternion_to_rotvec(q, rotvec)
    assert_close(rotvec, naive.quaternion_to_rotvec(q), 1e-14, "quaternion -> rotvec")
    # Defects of arbitrary matrices, rotations or not.
    M = np.random.default_rng(seed).normal(size=(len(v), d, d))
    off, det = np.empty(len(M)), np.empty(len(M))
    kern.rotation_defects(M, off, det)
    ref_off, ref_det = naive.rotation_defects(M)
    assert_close(off, ref_off, 1e-12, "max |M M^T - I|")
    assert_close(det, ref_det, 1e-12, "det")


def test_batches_match_single_items(rng):
    v = rng.normal(size=(5, 3))
    R = rotations.rotvec_to_matrix(v)
    assert R.shape == (5, 3, 3)
    for i in range(5):
        assert_close(R[i], rotations.rodrigues(v[i]), 0, "batch vs single")
    assert rotations.rodrigues(R).shape == (5, 3)
    assert rotations.matrix_to_quaternion(R[0]).shape == (4,)
    assert rotations.matrix_to_euler("xyz", R).shape == (5, 3)
    assert rotations.rotvec_to_matrix(np.zeros((0, 3))).shape == (0, 3, 3)
    assert rotations.quaternion_to_matrix(np.zeros((0, 4))).shape == (0, 3, 3)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("func", [rotations.matrix_to_rotvec, rotations.matrix_to_quaternion, rotations.rodrigues,
                                  lambda R: rotations.matrix_to_euler("xyz", R)])
def test_non_rotation_matrices_are_refused(func):
    reflection = np.diag([1.0, 1.0, -1.0])
    with pytest.raises(ValueError, match="rotation matrix.*determinant -1"):
        func(reflection)
    with pytest.raises(ValueError, match="rotation matrix"):
        func(2 * np.eye(3))  # orthogonal directions, wrong length
    with pytest.raises(ValueError, match=r"(R|x)\[1\] must be a rotation matrix"):
        func(np.stack([np.eye(3), np.eye(3) + 1e-3]))
    with pytest.raises(ValueError, match="finite"):
        func(np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match=r"\(3, 3\) or \(N, 3, 3\)"):
        rotations.matrix_to_quaternion(np.eye(4))


def test_bad_vectors_quaternions_and_sequences():
    with pytest.raises(ValueError, match="quat must have a nonzero norm"):
        rotations.quaternion_to_matrix([0.0, 0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"quat\[1\] must have a nonzero norm"):
        rotations.quaternion_to_matrix([[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match=r"quat must be \(4,\) or \(N, 4\)"):
        rotations.quaternion_to_matrix([1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="finite"):
        rotations.rotvec_to_matrix([np.nan, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"rotvec must be \(3,\) or \(N, 3\)"):
        rotations.rotvec_to_matrix(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"rodrigues: x must be \(3,\) or \(N, 3\) rotation vectors"):
        rotations.rodrigues(np.zeros(4))
    with pytest.raises(ValueError, match="rodrigues: x must be a rotation matrix"):
        rotations.rodrigues(-np.eye(3))
    with pytest.raises(TypeError, match="rotvec must be an array of numbers"):
        rotations.rotvec_to_matrix([[1.0, 2.0], [3.0]])
    for seq in ["xy", "xxy", "xYz", "abc", "xyzx"]:
        with pytest.raises(ValueError, match="seq must be three axes"):
            rotations.euler_to_matrix(seq, [0.1, 0.2, 0.3])
    with pytest.raises(TypeError, match="seq must be a string"):
        rotations.matrix_to_euler(["x", "y", "z"], np.eye(3))
    with pytest.raises(TypeError, match="degrees must be True or False"):
        rotations.euler_to_matrix("xyz", [0.1, 0.2, 0.3], degrees="yes")
    with pytest.raises(ValueError, match=r"angles must be \(3,\) or \(N, 3\)"):
        rotations.euler_to_matrix("xyz", [0.1, 0.2])
