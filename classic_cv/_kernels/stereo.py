"""Numba kernels for stereo matching: census transform, streamed window cost
aggregation (block matching and cost volumes), semi-global path aggregation,
winner-take-all selection with left-right check and sub-pixel refinement.

Layout: a cost volume is (H, W, D) float32 with the disparity last, so every
inner loop runs over contiguous disparities and vectorises. A left pixel
(y, x) at disparity d matches the right pixel (y, x - d); only d <= x exist.
"""
import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

# Pixel costs. NCC aggregates the product L*R and is normalised per row.
SAD, SSD, CENSUS, NCC = 0, 1, 2, 3

# Window costs are streamed down bands of this many rows, one band per task:
# a fixed height (not one band per thread) keeps the rounding of the running
# sums, and so the result, the same whatever the thread count. Each band
# recomputes 2r cost rows to start its stream.
BAND_ROWS = 64


@intrinsic
def popcount(typingctx, x):
    """Number of set bits of an unsigned integer: LLVM's ``ctpop``, a single
    vectorisable instruction on CPUs that have one."""
    if not isinstance(x, types.Integer) or x.signed:
        return None

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return x(x), codegen


@njit(cache=True)
def census_transform(padded, radius, out):
    """Census signature of every pixel into ``out`` (H, W), an unsigned
    integer type with at least (2r+1)^2 - 1 bits, from the image edge-padded
    by ``radius`` (``padded`` (H + 2r, W + 2r)).

    Bit k (neighbours in row-major order over the (2r+1)^2 window, centre
    skipped, first neighbour in the highest bit) is set when that neighbour
    is darker than the centre. One neighbour offset at a time, so the inner
    loop runs along contiguous rows.
    """
    h, w = out.shape
    one = np.uint64(1)
    for y in range(h):  # serial: 1 ms here, and prange made it 4x slower
        sig = out[y]
        sig[:] = 0
        centre = padded[y + radius, radius : radius + w]
        for dy in range(-radius, radius + 1):
            for dx in range(-radius, radius + 1):
                if dy == 0 and dx == 0:
                    continue
                neighbour = padded[y + radius + dy, radius + dx : radius + dx + w]
                for x in range(w):
                    bit = one if neighbour[x] < centre[x] else np.uint64(0)
                    sig[x] = (sig[x] << one) | bit


@njit(cache=True, parallel=True)
def flat_windows(padded, radius, out):
    """Mark in ``out`` (H, W) bool the windows of ``padded`` (H + 2r, W + 2r)
    whose pixels are all equal: every row of the window constant (no change
    between neighbours, counted by a running sum along the row) and the rows
    equal to each other (checked down the first column)."""
    h, w = out.shape
    win = 2 * radius + 1
    changes = np.empty((h + 2 * radius, w), dtype=np.int32)  # per window row segment
    for i in prange(h + 2 * radius):
        row = padded[i]
        count = 0
        for c in range(win - 1):
            count += row[c] != row[c + 1]
        changes[i, 0] = count
        for x in range(1, w):
            count += (row[x + win - 2] != row[x + win - 1]) - (row[x - 1] != row[x])
            changes[i, x] = count
    for y in prange(h):
        total = np.zeros(w, dtype=np.int32)
        for i in range(y, y + win):
            total += changes[i]
        for i in range(y, y + win - 1):
            upper = padded[i, :w]
            lower = padded[i + 1, :w]
            for x in range(w):
                total[x] += upper[x] != lower[x]
        for x in range(w):
            out[y, x] = total[x] == 0


@njit(cache=True)
def _pixel_cost_row(kind, left, right, left_sig, right_sig, yp, colsum, out):
    """Pixel costs of padded row ``yp`` into ``out`` (Wp, D): ``|L - R|``,
    ``(L - R)^2``, Hamming distance of census signatures, or ``L * R`` (NCC),
    between left column x and right column x - d. Entries with x - d < 0 are
    not touched: the caller zeroes them once (they are never selected, and 0
    keeps the running sums finite).

    The vertical window sums ``colsum`` (Wp, D) gain the new costs and lose
    the ones ``out`` held before (pass zeros in ``out`` to only add).
    """
    wp, nd = out.shape
    for x in range(wp):
        top = min(x + 1, nd)
        row = out[x]
        acc = colsum[x]
        if kind == CENSUS:
            a = left_sig[yp, x]
            r = right_sig[yp]
            for d in range(top):
                c = np.float32(popcount(a ^ r[x - d]))
                acc[d] += c - row[d]
                row[d] = c
        else:
            a = left[yp, x]
            r = right[yp]
            if kind == SAD:
                for d in range(top):
                    c = abs(a - r[x - d])
                    acc[d] += c - row[d]
                    row[d] = c
            elif kind == SSD:
                for d in range(top):
                    diff = a - r[x - d]
                    c = diff * diff
                    acc[d] += c - row[d]
                    row[d] = c
            else:
                for d in range(top):
                    c = a * r[x - d]
                    acc[d] += c - row[d]
                    row[d] = c


