"""Recurrent layers: vanilla (tanh) RNN, LSTM, GRU and the temporal affine map.

Layouts follow PyTorch with ``batch_first=True``: sequences are ``(N, T, D)``,
hidden states ``(N, H)``, and each layer's weights are ``weight_ih (G*H, D)``,
``weight_hh (G*H, H)``, ``bias_ih (G*H,)``, ``bias_hh (G*H,)`` with ``G`` gates stacked
in PyTorch's order (LSTM ``i, f, g, o``; GRU ``r, z, n``), so parameters copy
one-to-one between a ``torch.nn.LSTM`` and ours.

How a sequence is computed: the input projection of every time step is one
large GEMM up front, and backward ends with three large GEMMs (``dx``,
``dW_ih``, ``dW_hh``) over all steps at once; only the hidden projection
``h_prev @ W_hh.T`` (and its backward ``dgates @ W_hh``) must run step by
step. Between those GEMMs, the LSTM and GRU gate math runs in fused Numba
kernels (``layers._kernels.recurrent``). Internally everything is stored
time-major, ``(T, N, ...)``, so each step's slice is contiguous.

Each pair returns every hidden state and the final state(s) as one tuple
``out`` and its backward takes the matching tuple of gradients (None, or
zeros, for an unused one). A single step is a sequence of length one: the
``*_step_forward`` functions call the sequence functions, so there is one
implementation to trust (their cache is the sequence's, for its backward).
"""
import math

import numpy as np

import minigrad as mg
from minigrad import Function, Module, Parameter

from minigrad.validation import (
    as_generator, check_bool, check_float_array, check_float_dtype, check_int, check_same_dtype,
)

from ._kernels import recurrent as kernels
from ._workspace import workspace
from .affine import AffineFunction, Linear, _check_inputs, _check_module_input, affine_backward, affine_forward

# --------------------------------------------------------------- shared parts
# The largest temporaries, all (T, N, G*H), come from the per-thread
# workspace: a forward's input projections and a backward's gate gradients
# never live at the same time, so they share the slot "recurrent.steps"
# (GRU's second gradient array takes "recurrent.steps2").


def _project_inputs(x, weight_ih, bias):
    """Time-major input and its projection for every step at once.

    x : (N, T, D) -> x_tm : (T, N, D) contiguous, xproj : (T, N, G*H).
    ``xproj`` lives in the thread's workspace: it must be dead before the
    forward call returns.
    """
    n, t, d = x.shape
    x_tm = np.ascontiguousarray(x.transpose(1, 0, 2))
    xproj = workspace("recurrent.steps", (t * n, weight_ih.shape[0]), x.dtype)
    np.matmul(x_tm.reshape(t * n, d), weight_ih.T, out=xproj)
    if bias is not None:
        xproj += bias
    return x_tm, xproj.reshape(t, n, weight_ih.shape[0])


def _sum_biases(bias_ih, bias_hh):
    if bias_ih is None:
        return bias_hh
    return bias_ih if bias_hh is None else bias_ih + bias_hh


def _states(n_steps, h0, shape_nh, dtype):
    """A (T+1, N, H) buffer whose slot 0 holds the initial state (zeros if None)."""
    states = np.empty((n_steps + 1,) + shape_nh, dtype=dtype)
    states[0] = 0 if h0 is None else h0
    return states


def _batch_major(a_tm):
    """(T, N, ...) time-major buffer -> contiguous (N, T, ...)."""
    return np.ascontiguousarray(np.swapaxes(a_tm, 0, 1))


def _time_major(a):
    """(N, T, ...) -> contiguous (T, N, ...). The gate kernels read each step's
    slice; a strided view of the batch-major array kept them from vectorising
    (LSTM step backward at N=64, H=128: 38 us against 14 contiguous)."""
    return np.ascontiguousarray(np.swapaxes(a, 0, 1))


