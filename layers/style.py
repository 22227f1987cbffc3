"""Style transfer's losses (Gatys et al.), with CS231n's definitions.

- ``gram_matrix``: the (C, C) channel correlations of a feature map, the
  texture statistic; normalised (by default) by the number of feature
  values ``C * H * W``, as in CS231n.
- ``content_loss``: ``weight * sum((x - target)**2)`` of one layer's features.
- ``style_loss``: ``sum_l weight_l * sum((gram(x_l) - target_l)**2)`` over
  the chosen layers.
- ``total_variation_loss``: ``weight * (sum of squared differences of
  vertically neighbouring pixels + of horizontally neighbouring ones)``,
  summed over channels and images, not averaged.

Every loss is a sum (CS231n's choice), not a mean: the weights carry the
scale. The Gram matrix and total variation are CS231n pairs; the content
and style losses are a summed squared error (``losses.mse_forward``) on top
of them, so the arithmetic lives once.
"""
import numpy as np

from minigrad import Function
from minigrad.validation import check_bool, check_float_array, check_number, check_same_dtype

from .losses import MSEFunction

_IMAGE = "(N, C, H, W)"


# ---------------------------------------------------------- Gram matrix
def gram_matrix_forward(x, normalize=True):
    """Gram matrices of feature maps.

    Parameters
    ----------
    x : (N, C, H, W)
    normalize : bool
        Divide by ``C * H * W`` (CS231n's normalisation; 1 when the map is empty).

    Returns
    -------
    gram : (N, C, C), ``gram[n, c, d] = sum_{h, w} x[n, c, h, w] x[n, d, h, w] / scale``
    cache : for ``gram_matrix_backward``
    """
    n, c, h, w = x.shape
    features = x.reshape(n, c, h * w)
    scale = x.dtype.type(1.0 / (c * h * w) if normalize and c * h * w else 1.0)
    gram = features @ features.transpose(0, 2, 1)
    gram *= scale
    return gram, (features, scale, x.shape)


def gram_matrix_backward(dout, cache):
    """dx (N, C, H, W) = ``(dout + dout^T) @ features * scale``, reshaped."""
    features, scale, shape = cache
    dfeatures = (dout + dout.transpose(0, 2, 1)) @ features
    dfeatures *= scale
    return dfeatures.reshape(shape)


# ------------------------------------------------------ total variation
def total_variation_forward(x, weight=1.0):
    """CS231n's total variation loss of images.

    Parameters
    ----------
    x : (N, C, H, W)
    weight : float

    Returns
    -------
    loss : () ``weight * (sum (x[..., i+1, :] - x[..., i, :])**2 + sum (x[..., j+1] - x[..., j])**2)``
    cache : for ``total_variation_backward``
    """
    down = x[:, :, 1:, :] - x[:, :, :-1, :]
    right = x[:, :, :, 1:] - x[:, :, :, :-1]
    loss = weight * (np.square(down).sum() + np.square(right).sum())
    return np.asarray(loss, dtype=x.dtype), (down, right, weight, x.shape)


def total_variation_backward(dout, cache):
    """dx (N, C, H, W): each difference pushes its two pixels apart by ``2 weight dout (difference)``."""
    down, right, weight, shape = cache
    dx = np.zeros(shape, dtype=down.dtype)
    scale = down.dtype.type(2 * weight * float(dout))
    dx[:, :, 1:, :] += down
    dx[:, :, :-1, :] -= down
    dx[:, :, :, 1:] += right
    dx[:, :, :, :-1] -= right
    dx *= scale
    return dx


GramMatrixFunction = Function.from_pair(gram_matrix_forward, gram_matrix_backward, name="GramMatrix")
TotalVariationFunction = Function.from_pair(total_variation_forward, total_variation_backward,
                                            name="TotalVariation")