@njit(cache=True)
def _window_row(kind, left, right, left_sig, right_sig, y, first, radius, ring, colsum, out):
    """Window sums of the pixel costs centred on output row ``y`` into ``out`` (W, D).

    Streams down the image: ``colsum`` (Wp, D) holds the vertical sums of the
    previous output row and ``ring`` (2r+1, Wp, D) its pixel-cost rows (padded
    row k in slot k mod 2r+1), so row ``y`` adds one new cost row and drops
    one; ``first`` starts a stream at row ``y``. Costs with x - d < 0 stay 0.
    """
    win = 2 * radius + 1
    w, nd = out.shape
    if first:
        colsum[:] = 0
        ring[:] = 0
        for k in range(y, y + win):
            _pixel_cost_row(kind, left, right, left_sig, right_sig, k, colsum, ring[k % win])
    else:  # the slot of padded row y - 1, which leaves the window
        _pixel_cost_row(kind, left, right, left_sig, right_sig, y + win - 1, colsum, ring[(y - 1) % win])
    acc = out[0]
    acc[:] = 0
    for k in range(win):
        acc += colsum[k]
    for x in range(1, w):
        prev = out[x - 1]
        cur = out[x]
        add = colsum[x + win - 1]
        sub = colsum[x - 1]
        for d in range(nd):
            cur[d] = prev[d] + add[d] - sub[d]


@njit(cache=True)
def _ncc_row(row, y, n, mean_l, mean_r, norm_l, norm_r):
    """Window sums of ``L * R`` of row ``y`` (W, D) -> ``1 - ncc``, with ``n``
    (float32) pixels per window; 1 where either window is flat (no evidence
    for any disparity)."""
    w, nd = row.shape
    one = np.float32(1)
    for x in range(w):
        ml = mean_l[y, x]
        nl = norm_l[y, x]
        for d in range(min(x + 1, nd)):
            den = nl * norm_r[y, x - d]
            if den > 0:
                # Clamped at 0: rounding can push |ncc| past 1, and the
                # argmin needs costs >= 0 (see _min_bits).
                row[x, d] = max(one - (row[x, d] - n * ml * mean_r[y, x - d]) / den, np.float32(0))
            else:
                row[x, d] = one


