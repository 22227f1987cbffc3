"""Fused gate math of one LSTM / GRU time step.

The two matrix products of a step (input and hidden projections) stay in
NumPy, where BLAS does them well. What is left is a handful of element-wise
passes (sigmoids, tanhs, the cell update) that NumPy would run one full
array pass at a time, each allocating a temporary; here each element is
read once and every result written once.

All kernels write into caller-provided arrays so the sequence loops can
hand them views of preallocated (T, N, ...) buffers.

Gate orders follow PyTorch: LSTM ``i, f, g, o``; GRU ``r, z, n``.
"""
from numba import njit, types
from numba.extending import intrinsic

# ----------------------------------------------------------- exp, sigmoid, tanh
# Calls to the C library's exp/tanh are scalar and cost ~20 ns each here, so
# a step of an LSTM spent most of its time in them. The functions below use
# plain arithmetic only, so LLVM vectorises the gate loops (AVX-512 on these
# machines, ~5x faster than libm). Accuracy: exp within ~1 ulp in float64
# (tests compare against NumPy), tanh and sigmoid within a few ulp.

# error_model="numpy": a float division by zero gives inf/NaN instead of
# raising, so the loops carry no exception branches and can be vectorised.
# fastmath={"contract"}: fused multiply-adds (one rounding instead of two, so
# no less accurate), ~35% faster here; no other IEEE rule is relaxed.
JIT_OPTIONS = dict(cache=True, error_model="numpy", fastmath={"contract"})

_LOG2E = 1.4426950408889634
# ln 2 split in a high part with trailing zero bits and a low part, so that
# k * _LN2_HI is exact for the k we use (Cody and Waite's range reduction).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10


