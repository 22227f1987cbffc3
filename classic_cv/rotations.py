"""Rotations in 3-D: rotation vectors (Rodrigues), unit quaternions and Euler angles.

Every conversion goes to or from a rotation matrix ``R`` (3, 3), the one that maps
a point ``p`` to ``R @ p``, and is vectorised over a batch: a single item
((3,), (4,), (3, 3)) gives a single result, a stack ((N, 3), (N, 4), (N, 3, 3))
gives a stack. Conventions follow ``scipy.spatial.transform.Rotation``, which
the tests hold these functions against:

- quaternions are **scalar-last**, ``(x, y, z, w)``, and come out with ``w >= 0``
  (``q`` and ``-q`` are the same rotation);
- Euler sequences are three axes, lowercase ``"xyz"`` for extrinsic rotations
  (about the fixed axes), uppercase ``"XYZ"`` for intrinsic ones (about the
  rotating axes); angles are in radians unless ``degrees=True``;
- rotation vectors are ``angle * axis`` with the angle in [0, pi], as
  ``cv2.Rodrigues`` returns them.

Matrices given to a conversion must be rotations: orthonormal to ``1e-6`` and
with determinant +1 (a reflection or a scaled matrix is an error, never
silently "fixed").
"""
import numpy as np

from minigrad.validation import check_bool

from ._kernels import rotations as _k
from ._validate import as_float_array

__all__ = [
    "rodrigues",
    "rotvec_to_matrix",
    "matrix_to_rotvec",
    "quaternion_to_matrix",
    "matrix_to_quaternion",
    "euler_to_matrix",
    "matrix_to_euler",
]

# A matrix is accepted as a rotation when |R R^T - I| and |det R - 1| stay below this.
ROTATION_TOLERANCE = 1e-6

# Below this distance of the middle Euler angle from its singular values
# (gimbal lock), the first and third angles cannot be told apart: the third is set to 0.
_GIMBAL_EPS = 1e-7

_AXES = {"x": 0, "y": 1, "z": 2}


# ----------------------------------------------------------------- validation


def _as_stack(func, name, value, item_shape, layout):
    """``value`` as a float64 stack (N, *item_shape) and whether a single item was given.

    A single item has exactly ``item_shape``; a stack has one more leading axis
    (which may be 0). ``layout`` names the accepted shapes in the message."""
    array = as_float_array(func, name, value, ndim=(len(item_shape), len(item_shape) + 1), allow_empty=True)
    single = array.ndim == len(item_shape)
    if (array.shape if single else array.shape[1:]) != tuple(item_shape):
        raise ValueError(f"{func}: {name} must be {layout}, got shape {array.shape}")
    return (array[None] if single else array), single


def _unstack(array, single):
    return array[0] if single else array


def check_rotation_matrix(func, name, R):
    """Raise ValueError unless every matrix of the stack ``R`` (N, D, D), D = 2 or 3,
    is a rotation (orthonormal and determinant +1, to ``ROTATION_TOLERANCE``);
    names the first bad one."""
    off, det = np.empty(len(R)), np.empty(len(R))
    _k.rotation_defects(R, off, det)
    bad = np.flatnonzero((off > ROTATION_TOLERANCE) | (np.abs(det - 1.0) > ROTATION_TOLERANCE))
    if bad.size:
        i = bad[0]
        where = f"{name}[{i}]" if len(R) > 1 else name
        raise ValueError(f"{func}: {where} must be a rotation matrix (orthonormal, determinant +1), "
                         f"got determinant {det[i]:.6g} and max |R R^T - I| = {off[i]:.3g}")


def _as_rotation_stack(func, name, R):
    """Check and return rotation matrices as (N, 3, 3) float64, and whether one was given."""
    R, single = _as_stack(func, name, R, (3, 3), "(3, 3) or (N, 3, 3)")
    check_rotation_matrix(func, name, R)
    return R, single


def _check_sequence(func, seq):
    """An Euler sequence: three of x/y/z all lowercase (extrinsic) or all uppercase
    (intrinsic), no axis twice in a row. Returns (axes as 0..2, intrinsic)."""
    if not isinstance(seq, str):
        raise TypeError(f"{func}: seq must be a string such as 'xyz' or 'ZYX', got {seq!r}")
    valid = len(seq) == 3 and (set(seq) <= set("xyz") or set(seq) <= set("XYZ"))
    if not valid or seq[0] == seq[1] or seq[1] == seq[2]:
        raise ValueError(f"{func}: seq must be three axes from 'xyz' (extrinsic) or 'XYZ' (intrinsic), "
                         f"no axis twice in a row, got {seq!r}")
    return [_AXES[a] for a in seq.lower()], seq.isupper()


# ----------------------------------------------------------- rotation vectors


def rotvec_to_matrix(rotvec):
    """Rotation matrices from rotation vectors (Rodrigues' formula).

    Parameters
    ----------
    rotvec : (3,) or (N, 3) array
        Axis times angle in radians (any length; the angle is taken modulo 2 pi).

    Returns
    -------
    R : (3, 3) or (N, 3, 3) float64
    """
    return _rotvec_to_matrix_entry("rotvec_to_matrix", "rotvec", rotvec)


