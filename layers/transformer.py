"""Transformer encoder and decoder layers, batch first, matching PyTorch's.

Built from ``MultiheadAttention``, ``Linear``, ``LayerNorm`` and ``Dropout``
with PyTorch's sub-module names, so a state dict of
``torch.nn.TransformerEncoderLayer(..., batch_first=True)`` (or the decoder
layer) loads as is. Post-norm (the original paper, PyTorch's default) or
pre-norm (``norm_first=True``).
"""
import numpy as np

from minigrad import Module
from minigrad.validation import (
    as_generator, check_bool, check_choice, check_float_dtype, check_int, check_number, check_positive,
)
from .activations import gelu, relu
from .affine import Linear
from .attention import MultiheadAttention
from .dropout import Dropout
from .norm import LayerNorm

_ACTIVATIONS = {"relu": relu, "gelu": gelu}


class _TransformerLayer(Module):
    """What both layers share: self-attention, the FFN, norms and dropouts."""

    def __init__(self, name, n_norms, d_model, nhead, dim_feedforward, dropout, activation,
                 layer_norm_eps, norm_first, bias, rng, dtype):
        super().__init__()
        # Every argument the sub-modules would check is checked here first, so
        # that a message names this layer and its own arguments (d_model, not embed_dim).
        dtype = check_float_dtype(name, "dtype", dtype)
        for arg, value in (("d_model", d_model), ("nhead", nhead), ("dim_feedforward", dim_feedforward)):
            check_int(name, arg, value, low=1)
        if d_model % nhead:
            raise ValueError(f"{name}: nhead must divide d_model={d_model}, got {nhead}")
        bias = check_bool(name, "bias", bias)
        check_number(name, "dropout", dropout, low=0, high=1, high_open=True)
        check_positive(name, "layer_norm_eps", layer_norm_eps)
        self.activation_name = check_choice(name, "activation", activation, tuple(_ACTIVATIONS))
        self.norm_first = check_bool(name, "norm_first", norm_first)
        gen = as_generator(name, "rng", rng)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, rng=gen, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, rng=gen, dtype=dtype)
        self.dropout = Dropout(dropout, gen)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, rng=gen, dtype=dtype)
        for k in range(1, n_norms + 1):
            setattr(self, f"norm{k}", LayerNorm(d_model, eps=layer_norm_eps, dtype=dtype))
        for k in range(1, n_norms + 1):
            setattr(self, f"dropout{k}", Dropout(dropout, gen))

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x, out_dropout):
        act = _ACTIVATIONS[self.activation_name]
        return out_dropout(self.linear2(self.dropout(act(self.linear1(x)))))

    def extra_repr(self):
        return f"activation={self.activation_name!r}, norm_first={self.norm_first}"


class TransformerEncoderLayer(_TransformerLayer):
    """Self-attention then a feed-forward network, each with a residual connection.

    Parameters
    ----------
    d_model, nhead : int
    dim_feedforward : int
    dropout : float
        On attention weights, after each sub-block and inside the FFN.
    activation : 'relu' or 'gelu'
    layer_norm_eps : float
    norm_first : bool
        Pre-norm (``x + f(norm(x))``) instead of post-norm (``norm(x + f(x))``).
    bias : bool
    rng : np.random.Generator, int or None
        Initial values and dropout masks.
    dtype : float32 or float64

    Sub-modules: ``self_attn``, ``linear1``, ``dropout``, ``linear2``, ``norm1``,
    ``norm2``, ``dropout1``, ``dropout2`` (PyTorch's names and initialisation).
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, norm_first=False, bias=True, rng=None, dtype=np.float32):
        super().__init__("TransformerEncoderLayer", 2, d_model, nhead, dim_feedforward, dropout,
                         activation, layer_norm_eps, norm_first, bias, rng, dtype)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        """src (N, T, d_model) -> (N, T, d_model). Masks as in ``MultiheadAttention``."""
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            return x + self._ff_block(self.norm2(x), self.dropout2)
        x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
        return self.norm2(x + self._ff_block(x, self.dropout2))


class TransformerDecoderLayer(_TransformerLayer):
    """Self-attention, cross-attention to an encoder's ``memory``, then a
    feed-forward network; each with a residual connection.

    Parameters as ``TransformerEncoderLayer``. Sub-modules add
    ``multihead_attn``, ``norm3`` and ``dropout3``.

    For autoregressive decoding pass ``tgt_is_causal=True`` (or a causal
    ``tgt_mask``): as in PyTorch, the self-attention is not causal unless asked.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, norm_first=False, bias=True, rng=None, dtype=np.float32):
        gen = as_generator("TransformerDecoderLayer", "rng", rng)  # one generator for every sub-module
        super().__init__("TransformerDecoderLayer", 3, d_model, nhead, dim_feedforward, dropout,
                         activation, layer_norm_eps, norm_first, bias, gen, dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, rng=gen, dtype=dtype)

    def _mha_block(self, x, memory, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, memory, memory, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                need_weights=False, is_causal=is_causal)[0]
        return self.dropout2(x)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        """tgt (N, T, d_model), memory (N, S, d_model) -> (N, T, d_model)."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x), self.dropout3)
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
        return self.norm3(x + self._ff_block(x, self.dropout3))
