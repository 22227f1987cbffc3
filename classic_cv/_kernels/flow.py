"""Numba kernels for optical flow: bilinear sampling, backward warping by a
flow field, the linearised brightness-constancy terms, the dense Lucas-Kanade
solve, a separable median filter for flows, Horn-Schunck Jacobi sweeps and
one pyramid level of KLT tracking.

Flow fields are (H, W, 2) holding (u, v) = (dx, dy); ``flow[i, j]`` says where
pixel (x, y) = (j, i) of the first frame went in the second:
``image1(x + u, y + v) ~ image0(x, y)``.
"""
import numpy as np
from numba import njit


@njit(cache=True)
def _bilinear(image, x, y):
    """``image`` (H, W) at (x, y), coordinates clamped to the image (edge values repeat)."""
    h, w = image.shape
    x = min(max(x, 0.0), w - 1.0)
    y = min(max(y, 0.0), h - 1.0)
    x0 = int(x)
    y0 = int(y)
    fx = x - x0
    fy = y - y0
    x1 = min(x0 + 1, w - 1)
    y1 = min(y0 + 1, h - 1)
    top = image[y0, x0] + fx * (image[y0, x1] - image[y0, x0])
    bottom = image[y1, x0] + fx * (image[y1, x1] - image[y1, x0])
    return top + fy * (bottom - top)


@njit(cache=True)
def warp_by_flow(image, flow, cval, nearest, out):
    """``out[i, j, c] = image[:, :, c]`` at ``(j + u, i + v)``, bilinear, for ``image`` (H, W, C).

    Sources outside ``[0, W-1] x [0, H-1]`` read the nearest border value when
    ``nearest``, else ``cval``.
    """
    h, w, nc = image.shape
    for i in range(h):
        for j in range(w):
            x = j + flow[i, j, 0]
            y = i + flow[i, j, 1]
            if not nearest and not (0.0 <= x <= w - 1.0 and 0.0 <= y <= h - 1.0):
                for c in range(nc):
                    out[i, j, c] = cval
                continue
            for c in range(nc):
                out[i, j, c] = _bilinear(image[:, :, c], x, y)


@njit(cache=True)
def _central_difference(image, i, j, h, w):
    """(d/dx, d/dy) of ``image`` at pixel (i, j): central differences, one-sided at the border."""
    jm, jp = max(j - 1, 0), min(j + 1, w - 1)
    im, ip = max(i - 1, 0), min(i + 1, h - 1)
    gx = (image[i, jp] - image[i, jm]) / max(jp - jm, 1)
    gy = (image[ip, j] - image[im, j]) / max(ip - im, 1)
    return gx, gy


@njit(cache=True)
def linearize(image0, image1, flow, gx, gy, residual):
    """Brightness constancy linearised around ``flow``, for every pixel:
    ``image1(x + f) - image0(x) ~ g . f + residual`` for flows ``f`` near ``flow``.

    ``image1`` is warped back by ``flow`` (bilinear, clamped); ``g = (gx, gy)``
    is the mean of both frames' central-difference gradients (the symmetric
    choice converges in fewer warps than either gradient alone) and
    ``residual = warped - image0 - g . flow``. Written in terms of the total
    flow, not an increment, so that each window pixel is linearised around
    its own flow. All arrays (H, W); writes gx, gy, residual.
    """
    h, w = image0.shape
    warped = np.empty_like(image0)
    for i in range(h):
        for j in range(w):
            warped[i, j] = _bilinear(image1, j + flow[i, j, 0], i + flow[i, j, 1])
    for i in range(h):
        for j in range(w):
            ax, ay = _central_difference(image0, i, j, h, w)
            bx, by = _central_difference(warped, i, j, h, w)
            x = 0.5 * (ax + bx)
            y = 0.5 * (ay + by)
            gx[i, j] = x
            gy[i, j] = y
            residual[i, j] = warped[i, j] - image0[i, j] - x * flow[i, j, 0] - y * flow[i, j, 1]


@njit(cache=True)
def _box_mean(src, radius, out):
    """Mean of ``src`` (H, W) over the (2r+1)^2 window clipped to the image, by running sums."""
    h, w = src.shape
    rows = np.empty((h, w))
    for i in range(h):
        acc = 0.0
        for j in range(min(radius, w)):
            acc += src[i, j]
        for j in range(w):
            if j + radius < w:
                acc += src[i, j + radius]
            if j - radius - 1 >= 0:
                acc -= src[i, j - radius - 1]
            rows[i, j] = acc / (min(j + radius, w - 1) - max(j - radius, 0) + 1)
    col = np.zeros(w)
    for i in range(min(radius, h)):
        col += rows[i]
    for i in range(h):
        if i + radius < h:
            col += rows[i + radius]
        if i - radius - 1 >= 0:
            col -= rows[i - radius - 1]
        out[i] = col / (min(i + radius, h - 1) - max(i - radius, 0) + 1)