@njit(cache=True, parallel=True)
def cost_volume(kind, left, right, left_sig, right_sig, radius, stats, out):
    """Window matching costs of every pixel and disparity into ``out`` (H, W, D):
    sums of pixel costs over the window, or ``1 - ncc``.

    ``left``/``right``: (H + 2r, W + 2r) edge-padded images (float), or
    ``left_sig``/``right_sig`` the padded census signatures when ``kind`` is
    CENSUS (the unused pair may be 1x1). ``stats`` = (mean_l, mean_r, norm_l,
    norm_r), each (H, W), used by NCC only: window means and root sums of
    squared deviations. Entries with d > x are left as garbage (callers mask them).
    """
    h, w, nd = out.shape
    win = 2 * radius + 1
    mean_l, mean_r, norm_l, norm_r = stats
    for band in prange((h + BAND_ROWS - 1) // BAND_ROWS):
        ring = np.empty((win, w + 2 * radius, nd), dtype=np.float32)
        colsum = np.empty((w + 2 * radius, nd), dtype=np.float32)
        start = band * BAND_ROWS
        for y in range(start, min(start + BAND_ROWS, h)):
            _window_row(kind, left, right, left_sig, right_sig, y, y == start, radius, ring, colsum, out[y])
            if kind == NCC:
                _ncc_row(out[y], y, np.float32(win * win), mean_l, mean_r, norm_l, norm_r)


# Argmin over costs. Costs are >= 0 (up to rounding in running sums, where a
# tiny negative value only means "zero"), and non-negative float32 values
# order like their bit patterns read as int32. So the int64 key
# ``bits << 32 | d`` orders by cost, then by disparity: one integer min
# reduction finds the first best disparity, and integer reductions vectorise
# where float ones would need fast-math on the whole function.
@njit(cache=True)
def _min_bits(bits, n):
    """Smallest of ``bits[:n]`` (int32)."""
    m = bits[0]
    for d in range(1, n):
        b = bits[d]
        m = b if b < m else m
    return m


@njit(cache=True)
def _best_left(costs, best):
    """Winner-take-all over d = 0..min(x, D-1) per column; ties go to the smaller d."""
    w, nd = costs.shape
    bits = costs.view(np.int32)
    for x in range(w):
        row = bits[x]
        key = np.int64(row[0]) << 32
        for d in range(1, min(x + 1, nd)):
            k = (np.int64(row[d]) << 32) | d
            key = k if k < key else key
        best[x] = key & 0xFFFFFFFF


@njit(cache=True)
def _best_right(costs, best, keys):
    """Disparity of each right-image column xr: argmin over d of costs[xr + d, d]
    (ties to the smaller d). One disparity at a time, so the running minima
    ``keys`` (W,) int64 update as contiguous vectors."""
    w, nd = costs.shape
    bits = costs.view(np.int32)
    for xr in range(w):
        keys[xr] = np.int64(bits[xr, 0]) << 32
    for d in range(1, nd):
        for xr in range(w - d):
            k = (np.int64(bits[xr + d, d]) << 32) | d
            old = keys[xr]
            keys[xr] = k if k < old else old
    for xr in range(w):
        best[xr] = keys[xr] & 0xFFFFFFFF


@njit(cache=True)
def select_row(costs, subpixel, lr_check, flat, best_l, best_r, keys, out):
    """Disparities of one image row from its costs (W, D) into ``out`` (W,).

    Winner-take-all; with ``lr_check`` a pixel whose right-image match does not
    point back within 1 px is NaN; ``flat`` (W,) bool marks further invalid
    pixels (NaN). ``subpixel`` fits a parabola through the best cost and its
    two neighbours. ``best_l``/``best_r`` (W,) int32 and ``keys`` (W,) int64
    are work space.
    """
    w, nd = costs.shape
    _best_left(costs, best_l)
    if lr_check:
        _best_right(costs, best_r, keys)
    for x in range(w):
        d = best_l[x]
        if flat[x] or (lr_check and abs(best_r[x - d] - d) > 1):
            out[x] = np.nan
            continue
        value = np.float32(d)
        if subpixel and 0 < d < min(x, nd - 1):
            c0 = costs[x, d - 1]
            c1 = costs[x, d]
            c2 = costs[x, d + 1]
            curvature = c0 - c1 - c1 + c2
            if curvature > 0:
                value += (c0 - c2) / (curvature + curvature)
        out[x] = value


@njit(cache=True, parallel=True)
def block_match(kind, left, right, left_sig, right_sig, radius, nd, stats, flat, subpixel, lr_check, out):
    """Block matching, streamed down bands of rows: no cost volume is stored.

    Arguments as ``cost_volume`` (``nd`` disparities) and ``select_row``;
    ``flat`` is (H, W) bool, ``out`` (H, W) float disparities.
    """
    h, w = out.shape
    win = 2 * radius + 1
    mean_l, mean_r, norm_l, norm_r = stats
    for band in prange((h + BAND_ROWS - 1) // BAND_ROWS):
        ring = np.empty((win, w + 2 * radius, nd), dtype=np.float32)
        colsum = np.empty((w + 2 * radius, nd), dtype=np.float32)
        costs = np.empty((w, nd), dtype=np.float32)
        best_l = np.empty(w, dtype=np.int32)
        best_r = np.empty(w, dtype=np.int32)
        keys = np.empty(w, dtype=np.int64)
        start = band * BAND_ROWS
        for y in range(start, min(start + BAND_ROWS, h)):
            _window_row(kind, left, right, left_sig, right_sig, y, y == start, radius, ring, colsum, costs)
            if kind == NCC:
                _ncc_row(costs, y, np.float32(win * win), mean_l, mean_r, norm_l, norm_r)
            select_row(costs, subpixel, lr_check, flat[y], best_l, best_r, keys, out[y])


@njit(cache=True)
def _path_step(cost, prev, prev_min, p1, p2, cur, total, first):
    """One step of Hirschmüller's recursion along a path:

    ``L(p, d) = C(p, d) + min(L(q, d), L(q, d+-1) + P1, min_k L(q, k) + P2) - min_k L(q, k)``

    for the previous pixel q. ``prev``/``cur`` are (D + 2,) with huge
    sentinels at both ends (so d+-1 needs no test); adds L to ``total`` (D,),
    or stores it there when ``first``, and returns min_d L as its int32 bit
    pattern (L >= 0, see ``_min_bits``).
    """
    nd = cost.shape[0]
    jump = prev_min + p2
    for d in range(nd):
        a = prev[d]
        b = prev[d + 2]
        step = (a if a < b else b) + p1
        v = prev[d + 1]
        v = v if v < jump else jump
        v = v if v < step else step
        cur[d + 1] = cost[d] + v - prev_min
    if first:
        total[:] = cur[1 : nd + 1]
    else:
        total += cur[1 : nd + 1]
    return _min_bits(cur[1:].view(np.int32), nd)


@njit(cache=True)
def _sweep(cost, p1, p2, paths, forward, total):
    """Half of the paths in one raster sweep, their costs summed into ``total``.

    Forward (rows down, columns right): paths arriving from the left and from
    the top, and with 8 paths from top-left and top-right. Backward mirrors
    them.
    """
    h, w, nd = cost.shape
    big = np.float32(1e30)
    step = 1 if forward else -1
    diagonals = paths == 8
    # Row buffers of the vertical/diagonal paths, columns shifted by one so
    # that column -1 and column w are the zero "outside the image" entries.
    prev_rows = np.zeros((3, w + 2, nd + 2), dtype=np.float32)
    cur_rows = np.zeros((3, w + 2, nd + 2), dtype=np.float32)
    # Path minima per column, written as int32 bit patterns, read as float32.
    prev_mins = np.zeros((3, w + 2), dtype=np.float32)
    cur_mins = np.zeros((3, w + 2), dtype=np.float32)
    horiz = np.zeros((2, nd + 2), dtype=np.float32)
    h_min = np.zeros(1, dtype=np.float32)
    for buf in (prev_rows, cur_rows):
        buf[:, :, 0] = big
        buf[:, :, nd + 1] = big
    horiz[:, 0] = big
    horiz[:, nd + 1] = big
    h_min_bits = h_min.view(np.int32)
    for i in range(h):
        y = i if forward else h - 1 - i
        horiz[0, 1 : nd + 1] = 0
        h_min[0] = 0
        cur_bits = cur_mins.view(np.int32)
        for j in range(w):
            x = j if forward else w - 1 - j
            c = cost[y, x]
            t = total[y, x]
            h_min_bits[0] = _path_step(c, horiz[j % 2], h_min[0], p1, p2, horiz[1 - j % 2], t, True)
            col = x + 1
            # k = 0: straight down (or up); 1, 2: the two diagonals.
            cur_bits[0, col] = _path_step(c, prev_rows[0, col], prev_mins[0, col], p1, p2, cur_rows[0, col], t,
                                          False)
            if diagonals:
                a = col - step
                b = col + step
                cur_bits[1, col] = _path_step(c, prev_rows[1, a], prev_mins[1, a], p1, p2, cur_rows[1, col], t,
                                              False)
                cur_bits[2, col] = _path_step(c, prev_rows[2, b], prev_mins[2, b], p1, p2, cur_rows[2, col], t,
                                              False)
        prev_rows, cur_rows = cur_rows, prev_rows
        prev_mins, cur_mins = cur_mins, prev_mins


@njit(cache=True, parallel=True)
def sgm_aggregate(cost, p1, p2, paths, forward, backward):
    """Path costs of ``cost`` (H, W, D) over ``paths`` (4 or 8) directions:
    the forward sweep's half summed into ``forward``, the backward sweep's
    into ``backward`` (both (H, W, D), overwritten). The sweeps are
    independent, so they run at the same time; ``select_total`` adds them."""
    for sweep in prange(2):
        if sweep == 0:
            _sweep(cost, p1, p2, paths, True, forward)
        else:
            _sweep(cost, p1, p2, paths, False, backward)


@njit(cache=True, parallel=True)
def select_total(forward, backward, subpixel, lr_check, flat, out):
    """``select_row`` on every row of ``forward + backward`` (H, W, D) into ``out`` (H, W)."""
    h, w, nd = forward.shape
    for band in prange((h + BAND_ROWS - 1) // BAND_ROWS):
        costs = np.empty((w, nd), dtype=np.float32)
        best_l = np.empty(w, dtype=np.int32)
        best_r = np.empty(w, dtype=np.int32)
        keys = np.empty(w, dtype=np.int64)
        for y in range(band * BAND_ROWS, min((band + 1) * BAND_ROWS, h)):
            costs[:] = forward[y]
            costs += backward[y]
            select_row(costs, subpixel, lr_check, flat[y], best_l, best_r, keys, out[y])


@njit(cache=True)
def fill_out_of_image(costs):
    """Give every d > x of a cost volume (H, W, D) the worst valid cost of its
    pixel: a finite value that path aggregation never prefers to a real match."""
    h, w, nd = costs.shape
    for y in range(h):
        for x in range(min(w, nd - 1)):
            row = costs[y, x]
            worst = row[0]
            for d in range(1, x + 1):
                worst = max(worst, row[d])
            for d in range(x + 1, nd):
                row[d] = worst