def _parameter_grads(dxproj, dhproj, x_tm, h_prev_tm, weight_ih, weight_hh, has_bias):
    """The GEMMs that close every recurrent backward pass, over all steps at once.

    dxproj, dhproj : (T, N, G*H) gradients of the input and hidden projections
    (the same array for RNN and LSTM); x_tm : (T, N, D); h_prev_tm : (T, N, H).
    Returns ``dx (N, T, D), dweight_ih, dweight_hh, dbias_ih, dbias_hh``
    (biases None if absent). Shapes are spelled out: an empty batch (N = 0)
    leaves reshape nothing to infer from.
    """
    t, n, g = dxproj.shape
    dxp = dxproj.reshape(t * n, g)
    dhp = dhproj.reshape(t * n, g)
    dx = _batch_major((dxp @ weight_ih).reshape(t, n, weight_ih.shape[1]))
    dw_ih = dxp.T @ x_tm.reshape(t * n, x_tm.shape[2])
    dw_hh = dhp.T @ h_prev_tm.reshape(t * n, h_prev_tm.shape[2])
    if not has_bias:
        return dx, dw_ih, dw_hh, None, None
    db_ih = dxp.sum(axis=0)
    db_hh = db_ih.copy() if dhproj is dxproj else dhp.sum(axis=0)
    return dx, dw_ih, dw_hh, db_ih, db_hh


def _initial_grad(d_last, shape, dtype):
    return np.zeros(shape, dtype) if d_last is None else np.array(d_last, dtype=dtype)


# ------------------------------------------------------------- vanilla RNN