# ------------------------------------------------------ Tensor functions
def gram_matrix(x, normalize=True):
    """Gram matrices (N, C, C) of a feature Tensor ``x`` (N, C, H, W); see ``gram_matrix_forward``.

    ``normalize=True`` divides by ``C * H * W`` (CS231n); False gives the plain sums.
    """
    check_float_array("gram_matrix", "x", x, ndim=4, layout=_IMAGE)
    return GramMatrixFunction.apply(x, normalize=check_bool("gram_matrix", "normalize", normalize))


def _check_target(func, name, x, target, shape):
    """``target`` as an array of ``shape`` and x's dtype (a constant: no gradient is taken)."""
    ta = check_float_array(func, name, target)
    if ta.shape != shape:
        raise ValueError(f"{func}: {name} must have shape {shape}, got {ta.shape}")
    check_same_dtype(func, x=x, **{name: ta})
    return ta


def _per_layer(func, name, value):
    """``value`` as a list (one entry per layer); a lone Tensor, array or number is refused."""
    if isinstance(value, (list, tuple)):
        return list(value)
    raise TypeError(f"{func}: {name} must be a list or tuple with one entry per layer, "
                    f"got {type(value).__name__}")


def content_loss(x, target, weight=1.0):
    """CS231n's content loss ``weight * sum((x - target)**2)`` of one layer's features.

    Parameters
    ----------
    x : Tensor (N, C, H, W), features of the image being optimised
    target : array (N, C, H, W), the content image's features (x's dtype; no gradient)
    weight : float >= 0
    """
    func = "content_loss"
    xa = check_float_array(func, "x", x, ndim=4, layout=_IMAGE)
    ta = _check_target(func, "target", xa, target, xa.shape)
    weight = check_number(func, "weight", weight, low=0)
    return MSEFunction.apply(x, ta, reduction="sum") * xa.dtype.type(weight)


def style_loss(features, targets, weights, normalize=True):
    """CS231n's style loss: ``sum_l weights[l] * sum((gram(features[l]) - targets[l])**2)``.

    Parameters
    ----------
    features : sequence of Tensors (N, C_l, H_l, W_l)
        The optimised image's features at the chosen layers.
    targets : sequence of arrays (N, C_l, C_l)
        The style image's Gram matrices at the same layers, computed with the
        same ``normalize`` (``gram_matrix(style_features).data``; no gradient).
    weights : sequence of floats >= 0, one per layer
    normalize : bool
        Gram matrices divided by ``C_l H_l W_l`` (CS231n) or plain sums.

    Returns
    -------
    Tensor ()
    """
    func = "style_loss"
    normalize = check_bool(func, "normalize", normalize)
    features, targets, weights = (_per_layer(func, name, value) for name, value in
                                  (("features", features), ("targets", targets), ("weights", weights)))
    if not features or not len(features) == len(targets) == len(weights):
        raise ValueError(f"{func}: features, targets and weights must have one entry per layer (at least one), "
                         f"got {len(features)}, {len(targets)} and {len(weights)}")
    checked = []
    for i, (x, target, weight) in enumerate(zip(features, targets, weights)):
        xa = check_float_array(func, f"features[{i}]", x, ndim=4, layout=_IMAGE)
        ta = _check_target(func, f"targets[{i}]", xa, target, xa.shape[:2] + xa.shape[1:2])
        checked.append((x, ta, xa.dtype.type(check_number(func, f"weights[{i}]", weight, low=0))))
    total = None
    for x, ta, weight in checked:
        gram = GramMatrixFunction.apply(x, normalize=normalize)
        term = MSEFunction.apply(gram, ta, reduction="sum") * weight
        total = term if total is None else total + term
    return total


def total_variation_loss(x, weight=1.0):
    """CS231n's total variation loss of an image Tensor ``x`` (N, C, H, W): ``weight`` times
    the summed squared differences of vertical and of horizontal neighbours."""
    func = "total_variation_loss"
    check_float_array(func, "x", x, ndim=4, layout=_IMAGE)
    return TotalVariationFunction.apply(x, weight=check_number(func, "weight", weight, low=0))
