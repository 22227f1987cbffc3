"""Plain NumPy twin of ``classic_cv._kernels.two_view``."""
import numpy as np


def dlt_points(P1, P2, x1, x2):
    """Unit homogeneous points (N, 4): the last right singular vector of each DLT system (LAPACK SVD)."""
    A = np.empty((len(x1), 4, 4))
    A[:, 0] = x1[:, :1] * P1[2] - P1[0]
    A[:, 1] = x1[:, 1:] * P1[2] - P1[1]
    A[:, 2] = x2[:, :1] * P2[2] - P2[0]
    A[:, 3] = x2[:, 1:] * P2[2] - P2[1]
    return np.linalg.svd(A)[2][:, 3]
