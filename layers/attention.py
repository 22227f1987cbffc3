"""Multi-head scaled dot-product attention, sinusoidal positional encoding and timestep embedding.

Sequences are batch first, ``(N, T, E)``, as with PyTorch's
``batch_first=True``. The functional pair works on projected queries, keys
and values and does the head split itself, so a whole attention (split,
``softmax(q k^T / sqrt(d) + mask)``, dropout, ``@ v``, merge) is one node of
the graph; the projections around it are ordinary affine nodes (``AffineFunction``).

Masks are folded into one additive float mask before the softmax: ``-inf``
where a query may not look, 0 (or a user-given bias) elsewhere. A float mask
must have the queries' dtype (as in PyTorch, which refuses a float64 mask
for a float32 model): it is never silently cast. A query row
whose keys are all masked gets zero weights (PyTorch returns NaN there); so
does a query with no keys at all (S = 0), where PyTorch agrees. Empty
batches (N = 0) and T = 0 give empty outputs, as in PyTorch.
"""
import math

import numpy as np

from minigrad import Function, Module, Parameter
from minigrad.validation import (
    array_of, as_generator, check_bool, check_finite, check_float_array, check_float_dtype, check_int,
    check_number, check_same_dtype,
)

from ._blas import batched_matmul
from ._kernels import attention as kernels
from .affine import AffineFunction, Linear
from .dropout import Dropout, dropout_backward, dropout_forward

# ------------------------------------------------------------ functional pair