def rnn_forward(x, h0, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """Run a tanh RNN over a whole sequence:
    ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.

    Parameters
    ----------
    x : (N, T, D), T >= 1
    h0 : (N, H) or None
        Initial hidden state; None means zeros.
    weight_ih : (H, D)
    weight_hh : (H, H)
    bias_ih, bias_hh : (H,) or None

    Returns
    -------
    (hs, h_last) : (N, T, H), (N, H)
        Every hidden state, and the last one on its own.
    cache : tuple
        For ``rnn_backward``.
    """
    n, t, _ = x.shape
    hidden = weight_hh.shape[1]
    x_tm, xproj = _project_inputs(x, weight_ih, _sum_biases(bias_ih, bias_hh))
    hs = _states(t, h0, (n, hidden), x.dtype)
    for step in range(t):
        a = xproj[step]
        a += hs[step] @ weight_hh.T
        np.tanh(a, out=hs[step + 1])
    cache = (x_tm, hs, weight_ih, weight_hh, bias_ih is not None or bias_hh is not None)
    return (_batch_major(hs[1:]), hs[t].copy()), cache


def rnn_backward(dout, cache):
    """Backward of ``rnn_forward``.

    Parameters
    ----------
    dout : (dhs (N, T, H), dh_last (N, H) or None)
        Upstream gradients of every hidden state and of the last one.
    cache : from ``rnn_forward``

    Returns
    -------
    dx : (N, T, D), dh0 : (N, H), dweight_ih : (H, D), dweight_hh : (H, H),
    dbias_ih, dbias_hh : (H,) or None (None when the forward had no biases).
    """
    dhs, dh_last = dout
    x_tm, hs, weight_ih, weight_hh, has_bias = cache
    t = x_tm.shape[0]
    dhs_tm = np.swapaxes(dhs, 0, 1)
    da = workspace("recurrent.steps", hs[1:].shape, hs.dtype)
    dh = _initial_grad(dh_last, hs.shape[1:], hs.dtype)
    for step in range(t - 1, -1, -1):
        h = hs[step + 1]
        dh += dhs_tm[step]
        np.multiply(dh, 1 - h * h, out=da[step])
        dh = da[step] @ weight_hh
    dx, dw_ih, dw_hh, db_ih, db_hh = _parameter_grads(da, da, x_tm, hs[:-1], weight_ih, weight_hh, has_bias)
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh


def rnn_step_forward(x, h_prev, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """One tanh RNN step. x : (N, D), h_prev : (N, H) -> h : (N, H), cache.

    The cache is that of a one-step ``rnn_forward``: ``rnn_backward`` with
    ``dout = (dh[:, None], None)`` gives the step's gradients.
    """
    (_, h), cache = rnn_forward(x[:, None], h_prev, weight_ih, weight_hh, bias_ih, bias_hh)
    return h, cache


# -------------------------------------------------------------------- LSTM


def lstm_forward(x, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """Run an LSTM over a whole sequence (PyTorch's equations and gate order i, f, g, o).

    Parameters
    ----------
    x : (N, T, D), T >= 1
    h0, c0 : (N, H) or None
        Initial hidden and cell states; None means zeros.
    weight_ih : (4H, D)
    weight_hh : (4H, H)
    bias_ih, bias_hh : (4H,) or None

    Returns
    -------
    (hs, h_last, c_last) : (N, T, H), (N, H), (N, H)
        Every hidden state, the last one, and the final cell state.
    cache : tuple
        For ``lstm_backward``.
    """
    n, t, _ = x.shape
    hidden = weight_hh.shape[1]
    x_tm, xproj = _project_inputs(x, weight_ih, _sum_biases(bias_ih, bias_hh))
    hs = _states(t, h0, (n, hidden), x.dtype)
    cs = _states(t, c0, (n, hidden), x.dtype)
    gates = np.empty_like(xproj)
    tanh_c = np.empty((t, n, hidden), dtype=x.dtype)
    hproj = np.empty((n, 4 * hidden), dtype=x.dtype)
    for step in range(t):
        np.matmul(hs[step], weight_hh.T, out=hproj)
        kernels.lstm_gates_forward(
            xproj[step], hproj, cs[step], gates[step], cs[step + 1], tanh_c[step], hs[step + 1]
        )
    cache = (x_tm, hs, cs, gates, tanh_c, weight_ih, weight_hh, bias_ih is not None or bias_hh is not None)
    return (_batch_major(hs[1:]), hs[t].copy(), cs[t].copy()), cache


def lstm_backward(dout, cache):
    """Backward of ``lstm_forward``.

    Parameters
    ----------
    dout : (dhs (N, T, H), dh_last (N, H) or None, dc_last (N, H) or None)
        Upstream gradients of every hidden state, of the last one and of the
        final cell state.
    cache : from ``lstm_forward``

    Returns
    -------
    dx : (N, T, D), dh0 : (N, H), dc0 : (N, H), dweight_ih : (4H, D),
    dweight_hh : (4H, H), dbias_ih, dbias_hh : (4H,) or None.
    """
    dhs, dh_last, dc_last = dout
    x_tm, hs, cs, gates, tanh_c, weight_ih, weight_hh, has_bias = cache
    t = x_tm.shape[0]
    dhs_tm = _time_major(dhs)
    dgates = workspace("recurrent.steps", gates.shape, gates.dtype)
    dh = _initial_grad(dh_last, hs.shape[1:], hs.dtype)
    dc = _initial_grad(dc_last, cs.shape[1:], cs.dtype)
    for step in range(t - 1, -1, -1):
        kernels.lstm_gates_backward(
            dhs_tm[step], dh, dc, gates[step], cs[step], tanh_c[step], dgates[step]
        )
        dh = dgates[step] @ weight_hh
    grads = _parameter_grads(dgates, dgates, x_tm, hs[:-1], weight_ih, weight_hh, has_bias)
    dx, dw_ih, dw_hh, db_ih, db_hh = grads
    return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh


def lstm_step_forward(x, h_prev, c_prev, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """One LSTM step. x : (N, D), h_prev, c_prev : (N, H) -> (h, c) : (N, H) each, cache.

    The cache is that of a one-step ``lstm_forward``: ``lstm_backward`` with
    ``dout = (dh[:, None], None, dc)`` gives the step's gradients.
    """
    (_, h, c), cache = lstm_forward(x[:, None], h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh)
    return (h, c), cache


# --------------------------------------------------------------------- GRU


def gru_forward(x, h0, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """Run a GRU over a whole sequence (PyTorch's equations and gate order r, z, n).

    ``r = σ(W_ir x + b_ir + W_hr h + b_hr)``, ``z = σ(W_iz x + b_iz + W_hz h + b_hz)``,
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.

    Parameters
    ----------
    x : (N, T, D), T >= 1
    h0 : (N, H) or None
        Initial hidden state; None means zeros.
    weight_ih : (3H, D)
    weight_hh : (3H, H)
    bias_ih, bias_hh : (3H,) or None

    Returns
    -------
    (hs, h_last) : (N, T, H), (N, H)
    cache : tuple
        For ``gru_backward``.
    """
    n, t, _ = x.shape
    hidden = weight_hh.shape[1]
    x_tm, xproj = _project_inputs(x, weight_ih, bias_ih)
    # b_hn sits inside the reset gate's product, so bias_hh cannot be folded
    # into the input projection; the kernel adds it.
    bias_h = np.zeros(3 * hidden, x.dtype) if bias_hh is None else bias_hh
    hs = _states(t, h0, (n, hidden), x.dtype)
    gates = np.empty_like(xproj)
    hn = np.empty((t, n, hidden), dtype=x.dtype)
    hproj = np.empty((n, 3 * hidden), dtype=x.dtype)
    for step in range(t):
        np.matmul(hs[step], weight_hh.T, out=hproj)
        kernels.gru_gates_forward(xproj[step], hproj, bias_h, hs[step], gates[step], hn[step], hs[step + 1])
    cache = (x_tm, hs, gates, hn, weight_ih, weight_hh, bias_ih is not None or bias_hh is not None)
    return (_batch_major(hs[1:]), hs[t].copy()), cache


def gru_backward(dout, cache):
    """Backward of ``gru_forward``.

    Parameters
    ----------
    dout : (dhs (N, T, H), dh_last (N, H) or None)
    cache : from ``gru_forward``

    Returns
    -------
    dx : (N, T, D), dh0 : (N, H), dweight_ih : (3H, D), dweight_hh : (3H, H),
    dbias_ih, dbias_hh : (3H,) or None.
    """
    dhs, dh_last = dout
    x_tm, hs, gates, hn, weight_ih, weight_hh, has_bias = cache
    t = x_tm.shape[0]
    dhs_tm = _time_major(dhs)
    dxproj = workspace("recurrent.steps", gates.shape, gates.dtype)
    dhproj = workspace("recurrent.steps2", gates.shape, gates.dtype)
    dh = _initial_grad(dh_last, hs.shape[1:], hs.dtype)
    dh_direct = np.empty_like(dh)
    for step in range(t - 1, -1, -1):
        kernels.gru_gates_backward(
            dhs_tm[step], dh, gates[step], hn[step], hs[step], dxproj[step], dhproj[step], dh_direct
        )
        dh = dhproj[step] @ weight_hh
        dh += dh_direct
    grads = _parameter_grads(dxproj, dhproj, x_tm, hs[:-1], weight_ih, weight_hh, has_bias)
    dx, dw_ih, dw_hh, db_ih, db_hh = grads
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh


def gru_step_forward(x, h_prev, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """One GRU step. x : (N, D), h_prev : (N, H) -> h : (N, H), cache.

    The cache is that of a one-step ``gru_forward``: ``gru_backward`` with
    ``dout = (dh[:, None], None)`` gives the step's gradients.
    """
    (_, h), cache = gru_forward(x[:, None], h_prev, weight_ih, weight_hh, bias_ih, bias_hh)
    return h, cache


# ---------------------------------------------------------- temporal affine


def temporal_affine_forward(x, weight, bias):
    """Affine map applied at every time step: ``out[n, t] = weight @ x[n, t] + bias``.

    The affine layer already maps any leading dimensions, so this is that
    pair restricted to sequences (CS231n's name for it).

    Parameters
    ----------
    x : (N, T, D)
    weight : (M, D)
    bias : (M,) or None

    Returns
    -------
    out : (N, T, M)
    cache : for ``temporal_affine_backward``
    """
    return affine_forward(x, weight, bias)


def temporal_affine_backward(dout, cache):
    """Backward of ``temporal_affine_forward``: ``dx (N, T, D), dweight (M, D), dbias (M,) or None``."""
    return affine_backward(dout, cache)


# ------------------------------------------------------------ autograd glue

RNNFunction = Function.from_pair(rnn_forward, rnn_backward)
LSTMFunction = Function.from_pair(lstm_forward, lstm_backward)
GRUFunction = Function.from_pair(gru_forward, gru_backward)


# --------------------------------------------------------- Tensor functions


def _check_sequence(func, x):
    """x: float32/float64 (N, T, D) with T >= 1 (PyTorch refuses T = 0 too)."""
    xa = check_float_array(func, "x", x, ndim=3, layout="(N, T, D)")
    if xa.shape[1] == 0:
        raise ValueError(f"{func}: x must have at least one time step, got shape {xa.shape}")
    return xa


def _check_recurrent(func, n_gates, x, weight_ih, weight_hh, bias_ih, bias_hh, states):
    """Validate a recurrent call; ``states`` maps names (h0, c0) to values or None."""
    xa = _check_sequence(func, x)
    wh = check_float_array(func, "weight_hh", weight_hh, ndim=2, layout="(G*H, H)")
    hidden = wh.shape[1]
    arrays = {"weight_ih": weight_ih, "weight_hh": weight_hh, "bias_ih": bias_ih, "bias_hh": bias_hh, **states}
    expected = {
        "weight_ih": (n_gates * hidden, xa.shape[2]), "weight_hh": (n_gates * hidden, hidden),
        "bias_ih": (n_gates * hidden,), "bias_hh": (n_gates * hidden,),
        **{name: (xa.shape[0], hidden) for name in states},
    }
    for name, value in arrays.items():
        if value is None:
            continue
        shape = check_float_array(func, name, value).shape
        if shape != expected[name]:
            raise ValueError(
                f"{func}: {name} must have shape {expected[name]} for x of shape {xa.shape} and "
                f"hidden size {hidden} ({n_gates} gate(s)), got shape {shape}"
            )
    check_same_dtype(func, x=xa, **arrays)


def rnn(x, h0, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """Tanh RNN over a sequence of Tensors (shapes as in ``rnn_forward``; one dtype).

    Returns
    -------
    hs : Tensor (N, T, H)
        Every hidden state.
    h_last : Tensor (N, H)
        The last hidden state (``hs[:, -1]``, without an indexing node).
    """
    _check_recurrent("rnn", 1, x, weight_ih, weight_hh, bias_ih, bias_hh, {"h0": h0})
    return RNNFunction.apply(x, h0, weight_ih, weight_hh, bias_ih, bias_hh)


def lstm(x, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """LSTM over a sequence of Tensors (shapes as in ``lstm_forward``; one dtype).

    Returns
    -------
    hs : Tensor (N, T, H)
    h_last, c_last : Tensor (N, H)
        Final hidden and cell states.
    """
    _check_recurrent("lstm", 4, x, weight_ih, weight_hh, bias_ih, bias_hh, {"h0": h0, "c0": c0})
    return LSTMFunction.apply(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)


def gru(x, h0, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """GRU over a sequence of Tensors (shapes as in ``gru_forward``; one dtype).

    Returns
    -------
    hs : Tensor (N, T, H)
    h_last : Tensor (N, H)
    """
    _check_recurrent("gru", 3, x, weight_ih, weight_hh, bias_ih, bias_hh, {"h0": h0})
    return GRUFunction.apply(x, h0, weight_ih, weight_hh, bias_ih, bias_hh)


def temporal_affine(x, weight, bias=None):
    """Affine map of every time step of a Tensor ``x (N, T, D)`` -> ``(N, T, M)``; ``weight (M, D)``."""
    _check_inputs("temporal_affine", x, weight, bias, ndim=3, layout="(N, T, D)")
    return AffineFunction.apply(x, weight, bias)


# ------------------------------------------------------------------ Modules


class _Recurrent(Module):
    """Stacked single-direction recurrent layers, batch first, PyTorch's parameters.

    The constructor checks the sizes; ``forward`` checks only the input and
    the initial states, then calls each layer's ``Function`` directly.
    Subclasses set ``_gates`` and ``_function``.
    """

    _gates = 1
    _function = None

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, rng=None, dtype=np.float32):
        super().__init__()
        name = type(self).__name__
        dtype = check_float_dtype(name, "dtype", dtype)
        self.input_size = check_int(name, "input_size", input_size, low=1)
        self.hidden_size = check_int(name, "hidden_size", hidden_size, low=1)
        self.num_layers = check_int(name, "num_layers", num_layers, low=1)
        self.bias = check_bool(name, "bias", bias)
        gen = as_generator(name, "rng", rng)
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

    def _check_input(self, x, states):
        """Check x (N, T, input_size) and each initial state (num_layers, N, hidden_size)."""
        name = type(self).__name__
        xa = _check_sequence(name, x)
        if xa.shape[2] != self.input_size:
            raise ValueError(f"{name}: x must have input_size={self.input_size} features, got shape {xa.shape}")
        expected = (self.num_layers, xa.shape[0], self.hidden_size)
        for state, value in states.items():
            shape = None if value is None else check_float_array(name, state, value).shape
            if shape not in (None, expected):
                raise ValueError(
                    f"{name}: {state} must have shape (num_layers, N, hidden_size) = {expected}, "
                    f"got shape {shape}"
                )
        check_same_dtype(name, weight_ih_l0=self.weight_ih_l0, x=xa, **states)

    def _run_layers(self, x, states):
        """Run the stacked layers; ``states`` maps h0 (and c0) to (L, N, H) or None.

        Returns the last layer's hidden states and, per state, the stacked finals.
        """
        self._check_input(x, states)
        out, finals = x, []
        for layer in range(self.num_layers):
            initial = [None if s is None else s[layer] for s in states.values()]
            out, *last = self._function.apply(out, *initial, *self._layer_params(layer))
            finals.append(last)
        return out, [mg.stack(f) for f in zip(*finals)]

    def extra_repr(self):
        return (
            f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"bias={self.bias}, batch_first=True"
        )


class RNN(_Recurrent):
    """Tanh RNN, ``batch_first`` layout (like ``torch.nn.RNN(..., batch_first=True)``).

    Parameters
    ----------
    input_size, hidden_size : int >= 1
    num_layers : int >= 1
        Stacked layers; layer k > 0 reads the hidden states of layer k - 1.
    bias : bool
    rng : np.random.Generator, int or None
    dtype : float32 or float64

    Attributes
    ----------
    weight_ih_l{k} : (H, D or H), weight_hh_l{k} : (H, H), bias_ih_l{k}, bias_hh_l{k} : (H,)
        All initialised U(-1/sqrt(H), 1/sqrt(H)), PyTorch's default.

    ``forward(x, hx=None)``: x (N, T, D), hx (num_layers, N, H) or None (zeros).
    Returns ``(out (N, T, H), h_n (num_layers, N, H))``; an empty batch
    (N = 0) gives empty outputs and zero weight gradients, as in PyTorch.
    """

    _gates = 1
    _function = RNNFunction

    def forward(self, x, hx=None):
        out, (h_n,) = self._run_layers(x, {"hx": hx})
        return out, h_n


class GRU(_Recurrent):
    """GRU with PyTorch's equations and gate order ``r, z, n``, ``batch_first`` layout.

    Parameters and attributes as ``RNN``, with ``3H`` rows in every weight and
    bias (``[W_r; W_z; W_n]``). ``forward(x, hx=None)`` returns
    ``(out (N, T, H), h_n (num_layers, N, H))``.
    """

    _gates = 3
    _function = GRUFunction

    def forward(self, x, hx=None):
        out, (h_n,) = self._run_layers(x, {"hx": hx})
        return out, h_n


class LSTM(_Recurrent):
    """LSTM with PyTorch's equations and gate order ``i, f, g, o``, ``batch_first`` layout.

    Parameters and attributes as ``RNN``, with ``4H`` rows in every weight and
    bias (``[W_i; W_f; W_g; W_o]``).

    ``forward(x, hx=None)``: x (N, T, D); hx a pair ``(h0, c0)``, each
    (num_layers, N, H), or None (zeros). Returns
    ``(out (N, T, H), (h_n, c_n))`` with h_n, c_n (num_layers, N, H).
    """

    _gates = 4
    _function = LSTMFunction

    def forward(self, x, hx=None):
        if hx is None:
            h0 = c0 = None
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                got = type(hx).__name__
                if isinstance(hx, (tuple, list)):
                    got += f" of length {len(hx)}"
                raise TypeError(f"LSTM: hx must be a pair (h0, c0) or None, got {got}")
            h0, c0 = hx
        out, (h_n, c_n) = self._run_layers(x, {"h0": h0, "c0": c0})
        return out, (h_n, c_n)


class TemporalAffine(Linear):
    """``Linear`` restricted to sequences: ``(N, T, D) -> (N, T, M)``.

    Same constructor, parameters and initialisation as ``Linear``
    (U(-1/sqrt(D), 1/sqrt(D)) for weight and bias).
    """

    def forward(self, x):
        """x : (N, T, D) -> (N, T, M)."""
        _check_module_input(self, x, ndim=3, layout="(N, T, D)")
        return AffineFunction.apply(x, self.weight, self.bias)
