"""RNN, LSTM, GRU and temporal affine: gradients, PyTorch parity, states, bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from layers import recurrent as R
from tests.conftest import assert_close, assert_grads_match

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
FUNCTIONS = {"rnn": R.rnn, "lstm": R.lstm, "gru": R.gru}
MODULES = {"rnn": R.RNN, "lstm": R.LSTM, "gru": R.GRU}


def _arrays(kind, n, t, d, h, rng, scale=0.7):
    """x, h0, (c0,) w_ih, w_hh, b_ih, b_hh in float64 for one layer."""
    g = GATES[kind]
    states = [rng.standard_normal((n, h)) for _ in range(2 if kind == "lstm" else 1)]
    return [rng.standard_normal((n, t, d)), *states,
            scale * rng.standard_normal((g * h, d)), scale * rng.standard_normal((g * h, h)),
            rng.standard_normal(g * h), rng.standard_normal(g * h)]


def _ours_flat(kind):
    """Our function with every output joined into one (N, ...) Tensor."""
    def fn(*inputs):
        outs = FUNCTIONS[kind](*inputs)
        n = outs[0].shape[0]
        return mg.concatenate([outs[0].reshape(n, -1), *outs[1:]], axis=1)
    return fn


def _torch_flat(kind, torch, h, bias=True):
    """The same computation through torch.nn.{RNN,LSTM,GRU} with our arrays as its parameters."""
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]

    def fn(x, *rest):
        n_states = 2 if kind == "lstm" else 1
        states, params = rest[:n_states], rest[n_states:]
        layer = module(x.shape[2], h, batch_first=True, bias=bias, dtype=x.dtype)
        names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"][: len(params)]
        hx = tuple(s[None] for s in states) if kind == "lstm" else states[0][None]
        out, final = torch.func.functional_call(layer, dict(zip(names, params)), (x, hx))
        finals = list(final) if kind == "lstm" else [final]
        return torch.cat([out.reshape(x.shape[0], -1)] + [f[0] for f in finals], dim=1)
    return fn


kinds = st.sampled_from(["rnn", "lstm", "gru"])


@given(kind=kinds, n=st.integers(1, 3), t=st.integers(1, 4), d=st.integers(1, 3), h=st.integers(1, 3),
       seed=st.integers(0, 999))
@settings(max_examples=15)
def test_gradcheck(kind, n, t, d, h, seed):
    arrays = _arrays(kind, n, t, d, h, np.random.default_rng(seed))
    mg.gradcheck(_ours_flat(kind), *arrays)


@given(kind=kinds, n=st.integers(1, 4), t=st.integers(1, 6), d=st.integers(1, 5), h=st.integers(1, 6),
       bias=st.booleans(), seed=st.integers(0, 999))
def test_matches_torch_float64(torch, kind, n, t, d, h, bias, seed):
    arrays = _arrays(kind, n, t, d, h, np.random.default_rng(seed))
    if not bias:
        arrays = arrays[:-2]
    assert_grads_match(_ours_flat(kind), _torch_flat(kind, torch, h, bias), arrays, torch, atol=1e-10)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_matches_torch_float32(torch, kind):
    rng = np.random.default_rng(1)
    arrays = [a.astype(np.float32) for a in _arrays(kind, 8, 12, 10, 16, rng)]
    ours = [mg.Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, ref = _ours_flat(kind)(*ours), _torch_flat(kind, torch, 16)(*theirs)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    out.backward(dout)
    ref.backward(torch.tensor(dout))
    assert out.dtype == np.float32
    pairs = [(out.data, ref.detach().numpy())] + [(o.grad, t.grad.numpy()) for o, t in zip(ours, theirs)]
    for k, (a, b) in enumerate(pairs):
        assert a.dtype == np.float32
        err = np.abs(a.astype(np.float64) - b).max() / np.abs(b).max()
        assert err < 1e-4, f"array {k}: relative error {err:.2e}"


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_step_functions_match_torch_cells(torch, kind, rng):
    n, d, h = 3, 4, 5
    x, *states, w_ih, w_hh, b_ih, b_hh = _arrays(kind, n, 1, d, h, rng)
    x = x[:, 0]
    cell = {"rnn": torch.nn.RNNCell, "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[kind](d, h)
    params = [torch.tensor(a, requires_grad=True) for a in (w_ih, w_hh, b_ih, b_hh)]
    inputs = [torch.tensor(a, requires_grad=True) for a in [x, *states]]
    names = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
    hx = tuple(inputs[1:]) if kind == "lstm" else inputs[1]
    ref = torch.func.functional_call(cell, dict(zip(names, params)), (inputs[0], hx))
    ref = list(ref) if kind == "lstm" else [ref]
    douts = [rng.standard_normal((n, h)) for _ in ref]
    sum((r * torch.tensor(g)).sum() for r, g in zip(ref, douts)).backward()
    expected_grads = [t.grad.numpy() for t in inputs + params]

    forward = getattr(R, f"{kind}_step_forward")
    backward = getattr(R, f"{kind}_backward")
    out, cache = forward(x, *states, w_ih, w_hh, b_ih, b_hh)
    outs = list(out) if kind == "lstm" else [out]
    for o, r in zip(outs, ref):
        assert_close(o, r.detach().numpy(), 1e-12, "step forward")
    # A step's cache is a one-step sequence's: the sequence backward gives its gradients.
    dx, *rest = backward((douts[0][:, None], None, *douts[1:]), cache)
    grads = [dx[:, 0], *rest]
    assert len(grads) == len(expected_grads)
    for k, (g, e) in enumerate(zip(grads, expected_grads)):
        assert_close(g, e, 1e-12, f"step grad {k}")


# ----------------------------------------------------------------- Modules


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("num_layers, bias", [(1, True), (2, False), (3, True)])
def test_module_matches_torch_module(torch, kind, num_layers, bias):
    rng = np.random.default_rng(num_layers)
    n, t, d, h = 3, 5, 4, 6
    ours = MODULES[kind](d, h, num_layers=num_layers, bias=bias, rng=0, dtype=np.float64)
    ref = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](
        d, h, num_layers=num_layers, bias=bias, batch_first=True)
    assert set(ours.state_dict()) == set(ref.state_dict())
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})

    x = rng.standard_normal((n, t, d))
    hx = [rng.standard_normal((num_layers, n, h)) for _ in range(2 if kind == "lstm" else 1)]
    xt, hxt = torch.tensor(x, requires_grad=True), [torch.tensor(a, requires_grad=True) for a in hx]
    xm, hxm = mg.Tensor(x, requires_grad=True), [mg.Tensor(a, requires_grad=True) for a in hx]
    if kind == "lstm":
        out_t, (hn_t, cn_t) = ref(xt, tuple(hxt))
        out_m, (hn_m, cn_m) = ours(xm, tuple(hxm))
        finals = [(hn_m, hn_t), (cn_m, cn_t)]
    else:
        out_t, hn_t = ref(xt, hxt[0])
        out_m, hn_m = ours(xm, hxm[0])
        finals = [(hn_m, hn_t)]
    loss_t = (out_t * torch.tensor(np.cos(x.sum(-1, keepdims=True) + np.arange(h)))).sum()
    loss_m = (out_m * np.cos(x.sum(-1, keepdims=True) + np.arange(h))).sum()
    for k, (m, tt) in enumerate(finals):
        assert_close(m.data, tt.detach().numpy(), 1e-10, f"final state {k}")
        loss_t = loss_t + (tt * (k + 2)).sum() ** 2
        loss_m = loss_m + (m * (k + 2)).sum() ** 2
    assert_close(out_m.data, out_t.detach().numpy(), 1e-10, "output")
    loss_t.backward()
    loss_m.backward()
    assert_close(xm.grad, xt.grad.numpy(), 1e-10, "dx")
    for m, tt in zip(hxm, hxt):
        assert_close(m.grad, tt.grad.numpy(), 1e-10, "dhx")
    for name, p in ours.named_parameters():
        assert_close(p.grad, dict(ref.named_parameters())[name].grad.numpy(), 1e-9, name)


def test_module_init_matches_torch_default_and_keeps_float32():
    lstm = R.LSTM(7, 25, num_layers=2, rng=0)
    bound = 1 / np.sqrt(25)
    shapes = {name: p.shape for name, p in lstm.named_parameters()}
    assert shapes == {"weight_ih_l0": (100, 7), "weight_hh_l0": (100, 25), "bias_ih_l0": (100,),
                      "bias_hh_l0": (100,), "weight_ih_l1": (100, 25), "weight_hh_l1": (100, 25),
                      "bias_ih_l1": (100,), "bias_hh_l1": (100,)}
    for p in lstm.parameters():
        assert p.dtype == np.float32
        assert bound * 0.9 < np.abs(p.data).max() <= bound
    out, (h_n, c_n) = lstm(np.zeros((2, 3, 7), np.float32))
    assert out.dtype == h_n.dtype == c_n.dtype == np.float32
    assert out.shape == (2, 3, 25) and h_n.shape == c_n.shape == (2, 2, 25)
    assert "LSTM(7, 25, num_layers=2" in repr(lstm)
    np.testing.assert_array_equal(R.GRU(3, 4, rng=5).weight_hh_l0.data, R.GRU(3, 4, rng=5).weight_hh_l0.data)


# -------------------------------------------------------- state behaviour


def test_lstm_zero_initial_state_is_the_default(rng):
    lstm = R.LSTM(3, 4, rng=0, dtype=np.float64)
    x = rng.standard_normal((2, 5, 3))
    zeros = np.zeros((1, 2, 4))
    out_default, (h_a, c_a) = lstm(x)
    out_zero, (h_b, c_b) = lstm(x, (zeros, zeros))
    np.testing.assert_array_equal(out_default.data, out_zero.data)
    np.testing.assert_array_equal(c_a.data, c_b.data)


def test_lstm_state_carries_across_chunks(rng):
    """Running T steps at once equals running them in two chunks, handing the
    final (h, c) of the first chunk to the second; gradients flow back
    through the handed-over state into the first chunk."""
    lstm = R.LSTM(3, 4, num_layers=2, rng=0, dtype=np.float64)
    x = rng.standard_normal((2, 7, 3))
    dout = rng.standard_normal((2, 7, 4))
    x_whole = mg.Tensor(x, requires_grad=True)
    out, _ = lstm(x_whole)
    (out * dout).sum().backward()
    grads_whole = {name: p.grad.copy() for name, p in lstm.named_parameters()}

    lstm.zero_grad()
    x_first, x_second = mg.Tensor(x[:, :4], requires_grad=True), mg.Tensor(x[:, 4:], requires_grad=True)
    out_a, state = lstm(x_first)
    out_b, _ = lstm(x_second, state)
    np.testing.assert_allclose(np.concatenate([out_a.data, out_b.data], axis=1), out.data, atol=1e-14)
    ((out_a * dout[:, :4]).sum() + (out_b * dout[:, 4:]).sum()).backward()
    np.testing.assert_allclose(np.concatenate([x_first.grad, x_second.grad], axis=1), x_whole.grad, atol=1e-13)
    for name, p in lstm.named_parameters():
        np.testing.assert_allclose(p.grad, grads_whole[name], atol=1e-12, err_msg=name)


def test_lstm_initial_state_changes_output_and_gets_gradient(rng):
    x = rng.standard_normal((2, 3, 3))
    lstm = R.LSTM(3, 4, rng=0, dtype=np.float64)
    h0 = mg.Tensor(rng.standard_normal((1, 2, 4)), requires_grad=True)
    c0 = mg.Tensor(rng.standard_normal((1, 2, 4)), requires_grad=True)
    out, (h_n, c_n) = lstm(x, (h0, c0))
    assert not np.allclose(out.data, lstm(x)[0].data)
    c_n.sum().backward()
    # The cell path alone reaches both initial states.
    assert np.abs(h0.grad).min() > 0 and np.abs(c0.grad).min() > 0


def test_final_outputs_equal_last_step(rng):
    for kind in ("rnn", "lstm", "gru"):
        arrays = _arrays(kind, 2, 4, 3, 5, rng)
        outs = FUNCTIONS[kind](*arrays)
        np.testing.assert_array_equal(outs[1].data, outs[0].data[:, -1])


# ----------------------------------------------------------- temporal affine


def test_temporal_affine_matches_torch(torch, rng):
    arrays = [rng.standard_normal((3, 5, 4)), rng.standard_normal((6, 4)), rng.standard_normal(6)]
    assert_grads_match(R.temporal_affine, torch.nn.functional.linear, arrays, torch, atol=1e-12)
    out, cache = R.temporal_affine_forward(*arrays)
    dx, dw, db = R.temporal_affine_backward(np.ones_like(out), cache)
    np.testing.assert_allclose(db, np.full(6, 15.0))
    layer = R.TemporalAffine(4, 6, rng=0)
    assert layer(np.zeros((2, 3, 4), np.float32)).shape == (2, 3, 6)
    with pytest.raises(ValueError, match=r"^TemporalAffine: x must be 3-D \(N, T, D\), got shape \(3, 4\)"):
        layer(np.zeros((3, 4), np.float32))
    with pytest.raises(TypeError, match=r"^TemporalAffine: x must have the dtype of weight \(float32\), got float64"):
        layer(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"^temporal_affine: x must be 3-D \(N, T, D\), got shape \(3, 4\)"):
        R.temporal_affine(np.zeros((3, 4)), np.zeros((6, 4)))
    with pytest.raises(ValueError, match=r"^temporal_affine: x must have in_features=4"):
        R.temporal_affine(np.zeros((2, 3, 5)), np.zeros((6, 4)))
    with pytest.raises(TypeError, match=r"^temporal_affine: weight must have the dtype of x \(float64\), got float32"):
        R.temporal_affine(np.zeros((2, 3, 4)), np.zeros((6, 4), np.float32))


# ------------------------------------------------------------- bad input


def _valid(kind):
    return _arrays(kind, 2, 3, 4, 5, np.random.default_rng(0))


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_bad_shapes_raise(kind):
    fn, name = FUNCTIONS[kind], kind
    args = _valid(kind)
    x_pos, w_ih_pos = 0, (3 if kind == "lstm" else 2)
    bad = list(args)
    bad[x_pos] = args[0][0]
    with pytest.raises(ValueError, match=rf"{name}: x must be 3-D \(N, T, D\), got shape \(3, 4\)"):
        fn(*bad)
    bad = list(args)
    bad[x_pos] = np.zeros((2, 3, 7))
    with pytest.raises(ValueError, match=rf"{name}: weight_ih must have shape .* got shape"):
        fn(*bad)
    bad = list(args)
    bad[1] = np.zeros((3, 5))
    with pytest.raises(ValueError, match=rf"{name}: h0 must have shape \(2, 5\)"):
        fn(*bad)
    bad = list(args)
    bad[w_ih_pos + 2] = np.zeros(7)
    with pytest.raises(ValueError, match=rf"{name}: bias_ih must have shape"):
        fn(*bad)
    bad = list(args)
    bad[x_pos] = np.zeros((2, 0, 4))
    with pytest.raises(ValueError, match="at least one time step"):
        fn(*bad)
    bad = list(args)
    bad[x_pos] = args[0].astype(np.float32)
    with pytest.raises(TypeError, match=rf"{name}: .* must have the dtype of x \(float32\), got float64"):
        fn(*bad)


def test_module_bad_arguments():
    with pytest.raises(ValueError, match="LSTM: hidden_size must be an integer >= 1, got 0"):
        R.LSTM(3, 0)
    with pytest.raises(TypeError, match="GRU: num_layers must be an integer, got 1.5"):
        R.GRU(3, 4, num_layers=1.5)
    lstm = R.LSTM(3, 4, num_layers=2)
    x = np.zeros((2, 5, 3), np.float32)
    with pytest.raises(ValueError, match=r"LSTM: h0 must have shape \(num_layers, N, hidden_size\) = \(2, 2, 4\)"):
        lstm(x, (np.zeros((1, 2, 4), np.float32), np.zeros((2, 2, 4), np.float32)))
    with pytest.raises(TypeError, match=r"^LSTM: hx must be a pair \(h0, c0\) or None, got ndarray"):
        lstm(x, np.zeros((2, 2, 4), np.float32))
    with pytest.raises(TypeError, match=r"^LSTM: hx must be a pair \(h0, c0\) or None, got tuple of length 3"):
        lstm(x, (None, None, None))
    with pytest.raises(ValueError, match=r"RNN: hx must have shape"):
        R.RNN(3, 4)(x, np.zeros((2, 2, 4), np.float32))
    with pytest.raises(TypeError, match=r"LSTM: x must have the dtype of weight_ih_l0 \(float32\), got float64"):
        lstm(x.astype(np.float64))


# ------------------------------------------------ empty batches, bad options


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_empty_batch_matches_torch(torch, kind):
    ours = MODULES[kind](3, 4, num_layers=2, rng=0, dtype=np.float64)
    ref = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](3, 4, num_layers=2, batch_first=True)
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    x, xt = mg.Tensor(np.zeros((0, 5, 3)), requires_grad=True), torch.zeros(0, 5, 3, requires_grad=True)
    (out, final), (out_t, final_t) = ours(x), ref(xt)
    finals = list(final) if kind == "lstm" else [final]
    finals_t = list(final_t) if kind == "lstm" else [final_t]
    assert out.shape == tuple(out_t.shape) == (0, 5, 4)
    assert [f.shape for f in finals] == [tuple(f.shape) for f in finals_t] == [(2, 0, 4)] * len(finals)
    (out.sum() + sum(f.sum() for f in finals)).backward()
    (out_t.sum() + sum(f.sum() for f in finals_t)).backward()
    assert x.grad.shape == (0, 5, 3)
    for name, p in ours.named_parameters():
        np.testing.assert_array_equal(p.grad, dict(ref.named_parameters())[name].grad.numpy(), err_msg=name)
        assert not p.grad.any()


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_no_time_steps_is_refused_like_torch(torch, kind):
    with pytest.raises(RuntimeError, match="sequence length"):
        {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](3, 4, batch_first=True)(
            torch.zeros(2, 0, 3))
    with pytest.raises(ValueError, match=rf"^{MODULES[kind].__name__}: x must have at least one time step"):
        MODULES[kind](3, 4)(np.zeros((2, 0, 3), np.float32))


@given(kind=kinds, arg=st.sampled_from(["input_size", "hidden_size", "num_layers"]),
       value=st.sampled_from([0, -1, 2.0, True, np.nan, None]))
def test_module_rejects_bad_sizes(kind, arg, value):
    name = MODULES[kind].__name__
    sizes = dict(input_size=3, hidden_size=4, num_layers=1)
    sizes[arg] = value
    error = ValueError if isinstance(value, int) and not isinstance(value, bool) else TypeError
    with pytest.raises(error, match=rf"^{name}: {arg} must be an integer"):
        MODULES[kind](**sizes)


@given(kind=kinds, dtype=st.sampled_from([np.float16, np.int64, np.bool_]))
def test_bad_dtypes_raise_type_error(kind, dtype):
    name = MODULES[kind].__name__
    with pytest.raises(TypeError, match=rf"^{name}: x must be float32 or float64, got dtype"):
        MODULES[kind](3, 4)(np.zeros((2, 5, 3), dtype))
    args = [a.astype(dtype) if k == 0 else a for k, a in enumerate(_valid(kind))]
    with pytest.raises(TypeError, match=rf"^{kind}: x must be float32 or float64, got dtype"):
        FUNCTIONS[kind](*args)
    with pytest.raises(TypeError, match=rf"^{name}: bias must be True or False"):
        MODULES[kind](3, 4, bias="yes")