@njit(cache=True)
def _smaller_eigenvalue(a, b, c):
    """Smaller eigenvalue of the symmetric matrix [[a, b], [b, c]]."""
    half_diff = 0.5 * (a - c)
    return 0.5 * (a + c) - np.sqrt(half_diff * half_diff + b * b)


@njit(cache=True)
def lucas_kanade_solve(gx, gy, residual, radius, min_eigenvalue, flow, valid):
    """One Lucas-Kanade solve: the flow ``f`` minimising ``sum (g . f + residual)^2``
    over each pixel's (2r+1)^2 window (clipped at the border), into ``flow`` (H, W, 2).

    The window means ``A = mean(g g^T)`` and ``b = mean(g residual)`` give
    ``f = -A^-1 b``; where the smaller eigenvalue of ``A`` is below
    ``min_eigenvalue`` the flow is left unchanged and ``valid`` (H, W) is
    set False (True elsewhere).
    """
    h, w = gx.shape
    products = np.empty((5, h, w))
    for i in range(h):
        for j in range(w):
            x, y, t = gx[i, j], gy[i, j], residual[i, j]
            products[0, i, j] = x * x
            products[1, i, j] = x * y
            products[2, i, j] = y * y
            products[3, i, j] = x * t
            products[4, i, j] = y * t
    means = np.empty((5, h, w))
    for k in range(5):
        _box_mean(products[k], radius, means[k])
    for i in range(h):
        for j in range(w):
            a, b, c = means[0, i, j], means[1, i, j], means[2, i, j]
            bx, by = means[3, i, j], means[4, i, j]
            ok = _smaller_eigenvalue(a, b, c) >= min_eigenvalue
            valid[i, j] = ok
            if ok:
                det = a * c - b * b
                flow[i, j, 0] = -(c * bx - b * by) / det
                flow[i, j, 1] = -(a * by - b * bx) / det


@njit(cache=True)
def _median5(a, b, c, d, e):
    """Median of five numbers by a few compare-and-swaps."""
    if a > b:
        a, b = b, a
    if d > e:
        d, e = e, d
    if a > d:
        a, d = d, a
        b, e = e, b
    # Now a is the least of a, b, d, e, so not the median: the median is the
    # second smallest of b, c, d, e (with d <= e).
    if c > b:
        b, c = c, b
    if b > e:
        b, e = e, b
    if b > d:
        b, d = d, b
    if c > d:
        c, d = d, c
    return max(b, c)


@njit(cache=True)
def median_filter_flow(flow, out):
    """Separable 5x5 median of each component of ``flow`` (H, W, 2): the
    median of 5 along each row, then of 5 down each column of the result,
    border pixels repeated, into ``out``."""
    h, w = flow.shape[:2]
    rows = np.empty((h, w))
    for k in range(2):
        for i in range(h):
            for j in range(w):
                rows[i, j] = _median5(flow[i, max(j - 2, 0), k], flow[i, max(j - 1, 0), k], flow[i, j, k],
                                      flow[i, min(j + 1, w - 1), k], flow[i, min(j + 2, w - 1), k])
        for i in range(h):
            for j in range(w):
                out[i, j, k] = _median5(rows[max(i - 2, 0), j], rows[max(i - 1, 0), j], rows[i, j],
                                        rows[min(i + 1, h - 1), j], rows[min(i + 2, h - 1), j])


@njit(cache=True)
def _neighbour_mean(flow, k, i, j, im, ip, jm, jp):
    """Horn-Schunck's weighted mean of component ``k`` around (i, j): edges 1/6, corners 1/12."""
    return ((flow[im, j, k] + flow[ip, j, k] + flow[i, jm, k] + flow[i, jp, k]) / 6.0
            + (flow[im, jm, k] + flow[im, jp, k] + flow[ip, jm, k] + flow[ip, jp, k]) / 12.0)


