"""Recurrent layers: vanilla (tanh) RNN, LSTM, GRU and the temporal affine map.

Layouts follow PyTorch with ``batch_first=True``: sequences are ``(N, T, D)``,
hidden states ``(N, H)``, and each layer's weights are ``w_ih (G*H, D)``,
``w_hh (G*H, H)``, ``b_ih (G*H,)``, ``b_hh (G*H,)`` with ``G`` gates stacked
in PyTorch's order (LSTM ``i, f, g, o``; GRU ``r, z, n``), so parameters copy
one-to-one between a ``torch.nn.LSTM`` and ours.

How a sequence is computed: the input projection of every time step is one
large GEMM up front, and backward ends with three large GEMMs (``dx``,
``dW_ih``, ``dW_hh``) over all steps at once; only the hidden projection
``h_prev @ W_hh.T`` (and its backward ``dgates @ W_hh``) must run step by
step. Between those GEMMs, the LSTM and GRU gate math runs in fused Numba
kernels (``layers._kernels.recurrent``). Internally everything is stored
time-major, ``(T, N, ...)``, so each step's slice is contiguous.

A single step is a sequence of length one: the ``*_step_*`` functions call
the sequence functions, so there is one implementation to trust.
"""
import math
import threading

import numpy as np

import minigrad as mg
from minigrad import Function, Module, Parameter

from ._kernels import recurrent as kernels
from ._validation import as_generator, require_float, require_ndim, require_positive
from .affine import Linear, affine_backward, affine_forward, linear

# --------------------------------------------------------------- shared parts


_scratch = threading.local()


def _workspace(shape, dtype, copies=1):
    """``copies`` scratch arrays of ``shape`` for temporaries that die inside one call.

    Fresh multi-megabyte arrays cost page faults on every call on these
    machines (a third of an LSTM's forward time, measured). The input
    projections of a forward pass and the gate gradients of a backward pass,
    all (T, N, G*H), are the largest temporaries and are dead when the call
    returns, so one per-thread buffer (grown as needed, then kept) serves
    every call. Never hand a workspace array to a cache or a caller.
    """
    dtype = np.dtype(dtype)
    count = math.prod(shape)
    nbytes = count * dtype.itemsize * copies
    buffer = getattr(_scratch, "buffer", None)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = _scratch.buffer = np.empty(nbytes, np.uint8)
    flat = buffer[:nbytes].view(dtype)
    return [flat[k * count:(k + 1) * count].reshape(shape) for k in range(copies)]


def _project_inputs(x, w_ih, bias):
    """Time-major input and its projection for every step at once.

    x : (N, T, D) -> x_tm : (T, N, D) contiguous, xproj : (T, N, G*H).
    ``xproj`` lives in the thread's workspace: it must be dead before the
    forward call returns.
    """
    n, t, d = x.shape
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))
    (xproj,) = _workspace((t * n, w_ih.shape[0]), x.dtype)
    np.matmul(x_tm.reshape(t * n, d), w_ih.T, out=xproj)
    if bias is not None:
        xproj += bias
    return x_tm, xproj.reshape(t, n, -1)


def _sum_biases(b_ih, b_hh):
    if b_ih is None:
        return b_hh
    return b_ih if b_hh is None else b_ih + b_hh


def _states(n_steps, h0, shape_nh, dtype):
    """A (T+1, N, H) buffer whose slot 0 holds the initial state (zeros if None)."""
    states = np.empty((n_steps + 1,) + shape_nh, dtype=dtype)
    states[0] = 0 if h0 is None else h0
    return states


def _batch_major(a_tm):
    """(T, N, ...) time-major buffer -> contiguous (N, T, ...)."""
    return np.ascontiguousarray(np.swapaxes(a_tm, 0, 1))


def _parameter_grads(dxproj, dhproj, x_tm, h_prev_tm, w_ih, w_hh, has_bias):
    """The GEMMs that close every recurrent backward pass, over all steps at once.

    dxproj, dhproj : (T, N, G*H) gradients of the input and hidden projections
    (the same array for RNN and LSTM); x_tm : (T, N, D); h_prev_tm : (T, N, H).
    Returns ``dx (N, T, D), dw_ih, dw_hh, db_ih, db_hh`` (biases None if absent).
    """
    t, n, g = dxproj.shape
    dxp = dxproj.reshape(t * n, g)
    dhp = dhproj.reshape(t * n, g)
    dx = _batch_major((dxp @ w_ih).reshape(t, n, -1))
    dw_ih = dxp.T @ x_tm.reshape(t * n, -1)
    dw_hh = dhp.T @ h_prev_tm.reshape(t * n, -1)
    if not has_bias:
        return dx, dw_ih, dw_hh, None, None
    db_ih = dxp.sum(axis=0)
    db_hh = db_ih.copy() if dhproj is dxproj else dhp.sum(axis=0)
    return dx, dw_ih, dw_hh, db_ih, db_hh


