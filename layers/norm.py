"""Normalisation layers: layer norm, batch norm (1-D and spatial), group norm.

All three standardise groups of values, ``xhat = (x - mean) * inv_std``, and
differ in which axes form a group and along which axis the affine ``weight,
bias`` runs. Layer and group norm use the row kernels of
``layers._kernels.norm`` (a group is a row; layer norm has a weight per
column, group norm one per channel, a run of columns); batch norm has its
own per-channel kernels.

Activations are not scanned for NaN/inf: a NaN propagates to the output (as
in PyTorch) and the training loop's non-finite guard reports it.
"""
import numpy as np

from minigrad import Function, Module, Parameter
from minigrad.validation import (
    check_bool, check_float_array, check_float_dtype, check_int, check_number, check_positive,
    check_same_dtype,
)

from ._kernels import norm as _kn
from .activations import ReLU, relu_backward


# -------------------------------------------------------------- LayerNorm
def layer_norm_forward(x, weight, bias, normalized_shape, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` axes of ``x``.

    Parameters
    ----------
    x : (..., *normalized_shape)
    weight, bias : normalized_shape, or None (each on its own: weight 1, bias 0)
    normalized_shape : tuple of int
    eps : float > 0

    Returns
    -------
    out : like x
    cache : for ``layer_norm_backward`` (x, and each row's mean and 1/std)
    """
    d = int(np.prod(normalized_shape))
    x2 = np.ascontiguousarray(x).reshape(-1, d)
    w, b = _row_affine(weight, bias, (1, d), x.dtype)
    out, mean, inv_std = _kn.rows_forward(x2, eps, w, b)
    given = (weight is not None, bias is not None)
    return out.reshape(x.shape), (x2, mean, inv_std, w, x.shape, tuple(normalized_shape), given)


def layer_norm_backward(dout, cache):
    """Gradients ``(dx, dweight, dbias)`` of ``layer_norm_forward`` (None for an absent weight or bias)."""
    x2, mean, inv_std, w, shape, normalized_shape, given = cache
    d2 = np.ascontiguousarray(dout, dtype=x2.dtype).reshape(x2.shape)
    dx, dw, db = _kn.rows_backward(d2, x2, mean, inv_std, w)
    dw, db = (g.reshape(normalized_shape).astype(x2.dtype) if has else None for g, has in zip((dw, db), given))
    return dx.reshape(shape), dw, db


def _row_affine(weight, bias, shape, dtype):
    """Row-kernel weight and bias of ``shape`` (G, D): the given ones reshaped, else ones / zeros."""
    w = np.ones(shape, dtype) if weight is None else np.ascontiguousarray(weight, dtype=dtype).reshape(shape)
    b = np.zeros(shape, dtype) if bias is None else np.ascontiguousarray(bias, dtype=dtype).reshape(shape)
    return w, b


LayerNormFunction = Function.from_pair(layer_norm_forward, layer_norm_backward)


def _as_shape(func, normalized_shape):
    """``normalized_shape`` (an int or a non-empty tuple/list of ints >= 1) as a tuple."""
    if isinstance(normalized_shape, (int, np.integer)) and not isinstance(normalized_shape, bool):
        normalized_shape = (normalized_shape,)
    if not isinstance(normalized_shape, (tuple, list)):
        raise TypeError(f"{func}: normalized_shape must be an int or a tuple of ints, "
                        f"got {normalized_shape!r}")
    if not normalized_shape:  # the right kind, an empty value
        raise ValueError(f"{func}: normalized_shape must not be empty, got {normalized_shape!r}")
    return tuple(check_int(func, "normalized_shape", s, low=1) for s in normalized_shape)


def _check_affine(func, xa, shape, **arrays):
    """Check each given array (weight, bias, running statistics) against x.

    Each is optional on its own (PyTorch's rule); a given one must be a float
    array of ``shape`` with x's dtype.
    """
    for name, value in arrays.items():
        array = None if value is None else check_float_array(func, name, value)
        if array is not None and array.shape != shape:
            raise ValueError(f"{func}: {name} must have shape {shape} for x of shape {xa.shape}, "
                             f"got {array.shape}")
    check_same_dtype(func, x=xa, **arrays)


def _check_channels(func, xa, num_channels=None):
    """x's number of channels C after checking x is (N, C, *) (at least 2-D), with
    C = ``num_channels`` when given."""
    if xa.ndim < 2 or num_channels not in (None, xa.shape[1]):
        with_c = "" if num_channels is None else f" with C={num_channels}"
        raise ValueError(f"{func}: x must be at least 2-D (N, C, *){with_c}, got shape {xa.shape}")
    return xa.shape[1]


def _check_ends_with(func, xa, shape):
    if xa.ndim < len(shape) or xa.shape[xa.ndim - len(shape):] != shape:
        raise ValueError(f"{func}: x must end with normalized_shape {shape}, got shape {xa.shape}")


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation of a Tensor over its trailing ``normalized_shape`` axes
    (like ``torch.nn.functional.layer_norm``).

    Parameters
    ----------
    x : Tensor (..., *normalized_shape), float32 or float64
    normalized_shape : int or tuple of int
        The trailing axes normalised together.
    weight, bias : Tensor normalized_shape, or None
        Affine map after normalising (each optional, as in PyTorch); x's dtype.
    eps : float > 0
        Added to the variance.
    """
    func = "layer_norm"
    xa = check_float_array(func, "x", x)
    shape = _as_shape(func, normalized_shape)
    _check_ends_with(func, xa, shape)
    _check_affine(func, xa, shape, weight=weight, bias=bias)
    eps = check_positive(func, "eps", eps)
    return LayerNormFunction.apply(x, weight, bias, normalized_shape=shape, eps=eps)


class LayerNorm(Module):
    """``LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True)``.

    Attributes
    ----------
    weight : Parameter normalized_shape, initialised to ones (None without affine)
    bias : Parameter normalized_shape, initialised to zeros (None without affine)
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, dtype=np.float32):
        super().__init__()
        dtype = check_float_dtype("LayerNorm", "dtype", dtype)
        self.normalized_shape = _as_shape("LayerNorm", normalized_shape)
        self.eps = check_positive("LayerNorm", "eps", eps)
        self.elementwise_affine = check_bool("LayerNorm", "elementwise_affine", elementwise_affine)
        if elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype))
        else:
            self.weight = self.bias = None

    def forward(self, x):
        xa = check_float_array("LayerNorm", "x", x)
        _check_ends_with("LayerNorm", xa, self.normalized_shape)
        check_same_dtype("LayerNorm", weight=self.weight, x=xa)
        return LayerNormFunction.apply(x, self.weight, self.bias,
                                       normalized_shape=self.normalized_shape, eps=self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}"
        )


# -------------------------------------------------------------- BatchNorm
def batch_norm_forward(x, weight=None, bias=None, running_mean=None, running_var=None, training=False,
                       momentum=0.1, eps=1e-5, relu=False):
    """Batch normalisation over every axis but the channel axis 1.

    Parameters
    ----------
    x : (N, C) or (N, C, L) or (N, C, H, W)
    weight, bias : (C,) or None (no affine: weight = 1, bias = 0)
    running_mean, running_var : (C,) or None
        In training they are updated in place, PyTorch's way:
        ``running = (1 - momentum) * running + momentum * batch_stat``, with the
        unbiased batch variance (an empty batch leaves them alone). In
        evaluation they normalise ``x`` (if None, evaluation also uses batch
        statistics).
    training : bool
        Default False, as ``torch.nn.functional.batch_norm``: a call that does
        not say so never changes the running statistics.
    momentum : float in [0, 1]
    eps : float > 0
    relu : bool
        Return ``relu(out)``, computed in the same pass over memory: the ReLU
        that usually follows, without a pass and an array of its own.

    Returns
    -------
    out : like x
    cache : for ``batch_norm_backward``
    """
    n_channels = x.shape[1]
    # Explicit sizes: reshape(-1) cannot infer a length for an empty batch.
    x3 = np.ascontiguousarray(x).reshape(x.shape[0], n_channels, int(np.prod(x.shape[2:])))
    count = x3.shape[0] * x3.shape[2]
    use_batch = training or running_mean is None
    if use_batch and count == 0:
        # No values, no statistics: 0 and 1 keep the weight gradients (zero) finite.
        mean, var = np.zeros(n_channels), np.ones(n_channels)
    elif use_batch:
        mean, var = _kn.channel_stats(x3)
        if training and running_mean is not None:
            unbiased = var * (count / (count - 1))
            running_mean *= 1 - momentum
            running_mean += momentum * mean
            running_var *= 1 - momentum
            running_var += momentum * unbiased
    else:
        mean, var = running_mean.astype(np.float64), running_var.astype(np.float64)
    inv_std = 1.0 / np.sqrt(var + eps)
    g = np.ones(n_channels) if weight is None else weight.astype(np.float64)
    shift = np.zeros(n_channels) if bias is None else bias.astype(np.float64)
    out = _kn.channel_combine(x3, x3, mean, np.zeros(n_channels), g * inv_std, shift, relu)
    given = (weight is not None, bias is not None)
    # After ReLU, the output is where the normalised value was positive: the gradient's mask.
    return out.reshape(x.shape), (x3, mean, inv_std, g, use_batch, x.shape, given, out if relu else None)


def batch_norm_backward(dout, cache):
    """Gradients ``(dx, dweight, dbias)`` of ``batch_norm_forward``.

    With batch statistics, x also moves the mean and variance, giving
    ``dx = weight * inv_std * (dout - mean(dout) - xhat * mean(dout * xhat))``
    per channel; with running statistics only the first term remains. After a
    fused ReLU, ``dout`` first goes through ReLU's backward.
    dweight, dbias are None for an absent weight or bias.
    """
    x3, mean, inv_std, g, use_batch, shape, given, relu_out = cache
    d3 = np.ascontiguousarray(dout, dtype=x3.dtype).reshape(x3.shape)
    if relu_out is not None:
        d3 = relu_backward(d3, relu_out)
    s_dy, s_dyx = _kn.channel_grad_sums(d3, x3, mean)
    k = g * inv_std
    count = x3.shape[0] * x3.shape[2]
    if use_batch and count:
        b, shift = -k * inv_std**2 * s_dyx / count, -k * s_dy / count
    else:
        b = shift = np.zeros_like(k)
    dx = _kn.channel_combine(d3, x3, mean, k, b, shift).reshape(shape)
    dweight = (s_dyx * inv_std).astype(x3.dtype) if given[0] else None
    return dx, dweight, s_dy.astype(x3.dtype) if given[1] else None


BatchNormFunction = Function.from_pair(batch_norm_forward, batch_norm_backward)


def batch_norm(x, weight=None, bias=None, running_mean=None, running_var=None, training=False,
               momentum=0.1, eps=1e-5, relu=False):
    """Batch normalisation of a Tensor, like ``torch.nn.functional.batch_norm``
    (whose argument order differs: ours is data, weight, bias, then the rest).

    Parameters
    ----------
    x : Tensor (N, C, *), float32 or float64
    weight, bias : Tensor (C,) or None
        Per-channel affine map; x's dtype.
    running_mean, running_var : ndarray (C,) or None
        x's dtype. Updated in place when ``training``; used for normalising
        otherwise.
    training : bool
        Default False (evaluation), as in PyTorch.
    momentum : float in [0, 1]
    eps : float > 0
    relu : bool
        Return ``relu(batch_norm(...))`` from one pass (see ``batch_norm_forward``).
    """
    func = "batch_norm"
    xa = check_float_array(func, "x", x)
    _check_channels(func, xa)
    _check_running_stats(func, running_mean, running_var)
    _check_affine(func, xa, (xa.shape[1],), weight=weight, bias=bias, running_mean=running_mean,
                  running_var=running_var)
    training = check_bool(func, "training", training)
    momentum = check_number(func, "momentum", momentum, low=0, high=1)
    eps = check_positive(func, "eps", eps)
    _check_batch_size(func, xa, training)
    relu = check_bool(func, "relu", relu)
    return BatchNormFunction.apply(x, weight, bias, running_mean=running_mean, running_var=running_var,
                                   training=training, momentum=momentum, eps=eps, relu=relu)


def _check_running_stats(func, running_mean, running_var):
    """Both ndarrays (they are updated in place) or both None."""
    stats = {"running_mean": running_mean, "running_var": running_var}
    for name, value in stats.items():
        if value is not None and not isinstance(value, np.ndarray):
            raise TypeError(f"{func}: {name} must be an ndarray (updated in place) or None, "
                            f"got {type(value).__name__}")
    if (running_mean is None) != (running_var is None):
        given, missing = stats if running_var is None else reversed(list(stats))
        raise ValueError(f"{func}: {missing} must be an ndarray when {given} is given, got None")


def _check_batch_size(func, xa, training):
    # One value per channel has no variance; an empty batch is fine (empty output).
    if training and xa.size and xa.size // max(xa.shape[1], 1) <= 1:
        raise ValueError(
            f"{func}: training needs more than one value per channel, got x of shape {xa.shape}"
        )


class _BatchNorm(Module):
    """Shared body of ``BatchNorm1d`` and ``BatchNorm2d``; subclasses set the layouts."""

    _ndims = ()
    _layout = ""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, dtype=np.float32):
        super().__init__()
        name = type(self).__name__
        dtype = check_float_dtype(name, "dtype", dtype)
        self.num_features = check_int(name, "num_features", num_features, low=1)
        self.eps = check_positive(name, "eps", eps)
        self.momentum = None if momentum is None else check_number(name, "momentum", momentum, low=0, high=1)
        self.affine = check_bool(name, "affine", affine)
        self.track_running_stats = check_bool(name, "track_running_stats", track_running_stats)
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

    def forward(self, x, relu=False):
        """x : (N, C) or (N, C, *) -> the same shape; ``relu=True`` returns ``relu(self(x))``
        from one pass over memory (``Sequential`` asks for it when a ``ReLU`` follows)."""
        name = type(self).__name__
        relu = check_bool(name, "relu", relu)
        xa = check_float_array(name, "x", x)
        if xa.ndim not in self._ndims or xa.shape[1] != self.num_features:
            raise ValueError(f"{name}: x must be {self._layout} with C={self.num_features}, got shape {xa.shape}")
        check_same_dtype(name, weight=self.weight, running_mean=self.running_mean, x=xa)
        training = self.training or not self.track_running_stats
        _check_batch_size(name, xa, training)
        updating = self.training and self.track_running_stats
        tracked = self.num_batches_tracked + 1 if updating else None
        momentum = self.momentum
        if momentum is None:  # a cumulative moving average, as in PyTorch
            momentum = 1.0 / float(tracked) if updating else 0.0
        out = BatchNormFunction.apply(
            x, self.weight, self.bias, running_mean=self.running_mean, running_var=self.running_var,
            training=training, momentum=momentum, eps=self.eps, relu=relu,
        )
        if updating:  # only once the batch was accepted
            self.num_batches_tracked = tracked
        return out

    def forward_fused(self, x, following):
        """``following(self(x))`` in one call where they fuse (a ``ReLU``), else None."""
        return self.forward(x, relu=True) if type(following) is ReLU else None

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
    ``eps`` must be > 0, ``momentum`` in [0, 1] or None (a cumulative average
    of the batch statistics).
    """

    _ndims = (2, 3)
    _layout = "2-D (N, C) or 3-D (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """``BatchNorm2d(num_features, ...)`` over (N, C, H, W): spatial batch norm,
    statistics per channel over N, H and W. Arguments as ``BatchNorm1d``."""

    _ndims = (4,)
    _layout = "4-D (N, C, H, W)"


# -------------------------------------------------------------- GroupNorm
def group_norm_forward(x, weight, bias, num_groups, eps=1e-5):
    """Normalise each of ``num_groups`` groups of channels per sample.

    Parameters
    ----------
    x : (N, C, *), C divisible by num_groups
    weight, bias : (C,) or None
    num_groups : int
    eps : float > 0

    Returns
    -------
    out : like x
    cache : for ``group_norm_backward``
    """
    n, c = x.shape[:2]
    spatial = int(np.prod(x.shape[2:]))
    # Explicit row length: reshape(-1) cannot infer it for an empty batch.
    rows = np.ascontiguousarray(x).reshape(n * num_groups, c // num_groups * spatial)
    # Row (sample, group) g holds its C/G channels' runs of spatial columns; w, b are (G, C/G).
    w, b = _row_affine(weight, bias, (num_groups, c // num_groups), x.dtype)
    out, mean, inv_std = _kn.groups_forward(rows, eps, w, b)
    return out.reshape(x.shape), (rows, mean, inv_std, w, x.shape, (weight is not None, bias is not None))


def group_norm_backward(dout, cache):
    """Gradients ``(dx, dweight, dbias)`` of ``group_norm_forward`` (None for an absent weight or bias)."""
    rows, mean, inv_std, w, shape, given = cache
    d2 = np.ascontiguousarray(dout, dtype=rows.dtype).reshape(rows.shape)
    dx, dw, db = _kn.groups_backward(d2, rows, mean, inv_std, w)
    dw, db = (g.reshape(shape[1]).astype(rows.dtype) if has else None for g, has in zip((dw, db), given))
    return dx.reshape(shape), dw, db


GroupNormFunction = Function.from_pair(group_norm_forward, group_norm_backward)


def _check_groups(func, num_groups, num_channels):
    """``num_groups`` as an int >= 1 dividing ``num_channels``."""
    num_groups = check_int(func, "num_groups", num_groups, low=1)
    if num_channels % num_groups:
        raise ValueError(f"{func}: num_groups must divide the number of channels C={num_channels}, "
                         f"got {num_groups}")
    return num_groups


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation of a Tensor, like ``torch.nn.functional.group_norm``.

    Parameters
    ----------
    x : Tensor (N, C, *), float32 or float64
    num_groups : int >= 1 dividing C
    weight, bias : Tensor (C,) or None (each optional, as in PyTorch); x's dtype
    eps : float > 0
    """
    func = "group_norm"
    xa = check_float_array(func, "x", x)
    num_groups = _check_groups(func, num_groups, _check_channels(func, xa))
    _check_affine(func, xa, (xa.shape[1],), weight=weight, bias=bias)
    eps = check_positive(func, "eps", eps)
    return GroupNormFunction.apply(x, weight, bias, num_groups=num_groups, eps=eps)


class GroupNorm(Module):
    """``GroupNorm(num_groups, num_channels, eps=1e-5, affine=True)`` over (N, C, *).

    weight starts at ones, bias at zeros (PyTorch's default).
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=np.float32):
        super().__init__()
        dtype = check_float_dtype("GroupNorm", "dtype", dtype)
        self.num_channels = check_int("GroupNorm", "num_channels", num_channels, low=1)
        self.num_groups = _check_groups("GroupNorm", num_groups, self.num_channels)
        self.eps = check_positive("GroupNorm", "eps", eps)
        self.affine = check_bool("GroupNorm", "affine", affine)
        if affine:
            self.weight = Parameter(np.ones(num_channels, dtype=dtype))
            self.bias = Parameter(np.zeros(num_channels, dtype=dtype))
        else:
            self.weight = self.bias = None

    def forward(self, x):
        xa = check_float_array("GroupNorm", "x", x)
        _check_channels("GroupNorm", xa, self.num_channels)
        check_same_dtype("GroupNorm", weight=self.weight, x=xa)
        return GroupNormFunction.apply(x, self.weight, self.bias, num_groups=self.num_groups, eps=self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"
