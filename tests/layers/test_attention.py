"""Multi-head attention, positional encoding and transformer layers:
gradients, PyTorch parity, mask behaviour, dropout, bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from layers.attention import (
    MultiheadAttention,
    PositionalEncoding,
    attention_backward,
    attention_forward,
    causal_mask,
    multi_head_attention,
    sinusoidal_encoding,
)
from layers.transformer import TransformerDecoderLayer, TransformerEncoderLayer
from tests.conftest import assert_close


def _bool_masks(rng, n, t, s, kind):
    """(attn_mask, key_padding_mask) as bool arrays (True = ignore); no row fully masked."""
    attn = kpm = None
    if kind in ("causal", "both"):
        attn = np.triu(np.ones((t, s), bool), k=1)
    if kind in ("padding", "both"):
        kpm = rng.random((n, s)) < 0.4
        kpm[:, 0] = False  # key 0 stays visible, so no query row loses every key
    return attn, kpm


# ------------------------------------------------------------ functional


@given(n=st.integers(1, 2), t=st.integers(1, 4), s=st.integers(1, 4), heads=st.integers(1, 2),
       d=st.integers(1, 3), masks=st.sampled_from(["none", "causal", "padding", "both", "float"]),
       weights=st.booleans(), seed=st.integers(0, 999))
@settings(max_examples=20)
def test_gradcheck(n, t, s, heads, d, masks, weights, seed):
    rng = np.random.default_rng(seed)
    e = heads * d
    q, k, v = rng.standard_normal((n, t, e)), rng.standard_normal((n, s, e)), rng.standard_normal((n, s, e))
    if masks == "float":
        attn, kpm = rng.standard_normal((t, s)), rng.standard_normal((n, s))
    else:
        attn, kpm = _bool_masks(rng, n, t, s, masks)
    coef = rng.standard_normal((n, heads, t, s))

    def fn(q, k, v):
        result = multi_head_attention(q, k, v, heads, attn_mask=attn, key_padding_mask=kpm, need_weights=weights)
        if not weights:
            return result
        out, w = result
        # Use the weights too, so their own backward path is checked.
        return out.sum(axis=2) + (w * coef).sum(axis=(1, 2, 3)).reshape(n, 1)

    mg.gradcheck(fn, q, k, v)


def test_gradcheck_with_attention_dropout():
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((2, 3, 4)) for _ in range(3))

    # A fresh generator with the same seed on every call: the same dropout mask.
    def fn(q, k, v):
        return multi_head_attention(q, k, v, 2, dropout_p=0.5, rng=np.random.default_rng(7))

    mg.gradcheck(fn, q, k, v)


def test_functional_pair_shapes(rng):
    q, k, v = rng.standard_normal((2, 3, 8)), rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 5, 4))
    (out, weights), cache = attention_forward(q, k, v, num_heads=2, need_weights=True)
    assert out.shape == (2, 3, 4) and weights.shape == (2, 2, 3, 5)
    np.testing.assert_allclose(weights.sum(-1), 1.0)
    dq, dk, dv = attention_backward((np.ones_like(out), None), cache)
    assert dq.shape == q.shape and dk.shape == k.shape and dv.shape == v.shape


# ------------------------------------------------------- torch parity


def _load_from_torch(ours, theirs):
    assert set(ours.state_dict()) == set(theirs.state_dict())
    ours.load_state_dict({key: val.detach().numpy() for key, val in theirs.state_dict().items()})


def _compare_module(torch, ours, theirs, inputs, call_ours, call_theirs, atol, dtype=np.float64):
    """Forward + backward of both modules on the same arrays; compares outputs,
    input gradients and parameter gradients (atol, or relative 1e-4 in float32)."""
    inputs = [a.astype(dtype) for a in inputs]
    ours_in = [mg.Tensor(a, requires_grad=True) for a in inputs]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in inputs]
    out_m, out_t = call_ours(*ours_in), call_theirs(*theirs_in)
    outs_m = out_m if isinstance(out_m, tuple) else (out_m,)
    outs_t = out_t if isinstance(out_t, tuple) else (out_t,)
    rng = np.random.default_rng(42)
    pairs = []
    for k, (m, t) in enumerate(zip(outs_m, outs_t)):
        if m is None:
            assert t is None
            continue
        dout = rng.standard_normal(m.shape).astype(dtype)
        m.backward(dout)
        t.backward(torch.tensor(dout), retain_graph=True)
        pairs.append((f"output {k}", m.data, t.detach().numpy()))
    pairs += [(f"grad of input {k}", m.grad, t.grad.numpy()) for k, (m, t) in enumerate(zip(ours_in, theirs_in))]
    params = dict(theirs.named_parameters())
    pairs += [(name, p.grad, params[name].grad.numpy()) for name, p in ours.named_parameters()]
    for what, a, b in pairs:
        assert a.dtype == dtype, f"{what}: dtype {a.dtype}"
        if dtype == np.float64:
            assert_close(a, b, atol, what)
        else:
            err = np.abs(a.astype(np.float64) - b).max() / max(np.abs(b).max(), 1e-6)
            assert err < 1e-4, f"{what}: relative error {err:.2e}"


@given(n=st.integers(1, 3), t=st.integers(1, 5), s=st.integers(1, 5), heads=st.sampled_from([1, 2, 4]),
       masks=st.sampled_from(["none", "causal", "padding", "both", "float", "per-head"]),
       self_attn=st.booleans(), bias=st.booleans(), average=st.booleans(), seed=st.integers(0, 999))
@settings(max_examples=20)
def test_multihead_attention_matches_torch(torch, n, t, s, heads, masks, self_attn, bias, average, seed):
    rng = np.random.default_rng(seed)
    e = 8
    if self_attn:
        s = t
    theirs = torch.nn.MultiheadAttention(e, heads, bias=bias, batch_first=True)
    ours = MultiheadAttention(e, heads, bias=bias, rng=0, dtype=np.float64)
    _load_from_torch(ours, theirs)
    if masks == "float":
        attn, kpm = rng.standard_normal((t, s)), None
    elif masks == "per-head":
        attn, kpm = rng.random((n * heads, t, s)) < 0.3, None
        attn[..., 0] = False
    else:
        attn, kpm = _bool_masks(rng, n, t, s, masks)
    to_t = (lambda a: None if a is None else torch.tensor(a))
    kwargs = dict(average_attn_weights=average, need_weights=True)
    arrays = [rng.standard_normal((n, t, e))] if self_attn else [
        rng.standard_normal((n, t, e)), rng.standard_normal((n, s, e)), rng.standard_normal((n, s, e))]

    def call_ours(*x):
        q, k, v = (x[0],) * 3 if self_attn else x
        return ours(q, k, v, key_padding_mask=kpm, attn_mask=attn, **kwargs)

    def call_theirs(*x):
        q, k, v = (x[0],) * 3 if self_attn else x
        return theirs(q, k, v, key_padding_mask=to_t(kpm), attn_mask=to_t(attn), **kwargs)

    _compare_module(torch, ours, theirs, arrays, call_ours, call_theirs, atol=1e-12)


def test_multihead_attention_float32_and_no_weights(torch):
    rng = np.random.default_rng(3)
    theirs = torch.nn.MultiheadAttention(16, 4, batch_first=True, dtype=torch.float32)
    ours = MultiheadAttention(16, 4, rng=0)
    _load_from_torch(ours, theirs)
    causal = np.triu(np.ones((6, 6), bool), k=1)
    arrays = [rng.standard_normal((3, 6, 16))]
    _compare_module(
        torch, ours, theirs, arrays,
        lambda x: ours(x, x, x, attn_mask=causal, need_weights=False)[0],
        lambda x: theirs(x, x, x, attn_mask=torch.tensor(causal), need_weights=False)[0],
        atol=None, dtype=np.float32,
    )


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_matches_torch(torch, norm_first, activation):
    rng = np.random.default_rng(0)
    n, t, e, heads, ff = 2, 5, 8, 2, 12
    theirs = torch.nn.TransformerEncoderLayer(e, heads, ff, dropout=0.3, activation=activation,
                                              norm_first=norm_first, batch_first=True).eval()
    ours = TransformerEncoderLayer(e, heads, ff, dropout=0.3, activation=activation, norm_first=norm_first,
                                   rng=0, dtype=np.float64).eval()
    _load_from_torch(ours, theirs)
    causal = np.triu(np.ones((t, t), bool), k=1)
    kpm = np.zeros((n, t), bool)
    kpm[1, 3:] = True
    _compare_module(
        torch, ours, theirs, [rng.standard_normal((n, t, e))],
        lambda x: ours(x, src_mask=causal, src_key_padding_mask=kpm),
        lambda x: theirs(x, src_mask=torch.tensor(causal), src_key_padding_mask=torch.tensor(kpm)),
        atol=1e-11,
    )


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_torch_in_train_mode_without_dropout(torch, norm_first):
    rng = np.random.default_rng(1)
    n, t, s, e, heads, ff = 2, 4, 6, 8, 4, 16
    theirs = torch.nn.TransformerDecoderLayer(e, heads, ff, dropout=0.0, activation="gelu",
                                              norm_first=norm_first, batch_first=True)
    ours = TransformerDecoderLayer(e, heads, ff, dropout=0.0, activation="gelu", norm_first=norm_first,
                                   rng=0, dtype=np.float64)
    assert ours.training
    _load_from_torch(ours, theirs)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(t, dtype=torch.float64)
    mem_kpm = np.zeros((n, s), bool)
    mem_kpm[0, -2:] = True
    _compare_module(
        torch, ours, theirs, [rng.standard_normal((n, t, e)), rng.standard_normal((n, s, e))],
        lambda x, m: ours(x, m, tgt_is_causal=True, memory_key_padding_mask=mem_kpm),
        lambda x, m: theirs(x, m, tgt_mask=causal, tgt_is_causal=True,
                            memory_key_padding_mask=torch.tensor(mem_kpm)),
        atol=1e-11,
    )


# ------------------------------------------------------------ behaviour


def test_masked_keys_get_zero_weight_and_zero_gradient(rng):
    n, t, s, e = 2, 3, 5, 4
    q, k, v = (mg.Tensor(rng.standard_normal(shape), requires_grad=True)
               for shape in ((n, t, e), (n, s, e), (n, s, e)))
    kpm = np.zeros((n, s), bool)
    kpm[0, [1, 3]] = True
    kpm[1, 4] = True
    out, weights = multi_head_attention(q, k, v, 2, key_padding_mask=kpm, need_weights=True)
    assert np.all(weights.data.transpose(0, 3, 1, 2)[kpm] == 0)
    np.testing.assert_allclose(weights.data.sum(-1), 1.0)
    (out * rng.standard_normal(out.shape)).sum().backward()
    assert np.all(k.grad[kpm] == 0) and np.all(v.grad[kpm] == 0)
    assert np.all(np.abs(k.grad[~kpm]).sum(-1) > 0)
    # Changing a masked key or value changes nothing.
    k2, v2 = k.data.copy(), v.data.copy()
    k2[kpm] += 100.0
    v2[kpm] -= 7.0
    np.testing.assert_array_equal(multi_head_attention(q.data, k2, v2, 2, key_padding_mask=kpm).data, out.data)


def test_causal_attention_never_looks_ahead(rng):
    mha = MultiheadAttention(8, 2, rng=0, dtype=np.float64)
    x = mg.Tensor(rng.standard_normal((2, 6, 8)), requires_grad=True)
    out, weights = mha(x, x, x, is_causal=True)
    assert np.all(np.triu(weights.data, k=1) == 0)
    # The output at step 2 depends on steps 0..2 only.
    out[:, 2].sum().backward()
    assert np.all(x.grad[:, 3:] == 0) and np.all(np.abs(x.grad[:, :3]).sum(-1) > 0)
    # is_causal without a mask equals passing the causal bool mask explicitly.
    explicit, _ = mha(x.data, x.data, x.data, attn_mask=np.triu(np.ones((6, 6), bool), k=1))
    np.testing.assert_array_equal(explicit.data, out.data)


def test_fully_masked_query_gives_zero_weights(rng):
    q, k, v = (rng.standard_normal((1, 2, 4)) for _ in range(3))
    attn = np.array([[True, True], [False, True]])
    out, weights = multi_head_attention(q, k, v, 1, attn_mask=attn, need_weights=True)
    np.testing.assert_array_equal(weights.data[0, 0, 0], [0, 0])
    np.testing.assert_array_equal(out.data[0, 0], 0)
    assert np.all(np.isfinite(out.data))


def test_attention_dropout_statistics_and_modes(rng):
    mha = MultiheadAttention(8, 2, dropout=0.25, rng=0, dtype=np.float64)
    x = rng.standard_normal((4, 32, 8))
    _, w_train = mha(x, x, x, average_attn_weights=False)
    mha.eval()
    out_eval, w_eval = mha(x, x, x, average_attn_weights=False)
    dropped = w_train.data == 0
    assert abs(dropped.mean() - 0.25) < 0.02
    np.testing.assert_allclose(w_train.data[~dropped], w_eval.data[~dropped] / 0.75)
    # Eval mode is deterministic and equals a dropout-free module.
    plain = MultiheadAttention(8, 2, dropout=0.0, rng=0, dtype=np.float64)
    plain.load_state_dict(mha.state_dict())
    np.testing.assert_array_equal(plain(x, x, x)[0].data, out_eval.data)
    # A seeded module draws the same masks.
    a = MultiheadAttention(8, 2, dropout=0.5, rng=3)(x.astype(np.float32), x.astype(np.float32), x.astype(np.float32))
    b = MultiheadAttention(8, 2, dropout=0.5, rng=3)(x.astype(np.float32), x.astype(np.float32), x.astype(np.float32))
    np.testing.assert_array_equal(a[0].data, b[0].data)


def test_module_init_and_float32():
    mha = MultiheadAttention(12, 3, rng=0)
    bound = np.sqrt(6 / (12 + 36))
    assert mha.in_proj_weight.shape == (36, 12) and mha.in_proj_weight.dtype == np.float32
    assert 0.9 * bound < np.abs(mha.in_proj_weight.data).max() <= bound
    assert np.all(mha.in_proj_bias.data == 0) and np.all(mha.out_proj.bias.data == 0)
    assert np.abs(mha.out_proj.weight.data).max() <= 1 / np.sqrt(12)
    out, w = mha(*(np.zeros((2, 3, 12), np.float32),) * 3)
    assert out.dtype == w.dtype == np.float32 and w.shape == (2, 3, 3)
    assert "num_heads=3" in repr(mha)
    layer = TransformerEncoderLayer(12, 3, 20, rng=0)
    assert layer(np.zeros((2, 3, 12), np.float32)).dtype == np.float32


# ------------------------------------------------------ positional encoding


def test_positional_encoding_values_and_module(rng):
    pe = sinusoidal_encoding(50, 6, np.float64)
    pos = 7  # features 4 and 5 use frequency 10000^(-4/6)
    assert pe[pos, 4] == pytest.approx(np.sin(pos / 10000 ** (4 / 6)), abs=1e-15)
    assert pe[pos, 5] == pytest.approx(np.cos(pos / 10000 ** (4 / 6)), abs=1e-15)
    np.testing.assert_array_equal(pe[0], [0, 1, 0, 1, 0, 1])
    odd = sinusoidal_encoding(10, 5, np.float64)  # an odd width ends with a sine column
    assert odd.shape == (10, 5) and odd[3, 4] == pytest.approx(np.sin(3 / 10000 ** (4 / 5)))
    assert odd[3, 3] == pytest.approx(np.cos(3 / 10000 ** (2 / 5)))

    module = PositionalEncoding(6, max_len=50, dropout=0.5, rng=0, dtype=np.float64).eval()
    assert set(module.state_dict()) == {"pe"}
    x = mg.Tensor(rng.standard_normal((2, 9, 6)), requires_grad=True)
    out = module(x)
    np.testing.assert_allclose(out.data, x.data + pe[:9])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, 1.0)
    module.train()
    dropped = module(np.ones((64, 50, 6))).data
    assert abs((dropped == 0).mean() - 0.5) < 0.02
    with pytest.raises(ValueError, match=r"PositionalEncoding: x must be \(N, T <= 50, 6\), got shape \(1, 51, 6\)"):
        module(np.zeros((1, 51, 6)))
    with pytest.raises(TypeError, match=r"^PositionalEncoding: x must have the dtype of pe \(float64\), got float32"):
        module(np.zeros((1, 5, 6), np.float32))


# ------------------------------------------------------------- bad input


def test_bad_input_raises():
    mha = MultiheadAttention(8, 2, rng=0)
    x = np.zeros((2, 5, 8), np.float32)
    with pytest.raises(ValueError, match=r"^MultiheadAttention: query must be 3-D \(N, T, E\), got shape \(5, 8\)"):
        mha(x[0], x, x)
    with pytest.raises(ValueError, match=r"^MultiheadAttention: key must have embed_dim=8 features, got shape \(2, 5, 6\)"):
        mha(x, x[..., :6], x)
    with pytest.raises(ValueError, match=r"^MultiheadAttention: value must have shape \(N, S, Ev\) = \(2, 5, Ev\) to "
                                         r"match key of shape \(2, 5, 8\), got shape \(2, 3, 8\)"):
        mha(x, x, x[:, :3])
    with pytest.raises(ValueError, match=r"^MultiheadAttention: key must have shape \(N, S, E\) = \(2, S, 8\) to "
                                         r"match query of shape \(2, 5, 8\), got shape \(1, 5, 8\)"):
        mha(x, x[:1], x[:1])
    with pytest.raises(ValueError, match=r"^multi_head_attention: k must have shape \(N, S, E\) = \(2, S, 8\)"):
        multi_head_attention(x, x[..., :4], x, 2)
    with pytest.raises(ValueError, match=r"attn_mask must have shape \(T, S\) = \(5, 5\) or .* got shape \(4, 5\)"):
        mha(x, x, x, attn_mask=np.zeros((4, 5), bool))
    with pytest.raises(ValueError, match=r"key_padding_mask must have shape \(N, S\) = \(2, 5\), got shape \(5, 2\)"):
        mha(x, x, x, key_padding_mask=np.zeros((5, 2), bool))
    with pytest.raises(TypeError, match=r"^MultiheadAttention: key_padding_mask must be bool or have the dtype of "
                                        r"query \(float32\), got int64"):
        mha(x, x, x, key_padding_mask=np.zeros((2, 5), np.int64))
    with pytest.raises(TypeError, match=r"MultiheadAttention: query must have the dtype of in_proj_weight \(float32\), got float64"):
        mha(x.astype(np.float64), x, x)
    with pytest.raises(ValueError, match="^MultiheadAttention: num_heads must divide embed_dim=8, got 3"):
        MultiheadAttention(8, 3)
    with pytest.raises(ValueError, match=r"^multi_head_attention: num_heads must divide the feature sizes of q and v "
                                         r"\(8 and 8\), got 3"):
        multi_head_attention(x, x, x, 3)
    with pytest.raises(ValueError, match="TransformerEncoderLayer: activation must be one of 'relu', 'gelu', got 'tanh'"):
        TransformerEncoderLayer(8, 2, activation="tanh")


# ------------------------------------------------ empty inputs, bad options


@pytest.mark.parametrize("n, t, s", [(2, 3, 0), (0, 3, 2), (2, 0, 4)])
def test_empty_inputs_match_torch(torch, n, t, s):
    # S = 0: no keys, so every query gets zero weights and the output is out_proj's bias
    # (PyTorch agrees: an empty sum). N = 0 and T = 0: empty outputs.
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    torch.nn.init.uniform_(theirs.out_proj.bias)
    ours = MultiheadAttention(8, 2, rng=0, dtype=np.float64)
    _load_from_torch(ours, theirs)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((n, t, 8)), rng.standard_normal((n, s, 8)), rng.standard_normal((n, s, 8))]
    ins = [mg.Tensor(a, requires_grad=True) for a in arrays]
    ins_t = [torch.tensor(a, requires_grad=True) for a in arrays]
    (out, w), (out_t, w_t) = ours(*ins), theirs(*ins_t)
    assert out.shape == tuple(out_t.shape) == (n, t, 8) and w.shape == tuple(w_t.shape) == (n, t, s)
    assert_close(out.data, out_t.detach().numpy(), 1e-12, "output")
    dout = rng.standard_normal(out.shape)
    out.backward(dout)
    out_t.backward(torch.tensor(dout))
    for k, (m, tt) in enumerate(zip(ins, ins_t)):
        assert_close(m.grad, tt.grad.numpy(), 1e-12, f"grad {k}")
    params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad, params[name].grad.numpy(), 1e-12, name)


@given(value=st.sampled_from([-0.1, 1.0, 1.5, np.nan, np.inf, True]), module=st.booleans())
def test_bad_dropout_is_refused(value, module):
    error = TypeError if isinstance(value, bool) else ValueError
    x = np.zeros((1, 2, 4))
    if module:
        with pytest.raises(error, match=r"^MultiheadAttention: dropout must be"):
            MultiheadAttention(4, 2, dropout=value)
    else:
        with pytest.raises(error, match=r"^multi_head_attention: dropout_p must be"):
            multi_head_attention(x, x, x, 2, dropout_p=value)


@given(value=st.sampled_from([0, -2, 2.0, True]), module=st.booleans())
def test_bad_num_heads_is_refused(value, module):
    error = ValueError if isinstance(value, int) and not isinstance(value, bool) else TypeError
    x = np.zeros((1, 2, 4))
    with pytest.raises(error, match=r"num_heads must be an integer"):
        MultiheadAttention(4, value) if module else multi_head_attention(x, x, x, value)


@given(dtype=st.sampled_from([np.float16, np.int64, np.bool_]))
def test_bad_dtypes_raise_type_error(dtype):
    x, bad = np.zeros((1, 2, 4), np.float32), np.zeros((1, 2, 4), dtype)
    with pytest.raises(TypeError, match=r"^MultiheadAttention: key must be float32 or float64, got dtype"):
        MultiheadAttention(4, 2)(x, bad, x)
    with pytest.raises(TypeError, match=r"^multi_head_attention: q must be float32 or float64, got dtype"):
        multi_head_attention(bad, x, x, 2)
    with pytest.raises(TypeError, match=r"^multi_head_attention: v must have the dtype of q \(float32\), got float64"):
        multi_head_attention(x, x, x.astype(np.float64), 2)
    with pytest.raises(TypeError, match=r"^PositionalEncoding: x must be float32 or float64"):
        PositionalEncoding(4)(bad)


def test_bad_flags_and_sizes_are_refused():
    x = np.zeros((1, 2, 4), np.float32)
    with pytest.raises(TypeError, match=r"^MultiheadAttention: is_causal must be True or False"):
        MultiheadAttention(4, 2)(x, x, x, is_causal=None)
    with pytest.raises(TypeError, match=r"^MultiheadAttention: need_weights must be True or False"):
        MultiheadAttention(4, 2)(x, x, x, need_weights="no")
    with pytest.raises(ValueError, match=r"^PositionalEncoding: max_len must be an integer >= 1"):
        PositionalEncoding(4, max_len=0)
    with pytest.raises(TypeError, match=r"^TransformerEncoderLayer: norm_first must be True or False"):
        TransformerEncoderLayer(4, 2, 8, norm_first=1)


@given(layer=st.sampled_from([TransformerEncoderLayer, TransformerDecoderLayer]),
       arg=st.sampled_from(["dropout", "layer_norm_eps", "dim_feedforward"]),
       value=st.sampled_from([np.nan, np.inf, -1.0, 0, True]))
def test_transformer_layers_name_their_bad_arguments(layer, arg, value):
    if arg == "dropout" and value == 0 and not isinstance(value, bool):
        value = 1.0  # zero is a valid dropout
    error = TypeError if isinstance(value, bool) or (arg == "dim_feedforward" and isinstance(value, float)) else ValueError
    with pytest.raises(error, match=rf"^{layer.__name__}: {arg} must be"):
        layer(8, 2, **{"dim_feedforward": 16, arg: value})


# --------------------------------------------- mask dtypes, rng, dtype arguments


@pytest.mark.parametrize("mask_dtype", [np.float64, np.float16])
@pytest.mark.parametrize("which", ["attn_mask", "key_padding_mask"])
def test_float_mask_of_another_dtype_is_refused_like_torch(torch, mask_dtype, which):
    # PyTorch 2.13 refuses a float64 (or float16) float mask for a float32 model too.
    shape = (5, 5) if which == "attn_mask" else (2, 5)
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=True, dtype=torch.float32)
    xt = torch.zeros(2, 5, 8, dtype=torch.float32)
    with pytest.raises(RuntimeError):
        theirs(xt, xt, xt, **{which: torch.zeros(shape, dtype=getattr(torch, np.dtype(mask_dtype).name))})
    x, mask = np.zeros((2, 5, 8), np.float32), np.zeros(shape, mask_dtype)
    with pytest.raises(TypeError, match=rf"^MultiheadAttention: {which} must be bool or have the dtype of query "
                                        rf"\(float32\), got {np.dtype(mask_dtype)}"):
        MultiheadAttention(8, 2, rng=0)(x, x, x, **{which: mask})
    with pytest.raises(TypeError, match=rf"^multi_head_attention: {which} must be bool or have the dtype of q "
                                        rf"\(float32\), got {np.dtype(mask_dtype)}"):
        multi_head_attention(x, x, x, 2, **{which: mask})
    # The model's own dtype and bool masks pass.
    MultiheadAttention(8, 2, rng=0)(x, x, x, **{which: mask.astype(np.float32)})
    multi_head_attention(x, x, x, 2, **{which: mask.astype(bool)})


@given(rng=st.sampled_from([-1, 1.5, "seed", True, [1]]))
def test_rng_is_checked_without_dropout(rng):
    x = np.zeros((1, 2, 4))
    with pytest.raises((TypeError, ValueError), match=r"^multi_head_attention: rng must be"):
        multi_head_attention(x, x, x, 2, dropout_p=0.0, rng=rng)


def test_module_projections_name_the_module():
    mha = MultiheadAttention(4, 2, rng=0)
    x = np.zeros((1, 3, 4), np.float32)
    assert mha(x, x, x)[0].shape == (1, 3, 4)
    with pytest.raises(TypeError, match=r"^MultiheadAttention: value must have the dtype of in_proj_weight \(float32\), "
                                        r"got float64"):
        mha(x, x, x.astype(np.float64))


@pytest.mark.parametrize("layer", [TransformerEncoderLayer, TransformerDecoderLayer])
def test_transformer_layers_check_what_their_sub_modules_would(layer):
    name = layer.__name__
    with pytest.raises(ValueError, match=rf"^{name}: nhead must divide d_model=8, got 3"):
        layer(8, 3, 16)
    with pytest.raises(TypeError, match=rf"^{name}: bias must be True or False, got 1"):
        layer(8, 2, 16, bias=1)
    with pytest.raises(TypeError, match=rf"^{name}: dtype must be float32 or float64, got float16"):
        layer(8, 2, 16, dtype=np.float16)


BAD_DTYPES = st.sampled_from([np.float16, np.int64, np.int32, bool, np.complex64, "bogus", None])
DTYPE_CONSTRUCTORS = {
    "MultiheadAttention": lambda dtype: MultiheadAttention(4, 2, dtype=dtype),
    "PositionalEncoding": lambda dtype: PositionalEncoding(4, 10, dtype=dtype),
    "TransformerEncoderLayer": lambda dtype: TransformerEncoderLayer(4, 2, 8, dtype=dtype),
    "TransformerDecoderLayer": lambda dtype: TransformerDecoderLayer(4, 2, 8, dtype=dtype),
    "causal_mask": lambda dtype: causal_mask(3, dtype=dtype),
    "sinusoidal_encoding": lambda dtype: sinusoidal_encoding(4, 2, dtype),
}


@settings(max_examples=20)
@given(name=st.sampled_from(sorted(DTYPE_CONSTRUCTORS)), dtype=BAD_DTYPES)
def test_bad_dtype_arguments_are_refused(name, dtype):
    with pytest.raises(TypeError, match=rf"^{name}: dtype must be float32 or float64, got "):
        DTYPE_CONSTRUCTORS[name](dtype)


def test_causal_mask_and_sinusoidal_encoding_check_their_sizes():
    with pytest.raises(ValueError, match=r"^causal_mask: t must be an integer >= 0, got -1"):
        causal_mask(-1)
    with pytest.raises(TypeError, match=r"^causal_mask: t must be an integer, got 2.5"):
        causal_mask(2.5)
    with pytest.raises(TypeError, match=r"^causal_mask: s must be an integer, got '3'"):
        causal_mask(2, "3")
    with pytest.raises(TypeError, match=r"^causal_mask: dtype must be float32 or float64, got int32"):
        causal_mask(3, dtype=np.int32)
    with pytest.raises(ValueError, match=r"^sinusoidal_encoding: dim must be an integer >= 1, got 0"):
        sinusoidal_encoding(4, 0)
    with pytest.raises(ValueError, match=r"^sinusoidal_encoding: max_len must be an integer >= 0, got -2"):
        sinusoidal_encoding(-2, 4)
    mask = causal_mask(2, 3, np.float64)
    assert mask.dtype == np.float64 and mask.shape == (2, 3) and np.isneginf(mask[0, 1]) and mask[1, 1] == 0
    assert causal_mask(0).shape == (0, 0) and sinusoidal_encoding(0, 4).shape == (0, 4)