def _initial_grad(d_last, shape, dtype):
    return np.zeros(shape, dtype) if d_last is None else np.array(d_last, dtype=dtype)


# ------------------------------------------------------------- vanilla RNN


def rnn_forward(x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
    """Run a tanh RNN over a whole sequence: ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.

    Parameters
    ----------
    x : (N, T, D)
    h0 : (N, H) or None
        Initial hidden state; None means zeros.
    w_ih : (H, D)
    w_hh : (H, H)
    b_ih, b_hh : (H,) or None

    Returns
    -------
    hs : (N, T, H)
        Every hidden state; ``hs[:, -1]`` is the last.
    cache : tuple
        For ``rnn_backward``.
    """
    n, t, _ = x.shape
    hidden = w_hh.shape[1]
    x_tm, xproj = _project_inputs(x, w_ih, _sum_biases(b_ih, b_hh))
    hs = _states(t, h0, (n, hidden), x.dtype)
    for step in range(t):
        a = xproj[step]
        a += hs[step] @ w_hh.T
        np.tanh(a, out=hs[step + 1])
    cache = (x_tm, hs, w_ih, w_hh, b_ih is not None or b_hh is not None)
    return _batch_major(hs[1:]), cache


def rnn_backward(dhs, cache, dh_last=None):
    """Backward of ``rnn_forward``.

    Parameters
    ----------
    dhs : (N, T, H)
        Upstream gradient of every hidden state.
    cache : from ``rnn_forward``
    dh_last : (N, H) or None
        Extra upstream gradient of the last hidden state (when it is used
        on its own as well as inside ``hs``).

    Returns
    -------
    dx : (N, T, D), dh0 : (N, H), dw_ih : (H, D), dw_hh : (H, H),
    db_ih, db_hh : (H,) or None (None when the forward had no biases).
    """
    x_tm, hs, w_ih, w_hh, has_bias = cache
    t = x_tm.shape[0]
    dhs_tm = np.swapaxes(dhs, 0, 1)
    (da,) = _workspace(hs[1:].shape, hs.dtype)
    dh = _initial_grad(dh_last, hs.shape[1:], hs.dtype)
    for step in range(t - 1, -1, -1):
        h = hs[step + 1]
        dh += dhs_tm[step]
        np.multiply(dh, 1 - h * h, out=da[step])
        dh = da[step] @ w_hh
    dx, dw_ih, dw_hh, db_ih, db_hh = _parameter_grads(da, da, x_tm, hs[:-1], w_ih, w_hh, has_bias)
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh


def rnn_step_forward(x, h_prev, w_ih, w_hh, b_ih=None, b_hh=None):
    """One tanh RNN step. x : (N, D), h_prev : (N, H) -> h : (N, H), cache."""
    hs, cache = rnn_forward(x[:, None], h_prev, w_ih, w_hh, b_ih, b_hh)
    return hs[:, 0], cache


def rnn_step_backward(dh, cache):
    """Backward of ``rnn_step_forward``: returns ``dx, dh_prev, dw_ih, dw_hh, db_ih, db_hh``."""
    dx, *rest = rnn_backward(dh[:, None], cache)
    return (dx[:, 0], *rest)


# -------------------------------------------------------------------- LSTM


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None):
    """Run an LSTM over a whole sequence (PyTorch's equations and gate order i, f, g, o).

    Parameters
    ----------
    x : (N, T, D)
    h0, c0 : (N, H) or None
        Initial hidden and cell states; None means zeros.
    w_ih : (4H, D)
    w_hh : (4H, H)
    b_ih, b_hh : (4H,) or None

    Returns
    -------
    (hs, c_last) : (N, T, H), (N, H)
        Every hidden state and the final cell state.
    cache : tuple
        For ``lstm_backward``.
    """
    n, t, _ = x.shape
    hidden = w_hh.shape[1]
    x_tm, xproj = _project_inputs(x, w_ih, _sum_biases(b_ih, b_hh))
    hs = _states(t, h0, (n, hidden), x.dtype)
    cs = _states(t, c0, (n, hidden), x.dtype)
    gates = np.empty_like(xproj)
    tanh_c = np.empty((t, n, hidden), dtype=x.dtype)
    hproj = np.empty((n, 4 * hidden), dtype=x.dtype)
    for step in range(t):
        np.matmul(hs[step], w_hh.T, out=hproj)
        kernels.lstm_gates_forward(
            xproj[step], hproj, cs[step], gates[step], cs[step + 1], tanh_c[step], hs[step + 1]
        )
    cache = (x_tm, hs, cs, gates, tanh_c, w_ih, w_hh, b_ih is not None or b_hh is not None)
    return (_batch_major(hs[1:]), cs[t].copy()), cache