@intrinsic
def _float_from_bits(typingctx, bits):
    """Reinterpret an int64 bit pattern as a float64 (how we build 2**-k)."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.int64), codegen


@njit(inline="always", **JIT_OPTIONS)
def _exp_neg_parts(t):
    """``exp(-t) = scale * (1 + q)`` for ``t >= 0`` (NaN propagates through q).

    ``t = k ln2 + r`` with ``|r| <= ln2 / 2``; ``scale = 2**-k`` and
    ``q = exp(-r) - 1`` from its Taylor series (degree 14: the first dropped
    term is below 1e-18 on that interval). Returning ``q`` apart from the 1
    keeps ``expm1`` accurate near zero, which ``tanh`` needs.
    """
    t = min(t, 800.0)  # exp(-800) is 0 in float64; keeps 2**-k representable
    k = int(t * _LOG2E + 0.5)
    m = -(t - k * _LN2_HI - k * _LN2_LO)
    p = 1.0 / 87178291200.0
    p = p * m + 1.0 / 6227020800.0
    p = p * m + 1.0 / 479001600.0
    p = p * m + 1.0 / 39916800.0
    p = p * m + 1.0 / 3628800.0
    p = p * m + 1.0 / 362880.0
    p = p * m + 1.0 / 40320.0
    p = p * m + 1.0 / 5040.0
    p = p * m + 1.0 / 720.0
    p = p * m + 1.0 / 120.0
    p = p * m + 1.0 / 24.0
    p = p * m + 1.0 / 6.0
    p = p * m + 0.5
    q = (p * m + 1.0) * m
    # 2**-k as two factors so that k up to 1154 (subnormal results) stays exact.
    half = k >> 1
    scale = _float_from_bits((1023 - half) << 52) * _float_from_bits((1023 - (k - half)) << 52)
    return scale, q


@njit(inline="always", **JIT_OPTIONS)
def _sigmoid(a):
    # One exp of a non-positive argument: exp(-|a|) never overflows.
    scale, q = _exp_neg_parts(abs(a))
    e = scale + scale * q
    s = 1.0 / (1.0 + e)
    return s if a >= 0.0 else e * s


@njit(inline="always", **JIT_OPTIONS)
def _tanh(a):
    # tanh|a| = -expm1(-2|a|) / (2 + expm1(-2|a|)); expm1 keeps small |a| exact.
    scale, q = _exp_neg_parts(2.0 * abs(a))
    em1 = (scale - 1.0) + scale * q
    t = (0.0 - em1) / (2.0 + em1)  # 0.0 - em1: tanh(0) is +0, not -0
    return t if a >= 0.0 else -t


@njit(**JIT_OPTIONS)
def lstm_gates_forward(xproj, hproj, c_prev, gates, c, tanh_c, h):
    """Gate activations and state update of one LSTM step.

    Parameters
    ----------
    xproj : (N, 4H)
        Input projection ``x @ W_ih.T`` plus both biases.
    hproj : (N, 4H)
        Hidden projection ``h_prev @ W_hh.T``.
    c_prev : (N, H)
        Previous cell state.
    gates : (N, 4H), written
        Activated gates ``[sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)]``.
    c, tanh_c, h : (N, H), written
        New cell state, its tanh (kept for backward) and new hidden state.
    """
    n_rows, hidden = c_prev.shape
    # Two passes per row rather than one: a loop that writes more than
    # about three arrays needs more run-time aliasing checks than LLVM is
    # willing to emit, and then it stays scalar (measured 6x slower).
    for n in range(n_rows):
        for j in range(2 * hidden):
            gates[n, j] = _sigmoid(xproj[n, j] + hproj[n, j])
        for j in range(2 * hidden, 3 * hidden):
            gates[n, j] = _tanh(xproj[n, j] + hproj[n, j])
        for j in range(3 * hidden, 4 * hidden):
            gates[n, j] = _sigmoid(xproj[n, j] + hproj[n, j])
        for j in range(hidden):
            cell = gates[n, hidden + j] * c_prev[n, j] + gates[n, j] * gates[n, 2 * hidden + j]
            tc = _tanh(cell)
            c[n, j] = cell
            tanh_c[n, j] = tc
            h[n, j] = gates[n, 3 * hidden + j] * tc


@njit(**JIT_OPTIONS)
def lstm_gates_backward(dh_out, dh_rec, dc, gates, c_prev, tanh_c, dgates):
    """Backward of ``lstm_gates_forward`` for one step.

    Parameters
    ----------
    dh_out : (N, H)
        Gradient reaching ``h`` from the layer output at this step.
    dh_rec : (N, H)
        Gradient reaching ``h`` through the next step's hidden projection.
    dc : (N, H), updated in place
        On entry the gradient reaching ``c`` from the next step; on exit
        the gradient with respect to ``c_prev``.
    gates, c_prev, tanh_c
        As saved by the forward step.
    dgates : (N, 4H), written
        Gradient with respect to the gate pre-activations (shared by
        ``xproj`` and ``hproj``).
    """
    n_rows, hidden = c_prev.shape
    for n in range(n_rows):
        for j in range(hidden):
            i = gates[n, j]
            f = gates[n, hidden + j]
            g = gates[n, 2 * hidden + j]
            o = gates[n, 3 * hidden + j]
            tc = tanh_c[n, j]
            dh = dh_out[n, j] + dh_rec[n, j]
            dcell = dc[n, j] + dh * o * (1.0 - tc * tc)
            dgates[n, j] = dcell * g * i * (1.0 - i)
            dgates[n, hidden + j] = dcell * c_prev[n, j] * f * (1.0 - f)
            dgates[n, 2 * hidden + j] = dcell * i * (1.0 - g * g)
            dgates[n, 3 * hidden + j] = dh * tc * o * (1.0 - o)
            dc[n, j] = dcell * f


@njit(**JIT_OPTIONS)
def gru_gates_forward(xproj, hproj, b_hh, h_prev, gates, hn, h):
    """Gate activations and state update of one GRU step (PyTorch's form).

    ``n = tanh(xproj_n + r * (hproj_n + b_hn))`` and
    ``h = (1 - z) * n + z * h_prev``.

    Parameters
    ----------
    xproj : (N, 3H)
        Input projection ``x @ W_ih.T + b_ih``.
    hproj : (N, 3H)
        Hidden projection ``h_prev @ W_hh.T`` (without bias).
    b_hh : (3H,)
        Hidden bias; its n part sits inside the reset gate's product.
    h_prev : (N, H)
    gates : (N, 3H), written
        Activated gates ``[r, z, n]``.
    hn : (N, H), written
        ``hproj_n + b_hn``, the term the reset gate multiplies.
    h : (N, H), written
        New hidden state.
    """
    n_rows, hidden = h_prev.shape
    # Several small passes, each writing one array, so that LLVM vectorises
    # them (see lstm_gates_forward).
    for n in range(n_rows):
        for j in range(2 * hidden):
            gates[n, j] = _sigmoid(xproj[n, j] + hproj[n, j] + b_hh[j])
        for j in range(hidden):
            hn[n, j] = hproj[n, 2 * hidden + j] + b_hh[2 * hidden + j]
        for j in range(hidden):
            gates[n, 2 * hidden + j] = _tanh(xproj[n, 2 * hidden + j] + gates[n, j] * hn[n, j])
        for j in range(hidden):
            z = gates[n, hidden + j]
            h[n, j] = (1.0 - z) * gates[n, 2 * hidden + j] + z * h_prev[n, j]


@njit(**JIT_OPTIONS)
def gru_gates_backward(dh_out, dh_rec, gates, hn, h_prev, dxproj, dhproj, dh_prev):
    """Backward of ``gru_gates_forward`` for one step.

    Parameters
    ----------
    dh_out, dh_rec : (N, H)
        Gradient reaching ``h`` from the output and from the next step.
    gates, hn, h_prev
        As saved by the forward step.
    dxproj : (N, 3H), written
        Gradient with respect to the input projection.
    dhproj : (N, 3H), written
        Gradient with respect to the hidden projection (and ``b_hh``).
    dh_prev : (N, H), written
        The part of the gradient of ``h_prev`` that bypasses ``W_hh``
        (through ``z * h_prev``); the caller adds ``dhproj @ W_hh``.
    """
    n_rows, hidden = h_prev.shape
    for n in range(n_rows):
        for j in range(hidden):
            r = gates[n, j]
            z = gates[n, hidden + j]
            cand = gates[n, 2 * hidden + j]
            dh = dh_out[n, j] + dh_rec[n, j]
            dn = dh * (1.0 - z) * (1.0 - cand * cand)
            dz = dh * (h_prev[n, j] - cand) * z * (1.0 - z)
            dr = dn * hn[n, j] * r * (1.0 - r)
            dxproj[n, j] = dr
            dxproj[n, hidden + j] = dz
            dxproj[n, 2 * hidden + j] = dn
            dhproj[n, j] = dr
            dhproj[n, hidden + j] = dz
            dhproj[n, 2 * hidden + j] = dn * r
            dh_prev[n, j] = dh * z
