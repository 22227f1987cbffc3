"""Contrastive loss of SimCLR: NT-Xent (normalised temperature-scaled cross entropy).

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
    denom = np.maximum(np.sqrt(np.einsum("ij,ij->i", z, z)), z.dtype.type(NORM_EPS))[:, None]
    u = z / denom
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
    du = (dlogits + dlogits.T) @ u
    # d(z / |z|) = (du - u (u . du)) / |z|; a row below NORM_EPS was divided by a constant.
    radial = np.einsum("ij,ij->i", u, du)[:, None] * (denom > NORM_EPS)
    dz = (du - u * radial) / denom
    n = len(u) // 2
    return dz[:n], dz[n:]


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
