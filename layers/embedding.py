"""Embedding lookup: rows of a (num_embeddings, dim) table picked by integer indices."""
import numpy as np

from minigrad import Function, Module, Parameter
from minigrad.validation import (
    as_generator,
    check_float_array,
    check_float_dtype,
    check_int,
    check_int_array,
)

from ._kernels import embedding as _k


def embedding_forward(idx, weight, padding_idx=None):
    """Look up rows of ``weight``.

    Parameters
    ----------
    idx : (...) int indices in [0, V)
    weight : (V, D)
    padding_idx : int in [0, V) or None
        A row that gets no gradient (PyTorch's padding index).

    Returns
    -------
    out : (..., D)
    cache : for ``embedding_backward``
    """
    flat = np.ascontiguousarray(idx, dtype=np.int64).reshape(-1)
    out = _k.gather_rows(flat, np.ascontiguousarray(weight)).reshape(np.shape(idx) + weight.shape[1:])
    return out, (idx, weight.shape, padding_idx)


def embedding_backward(dout, cache):
    """Gradients of ``embedding_forward``: ``(None, dweight)``, none for the indices.

    dweight (V, D): each index's upstream rows scatter-added into its row.
    Repeated indices accumulate; the ``padding_idx`` row (if any) gets no gradient.
    """
    idx, shape, padding_idx = cache
    flat = np.ascontiguousarray(idx, dtype=np.int64).reshape(-1)
    dweight = _k.scatter_add_rows(flat, np.ascontiguousarray(dout).reshape(flat.size, shape[1]), shape[0])
    if padding_idx is not None:
        dweight[padding_idx] = 0
    return None, dweight


EmbeddingFunction = Function.from_pair(embedding_forward, embedding_backward)


def _check_padding_idx(func, padding_idx, num_embeddings):
    """Normalise a negative ``padding_idx`` like PyTorch; validate the range."""
    if padding_idx is None:
        return None
    return check_int(func, "padding_idx", padding_idx, -num_embeddings, num_embeddings - 1) % num_embeddings


def _check_inputs(func, idx, weight):
    """The index and weight arrays after checking the indices are integer rows of the 2-D float ``weight``."""
    ia = check_int_array(func, "idx", idx)
    wa = check_float_array(func, "weight", weight, ndim=2, layout="(num_embeddings, dim)")
    if ia.size and (ia.min() < 0 or ia.max() >= wa.shape[0]):
        raise ValueError(
            f"{func}: idx must be in [0, {wa.shape[0]}) for weight of shape {wa.shape}, "
            f"got range [{ia.min()}, {ia.max()}]"
        )
    return ia, wa


def embedding(idx, weight, padding_idx=None):
    """Rows of the Tensor ``weight`` (V, D) at integer ``idx`` (any shape) -> (..., D).

    Like ``torch.nn.functional.embedding``: the ``padding_idx`` row gets no gradient.
    """
    ia, wa = _check_inputs("embedding", idx, weight)
    padding_idx = _check_padding_idx("embedding", padding_idx, wa.shape[0])
    return EmbeddingFunction.apply(ia, weight, padding_idx=padding_idx)


class Embedding(Module):
    """``Embedding(num_embeddings, embedding_dim, padding_idx=None)``.

    weight (num_embeddings, embedding_dim) starts N(0, 1) (PyTorch's default),
    with the ``padding_idx`` row zeroed.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, rng=None, dtype=np.float32):
        super().__init__()
        func = type(self).__name__
        dtype = check_float_dtype(func, "dtype", dtype)
        self.num_embeddings = check_int(func, "num_embeddings", num_embeddings, low=1)
        self.embedding_dim = check_int(func, "embedding_dim", embedding_dim, low=1)
        self.padding_idx = _check_padding_idx(func, padding_idx, self.num_embeddings)
        weight = as_generator(func, "rng", rng).standard_normal((num_embeddings, embedding_dim))
        weight = weight.astype(dtype)
        if self.padding_idx is not None:
            weight[self.padding_idx] = 0
        self.weight = Parameter(weight)

    def forward(self, idx):
        ia, _ = _check_inputs(type(self).__name__, idx, self.weight)
        return EmbeddingFunction.apply(ia, self.weight, padding_idx=self.padding_idx)

    def extra_repr(self):
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