def _split_heads(a, num_heads):
    """(N, T, E) -> (N, heads, T, E // heads), a view (no copy)."""
    n, t, e = a.shape
    return a.reshape(n, t, num_heads, e // num_heads).transpose(0, 2, 1, 3)


def _merge_heads(a):
    """(N, heads, T, d) -> contiguous (N, T, heads * d)."""
    n, h, t, d = a.shape
    return np.ascontiguousarray(a.transpose(0, 2, 1, 3)).reshape(n, t, h * d)


def attention_forward(q, k, v, num_heads=1, mask=None, dropout_p=0.0, rng=None, need_weights=False):
    """Multi-head scaled dot-product attention on projected inputs.

    Parameters
    ----------
    q : (N, T, E), or (N, T, 3E) packing ``[q, k, v]`` when ``k`` and ``v`` are None
        Queries; head ``j`` uses features ``j*d:(j+1)*d`` with ``d = E // num_heads``.
        The packed form serves self-attention: one projection GEMM, one
        gradient array.
    k : (N, S, E) or None
    v : (N, S, Ev) or None
        Values (``Ev`` divisible by ``num_heads``).
    num_heads : int
    mask : array broadcastable to (N, heads, T, S), or None
        Additive float mask (``-inf`` forbids a key). A query whose keys are
        all forbidden (or that has no keys, S = 0) gets zero weights.
    dropout_p : float in [0, 1)
        Probability of dropping an attention weight (inverted dropout).
    rng : np.random.Generator or None
        Needed when ``dropout_p > 0``.
    need_weights : bool
        Also return the weights.

    Returns
    -------
    out : (N, T, Ev), or the pair ``(out, weights)`` with ``need_weights``;
        ``weights`` (N, heads, T, S) are the attention weights after dropout
        (what multiplies ``v``).
    cache : for ``attention_backward``
    """
    packed = k is None
    if packed:
        q, k, v = np.split(q, 3, axis=2)
    qh, kh, vh = (_split_heads(a, num_heads) for a in (q, k, v))
    scale = 1.0 / math.sqrt(q.shape[2] // num_heads)
    scores = batched_matmul(qh, kh.transpose(0, 1, 3, 2))
    probs = kernels.masked_softmax(scores, scale, mask)
    # Without dropout the weights are the probabilities themselves (no copy).
    weights, keep = dropout_forward(probs, dropout_p, True, rng) if dropout_p > 0 else (probs, None)
    out = _merge_heads(batched_matmul(weights, vh))
    cache = (qh, kh, vh, probs, keep, weights, scale, packed, need_weights)
    return ((out, weights) if need_weights else out), cache


def attention_backward(dout, cache):
    """Backward of ``attention_forward``.

    Parameters
    ----------
    dout : (N, T, Ev), or ``(dout, dweights)`` when the forward had
        ``need_weights`` (dweights (N, heads, T, S) or None).
    cache : from ``attention_forward``

    Returns
    -------
    dq : (N, T, E), dk : (N, S, E), dv : (N, S, Ev); packed input gives
    ``(dqkv (N, T, 3E), None, None)``.
    """
    qh, kh, vh, probs, keep, weights, scale, packed, need_weights = cache
    dout, dweights = dout if need_weights else (dout, None)
    douth = _split_heads(dout, qh.shape[1])
    dweights_total = batched_matmul(douth, vh.transpose(0, 1, 3, 2))
    if dweights is not None:
        dweights_total += dweights
    dprobs = np.ascontiguousarray(dropout_backward(dweights_total, keep))
    dscores = kernels.softmax_backward(probs, dprobs, scale)
    dq = _merge_heads(batched_matmul(dscores, kh))
    dk = _merge_heads(batched_matmul(dscores.transpose(0, 1, 3, 2), qh))
    dv = _merge_heads(batched_matmul(weights.transpose(0, 1, 3, 2), douth))
    if packed:
        return np.concatenate([dq, dk, dv], axis=2), None, None
    return dq, dk, dv


AttentionFunction = Function.from_pair(attention_forward, attention_backward)


# ------------------------------------------------------------------- masks


def _additive(fn, name, mask, dtype, dtype_of):
    """A bool mask (True = forbidden) becomes 0 / -inf; a float mask of ``dtype`` is used as is.

    A float mask of another dtype is refused, as in PyTorch (no silent cast);
    ``dtype_of`` names what sets ``dtype`` in the message.
    """
    array = array_of(mask)
    if array.dtype == np.bool_:
        return np.where(array, dtype.type(-np.inf), dtype.type(0))
    if array.dtype != dtype:
        raise TypeError(f"{fn}: {name} must be bool or have the dtype of {dtype_of} ({dtype}), "
                        f"got {array.dtype}")
    return array


def _causal(t, s, dtype):
    """The (t, s) causal mask of ``causal_mask``, for checked arguments."""
    return np.where(np.triu(np.ones((t, s), dtype=bool), k=1), dtype.type(-np.inf), dtype.type(0))


def causal_mask(t, s=None, dtype=np.float32):
    """Additive (T, S) mask: query ``i`` may see keys ``0..i`` only (``-inf`` above the diagonal).

    Parameters
    ----------
    t, s : int >= 0
        Numbers of queries and keys (``s`` defaults to ``t``).
    dtype : float32 or float64
        The model's dtype (a float mask must match it).
    """
    dtype = check_float_dtype("causal_mask", "dtype", dtype)
    t = check_int("causal_mask", "t", t, low=0)
    s = t if s is None else check_int("causal_mask", "s", s, low=0)
    return _causal(t, s, dtype)


def combine_masks(fn, n, num_heads, t, s, dtype, attn_mask=None, key_padding_mask=None, is_causal=False,
                  dtype_of="q"):
    """Fold PyTorch-style masks into one additive mask broadcastable to (N, heads, T, S).

    ``attn_mask``: (T, S) or (N * heads, T, S), bool (True = forbidden) or
    additive float of ``dtype``. ``key_padding_mask``: (N, S), bool (True =
    padding, ignored) or additive float of ``dtype``. ``is_causal`` builds
    the causal mask when no ``attn_mask`` is given (with one given, it is
    taken to be that mask, as in PyTorch). ``dtype_of`` names the argument
    that sets ``dtype``, for messages. Returns None when nothing is masked.
    """
    dtype = np.dtype(dtype)
    mask = None
    if attn_mask is None and check_bool(fn, "is_causal", is_causal):
        attn_mask = _causal(t, s, dtype)
    if attn_mask is not None:
        am = _additive(fn, "attn_mask", attn_mask, dtype, dtype_of)
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
        kpm = _additive(fn, "key_padding_mask", key_padding_mask, dtype, dtype_of)
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
        See ``combine_masks``; a float mask must have q's dtype.
    dropout_p : float in [0, 1)
    rng : np.random.Generator, int or None
        Source of the dropout mask (checked even when ``dropout_p`` is 0).
    need_weights : bool
        Also return the (N, heads, T, S) attention weights.

    Returns
    -------
    Tensor (N, T, Ev), or ``(out, weights)``.
    """
    fn = "multi_head_attention"
    qa, _, va = _check_qkv(fn, dict(q=q, k=k, v=v))
    num_heads = check_int(fn, "num_heads", num_heads, low=1)
    if qa.shape[2] % num_heads or va.shape[2] % num_heads:
        raise ValueError(
            f"{fn}: num_heads must divide the feature sizes of q and v ({qa.shape[2]} and "
            f"{va.shape[2]}), got {num_heads}"
        )
    dropout_p = check_number(fn, "dropout_p", dropout_p, low=0, high=1, high_open=True)
    rng = as_generator(fn, "rng", rng)
    need_weights = check_bool(fn, "need_weights", need_weights)
    (n, t, _), s = qa.shape, va.shape[1]
    mask = combine_masks(fn, n, num_heads, t, s, qa.dtype, attn_mask, key_padding_mask, is_causal)
    return AttentionFunction.apply(
        q, k, v, num_heads=num_heads, mask=mask, dropout_p=dropout_p,
        rng=rng if dropout_p > 0 else None, need_weights=need_weights,
    )


def _check_qkv(fn, qkv, weight=None):
    """Check queries (N, T, E), keys (N, S, E) and values (N, S, Ev); return their arrays.

    ``qkv`` maps the caller's three argument names to the inputs. A Module
    passes its ``weight`` (then Ev = E = the weight's number of columns):
    the inputs are checked against its dtype and width, and a mismatch
    is reported against the input. Otherwise q sets the dtype.
    """
    (qn, kn, vn), e = qkv, None if weight is None else weight.shape[1]
    layouts = ("(N, T, E)", "(N, S, E)", "(N, S, E)" if weight is not None else "(N, S, Ev)")
    qa, ka, va = (check_float_array(fn, name, a, ndim=3, layout=layout)
                  for (name, a), layout in zip(qkv.items(), layouts))
    if weight is None:
        check_same_dtype(fn, **{qn: qa, kn: ka, vn: va})
    else:
        check_same_dtype(fn, in_proj_weight=weight, **{qn: qa, kn: ka, vn: va})
        for name, a in zip(qkv, (qa, ka, va)):
            if a.shape[2] != e:
                raise ValueError(f"{fn}: {name} must have embed_dim={e} features, got shape {a.shape}")
    n, e = qa.shape[0], qa.shape[2]
    if ka.shape[0] != n or ka.shape[2] != e:
        raise ValueError(f"{fn}: {kn} must have shape (N, S, E) = ({n}, S, {e}) to match {qn} of shape "
                         f"{qa.shape}, got shape {ka.shape}")
    if va.shape[:2] != ka.shape[:2]:
        raise ValueError(f"{fn}: {vn} must have shape (N, S, Ev) = ({n}, {ka.shape[1]}, Ev) to match "
                         f"{kn} of shape {ka.shape}, got shape {va.shape}")
    return qa, ka, va


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
        fn = "MultiheadAttention"
        dtype = check_float_dtype(fn, "dtype", dtype)
        self.embed_dim = check_int(fn, "embed_dim", embed_dim, low=1)
        self.num_heads = check_int(fn, "num_heads", num_heads, low=1)
        if embed_dim % num_heads:
            raise ValueError(f"{fn}: num_heads must divide embed_dim={embed_dim}, got {num_heads}")
        self.dropout = check_number(fn, "dropout", dropout, low=0, high=1, high_open=True)
        bias = check_bool(fn, "bias", bias)
        self.rng = as_generator(fn, "rng", rng)
        bound = math.sqrt(6.0 / (embed_dim + 3 * embed_dim))
        self.in_proj_weight = Parameter(self.rng.uniform(-bound, bound, (3 * embed_dim, embed_dim)).astype(dtype))
        self.in_proj_bias = Parameter(np.zeros(3 * embed_dim, dtype)) if bias else None
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, rng=self.rng, dtype=dtype)
        if bias:
            self.out_proj.bias.data[...] = 0

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """Attend from ``query (N, T, E)`` to ``key (N, S, E)`` / ``value (N, S, E)``.

        Masks as in ``combine_masks`` (PyTorch's conventions: True = ignore);
        a float mask must have the parameters' dtype, as in PyTorch.

        Returns
        -------
        out : Tensor (N, T, E)
        weights : Tensor (N, T, S) averaged over heads, (N, heads, T, S) with
            ``average_attn_weights=False``, or None with ``need_weights=False``.
        """
        fn = "MultiheadAttention"
        e = self.embed_dim
        qa, ka, _ = _check_qkv(fn, dict(query=query, key=key, value=value), self.in_proj_weight.data)
        need_weights = check_bool(fn, "need_weights", need_weights)
        (n, t, _), s = qa.shape, ka.shape[1]
        mask = combine_masks(fn, n, self.num_heads, t, s, qa.dtype, attn_mask, key_padding_mask, is_causal,
                             dtype_of="query")
        p = self.dropout if self.training else 0.0
        kwargs = dict(num_heads=self.num_heads, mask=mask, dropout_p=p,
                      rng=self.rng if p > 0 else None, need_weights=need_weights)
        # The parameters are known to fit the checked inputs: no public linear() re-checking them.
        w, b = self.in_proj_weight, self.in_proj_bias
        if query is key and key is value:
            result = AttentionFunction.apply(AffineFunction.apply(query, w, b), None, None, **kwargs)
        else:
            parts = [(w[i * e:(i + 1) * e], None if b is None else b[i * e:(i + 1) * e]) for i in range(3)]
            q, k, v = (AffineFunction.apply(x, wi, bi) for x, (wi, bi) in zip((query, key, value), parts))
            result = AttentionFunction.apply(q, k, v, **kwargs)
        out, weights = result if need_weights else (result, None)
        out = AffineFunction.apply(out, self.out_proj.weight, self.out_proj.bias)
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

    Parameters
    ----------
    max_len : int >= 0
    dim : int >= 1
    dtype : float32 or float64
    """
    dtype = check_float_dtype("sinusoidal_encoding", "dtype", dtype)
    max_len = check_int("sinusoidal_encoding", "max_len", max_len, low=0)
    dim = check_int("sinusoidal_encoding", "dim", dim, low=1)
    return _sinusoidal(np.arange(max_len), dim, dtype)


def timestep_embedding(t, dim, max_period=10000, dtype=np.float32):
    """Sinusoidal embeddings of diffusion timesteps (DDPM), one row per entry of ``t``.

    Row n is the ``sinusoidal_encoding`` row of position ``t[n]``, with
    ``max_period`` in place of 10000: ``emb[n, 2i] = sin(t[n] / max_period^(2i/dim))``,
    ``emb[n, 2i+1] = cos(...)`` (sines and cosines interleaved; DDPM's code
    puts all sines first, a permutation that the layer after it absorbs).
    So ``timestep_embedding(np.arange(L), dim)`` equals ``sinusoidal_encoding(L, dim)``.

    Parameters
    ----------
    t : int or float array (N,)
        Timesteps; integers usually, finite floats allowed (continuous time).
        A constant of the graph: no gradient flows to ``t``.
    dim : int >= 1
        Embedding width; the slowest frequency has period ``max_period``
        (times ``2 pi``).
    max_period : float > 0
    dtype : float32 or float64

    Returns
    -------
    emb : ndarray (N, dim) of ``dtype``, computed in float64 and rounded once.
    """
    func = "timestep_embedding"
    ta = array_of(t) if not isinstance(t, (list, tuple)) else np.asarray(t)
    if ta.dtype.kind not in "iuf":
        raise TypeError(f"{func}: t must hold integers or floats, got dtype {ta.dtype}")
    if ta.ndim != 1:
        raise ValueError(f"{func}: t must be 1-D (N,), got shape {ta.shape}")
    check_finite(func, "t", ta)
    dim = check_int(func, "dim", dim, low=1)
    max_period = check_number(func, "max_period", max_period, low=0, low_open=True)
    return _sinusoidal(ta, dim, check_float_dtype(func, "dtype", dtype), max_period)


def _sinusoidal(position, dim, dtype, max_period=10000.0):
    """Sinusoidal rows of 1-D ``position`` (checked arguments): the table of
    ``sinusoidal_encoding`` and of ``timestep_embedding``."""
    position = np.asarray(position, dtype=np.float64)[:, None]
    freq = np.exp(np.arange(0, dim, 2, dtype=np.float64) * (-math.log(max_period) / dim))
    pe = np.zeros((len(position), dim))
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

    The table is the buffer ``pe`` (max_len, dim), saved in the state dict;
    ``x`` must have its dtype.
    """

    def __init__(self, dim, max_len=5000, dropout=0.1, rng=None, dtype=np.float32):
        super().__init__()
        dtype = check_float_dtype("PositionalEncoding", "dtype", dtype)
        self.dim = check_int("PositionalEncoding", "dim", dim, low=1)
        self.max_len = check_int("PositionalEncoding", "max_len", max_len, low=1)
        self.register_buffer("pe", _sinusoidal(np.arange(self.max_len), self.dim, dtype))
        self.dropout = Dropout(dropout, rng)

    def forward(self, x):
        a = check_float_array("PositionalEncoding", "x", x, ndim=3, layout="(N, T, dim)")
        if a.shape[2] != self.dim or a.shape[1] > self.max_len:
            raise ValueError(
                f"PositionalEncoding: x must be (N, T <= {self.max_len}, {self.dim}), got shape {a.shape}"
            )
        check_same_dtype("PositionalEncoding", pe=self.pe, x=a)  # no silent cast of x or the table
        return self.dropout(x + self.pe[: a.shape[1]])

    def extra_repr(self):
        return f"dim={self.dim}, max_len={self.max_len}, dropout={self.dropout.p}"
