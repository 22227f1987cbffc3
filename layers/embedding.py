"""Embedding lookup: rows of a (num_embeddings, dim) table picked by integer indices."""
import numpy as np

from minigrad import Function, Module, Parameter

from ._kernels import embedding as _k
from ._validation import as_generator, require_float, require_int


def embedding_forward(idx, weight):
    """Look up rows of ``weight``.

    Parameters
    ----------
    idx : (...) int indices in [0, V)
    weight : (V, D)

    Returns
    -------
    out : (..., D)
    cache : for ``embedding_backward``
    """
    return weight[idx], (idx, weight.shape)


def embedding_backward(dout, cache, padding_idx=None):
    """dweight (V, D): each index's upstream rows scatter-added into its row.

    Repeated indices accumulate; the ``padding_idx`` row (if any) gets no gradient.
    """
    idx, shape = cache
    flat = np.ascontiguousarray(idx, dtype=np.int64).reshape(-1)
    dweight = _k.scatter_add_rows(flat, np.ascontiguousarray(dout).reshape(flat.size, shape[1]), shape[0])
    if padding_idx is not None:
        dweight[padding_idx] = 0
    return dweight


class EmbeddingFunction(Function):
    @staticmethod
    def forward(ctx, weight, idx, padding_idx):
        out, ctx.cache = embedding_forward(idx, weight)
        ctx.padding_idx = padding_idx
        return out

    @staticmethod
    def backward(ctx, grad):
        return embedding_backward(grad, ctx.cache, ctx.padding_idx), None


def _check_padding_idx(fn, padding_idx, num_embeddings):
    """Normalise a negative ``padding_idx`` like PyTorch; validate the range."""
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(
            f"{fn}: padding_idx must be in [-{num_embeddings}, {num_embeddings}), got {padding_idx}"
        )
    return int(padding_idx) % num_embeddings


def embedding(idx, weight, padding_idx=None):
    """Rows of the Tensor ``weight`` (V, D) at integer ``idx`` (any shape) -> (..., D).

    Like ``torch.nn.functional.embedding``: the ``padding_idx`` row gets no gradient.
    """
    ia, wa = require_int("embedding", "idx", idx), require_float("embedding", "weight", weight)
    if wa.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, dim), got shape {wa.shape}")
    if ia.size and (ia.min() < 0 or ia.max() >= wa.shape[0]):
        raise ValueError(
            f"embedding: indices must be in [0, {wa.shape[0]}) for weight of shape {wa.shape}, "
            f"got range [{ia.min()}, {ia.max()}]"
        )
    padding_idx = _check_padding_idx("embedding", padding_idx, wa.shape[0])
    return EmbeddingFunction.apply(weight, ia, padding_idx=padding_idx)


class Embedding(Module):
    """``Embedding(num_embeddings, embedding_dim, padding_idx=None)``.

    weight (num_embeddings, embedding_dim) starts N(0, 1) (PyTorch's default),
    with the ``padding_idx`` row zeroed.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, rng=None, dtype=np.float32):
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"Embedding: {name} must be a positive int, got {value!r}")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = _check_padding_idx("Embedding", padding_idx, num_embeddings)
        weight = as_generator(rng).standard_normal((num_embeddings, embedding_dim)).astype(dtype)
        if self.padding_idx is not None:
            weight[self.padding_idx] = 0
        self.weight = Parameter(weight)

    def forward(self, idx):
        return embedding(idx, self.weight, self.padding_idx)

    def extra_repr(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
