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
from numba import njit

from ._fastmath import JIT_OPTIONS
from ._fastmath import sigmoid as _sigmoid
from ._fastmath import tanh as _tanh


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
    one = gates.dtype.type(1)  # not 1.0, which would take float32 data into float64 lanes
    for n in range(n_rows):
        for j in range(hidden):
            i = gates[n, j]
            f = gates[n, hidden + j]
            g = gates[n, 2 * hidden + j]
            o = gates[n, 3 * hidden + j]
            tc = tanh_c[n, j]
            dh = dh_out[n, j] + dh_rec[n, j]
            dcell = dc[n, j] + dh * o * (one - tc * tc)
            dgates[n, j] = dcell * g * i * (one - i)
            dgates[n, hidden + j] = dcell * c_prev[n, j] * f * (one - f)
            dgates[n, 2 * hidden + j] = dcell * i * (one - g * g)
            dgates[n, 3 * hidden + j] = dh * tc * o * (one - o)
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
    one = gates.dtype.type(1)
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
            h[n, j] = (one - z) * gates[n, 2 * hidden + j] + z * h_prev[n, j]


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
    one = gates.dtype.type(1)
    for n in range(n_rows):
        for j in range(hidden):
            r = gates[n, j]
            z = gates[n, hidden + j]
            cand = gates[n, 2 * hidden + j]
            dh = dh_out[n, j] + dh_rec[n, j]
            dn = dh * (one - z) * (one - cand * cand)
            dz = dh * (h_prev[n, j] - cand) * z * (one - z)
            dr = dn * hn[n, j] * r * (one - r)
            dxproj[n, j] = dr
            dxproj[n, hidden + j] = dz
            dxproj[n, 2 * hidden + j] = dn
            dhproj[n, j] = dr
            dhproj[n, hidden + j] = dz
            dhproj[n, 2 * hidden + j] = dn * r
            dh_prev[n, j] = dh * z