def lstm_backward(dhs, cache, dh_last=None, dc_last=None):
    """Backward of ``lstm_forward``.

    Parameters
    ----------
    dhs : (N, T, H)
        Upstream gradient of every hidden state.
    cache : from ``lstm_forward``
    dh_last, dc_last : (N, H) or None
        Extra upstream gradients of the last hidden state and of the final
        cell state.

    Returns
    -------
    dx : (N, T, D), dh0 : (N, H), dc0 : (N, H), dw_ih : (4H, D),
    dw_hh : (4H, H), db_ih, db_hh : (4H,) or None.
    """
    x_tm, hs, cs, gates, tanh_c, w_ih, w_hh, has_bias = cache
    t = x_tm.shape[0]
    dhs_tm = np.swapaxes(dhs, 0, 1)
    (dgates,) = _workspace(gates.shape, gates.dtype)
    dh = _initial_grad(dh_last, hs.shape[1:], hs.dtype)
    dc = _initial_grad(dc_last, cs.shape[1:], cs.dtype)
    for step in range(t - 1, -1, -1):
        kernels.lstm_gates_backward(
            dhs_tm[step], dh, dc, gates[step], cs[step], tanh_c[step], dgates[step]
        )
        dh = dgates[step] @ w_hh
    grads = _parameter_grads(dgates, dgates, x_tm, hs[:-1], w_ih, w_hh, has_bias)
    dx, dw_ih, dw_hh, db_ih, db_hh = grads
    return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh


def lstm_step_forward(x, h_prev, c_prev, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step. x : (N, D), h_prev, c_prev : (N, H) -> (h, c) : (N, H) each, cache."""
    (hs, c), cache = lstm_forward(x[:, None], h_prev, c_prev, w_ih, w_hh, b_ih, b_hh)
    return (hs[:, 0], c), cache


def lstm_step_backward(dh, dc, cache):
    """Backward of ``lstm_step_forward``: ``dx, dh_prev, dc_prev, dw_ih, dw_hh, db_ih, db_hh``."""
    dx, *rest = lstm_backward(dh[:, None], cache, dc_last=dc)
    return (dx[:, 0], *rest)


# --------------------------------------------------------------------- GRU


def gru_forward(x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
    """Run a GRU over a whole sequence (PyTorch's equations and gate order r, z, n).

    ``r = σ(W_ir x + b_ir + W_hr h + b_hr)``, ``z = σ(W_iz x + b_iz + W_hz h + b_hz)``,
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.

    Parameters
    ----------
    x : (N, T, D)
    h0 : (N, H) or None
        Initial hidden state; None means zeros.
    w_ih : (3H, D)
    w_hh : (3H, H)
    b_ih, b_hh : (3H,) or None

    Returns
    -------
    hs : (N, T, H)
    cache : tuple
        For ``gru_backward``.
    """
    n, t, _ = x.shape
    hidden = w_hh.shape[1]
    x_tm, xproj = _project_inputs(x, w_ih, b_ih)
    # b_hn sits inside the reset gate's product, so b_hh cannot be folded
    # into the input projection; the kernel adds it.
    bias_h = np.zeros(3 * hidden, x.dtype) if b_hh is None else b_hh
    hs = _states(t, h0, (n, hidden), x.dtype)
    gates = np.empty_like(xproj)
    hn = np.empty((t, n, hidden), dtype=x.dtype)
    hproj = np.empty((n, 3 * hidden), dtype=x.dtype)
    for step in range(t):
        np.matmul(hs[step], w_hh.T, out=hproj)
        kernels.gru_gates_forward(xproj[step], hproj, bias_h, hs[step], gates[step], hn[step], hs[step + 1])
    cache = (x_tm, hs, gates, hn, w_ih, w_hh, b_ih is not None or b_hh is not None)
    return _batch_major(hs[1:]), cache


def gru_backward(dhs, cache, dh_last=None):
    """Backward of ``gru_forward``.

    Parameters
    ----------
    dhs : (N, T, H)
    cache : from ``gru_forward``
    dh_last : (N, H) or None
        Extra upstream gradient of the last hidden state.

    Returns
    -------
    dx : (N, T, D), dh0 : (N, H), dw_ih : (3H, D), dw_hh : (3H, H),
    db_ih, db_hh : (3H,) or None.
    """
    x_tm, hs, gates, hn, w_ih, w_hh, has_bias = cache
    t = x_tm.shape[0]
    dhs_tm = np.swapaxes(dhs, 0, 1)
    dxproj, dhproj = _workspace(gates.shape, gates.dtype, copies=2)
    dh = _initial_grad(dh_last, hs.shape[1:], hs.dtype)
    dh_direct = np.empty_like(dh)
    for step in range(t - 1, -1, -1):
        kernels.gru_gates_backward(
            dhs_tm[step], dh, gates[step], hn[step], hs[step], dxproj[step], dhproj[step], dh_direct
        )
        dh = dhproj[step] @ w_hh
        dh += dh_direct
    grads = _parameter_grads(dxproj, dhproj, x_tm, hs[:-1], w_ih, w_hh, has_bias)
    dx, dw_ih, dw_hh, db_ih, db_hh = grads
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh


def gru_step_forward(x, h_prev, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step. x : (N, D), h_prev : (N, H) -> h : (N, H), cache."""
    hs, cache = gru_forward(x[:, None], h_prev, w_ih, w_hh, b_ih, b_hh)
    return hs[:, 0], cache


def gru_step_backward(dh, cache):
    """Backward of ``gru_step_forward``: returns ``dx, dh_prev, dw_ih, dw_hh, db_ih, db_hh``."""
    dx, *rest = gru_backward(dh[:, None], cache)
    return (dx[:, 0], *rest)


# ---------------------------------------------------------- temporal affine


def temporal_affine_forward(x, w, b):
    """Affine map applied at every time step: ``out[n, t] = w @ x[n, t] + b``.

    The affine layer already maps any leading dimensions, so this is that
    pair restricted to sequences (CS231n's name for it).

    Parameters
    ----------
    x : (N, T, D)
    w : (M, D)
    b : (M,) or None

    Returns
    -------
    out : (N, T, M)
    cache : for ``temporal_affine_backward``
    """
    return affine_forward(x, w, b)


def temporal_affine_backward(dout, cache):
    """Backward of ``temporal_affine_forward``: ``dx (N, T, D), dw (M, D), db (M,) or None``."""
    return affine_backward(dout, cache)


# ------------------------------------------------------------ autograd glue


def _needed(grads, needs_input_grad):
    # Inputs that were None (or constants) get None, as the engine expects.
    return tuple(g if need else None for g, need in zip(grads, needs_input_grad))


class RNNFunction(Function):
    """``rnn_forward``/``rnn_backward`` on the graph; outputs ``(hs, h_last)``."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh):
        hs, ctx.cache = rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh)
        return hs, hs[:, -1].copy()

    @staticmethod
    def backward(ctx, grads):
        dhs, dh_last = grads
        return _needed(rnn_backward(dhs, ctx.cache, dh_last), ctx.needs_input_grad)


class LSTMFunction(Function):
    """``lstm_forward``/``lstm_backward`` on the graph; outputs ``(hs, h_last, c_last)``."""

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        (hs, c_last), ctx.cache = lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
        return hs, hs[:, -1].copy(), c_last

    @staticmethod
    def backward(ctx, grads):
        dhs, dh_last, dc_last = grads
        return _needed(lstm_backward(dhs, ctx.cache, dh_last, dc_last), ctx.needs_input_grad)


class GRUFunction(Function):
    """``gru_forward``/``gru_backward`` on the graph; outputs ``(hs, h_last)``."""

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh):
        hs, ctx.cache = gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh)
        return hs, hs[:, -1].copy()

    @staticmethod
    def backward(ctx, grads):
        dhs, dh_last = grads
        return _needed(gru_backward(dhs, ctx.cache, dh_last), ctx.needs_input_grad)


# --------------------------------------------------------- Tensor functions


def _check_recurrent(fn, n_gates, x, w_ih, w_hh, b_ih, b_hh, states):
    """Validate a recurrent call; ``states`` maps names (h0, c0) to values or None."""
    xa = require_float(fn, "x", x)
    require_ndim(fn, "x", xa, (3,), "(N, T, D)")
    if xa.shape[1] == 0:
        raise ValueError(f"{fn}: x must have at least one time step, got shape {xa.shape}")
    wh = require_float(fn, "w_hh", w_hh)
    wi = require_float(fn, "w_ih", w_ih)
    require_ndim(fn, "w_hh", wh, (2,), "(G*H, H)")
    hidden = wh.shape[1]
    expected = {
        "w_ih": (wi, (n_gates * hidden, xa.shape[2])),
        "w_hh": (wh, (n_gates * hidden, hidden)),
    }
    for name, value in (("b_ih", b_ih), ("b_hh", b_hh)):
        if value is not None:
            expected[name] = (require_float(fn, name, value), (n_gates * hidden,))
    for name, value in states.items():
        if value is not None:
            expected[name] = (require_float(fn, name, value), (xa.shape[0], hidden))
    for name, (array, shape) in expected.items():
        if array.shape != shape:
            raise ValueError(
                f"{fn}: {name} must have shape {shape} for x of shape {xa.shape} and "
                f"hidden size {hidden} ({n_gates} gate(s)), got shape {array.shape}"
            )
        if array.dtype != xa.dtype:
            raise TypeError(f"{fn}: {name} has dtype {array.dtype} but x has dtype {xa.dtype}")


def rnn(x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
    """Tanh RNN over a sequence of Tensors (shapes as in ``rnn_forward``).

    Returns
    -------
    hs : Tensor (N, T, H)
        Every hidden state.
    h_last : Tensor (N, H)
        The last hidden state (``hs[:, -1]``, without an indexing node).
    """
    _check_recurrent("rnn", 1, x, w_ih, w_hh, b_ih, b_hh, {"h0": h0})
    return RNNFunction.apply(x, h0, w_ih, w_hh, b_ih, b_hh)


def lstm(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None):
    """LSTM over a sequence of Tensors (shapes as in ``lstm_forward``).

    Returns
    -------
    hs : Tensor (N, T, H)
    h_last, c_last : Tensor (N, H)
        Final hidden and cell states.
    """
    _check_recurrent("lstm", 4, x, w_ih, w_hh, b_ih, b_hh, {"h0": h0, "c0": c0})
    return LSTMFunction.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh)


def gru(x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
    """GRU over a sequence of Tensors (shapes as in ``gru_forward``).

    Returns
    -------
    hs : Tensor (N, T, H)
    h_last : Tensor (N, H)
    """
    _check_recurrent("gru", 3, x, w_ih, w_hh, b_ih, b_hh, {"h0": h0})
    return GRUFunction.apply(x, h0, w_ih, w_hh, b_ih, b_hh)


def temporal_affine(x, w, b=None):
    """Affine map of every time step of a Tensor ``x (N, T, D)`` -> ``(N, T, M)``; ``w (M, D)``."""
    require_ndim("temporal_affine", "x", require_float("temporal_affine", "x", x), (3,), "(N, T, D)")
    return linear(x, w, b)


# ------------------------------------------------------------------ Modules


class _Recurrent(Module):
    """Stacked single-direction recurrent layers, batch first, PyTorch's parameters.

    Subclasses set ``_gates`` and ``_run(x, state, layer)`` (one layer).
    """

    _gates = 1

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, rng=None, dtype=np.float32):
        super().__init__()
        name = type(self).__name__
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, (int, np.integer)):
                raise TypeError(f"{name}: {arg} must be an int, got {type(value).__name__}")
            require_positive(name, arg, value)
        self.input_size, self.hidden_size, self.num_layers = int(input_size), int(hidden_size), int(num_layers)
        self.bias = bool(bias)
        gen = as_generator(rng)
        bound = 1.0 / math.sqrt(hidden_size)
        rows = self._gates * hidden_size
        for layer in range(num_layers):
            cols = input_size if layer == 0 else hidden_size
            shapes = {"weight_ih": (rows, cols), "weight_hh": (rows, hidden_size)}
            if bias:
                shapes.update(bias_ih=(rows,), bias_hh=(rows,))
            for pname, shape in shapes.items():
                value = gen.uniform(-bound, bound, shape).astype(dtype)
                setattr(self, f"{pname}_l{layer}", Parameter(value))

    def _layer_params(self, layer):
        get = lambda pname: getattr(self, f"{pname}_l{layer}", None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _run_layers(self, cell, x, hx):
        """Run ``cell`` (``rnn`` or ``gru``: one state tensor) through the stacked layers."""
        self._check_state("hx", hx, x)
        out, finals = x, []
        for layer in range(self.num_layers):
            h0 = None if hx is None else hx[layer]
            out, h_last = cell(out, h0, *self._layer_params(layer))
            finals.append(h_last)
        return out, mg.stack(finals)

    def _check_state(self, name, value, x):
        if value is None:
            return
        array = value.data if isinstance(value, mg.Tensor) else np.asarray(value)
        n = require_float(type(self).__name__, "x", x).shape[0]
        expected = (self.num_layers, n, self.hidden_size)
        if array.shape != expected:
            raise ValueError(
                f"{type(self).__name__}: {name} must have shape (num_layers, N, hidden_size) = "
                f"{expected}, got shape {array.shape}"
            )

    def extra_repr(self):
        return (
            f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"bias={self.bias}, batch_first=True"
        )


class RNN(_Recurrent):
    """Tanh RNN, ``batch_first`` layout (like ``torch.nn.RNN(..., batch_first=True)``).

    Parameters
    ----------
    input_size, hidden_size : int
    num_layers : int
        Stacked layers; layer k > 0 reads the hidden states of layer k - 1.
    bias : bool
    rng : np.random.Generator, int or None
    dtype : float32 or float64

    Attributes
    ----------
    weight_ih_l{k} : (H, D or H), weight_hh_l{k} : (H, H), bias_ih_l{k}, bias_hh_l{k} : (H,)
        All initialised U(-1/sqrt(H), 1/sqrt(H)), PyTorch's default.

    ``forward(x, hx=None)``: x (N, T, D), hx (num_layers, N, H) or None (zeros).
    Returns ``(out (N, T, H), h_n (num_layers, N, H))``.
    """

    _gates = 1

    def forward(self, x, hx=None):
        return self._run_layers(rnn, x, hx)


class GRU(_Recurrent):
    """GRU with PyTorch's equations and gate order ``r, z, n``, ``batch_first`` layout.

    Parameters and attributes as ``RNN``, with ``3H`` rows in every weight and
    bias (``[W_r; W_z; W_n]``). ``forward(x, hx=None)`` returns
    ``(out (N, T, H), h_n (num_layers, N, H))``.
    """

    _gates = 3

    def forward(self, x, hx=None):
        return self._run_layers(gru, x, hx)


class LSTM(_Recurrent):
    """LSTM with PyTorch's equations and gate order ``i, f, g, o``, ``batch_first`` layout.

    Parameters and attributes as ``RNN``, with ``4H`` rows in every weight and
    bias (``[W_i; W_f; W_g; W_o]``).

    ``forward(x, hx=None)``: x (N, T, D); hx a pair ``(h0, c0)``, each
    (num_layers, N, H), or None (zeros). Returns
    ``(out (N, T, H), (h_n, c_n))`` with h_n, c_n (num_layers, N, H).
    """

    _gates = 4

    def forward(self, x, hx=None):
        if hx is None:
            h0 = c0 = None
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise ValueError("LSTM: hx must be a pair (h0, c0) or None")
            h0, c0 = hx
        self._check_state("h0", h0, x)
        self._check_state("c0", c0, x)
        out, h_finals, c_finals = x, [], []
        for layer in range(self.num_layers):
            h_init = None if h0 is None else h0[layer]
            c_init = None if c0 is None else c0[layer]
            out, h_last, c_last = lstm(out, h_init, c_init, *self._layer_params(layer))
            h_finals.append(h_last)
            c_finals.append(c_last)
        return out, (mg.stack(h_finals), mg.stack(c_finals))


class TemporalAffine(Linear):
    """``Linear`` restricted to sequences: ``(N, T, D) -> (N, T, M)``.

    Same constructor, parameters and initialisation as ``Linear``
    (U(-1/sqrt(D), 1/sqrt(D)) for weight and bias).
    """

    def forward(self, x):
        return temporal_affine(x, self.weight, self.bias)
