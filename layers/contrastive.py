"""Contrastive losses: SimCLR's NT-Xent and MoCo's InfoNCE against a queue of keys.

Two augmented views of N images give embeddings ``z1`` and ``z2`` (N, D).
All 2N rows are scaled to unit length, so that a product of two rows is
their cosine similarity; row k's logits are its similarities to the 2N - 1
*other* rows divided by the temperature, and its target is its partner (the
other view of the same image). The loss is the softmax cross-entropy of those
logits, averaged over the 2N rows.

The pair reduces to pieces that exist already: the similarities with each
row's own entry set to ``-inf`` are scored by ``losses.cross_entropy_forward``
(whose kernel gives a ``-inf`` logit zero probability and zero gradient), and
the backward only adds the chain through the matrix product and the row
normalisation.

MoCo's InfoNCE (``info_nce_forward``) scores each query against its own key
(the positive) and against K keys of earlier batches kept in a queue (the
negatives), all by cosine similarity over the temperature; its target is the
positive, column 0 of the (N, 1 + K) logits. Both losses share the row
normalisation and its backward (``_unit_rows``, ``_unit_rows_backward``).
"""
import numpy as np

from minigrad import Function
from minigrad.validation import check_float_array, check_number, check_same_dtype

from .losses import cross_entropy_backward, cross_entropy_forward

# Rows shorter than this are divided by it instead of their norm, as
# ``torch.nn.functional.normalize`` does with its default eps.
NORM_EPS = 1e-12


def nt_xent_forward(z1, z2, temperature=0.5):
    """NT-Xent loss of two views' embeddings.

    Parameters
    ----------
    z1, z2 : (N, D) float arrays of one dtype
        Row n of ``z1`` and row n of ``z2`` embed two views of image n.
    temperature : float > 0
        Divides the cosine similarities (SimCLR: 0.1 - 1; smaller is sharper).

    Returns
    -------
    loss : () array, the inputs' dtype
        ``mean over k of -log(exp(s[k, p(k)]) / sum_{j != k} exp(s[k, j]))``
        with ``s = cos(z_k, z_j) / temperature`` over the stacked (2N, D) rows
        and ``p(k) = k + N mod 2N``. N = 0 gives NaN (a mean over nothing).
    cache : for ``nt_xent_backward``
    """
    n = z1.shape[0]
    z = np.concatenate([z1, z2])
    u, denom = _unit_rows(z)
    logits = u @ u.T
    logits /= z.dtype.type(temperature)
    np.fill_diagonal(logits, -np.inf)
    partner = np.concatenate([np.arange(n, 2 * n), np.arange(n)])
    loss, ce_cache = cross_entropy_forward(logits, partner)
    return loss, (u, denom, temperature, ce_cache)


def nt_xent_backward(dout, cache):
    """``(dz1, dz2)`` of ``nt_xent_forward``, each (N, D)."""
    u, denom, temperature, ce_cache = cache
    dlogits = cross_entropy_backward(dout, ce_cache)[0]
    dlogits /= u.dtype.type(temperature)
    dz = _unit_rows_backward((dlogits + dlogits.T) @ u, u, denom)
    n = len(u) // 2
    return dz[:n], dz[n:]


def _unit_rows(z):
    """``(u, denom)``: the rows of ``z`` (M, D) divided by their lengths (at least NORM_EPS),
    and those divisors (M, 1)."""
    denom = np.maximum(np.sqrt(np.einsum("ij,ij->i", z, z)), z.dtype.type(NORM_EPS))[:, None]
    return z / denom, denom


def _unit_rows_backward(du, u, denom):
    """The gradient with respect to ``z`` of ``u = _unit_rows(z)[0]`` given ``du``: the
    change of each row's direction, ``(du - u (u . du)) / |z|``; a row shorter than NORM_EPS
    was divided by a constant, so it keeps its radial part."""
    radial = np.einsum("ij,ij->i", u, du)[:, None] * (denom > NORM_EPS)
    return (du - u * radial) / denom


NTXentFunction = Function.from_pair(nt_xent_forward, nt_xent_backward, name="NTXent")


def nt_xent_loss(z1, z2, temperature=0.5):
    """SimCLR's NT-Xent loss of two views' embeddings (see ``nt_xent_forward``).

    Parameters
    ----------
    z1, z2 : Tensor (N, D), float32 or float64, one shape and dtype
        Projections of two augmentations of the same N images (row n of each
        is a positive pair; every other row of the 2N is a negative).
    temperature : float > 0

    Returns
    -------
    Tensor ()
        The mean over the 2N rows; gradients flow to both ``z1`` and ``z2``.
    """
    func = "nt_xent_loss"
    a = check_float_array(func, "z1", z1, ndim=2, layout="(N, D)")
    b = check_float_array(func, "z2", z2, ndim=2, layout="(N, D)")
    if a.shape != b.shape:
        raise ValueError(f"{func}: z2 must have z1's shape {a.shape}, got {b.shape}")
    check_same_dtype(func, z1=a, z2=b)
    temperature = check_number(func, "temperature", temperature, low=0, low_open=True)
    return NTXentFunction.apply(z1, z2, temperature=temperature)


