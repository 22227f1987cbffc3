"""Multi-head scaled dot-product attention and sinusoidal positional encoding.

Sequences are batch first, ``(N, T, E)``, as with PyTorch's
``batch_first=True``. The functional pair works on projected queries, keys
and values and does the head split itself, so a whole attention (split,
``softmax(q k^T / sqrt(d) + mask)``, dropout, ``@ v``, merge) is one node of
the graph; the projections around it are ordinary ``linear`` calls.

Masks are folded into one additive float mask before the softmax: ``-inf``
where a query may not look, 0 (or a user-given bias) elsewhere. A query row
whose keys are all masked gets zero weights (PyTorch returns NaN there).
"""
import math

import numpy as np

from minigrad import Function, Module, Parameter

from ._kernels import attention as kernels
from ._validation import array_of, as_generator, require_float, require_ndim
from .affine import Linear, linear
from .dropout import Dropout

# ------------------------------------------------------------ functional pair


def _split_heads(a, num_heads):
    """(N, T, E) -> (N, heads, T, E // heads), a view (no copy)."""
    n, t, e = a.shape
    return a.reshape(n, t, num_heads, e // num_heads).transpose(0, 2, 1, 3)


def _merge_heads(a):
    """(N, heads, T, d) -> contiguous (N, T, heads * d)."""
    n, h, t, d = a.shape
    return np.ascontiguousarray(a.transpose(0, 2, 1, 3)).reshape(n, t, h * d)


def attention_forward(q, k, v, num_heads=1, mask=None, dropout_p=0.0, rng=None):
    """Multi-head scaled dot-product attention on projected inputs.

    Parameters
    ----------
    q : (N, T, E)
        Queries; head ``j`` uses features ``j*d:(j+1)*d`` with ``d = E // num_heads``.
    k : (N, S, E)
    v : (N, S, Ev)
        Values (``Ev`` divisible by ``num_heads``).
    num_heads : int
    mask : array broadcastable to (N, heads, T, S), or None
        Additive float mask (``-inf`` forbids a key).
    dropout_p : float
        Probability of dropping an attention weight (inverted dropout).
    rng : np.random.Generator
        Needed when ``dropout_p > 0``.

    Returns
    -------
    out : (N, T, Ev)
    weights : (N, heads, T, S)
        Attention weights after dropout (what multiplies ``v``).
    cache : for ``attention_backward``
    """
    qh, kh, vh = (_split_heads(a, num_heads) for a in (q, k, v))
    scale = 1.0 / math.sqrt(q.shape[2] // num_heads)
    scores = qh @ kh.transpose(0, 1, 3, 2)
    probs = kernels.masked_softmax(scores, scale, mask)
    keep = None
    if dropout_p > 0:
        keep = (rng.random(probs.shape, dtype=probs.dtype) >= dropout_p) * probs.dtype.type(1 / (1 - dropout_p))
        weights = probs * keep
    else:
        weights = probs
    out = _merge_heads(weights @ vh)
    cache = (qh, kh, vh, probs, keep, weights, scale)
    return out, weights, cache


def attention_backward(dout, cache, dweights=None):
    """Backward of ``attention_forward``.

    Parameters
    ----------
    dout : (N, T, Ev)
    cache : from ``attention_forward``
    dweights : (N, heads, T, S) or None
        Upstream gradient of the returned weights, if they were used.

    Returns
    -------
    dq : (N, T, E), dk : (N, S, E), dv : (N, S, Ev)
    """
    qh, kh, vh, probs, keep, weights, scale = cache
    douth = _split_heads(dout, qh.shape[1])
    dweights_total = douth @ vh.transpose(0, 1, 3, 2)
    if dweights is not None:
        dweights_total += dweights
    dprobs = dweights_total if keep is None else dweights_total * keep
    dscores = kernels.softmax_backward(probs, dprobs, scale)
    dq = _merge_heads(dscores @ kh)
    dk = _merge_heads(dscores.transpose(0, 1, 3, 2) @ qh)
    dv = _merge_heads(weights.transpose(0, 1, 3, 2) @ douth)
    return dq, dk, dv


class AttentionFunction(Function):
    """``attention_forward``/``attention_backward`` on the graph.

    Inputs ``(q, k, v)``, or ``(qkv, None, None)`` with ``qkv (N, T, 3E)``
    packing the three (self-attention: one projection GEMM, one gradient
    array). Returns ``out``, or ``(out, weights)`` with ``need_weights=True``.
    """

    @staticmethod
    def forward(ctx, q, k, v, num_heads=1, mask=None, dropout_p=0.0, rng=None, need_weights=False):
        ctx.packed = k is None
        if ctx.packed:
            q, k, v = np.split(q, 3, axis=2)
        out, weights, ctx.cache = attention_forward(q, k, v, num_heads, mask, dropout_p, rng)
        ctx.need_weights = need_weights
        return (out, weights) if need_weights else out

    @staticmethod
    def backward(ctx, grad):
        dout, dweights = grad if ctx.need_weights else (grad, None)
        dq, dk, dv = attention_backward(dout, ctx.cache, dweights)
        if ctx.packed:
            return np.concatenate([dq, dk, dv], axis=2), None, None
        return dq, dk, dv


# ------------------------------------------------------------------- masks


def _additive(fn, name, mask, dtype):
    """A bool mask (True = forbidden) becomes 0 / -inf; a float mask is used as is."""
    array = array_of(mask)
    if array.dtype == np.bool_:
        return np.where(array, dtype.type(-np.inf), dtype.type(0))
    if array.dtype.kind != "f":
        raise TypeError(f"{fn}: {name} must be bool or float, got dtype {array.dtype}")
    return array.astype(dtype, copy=False)


def causal_mask(t, s=None, dtype=np.float32):
    """Additive (T, S) mask: query ``i`` may see keys ``0..i`` only (``-inf`` above the diagonal)."""
    s = t if s is None else s
    return np.where(np.triu(np.ones((t, s), dtype=bool), k=1), dtype(-np.inf), dtype(0))


def combine_masks(fn, n, num_heads, t, s, dtype, attn_mask=None, key_padding_mask=None, is_causal=False):
    """Fold PyTorch-style masks into one additive mask broadcastable to (N, heads, T, S).

    ``attn_mask``: (T, S) or (N * heads, T, S), bool (True = forbidden) or
    additive float. ``key_padding_mask``: (N, S), bool (True = padding,
    ignored) or additive float. ``is_causal`` builds the causal mask when no
    ``attn_mask`` is given (with one given, it is taken to be that mask, as
    in PyTorch). Returns None when nothing is masked.
    """
    dtype = np.dtype(dtype)
    mask = None
    if attn_mask is None and is_causal:
        attn_mask = causal_mask(t, s, dtype.type)
    if attn_mask is not None:
        am = _additive(fn, "attn_mask", attn_mask, dtype)
        if am.shape == (t, s):
            mask = am
        elif am.shape == (n * num_heads, t, s):
            mask = am.reshape(n, num_heads, t, s)
        else:
            raise ValueError(
                f"{fn}: attn_mask must have shape (T, S) = {(t, s)} or (N*num_heads, T, S) = "
                f"{(n * num_heads, t, s)}, got shape {am.shape}"
            )
    if key_padding_mask is not None:
        kpm = _additive(fn, "key_padding_mask", key_padding_mask, dtype)
        if kpm.shape != (n, s):
            raise ValueError(f"{fn}: key_padding_mask must have shape (N, S) = {(n, s)}, got shape {kpm.shape}")
        kpm = kpm[:, None, None, :]
        mask = kpm if mask is None else mask + kpm
    return mask


# --------------------------------------------------------- Tensor functions


def multi_head_attention(q, k, v, num_heads, attn_mask=None, key_padding_mask=None, is_causal=False,
                         dropout_p=0.0, rng=None, need_weights=False):
    """Attention of already projected Tensors, with PyTorch ``MultiheadAttention``'s masks.

    Parameters
    ----------
    q : Tensor (N, T, E)
    k : Tensor (N, S, E)
    v : Tensor (N, S, Ev)
    num_heads : int, dividing E and Ev
    attn_mask, key_padding_mask, is_causal
        See ``combine_masks``.
    dropout_p : float in [0, 1)
    rng : np.random.Generator, int or None
        Source of the dropout mask.
    need_weights : bool
        Also return the (N, heads, T, S) attention weights.

    Returns
    -------
    Tensor (N, T, Ev), or ``(out, weights)``.
    """
    fn = "multi_head_attention"
    qa, ka, va = (require_float(fn, name, a) for name, a in (("q", q), ("k", k), ("v", v)))
    for name, a, layout in (("q", qa, "(N, T, E)"), ("k", ka, "(N, S, E)"), ("v", va, "(N, S, Ev)")):
        require_ndim(fn, name, a, (3,), layout)
        if a.dtype != qa.dtype:
            raise TypeError(f"{fn}: {name} has dtype {a.dtype} but q has dtype {qa.dtype}")
    if ka.shape[:2] != va.shape[:2] or ka.shape[2] != qa.shape[2] or ka.shape[0] != qa.shape[0]:
        raise ValueError(
            f"{fn}: expected q (N, T, E), k (N, S, E), v (N, S, Ev), got shapes "
            f"{qa.shape}, {ka.shape}, {va.shape}"
        )
    if num_heads < 1 or qa.shape[2] % num_heads or va.shape[2] % num_heads:
        raise ValueError(
            f"{fn}: num_heads={num_heads} must divide the feature sizes {qa.shape[2]} and {va.shape[2]}"
        )
    if not 0 <= dropout_p < 1:
        raise ValueError(f"{fn}: dropout_p must be in [0, 1), got {dropout_p!r}")
    (n, t, _), s = qa.shape, ka.shape[1]
    mask = combine_masks(fn, n, num_heads, t, s, qa.dtype, attn_mask, key_padding_mask, is_causal)
    return AttentionFunction.apply(
        q, k, v, num_heads=num_heads, mask=mask, dropout_p=float(dropout_p),
        rng=as_generator(rng) if dropout_p > 0 else None, need_weights=need_weights,
    )


# ------------------------------------------------------------------ Modules


class MultiheadAttention(Module):
    """Multi-head attention with separate query/key/value inputs, batch first.

    Matches ``torch.nn.MultiheadAttention(embed_dim, num_heads, dropout, bias,
    batch_first=True)``: same parameter names and layouts, so state dicts copy
    across.

    Parameters
    ----------
    embed_dim, num_heads : int
        ``num_heads`` must divide ``embed_dim``.
    dropout : float
        Dropout on the attention weights, in training mode only.
    bias : bool
    rng : np.random.Generator, int or None
        Initial values and dropout masks.
    dtype : float32 or float64

    Attributes
    ----------
    in_proj_weight : Parameter (3E, E)
        ``[W_q; W_k; W_v]``, Xavier-uniform U(-a, a), ``a = sqrt(6 / (E + 3E))``
        (PyTorch's default for this packed matrix).
    in_proj_bias : Parameter (3E,) or None
        Zeros.
    out_proj : Linear(E, E)
        Weight U(-1/sqrt(E), 1/sqrt(E)), bias zeros (PyTorch's default).
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, rng=None, dtype=np.float32):
        super().__init__()
        for name, value in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"MultiheadAttention: {name} must be a positive int, got {value!r}")
        if embed_dim % num_heads:
            raise ValueError(
                f"MultiheadAttention: num_heads={num_heads} must divide embed_dim={embed_dim}"
            )
        if not 0 <= dropout < 1:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1), got {dropout!r}")
        self.embed_dim, self.num_heads, self.dropout = int(embed_dim), int(num_heads), float(dropout)
        self.rng = as_generator(rng)
        bound = math.sqrt(6.0 / (embed_dim + 3 * embed_dim))
        self.in_proj_weight = Parameter(self.rng.uniform(-bound, bound, (3 * embed_dim, embed_dim)).astype(dtype))
        self.in_proj_bias = Parameter(np.zeros(3 * embed_dim, dtype)) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, rng=self.rng, dtype=dtype)
        if bias:
            self.out_proj.bias.data[...] = 0

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """Attend from ``query (N, T, E)`` to ``key (N, S, E)`` / ``value (N, S, E)``.

        Masks as in ``combine_masks`` (PyTorch's conventions: True = ignore).

        Returns
        -------
        out : Tensor (N, T, E)
        weights : Tensor (N, T, S) averaged over heads, (N, heads, T, S) with
            ``average_attn_weights=False``, or None with ``need_weights=False``.
        """
        fn = "MultiheadAttention"
        e = self.embed_dim
        shapes = []
        for name, x in (("query", query), ("key", key), ("value", value)):
            a = require_float(fn, name, x)
            require_ndim(fn, name, a, (3,), "(N, L, E)")
            if a.shape[2] != e:
                raise ValueError(f"{fn}: {name} must have embed_dim={e} features, got shape {a.shape}")
            if a.dtype != self.in_proj_weight.dtype:
                raise TypeError(
                    f"{fn}: {name} has dtype {a.dtype} but the parameters are {self.in_proj_weight.dtype}"
                )
            shapes.append(a.shape)
        if shapes[1][:2] != shapes[2][:2] or shapes[0][0] != shapes[1][0]:
            raise ValueError(
                f"{fn}: expected query (N, T, E), key and value (N, S, E), got shapes "
                f"{shapes[0]}, {shapes[1]}, {shapes[2]}"
            )
        (n, t, _), s = shapes[0], shapes[1][1]
        mask = combine_masks(fn, n, self.num_heads, t, s, self.in_proj_weight.dtype,
                             attn_mask, key_padding_mask, is_causal)
        p = self.dropout if self.training else 0.0
        kwargs = dict(num_heads=self.num_heads, mask=mask, dropout_p=p,
                      rng=self.rng if p > 0 else None, need_weights=need_weights)
        w, b = self.in_proj_weight, self.in_proj_bias
        if query is key and key is value:
            result = AttentionFunction.apply(linear(query, w, b), None, None, **kwargs)
        else:
            parts = [(w[i * e:(i + 1) * e], None if b is None else b[i * e:(i + 1) * e]) for i in range(3)]
            q, k, v = (linear(x, wi, bi) for x, (wi, bi) in zip((query, key, value), parts))
            result = AttentionFunction.apply(q, k, v, **kwargs)
        out, weights = result if need_weights else (result, None)
        out = self.out_proj(out)
        if weights is not None and average_attn_weights:
            weights = weights.mean(axis=1)
        return out, weights

    def extra_repr(self):
        return (
            f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, dropout={self.dropout}, "
            f"bias={self.in_proj_bias is not None}, batch_first=True"
        )


# ------------------------------------------------------- positional encoding


def sinusoidal_encoding(max_len, dim, dtype=np.float32):
    """The (max_len, dim) table of "Attention Is All You Need".

    ``pe[p, 2i] = sin(p / 10000^(2i/dim))``, ``pe[p, 2i+1] = cos(p / 10000^(2i/dim))``.
    """
    position = np.arange(max_len, dtype=np.float64)[:, None]
    freq = np.exp(np.arange(0, dim, 2, dtype=np.float64) * (-math.log(10000.0) / dim))
    pe = np.zeros((max_len, dim))
    pe[:, 0::2] = np.sin(position * freq)
    pe[:, 1::2] = np.cos(position * freq[: dim // 2])
    return pe.astype(dtype)


class PositionalEncoding(Module):
    """Add the sinusoidal position table to ``x (N, T, dim)``, then dropout.

    Parameters
    ----------
    dim : int
    max_len : int
        Longest sequence accepted.
    dropout : float
    rng : np.random.Generator, int or None
        Dropout masks.
    dtype : float32 or float64

    The table is the buffer ``pe`` (max_len, dim), saved in the state dict.
    """

    def __init__(self, dim, max_len=5000, dropout=0.1, rng=None, dtype=np.float32):
        super().__init__()
        for name, value in (("dim", dim), ("max_len", max_len)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"PositionalEncoding: {name} must be a positive int, got {value!r}")
        self.dim, self.max_len = int(dim), int(max_len)
        self.register_buffer("pe", sinusoidal_encoding(max_len, dim, dtype))
        self.dropout = Dropout(dropout, rng)

    def forward(self, x):
        a = require_float("PositionalEncoding", "x", x)
        require_ndim("PositionalEncoding", "x", a, (3,), "(N, T, dim)")
        if a.shape[2] != self.dim or a.shape[1] > self.max_len:
            raise ValueError(
                f"PositionalEncoding: x must be (N, T <= {self.max_len}, {self.dim}), got shape {a.shape}"
            )
        return self.dropout(x + self.pe[: a.shape[1]].astype(a.dtype, copy=False))

    def extra_repr(self):
        return f"dim={self.dim}, max_len={self.max_len}, dropout={self.dropout.p}"