def _rotvec_to_matrix_entry(func, name, rotvec):
    v, single = _as_stack(func, name, rotvec, (3,), "(3,) or (N, 3) rotation vectors")
    return _unstack(_rotvec_to_matrix(v), single)


def _rotvec_to_matrix(v):
    """Rodrigues' formula on (N, 3) vectors, written so that tiny angles stay exact."""
    out = np.empty((len(v), 3, 3))
    _k.rotvec_to_matrix(v, out)
    return out


def matrix_to_rotvec(R):
    """Rotation vectors of rotation matrices, angle in [0, pi].

    Goes through the unit quaternion, which stays accurate near angle 0 (where
    ``(R - R^T) / (2 sin t)`` is 0/0) and near pi (where the antisymmetric part
    vanishes and only the diagonal fixes the axis). At exactly pi, ``v`` and
    ``-v`` are the same rotation; either may come back.

    Parameters
    ----------
    R : (3, 3) or (N, 3, 3) rotation matrices

    Returns
    -------
    rotvec : (3,) or (N, 3) float64
    """
    return _matrix_to_rotvec_entry("matrix_to_rotvec", "R", R)


def _matrix_to_rotvec_entry(func, name, R):
    R, single = _as_rotation_stack(func, name, R)
    return _unstack(_quaternion_to_rotvec(_matrix_to_quaternion(R)), single)


def _quaternion_to_rotvec(q):
    """Rotation vectors (N, 3) of unit quaternions (N, 4) with w >= 0."""
    out = np.empty((len(q), 3))
    _k.quaternion_to_rotvec(q, out)
    return out


def rodrigues(x):
    """Convert between rotation vectors and matrices, like ``cv2.Rodrigues``.

    Parameters
    ----------
    x : (3,), (3, 1), (N, 3), (3, 3) or (N, 3, 3) array
        Rotation vectors (a (3, 1) column, as OpenCV returns them, is one
        vector), or rotation matrices. Arrays whose last two axes are (3, 3)
        are matrices; to convert exactly three vectors, call
        :func:`rotvec_to_matrix`.

    Returns
    -------
    (3, 3) or (N, 3, 3) matrices for vectors; (3,) or (N, 3) vectors for matrices.
    """
    func = "rodrigues"
    x = as_float_array(func, "x", x, ndim=(1, 2, 3), allow_empty=True)
    if x.shape[-2:] == (3, 3):
        return _matrix_to_rotvec_entry(func, "x", x)
    return _rotvec_to_matrix_entry(func, "x", x[:, 0] if x.shape == (3, 1) else x)


# ---------------------------------------------------------------- quaternions


def quaternion_to_matrix(quat):
    """Rotation matrices from quaternions ``(x, y, z, w)`` (scalar last).

    Parameters
    ----------
    quat : (4,) or (N, 4) array
        Any nonzero length: quaternions are normalised first.

    Returns
    -------
    R : (3, 3) or (N, 3, 3) float64
    """
    func = "quaternion_to_matrix"
    q, single = _as_stack(func, "quat", quat, (4,), "(4,) or (N, 4) quaternions (x, y, z, w)")
    norm = np.linalg.norm(q, axis=1)
    zero = np.flatnonzero(norm < 1e-12)
    if zero.size:
        where = f"quat[{zero[0]}]" if not single else "quat"
        raise ValueError(f"{func}: {where} must have a nonzero norm, got {q[zero[0]]}")
    return _unstack(_quaternion_to_matrix(q / norm[:, None]), single)


def _quaternion_to_matrix(q):
    """Rotation matrices (N, 3, 3) from unit quaternions (N, 4), scalar last."""
    out = np.empty((len(q), 3, 3))
    _k.quaternion_to_matrix(q, out)
    return out


def matrix_to_quaternion(R):
    """Unit quaternions ``(x, y, z, w)`` (scalar last, ``w >= 0``) of rotation matrices.

    Shepperd's method: of the four expressions for ``4 q_i^2`` (from the trace
    and the diagonal), the largest is used for the division, so no rotation
    (angle near 0 or near pi) divides by a small number.

    Parameters
    ----------
    R : (3, 3) or (N, 3, 3) rotation matrices

    Returns
    -------
    quat : (4,) or (N, 4) float64
    """
    R, single = _as_rotation_stack("matrix_to_quaternion", "R", R)
    return _unstack(_matrix_to_quaternion(R), single)


def _matrix_to_quaternion(R):
    """Shepperd's method on (N, 3, 3) rotations; unit quaternions (N, 4) with w >= 0."""
    out = np.empty((len(R), 4))
    _k.matrix_to_quaternion(R, out)
    return out


# -------------------------------------------------------------- Euler angles