def info_nce_forward(query, key, queue, temperature=0.2):
    """MoCo's InfoNCE loss of queries against their keys and a queue of negative keys.

    Parameters
    ----------
    query : (N, D) float array
        The query encoder's embeddings of one view of N images.
    key : (N, D) float array, query's dtype
        Row n embeds another view of image n (MoCo: by the key encoder): query n's positive.
    queue : (K, D) float array, query's dtype
        Keys of earlier batches, every one a negative for every query (K >= 0).
    temperature : float > 0
        Divides the cosine similarities (MoCo: 0.07; MoCo v2: 0.2).

    Returns
    -------
    loss : () array, the inputs' dtype
        ``mean over n of -log(exp(s_n+) / (exp(s_n+) + sum_j exp(s_nj)))`` with
        ``s_n+ = cos(query_n, key_n) / temperature`` and ``s_nj = cos(query_n, queue_j) /
        temperature``: the cross-entropy of the (N, 1 + K) logits with target 0.
        All rows are scaled to unit length first (the queue's are, in MoCo, already).
        N = 0 gives NaN (a mean over nothing).
    cache : for ``info_nce_backward``
    """
    u, u_denom = _unit_rows(query)
    v, v_denom = _unit_rows(key)
    w, w_denom = _unit_rows(queue)
    logits = np.concatenate([np.einsum("ij,ij->i", u, v)[:, None], u @ w.T], axis=1)
    logits /= u.dtype.type(temperature)
    loss, ce_cache = cross_entropy_forward(logits, np.zeros(len(u), dtype=np.int64))
    return loss, ((u, u_denom), (v, v_denom), (w, w_denom), temperature, ce_cache)


def info_nce_backward(dout, cache, needs_grad=(True, True, True)):
    """``(dquery, dkey, dqueue)`` of ``info_nce_forward``, of the inputs' shapes (None where
    ``needs_grad`` says a gradient is not wanted; MoCo needs only the query's)."""
    (u, u_denom), (v, v_denom), (w, w_denom), temperature, ce_cache = cache
    dlogits = cross_entropy_backward(dout, ce_cache)[0]
    dlogits /= u.dtype.type(temperature)
    dpos, dneg = dlogits[:, :1], dlogits[:, 1:]
    dquery = _unit_rows_backward(dpos * v + dneg @ w, u, u_denom) if needs_grad[0] else None
    dkey = _unit_rows_backward(dpos * u, v, v_denom) if needs_grad[1] else None
    dqueue = _unit_rows_backward(dneg.T @ u, w, w_denom) if needs_grad[2] else None
    return dquery, dkey, dqueue


InfoNCEFunction = Function.from_pair(info_nce_forward, info_nce_backward, name="InfoNCE")


def info_nce_loss(query, key, queue, temperature=0.2):
    """MoCo's InfoNCE loss (see ``info_nce_forward``).

    Parameters
    ----------
    query : Tensor (N, D), float32 or float64
        Embeddings that receive the gradient (MoCo's query encoder).
    key : Tensor or array (N, D), query's shape and dtype
        Each query's positive; MoCo passes the key encoder's output without a graph.
    queue : Tensor or array (K, D), query's dtype and width
        Negative keys shared by all queries (K = 0: only the positive, loss 0).
    temperature : float > 0

    Returns
    -------
    Tensor ()
        The mean over the N queries; gradients flow to every input that requires one.
    """
    func = "info_nce_loss"
    q = check_float_array(func, "query", query, ndim=2, layout="(N, D)")
    k = check_float_array(func, "key", key, ndim=2, layout="(N, D)")
    bank = check_float_array(func, "queue", queue, ndim=2, layout="(K, D)")
    if k.shape != q.shape:
        raise ValueError(f"{func}: key must have query's shape {q.shape}, got {k.shape}")
    if bank.shape[1] != q.shape[1]:
        raise ValueError(f"{func}: queue must have D = {q.shape[1]} columns as query, got shape {bank.shape}")
    check_same_dtype(func, query=q, key=k, queue=bank)
    temperature = check_number(func, "temperature", temperature, low=0, low_open=True)
    return InfoNCEFunction.apply(query, key, queue, temperature=temperature)