@njit(cache=True)
def horn_schunck_sweeps(gx, gy, residual, alpha2, iterations, flow):
    """Jacobi sweeps of Horn-Schunck on the total flow (H, W, 2), in place.

    Minimises ``sum (g . flow + residual)^2 + alpha2 * |grad flow|^2`` (terms
    of ``linearize``): each sweep replaces
    ``flow`` by ``m - g (g . m + residual) / (alpha2 + |g|^2)``, ``m`` the
    neighbour mean (edges 1/6, corners 1/12, border pixels repeated).
    """
    h, w = gx.shape
    nxt = np.empty_like(flow)
    cur = flow
    for _ in range(iterations):
        for i in range(h):
            im, ip = max(i - 1, 0), min(i + 1, h - 1)
            for j in range(w):
                jm, jp = max(j - 1, 0), min(j + 1, w - 1)
                mu = _neighbour_mean(cur, 0, i, j, im, ip, jm, jp)
                mv = _neighbour_mean(cur, 1, i, j, im, ip, jm, jp)
                x, y = gx[i, j], gy[i, j]
                t = (x * mu + y * mv + residual[i, j]) / (alpha2 + x * x + y * y)
                nxt[i, j, 0] = mu - x * t
                nxt[i, j, 1] = mv - y * t
        cur, nxt = nxt, cur
    if iterations % 2 == 1:  # the last sweep wrote the scratch buffer
        flow[:] = cur


@njit(cache=True)
def _mirror(i, n):
    """Index ``i`` reflected into [0, n - 1] without repeating the edge sample (``d c b | a b c d | c b a``)."""
    if n == 1:
        return 0
    period = 2 * n - 2
    m = i % period
    return period - m if m >= n else m


@njit(cache=True)
def _mirrored_taps(start, n, size, taps):
    """Indices ``start + k`` and ``start + k + 1`` (k < n) reflected into [0, size - 1], into ``taps`` (2, n)."""
    for k in range(n):
        taps[0, k] = _mirror(start + k, size)
        taps[1, k] = _mirror(start + k + 1, size)


@njit(cache=True)
def _sample_window(image, x, y, radius, rows, cols, out):
    """``image`` (H, W) at (x + ox, y + oy) for ox, oy in [-r, r], into ``out`` (2r+1, 2r+1).

    All samples share one pair of bilinear weights (the offsets are whole
    pixels), so each costs four reads and four multiply-adds. A window that
    reaches past the border reads the image mirrored there (the border
    OpenCV's tracker pads its pyramids with); its reflected taps go in
    ``rows``/``cols``, (2, 2r+1) int scratch arrays.
    """
    h, w = image.shape
    x0 = int(np.floor(x))
    y0 = int(np.floor(y))
    fx = x - x0
    fy = y - y0
    w00 = (1.0 - fx) * (1.0 - fy)
    w01 = fx * (1.0 - fy)
    w10 = (1.0 - fx) * fy
    w11 = fx * fy
    side = 2 * radius + 1
    if x0 - radius >= 0 and x0 + radius + 1 < w and y0 - radius >= 0 and y0 + radius + 1 < h:
        # Inside: contiguous reads the compiler vectorises.
        for r in range(side):
            top = image[y0 - radius + r, x0 - radius:x0 + radius + 2]
            bottom = image[y0 - radius + r + 1, x0 - radius:x0 + radius + 2]
            row = out[r]
            for c in range(side):
                row[c] = w00 * top[c] + w01 * top[c + 1] + w10 * bottom[c] + w11 * bottom[c + 1]
        return
    _mirrored_taps(y0 - radius, side, h, rows)
    _mirrored_taps(x0 - radius, side, w, cols)
    for r in range(side):
        top = image[rows[0, r]]
        bottom = image[rows[1, r]]
        row = out[r]
        for c in range(side):
            left, right = cols[0, c], cols[1, c]
            row[c] = w00 * top[left] + w01 * top[right] + w10 * bottom[left] + w11 * bottom[right]


@njit(cache=True, fastmath=True)
def _scharr_window(patch, x, y, h, w, tx, ty):
    """Normalised Scharr derivatives (intensity per pixel) of the inner (n, n)
    part of ``patch`` (n + 2, n + 2), sampled around (x, y) in an (h, w)
    image, into ``tx``, ``ty``; returns the structure tensor's means
    ``(tx^2, tx ty, ty^2)``.

    Samples outside the image get a zero gradient, so they weigh nothing in
    the tensor or the steps: the window is in effect clipped to the image,
    and its mirrored part (which moves the opposite way) cannot pull the
    estimate (OpenCV pads its derivative images with zeros for the same reason).
    """
    n = tx.shape[0]
    radius = n // 2
    a = b = c = 0.0
    for r in range(n):
        up, mid, down = patch[r], patch[r + 1], patch[r + 2]
        row_inside = 0.0 <= y + (r - radius) <= h - 1.0
        for j in range(n):
            gx = (3.0 * (up[j + 2] - up[j]) + 10.0 * (mid[j + 2] - mid[j]) + 3.0 * (down[j + 2] - down[j])) / 32.0
            gy = (3.0 * (down[j] - up[j]) + 10.0 * (down[j + 1] - up[j + 1]) + 3.0 * (down[j + 2] - up[j + 2])) / 32.0
            if not (row_inside and 0.0 <= x + (j - radius) <= w - 1.0):
                gx = gy = 0.0
            tx[r, j] = gx
            ty[r, j] = gy
            a += gx * gx
            b += gx * gy
            c += gy * gy
    return a / (n * n), b / (n * n), c / (n * n)


