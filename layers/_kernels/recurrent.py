"""Fused gate math of one LSTM / GRU time step.

The two matrix products of a step (input and hidden projections) stay in
NumPy, where BLAS does them well. What is left is a handful of element-wise
passes (sigmoids, tanhs, the cell update) that NumPy would run one full
array pass at a time, each allocating a temporary; here each element is
read once and every result written once.

All kernels write into caller-provided arrays so the sequence loops can
hand them views of preallocated (T, N, ...) buffers. They compute in the
data's dtype: float32 data keeps twice the vector lanes, and its sigmoid and
tanh use the float32 exp of ``_fastmath`` (a degree-5 polynomial against
degree 14).

Gate orders follow PyTorch: LSTM ``i, f, g, o``; GRU ``r, z, n``.
"""
from numba import njit, uintp

from ._fastmath import JIT_OPTIONS
from ._fastmath import sigmoid as _sigmoid
from ._fastmath import tanh as _tanh


@njit(inline="always", **JIT_OPTIONS)
def _gate_offsets(hidden):
    """Where gates 1, 2 and 3 start in a row of gates. Unsigned, as every column
    index here: with signed ``hidden + j`` LLVM, unable to rule out a negative
    index (which Numba wraps), loaded the gates with gathers (see
    ``_reductions``); the LSTM step's forward took 41 us instead of 16 at N=64, H=128."""
    return uintp(hidden), uintp(2 * hidden), uintp(3 * hidden)


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
    h1, h2, h3 = _gate_offsets(hidden)
    # Two passes per row rather than one: a loop that writes more than
    # about three arrays needs more run-time aliasing checks than LLVM is
    # willing to emit, and then it stays scalar (measured 6x slower).
    for n in range(n_rows):
        for j in range(2 * hidden):
            k = uintp(j)
            gates[n, k] = _sigmoid(xproj[n, k] + hproj[n, k])
        for j in range(hidden):
            k = h2 + uintp(j)
            gates[n, k] = _tanh(xproj[n, k] + hproj[n, k])
        for j in range(hidden):
            k = h3 + uintp(j)
            gates[n, k] = _sigmoid(xproj[n, k] + hproj[n, k])
        for j in range(hidden):
            k = uintp(j)
            cell = gates[n, h1 + k] * c_prev[n, k] + gates[n, k] * gates[n, h2 + k]
            tc = _tanh(cell)
            c[n, k] = cell
            tanh_c[n, k] = tc
            h[n, k] = gates[n, h3 + k] * tc


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
    h1, h2, h3 = _gate_offsets(hidden)
    one = gates.dtype.type(1)  # not 1.0, which would take float32 data into float64 lanes
    # Two passes per row, each writing two arrays, for the reason given in
    # lstm_gates_forward (one pass writing dgates and dc, reading seven arrays,
    # stayed mostly scalar). dc holds the gradient of the new cell in between.
    for n in range(n_rows):
        for j in range(hidden):
            k = uintp(j)
            o = gates[n, h3 + k]
            tc = tanh_c[n, k]
            dh = dh_out[n, k] + dh_rec[n, k]
            dgates[n, h3 + k] = dh * tc * o * (one - o)
            dc[n, k] = dc[n, k] + dh * o * (one - tc * tc)
        for j in range(hidden):
            k = uintp(j)
            i = gates[n, k]
            f = gates[n, h1 + k]
            g = gates[n, h2 + k]
            dcell = dc[n, k]
            dgates[n, k] = dcell * g * i * (one - i)
            dgates[n, h1 + k] = dcell * c_prev[n, k] * f * (one - f)
            dgates[n, h2 + k] = dcell * i * (one - g * g)
            dc[n, k] = dcell * f


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
    h1, h2, _ = _gate_offsets(hidden)
    one = gates.dtype.type(1)
    # Several small passes, each writing one array, so that LLVM vectorises
    # them (see lstm_gates_forward).
    for n in range(n_rows):
        for j in range(2 * hidden):
            k = uintp(j)
            gates[n, k] = _sigmoid(xproj[n, k] + hproj[n, k] + b_hh[k])
        for j in range(hidden):
            k = uintp(j)
            hn[n, k] = hproj[n, h2 + k] + b_hh[h2 + k]
        for j in range(hidden):
            k = uintp(j)
            gates[n, h2 + k] = _tanh(xproj[n, h2 + k] + gates[n, k] * hn[n, k])
        for j in range(hidden):
            k = uintp(j)
            z = gates[n, h1 + k]
            h[n, k] = (one - z) * gates[n, h2 + k] + z * h_prev[n, k]


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
    h1, h2, _ = _gate_offsets(hidden)
    one = gates.dtype.type(1)
    for n in range(n_rows):
        for j in range(hidden):
            k = uintp(j)
            r = gates[n, k]
            z = gates[n, h1 + k]
            cand = gates[n, h2 + k]
            dh = dh_out[n, k] + dh_rec[n, k]
            dn = dh * (one - z) * (one - cand * cand)
            dz = dh * (h_prev[n, k] - cand) * z * (one - z)
            dr = dn * hn[n, k] * r * (one - r)
            dxproj[n, k] = dr
            dxproj[n, h1 + k] = dz
            dxproj[n, h2 + k] = dn
            dhproj[n, k] = dr
            dhproj[n, h1 + k] = dz
            dhproj[n, h2 + k] = dn * r
            dh_prev[n, k] = dh * z
