"""Zhang calibration, checkerboard corners and sub-pixel corners against OpenCV.

Calibration: a 9x6 planar target in V random views (tilted up to ~35 degrees),
radial distortion (k1, k2), 0.3 px noise; OpenCV is told the same model
(k3, p1, p2 fixed at 0). Both run the closed form and Levenberg-Marquardt.
Corners: a 640x480 view of a 10x7-square board, found and refined to sub-pixel
(OpenCV: findChessboardCorners then cornerSubPix).
"""
import numpy as np
from scipy.spatial.transform import Rotation

from benchmarks.harness import Case
from classic_cv.calibration import calibrate_camera, checkerboard_points, project_points
from classic_cv.calibration import find_checkerboard_corners
from classic_cv.harris import corner_peaks, corner_shi_tomasi, corner_subpix
from classic_cv.warp import warp_perspective

K = np.array([[800.0, 0.0, 320.0], [0.0, 790.0, 240.0], [0.0, 0.0, 1.0]])
DIST = np.array([-0.25, 0.08])


def synthetic_views(n_views, seed=0):
    """(N, 3) target points and (V, N, 2) noisy image points."""
    rng = np.random.default_rng(seed)
    target = checkerboard_points((9, 6), 30.0)
    centre = target.mean(axis=0)
    views = []
    for _ in range(n_views):
        R = Rotation.from_euler("xyz", rng.uniform(-0.6, 0.6, 3) * [1, 1, 0.5]).as_matrix()
        t = np.array([rng.uniform(-40, 40), rng.uniform(-30, 30), rng.uniform(450, 650)]) - R @ centre
        views.append(project_points(target, K, R, t, DIST))
    return target, np.stack(views) + rng.normal(scale=0.3, size=(n_views, len(target), 2))


def board_view(pattern=(9, 6), square_px=24):
    """(480, 640) float32 view of a checkerboard with ``pattern`` inner corners, tilted ~25 degrees."""
    cols, rows = pattern
    squares = np.indices((rows + 3, cols + 3)).sum(axis=0) % 2 == 0
    inside = np.zeros_like(squares)
    inside[1:-1, 1:-1] = True
    texture = np.kron(np.where(squares & inside, 0.1, 0.9), np.ones((square_px, square_px)))
    R = Rotation.from_euler("xyz", [0.35, -0.3, 0.1]).as_matrix()
    centre = np.array([texture.shape[1] / 2, texture.shape[0] / 2, 0.0])
    t = np.array([0.0, 0.0, 2.2 * texture.shape[1]]) - R @ centre
    H = K @ np.column_stack([R[:, 0], R[:, 1], t])
    return warp_perspective(texture, H, output_shape=(480, 640), cval=0.5).astype(np.float32)


def cases(quick):
    import cv2
    from skimage import data

    flags = cv2.CALIB_FIX_K3 | cv2.CALIB_ZERO_TANGENT_DIST
    out = []
    for n_views in (10,) if quick else (10, 25):
        target, views = synthetic_views(n_views)
        obj32, img32 = [target.astype(np.float32)] * n_views, list(views.astype(np.float32))
        out.append(Case(
            f"calibrate_camera {n_views} views 9x6",
            lambda target=target, views=views: calibrate_camera(target, views),
            {"cv2": lambda obj=obj32, img=img32: cv2.calibrateCamera(obj, img, (640, 480), None, None, flags=flags)},
            note="k1, k2; 0.3 px noise",
        ))
    view = board_view()
    view8 = (view * 255).round().astype(np.uint8)
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_COUNT, 40, 1e-3)

    def opencv_corners(view8=view8):
        found, corners = cv2.findChessboardCorners(view8, (9, 6))
        return cv2.cornerSubPix(view8, corners, (5, 5), (-1, -1), criteria)

    out.append(Case("find_checkerboard_corners 640x480 9x6", lambda: find_checkerboard_corners(view, (9, 6)),
                    {"cv2": opencv_corners}, note="+ sub-pixel"))
    image = data.camera().astype(np.float32) / 255
    start = (corner_peaks(corner_shi_tomasi(image), min_distance=7, threshold_rel=0.02, num_peaks=200) + 0.3)
    start32 = start.astype(np.float32).reshape(-1, 1, 2)
    out.append(Case(
        "corner_subpix camera 200 corners",
        lambda: corner_subpix(image, start, window=5),
        {"cv2": lambda: cv2.cornerSubPix(image, start32.copy(), (5, 5), (-1, -1), criteria)},
        note="11x11 window",
    ))
    return out