@njit(cache=True, fastmath=True)
def _gradient_dot(moved, template, tx, ty):
    """``(mean(e tx), mean(e ty), mean|e|)`` for ``e`` = ``moved`` (n, n) minus the
    inner (n, n) part of ``template`` (n + 2, n + 2).

    ``fastmath`` here and in ``_scharr_window`` lets the sums be reordered
    into vector lanes (4x faster); they are the hot loops of tracking.
    """
    n = moved.shape[0]
    bx = by = total = 0.0
    for r in range(n):
        for c in range(n):
            e = moved[r, c] - template[r + 1, c + 1]
            bx += e * tx[r, c]
            by += e * ty[r, c]
            total += abs(e)
    return bx / (n * n), by / (n * n), total / (n * n)


@njit(cache=True)
def track_level(image0, image1, points, scale, radius, iterations, epsilon, min_eigenvalue,
                finest, displacement, lost, error):
    """Refine the displacement of each point at one pyramid level (KLT).

    ``points`` (N, 2) are (x, y) in full-resolution pixels; at this level a
    point sits at ``points * scale``. ``displacement`` (N, 2), in this level's
    pixels, is the starting guess and is updated in place. Each point's
    template is the (2r+1)^2 window of ``image0`` around it (bilinear, the
    image mirrored past its border), with ``g`` its normalised Scharr
    gradient (from a window one pixel wider; zero outside the image).
    Gauss-Newton steps ``-A^-1 b`` with ``A = mean(g g^T)`` (fixed, from the
    template) and ``b = mean(g e)``, ``e`` the window of ``image1`` at the
    moved point minus the template, stop after ``iterations`` or when a step
    is shorter than ``epsilon``.

    A window whose smaller eigenvalue of ``A`` is below ``min_eigenvalue``, or
    a point that ends farther than ``radius`` outside the image, keeps its
    guess at this level; at the ``finest`` level these, and points ending
    outside the image at all, are marked ``lost``. At the finest level
    ``error`` gets the mean absolute difference of the final windows.
    """
    h, w = image0.shape
    side = 2 * radius + 1
    patch = np.empty((side + 2, side + 2))
    tx = np.empty((side, side))
    ty = np.empty((side, side))
    moved = np.empty((side, side))
    rows = np.empty((2, side + 2), dtype=np.int64)
    cols = np.empty((2, side + 2), dtype=np.int64)
    for k in range(points.shape[0]):
        if lost[k]:
            continue
        x = points[k, 0] * scale
        y = points[k, 1] * scale
        _sample_window(image0, x, y, radius + 1, rows, cols, patch)
        a, b, c = _scharr_window(patch, x, y, h, w, tx, ty)
        if _smaller_eigenvalue(a, b, c) < min_eigenvalue:
            lost[k] = finest
            continue
        det = a * c - b * b
        dx, dy = displacement[k, 0], displacement[k, 1]
        for _ in range(iterations):
            qx, qy = x + dx, y + dy
            if not (-radius <= qx <= w - 1.0 + radius and -radius <= qy <= h - 1.0 + radius):
                break  # diverged: the window no longer overlaps the image
            _sample_window(image1, qx, qy, radius, rows, cols, moved)
            bx, by, _ = _gradient_dot(moved, patch, tx, ty)
            step_x = -(c * bx - b * by) / det
            step_y = -(a * by - b * bx) / det
            dx += step_x
            dy += step_y
            if step_x * step_x + step_y * step_y < epsilon * epsilon:
                break
        qx, qy = x + dx, y + dy
        # A coarse level may move a point near the edge a little outside (the
        # finer levels bring it back); only the final position must be inside.
        margin = 0.0 if finest else float(radius)
        if not (-margin <= qx <= w - 1.0 + margin and -margin <= qy <= h - 1.0 + margin):
            lost[k] = finest
            continue
        displacement[k, 0] = dx
        displacement[k, 1] = dy
        if finest:
            _sample_window(image1, qx, qy, radius, rows, cols, moved)
            error[k] = _gradient_dot(moved, patch, tx, ty)[2]