def euler_to_matrix(seq, angles, degrees=False):
    """Rotation matrices from Euler angles.

    Parameters
    ----------
    seq : str
        Three axes, e.g. ``"xyz"`` (extrinsic: rotate about the fixed x, then y,
        then z axis, ``R = Rz @ Ry @ Rx``) or ``"XYZ"`` (intrinsic: about the
        rotating axes, ``R = RX @ RY @ RZ``); proper Euler sequences such as
        ``"zxz"`` are accepted.
    angles : (3,) or (N, 3) array
        One angle per axis of ``seq``, in order.
    degrees : bool
        Angles in degrees instead of radians.

    Returns
    -------
    R : (3, 3) or (N, 3, 3) float64
    """
    func = "euler_to_matrix"
    axes, intrinsic = _check_sequence(func, seq)
    a, single = _as_stack(func, "angles", angles, (3,), "(3,) or (N, 3) angles, one per axis of seq")
    if check_bool(func, "degrees", degrees):
        a = np.deg2rad(a)
    q = np.zeros((len(a), 4))
    q[:, 3] = 1.0
    for axis, angle in zip(axes, a.T):
        turn = np.zeros((len(a), 4))
        turn[:, axis], turn[:, 3] = np.sin(angle / 2), np.cos(angle / 2)
        # Intrinsic turns act on the rotated frame (compose on the right),
        # extrinsic ones on the fixed frame (compose on the left).
        q = _quaternion_product(q, turn) if intrinsic else _quaternion_product(turn, q)
    return _unstack(_quaternion_to_matrix(q), single)


def _quaternion_product(p, q):
    """Hamilton products (N, 4) of quaternions p, q (N, 4), scalar last: the rotation q, then p."""
    pv, pw, qv, qw = p[:, :3], p[:, 3:], q[:, :3], q[:, 3:]
    return np.hstack([pw * qv + qw * pv + np.cross(pv, qv), pw * qw - (pv * qv).sum(axis=1, keepdims=True)])


def matrix_to_euler(seq, R, degrees=False):
    """Euler angles of rotation matrices (the inverse of :func:`euler_to_matrix`).

    Angles come out in [-pi, pi]; the middle one in [0, pi] for proper Euler
    sequences (``"zxz"``) and in [-pi/2, pi/2] for Tait-Bryan ones (``"xyz"``).
    At gimbal lock (middle angle within ~1e-7 of a singular value) only the sum
    or difference of the outer angles is defined: the third angle is then 0.

    The method (Bernardes and Viollet, 2022) reads the angles off the
    quaternion with ``atan2`` only, so it has no ``arcsin`` that loses accuracy
    near the singular angles.

    Parameters
    ----------
    seq : str
        Three axes, lowercase extrinsic (``"xyz"``) or uppercase intrinsic (``"XYZ"``).
    R : (3, 3) or (N, 3, 3) rotation matrices
    degrees : bool
        Return degrees instead of radians.

    Returns
    -------
    angles : (3,) or (N, 3) float64, one per axis of ``seq``
    """
    func = "matrix_to_euler"
    axes, intrinsic = _check_sequence(func, seq)
    R, single = _as_rotation_stack(func, "R", R)
    degrees = check_bool(func, "degrees", degrees)
    angles = _quaternion_to_euler(_matrix_to_quaternion(R), axes, intrinsic)
    return _unstack(np.rad2deg(angles) if degrees else angles, single)


def _quaternion_to_euler(q, axes, intrinsic):
    """Euler angles (N, 3) of unit quaternions (N, 4) for ``axes`` (three of 0..2)."""
    # An intrinsic sequence is the extrinsic one read backwards.
    i, j, k = axes[::-1] if intrinsic else axes
    proper = i == k
    if proper:
        k = 3 - i - j
    sign = (i - j) * (j - k) * (k - i) // 2  # +1 for cyclic (x, y, z) orders, -1 otherwise
    w, qi, qj, qk = q[:, 3], q[:, i], q[:, j], sign * q[:, k]
    if proper:
        a, b, c, d = w, qi, qj, qk
    else:
        # A Tait-Bryan sequence i, j, k is the proper sequence i, j, i after a
        # quarter turn about j: rotate the quaternion by it (the sqrt(2) drops out of atan2).
        a, b, c, d = w - qj, qi + qk, qj + w, qk - qi
    middle = 2 * np.arctan2(np.hypot(c, d), np.hypot(a, b))
    half_sum, half_diff = np.arctan2(b, a), np.arctan2(d, c)
    first, third = half_sum - half_diff, half_sum + half_diff
    # Gimbal lock: keep the defined combination, put the undefined part on the
    # angle that is *returned* first and zero the one returned last.
    near_zero, near_pi = np.abs(middle) <= _GIMBAL_EPS, np.abs(middle - np.pi) <= _GIMBAL_EPS
    locked = near_zero | near_pi
    carried = np.where(near_zero, 2 * half_sum, 2 * half_diff)
    if intrinsic:
        first, third = np.where(locked, 0.0, first), np.where(locked, carried, third)
    else:
        first, third = np.where(locked, np.where(near_zero, carried, -carried), first), np.where(locked, 0.0, third)
    if not proper:
        third, middle = sign * third, middle - np.pi / 2
    first, third = ((angle + np.pi) % (2 * np.pi) - np.pi for angle in (first, third))
    angles = np.column_stack([first, middle, third])
    return angles[:, ::-1] if intrinsic else angles
