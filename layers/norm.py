"""Normalisation layers: layer norm, batch norm (1-D and spatial), group norm.

All three standardise groups of values, ``xhat = (x - mean) * inv_std``, and
differ in which axes form a group and along which axis the affine ``gamma,
beta`` runs. Layer and group norm share the row kernels of
``layers._kernels.norm`` (a group is a row); batch norm has its own
per-channel kernels.
"""
import numpy as np

from minigrad import Function, Module, Parameter

from ._kernels import norm as _kn
from ._validation import require_finite, require_float


# -------------------------------------------------------------- LayerNorm
def layer_norm_forward(x, normalized_shape, weight, bias, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` axes of ``x``.

    Parameters
    ----------
    x : (..., *normalized_shape)
    weight, bias : normalized_shape, or None (no affine)
    eps : float

    Returns
    -------
    out : like x
    cache : for ``layer_norm_backward`` (x, and each row's mean and 1/std)
    """
    d = int(np.prod(normalized_shape))
    x2 = np.ascontiguousarray(x).reshape(-1, d)
    w, b = _row_affine(weight, bias, (1, d), x.dtype)
    out, mean, inv_std = _kn.rows_forward(x2, eps, w, b)
    w_shape = None if weight is None else weight.shape
    return out.reshape(x.shape), (x2, mean, inv_std, w, x.shape, w_shape)


def layer_norm_backward(dout, cache):
    """Gradients ``(dx, dweight, dbias)`` of ``layer_norm_forward`` (None without affine)."""
    x2, mean, inv_std, w, shape, w_shape = cache
    d2 = np.ascontiguousarray(dout, dtype=x2.dtype).reshape(x2.shape)
    dx, dw, db = _kn.rows_backward(d2, x2, mean, inv_std, w)
    if w_shape is None:
        return dx.reshape(shape), None, None
    return dx.reshape(shape), dw.reshape(w_shape).astype(x2.dtype), db.reshape(w_shape).astype(x2.dtype)


def _row_affine(weight, bias, shape, dtype):
    """Row-kernel weights of ``shape`` (G, D): the given ones reshaped, or ones/zeros."""
    if weight is None:
        return np.ones(shape, dtype), np.zeros(shape, dtype)
    return (np.ascontiguousarray(weight, dtype=dtype).reshape(shape),
            np.ascontiguousarray(bias, dtype=dtype).reshape(shape))


class LayerNormFunction(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, normalized_shape, eps):
        out, ctx.cache = layer_norm_forward(x, normalized_shape, weight, bias, eps)
        return out

    @staticmethod
    def backward(ctx, grad):
        return layer_norm_backward(grad, ctx.cache)


def _as_shape(fn, normalized_shape):
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (normalized_shape,)
    shape = tuple(int(s) for s in normalized_shape)
    if not shape or min(shape) <= 0:
        raise ValueError(f"{fn}: normalized_shape must be positive ints, got {normalized_shape!r}")
    return shape


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation of a Tensor over its trailing ``normalized_shape`` axes
    (like ``torch.nn.functional.layer_norm``).

    Parameters
    ----------
    x : Tensor (..., *normalized_shape)
    normalized_shape : int or tuple of int
    weight, bias : Tensor normalized_shape, or both None
    eps : float
    """
    xa = require_float("layer_norm", "x", x)
    shape = _as_shape("layer_norm", normalized_shape)
    if xa.shape[xa.ndim - len(shape):] != shape or xa.ndim < len(shape):
        raise ValueError(
            f"layer_norm: x must end with normalized_shape {shape}, got shape {xa.shape}"
        )
    if (weight is None) != (bias is None):
        raise ValueError("layer_norm: give both weight and bias or neither")
    if weight is not None:
        for name, t in (("weight", weight), ("bias", bias)):
            if require_float("layer_norm", name, t).shape != shape:
                raise ValueError(
                    f"layer_norm: {name} must have shape {shape}, got {t.shape}"
                )
    return LayerNormFunction.apply(x, weight, bias, normalized_shape=shape, eps=float(eps))


class LayerNorm(Module):
    """``LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True)``.

    Attributes
    ----------
    weight : Parameter normalized_shape, initialised to ones (None without affine)
    bias : Parameter normalized_shape, initialised to zeros (None without affine)
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, dtype=np.float32):
        super().__init__()
        self.normalized_shape = _as_shape("LayerNorm", normalized_shape)
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
        else:
            self.weight = self.bias = None

    def forward(self, x):
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}"
        )


# -------------------------------------------------------------- BatchNorm
def batch_norm_forward(x, gamma, beta, running_mean=None, running_var=None, training=True,
                       momentum=0.1, eps=1e-5):
    """Batch normalisation over every axis but the channel axis 1.

    Parameters
    ----------
    x : (N, C) or (N, C, L) or (N, C, H, W)
    gamma, beta : (C,) or None (no affine: gamma = 1, beta = 0)
    running_mean, running_var : (C,) or None
        In training they are updated in place, PyTorch's way:
        ``running = (1 - momentum) * running + momentum * batch_stat``, with the
        unbiased batch variance. In evaluation they normalise ``x``
        (if None, evaluation also uses batch statistics).
    training : bool
    momentum : float
    eps : float

    Returns
    -------
    out : like x
    cache : for ``batch_norm_backward``
    """
    x3 = np.ascontiguousarray(x).reshape(x.shape[0], x.shape[1], -1)
    n_channels, count = x3.shape[1], x3.shape[0] * x3.shape[2]
    use_batch = training or running_mean is None
    if use_batch:
        mean, var = _kn.channel_stats(x3)
        if not (np.isfinite(mean).all() and np.isfinite(var).all()):
            raise ValueError("batch_norm: x contains NaN or inf")
        if training and running_mean is not None:
            unbiased = var * (count / (count - 1))
            running_mean *= 1 - momentum
            running_mean += momentum * mean
            running_var *= 1 - momentum
            running_var += momentum * unbiased
    else:
        mean, var = running_mean.astype(np.float64), running_var.astype(np.float64)
    inv_std = 1.0 / np.sqrt(var + eps)
    g = np.ones(n_channels) if gamma is None else gamma.astype(np.float64)
    shift = np.zeros(n_channels) if beta is None else beta.astype(np.float64)
    out = _kn.channel_combine(x3, x3, mean, np.zeros(n_channels), g * inv_std, shift)
    return out.reshape(x.shape), (x3, mean, inv_std, g, use_batch, x.shape, gamma is not None)


def batch_norm_backward(dout, cache):
    """Gradients ``(dx, dgamma, dbeta)`` of ``batch_norm_forward``.

    With batch statistics, x also moves the mean and variance, giving
    ``dx = gamma * inv_std * (dout - mean(dout) - xhat * mean(dout * xhat))``
    per channel; with running statistics only the first term remains.
    dgamma, dbeta are None without affine.
    """
    x3, mean, inv_std, g, use_batch, shape, affine = cache
    d3 = np.ascontiguousarray(dout, dtype=x3.dtype).reshape(x3.shape)
    s_dy, s_dyx = _kn.channel_grad_sums(d3, x3, mean)
    k = g * inv_std
    if use_batch:
        count = x3.shape[0] * x3.shape[2]
        b, shift = -k * inv_std**2 * s_dyx / count, -k * s_dy / count
    else:
        b = shift = np.zeros_like(k)
    dx = _kn.channel_combine(d3, x3, mean, k, b, shift).reshape(shape)
    if not affine:
        return dx, None, None
    return dx, (s_dyx * inv_std).astype(x3.dtype), s_dy.astype(x3.dtype)


class BatchNormFunction(Function):
    @staticmethod
    def forward(ctx, x, gamma, beta, running_mean, running_var, training, momentum, eps):
        out, ctx.cache = batch_norm_forward(
            x, gamma, beta, running_mean, running_var, training, momentum, eps
        )
        return out

    @staticmethod
    def backward(ctx, grad):
        return batch_norm_backward(grad, ctx.cache)


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Batch normalisation of a Tensor, like ``torch.nn.functional.batch_norm``.

    Parameters
    ----------
    x : Tensor (N, C, *)
    running_mean, running_var : ndarray (C,) or None
        Updated in place when ``training``; used for normalising otherwise.
    weight, bias : Tensor (C,) or None
    training : bool
    momentum, eps : float
    """
    xa = require_float("batch_norm", "x", x)
    if xa.ndim < 2:
        raise ValueError(f"batch_norm: x must be at least 2-D (N, C, *), got shape {xa.shape}")
    n_channels = xa.shape[1]
    for name, value in (("running_mean", running_mean), ("running_var", running_var),
                        ("weight", weight), ("bias", bias)):
        if value is not None and require_float("batch_norm", name, value).shape != (n_channels,):
            raise ValueError(
                f"batch_norm: {name} must have shape ({n_channels},) for x of shape {xa.shape}, "
                f"got {value.shape}"
            )
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var or neither")
    if running_mean is not None and not isinstance(running_mean, np.ndarray):
        raise TypeError("batch_norm: running_mean and running_var must be ndarrays (updated in place)")
    if training and xa.size // max(n_channels, 1) <= 1:
        raise ValueError(
            f"batch_norm: training needs more than one value per channel, got x of shape {xa.shape}"
        )
    if not (training or running_mean is None):
        require_finite("batch_norm", "x", xa)
    return BatchNormFunction.apply(
        x, weight, bias, running_mean=running_mean, running_var=running_var,
        training=bool(training), momentum=float(momentum), eps=float(eps),
    )


class _BatchNorm(Module):
    """Shared body of ``BatchNorm1d`` and ``BatchNorm2d``; subclasses set the layouts."""

    _ndims = ()
    _layout = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=np.float32):
        super().__init__()
        name = type(self).__name__
        if not isinstance(num_features, (int, np.integer)) or num_features <= 0:
            raise ValueError(f"{name}: num_features must be a positive int, got {num_features!r}")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum!r}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=dtype))
            self.bias = Parameter(np.zeros(num_features, dtype=dtype))
        else:
            self.weight = self.bias = None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.running_mean = self.running_var = None

    def forward(self, x):
        xa = require_float(type(self).__name__, "x", x)
        if xa.ndim not in self._ndims or xa.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}: x must be {self._layout} with C={self.num_features}, "
                f"got shape {xa.shape}"
            )
        updating = self.training and self.track_running_stats
        tracked = self.num_batches_tracked + 1 if updating else None
        momentum = self.momentum
        if momentum is None:  # a cumulative moving average, as in PyTorch
            momentum = 1.0 / float(tracked) if updating else 0.0
        out = batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias,
            training=self.training or not self.track_running_stats, momentum=momentum, eps=self.eps,
        )
        if updating:  # only once the batch was accepted
            self.num_batches_tracked = tracked
        return out

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """``BatchNorm1d(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)``
    over (N, C) or (N, C, L).

    weight starts at ones and bias at zeros; buffers ``running_mean`` (zeros),
    ``running_var`` (ones) and ``num_batches_tracked`` as in PyTorch.
    ``momentum=None`` gives a cumulative average of the batch statistics.
    """

    _ndims = (2, 3)
    _layout = "2-D (N, C) or 3-D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """``BatchNorm2d(num_features, ...)`` over (N, C, H, W): spatial batch norm,
    statistics per channel over N, H and W. Arguments as ``BatchNorm1d``."""

    _ndims = (4,)
    _layout = "4-D (N, C, H, W)"


# -------------------------------------------------------------- GroupNorm
def group_norm_forward(x, num_groups, gamma, beta, eps=1e-5):
    """Normalise each of ``num_groups`` groups of channels per sample.

    Parameters
    ----------
    x : (N, C, *), C divisible by num_groups
    gamma, beta : (C,) or None

    Returns
    -------
    out : like x
    cache : for ``group_norm_backward``
    """
    n, c = x.shape[:2]
    rows = np.ascontiguousarray(x).reshape(n * num_groups, -1)
    spatial = rows.shape[1] * num_groups // c
    # Row (sample, group) g uses each of its channels' weight over L columns.
    expand = lambda v: np.repeat(v.reshape(num_groups, c // num_groups), spatial, axis=1)  # noqa: E731
    if gamma is None:
        w, b = _row_affine(None, None, (num_groups, rows.shape[1]), x.dtype)
    else:
        w, b = expand(gamma.astype(x.dtype)), expand(beta.astype(x.dtype))
    out, mean, inv_std = _kn.rows_forward(rows, eps, w, b)
    return out.reshape(x.shape), (rows, mean, inv_std, w, x.shape, gamma is not None)


def group_norm_backward(dout, cache):
    """Gradients ``(dx, dgamma, dbeta)`` of ``group_norm_forward`` (None without affine)."""
    rows, mean, inv_std, w, shape, affine = cache
    d2 = np.ascontiguousarray(dout, dtype=rows.dtype).reshape(rows.shape)
    dx, dw, db = _kn.rows_backward(d2, rows, mean, inv_std, w)
    if not affine:
        return dx.reshape(shape), None, None
    # Sum each channel's L columns of the (G, C/G * L) weight gradients.
    per_channel = lambda g: g.reshape(shape[1], -1).sum(axis=1).astype(rows.dtype)  # noqa: E731
    return dx.reshape(shape), per_channel(dw), per_channel(db)


class GroupNormFunction(Function):
    @staticmethod
    def forward(ctx, x, gamma, beta, num_groups, eps):
        out, ctx.cache = group_norm_forward(x, num_groups, gamma, beta, eps)
        return out

    @staticmethod
    def backward(ctx, grad):
        return group_norm_backward(grad, ctx.cache)


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation of a Tensor (N, C, *), like ``torch.nn.functional.group_norm``."""
    xa = require_float("group_norm", "x", x)
    if xa.ndim < 2:
        raise ValueError(f"group_norm: x must be at least 2-D (N, C, *), got shape {xa.shape}")
    if num_groups <= 0 or xa.shape[1] % num_groups:
        raise ValueError(
            f"group_norm: C={xa.shape[1]} (x of shape {xa.shape}) must be divisible by "
            f"num_groups={num_groups}"
        )
    for name, value in (("weight", weight), ("bias", bias)):
        if value is not None and require_float("group_norm", name, value).shape != (xa.shape[1],):
            raise ValueError(f"group_norm: {name} must have shape ({xa.shape[1]},), got {value.shape}")
    if (weight is None) != (bias is None):
        raise ValueError("group_norm: give both weight and bias or neither")
    return GroupNormFunction.apply(x, weight, bias, num_groups=int(num_groups), eps=float(eps))


class GroupNorm(Module):
    """``GroupNorm(num_groups, num_channels, eps=1e-5, affine=True)`` over (N, C, *).

    weight starts at ones, bias at zeros (PyTorch's default).
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=np.float32):
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels={num_channels} must be divisible by num_groups={num_groups}"
            )
        self.num_groups, self.num_channels, self.eps = int(num_groups), int(num_channels), float(eps)
        self.affine = bool(affine)
        if affine:
            self.weight = Parameter(np.ones(num_channels, dtype=dtype))
            self.bias = Parameter(np.zeros(num_channels, dtype=dtype))
        else:
            self.weight = self.bias = None

    def forward(self, x):
        xa = require_float("GroupNorm", "x", x)
        if xa.ndim < 2 or xa.shape[1] != self.num_channels:
            raise ValueError(
                f"GroupNorm: x must be (N, C, *) with C={self.num_channels}, got shape {xa.shape}"
            )
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
