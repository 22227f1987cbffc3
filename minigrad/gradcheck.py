"""Numerical gradients: how to check a backward pass you wrote by hand.

Three tools, from raw arrays to Tensors:

``numerical_gradient(f, x, dout)``
    Central differences of ``sum(f(x) * dout)`` with respect to every element
    of the array ``x``; ``f`` maps an ndarray to an ndarray.
``rel_error(a, b)``
    CS231n's relative error, ``max |a - b| / max(1e-8, |a| + |b|)`` taken
    element by element. In float64, a correct backward usually gives < 1e-7.
    ``gradcheck`` raises the 1e-8 floor (to 1e-3 of the largest gradient,
    or higher where the central differences' own round-off demands it) so
    that round-off on near-zero elements is not mistaken for a bug.
``gradcheck(fn, *inputs)``
    Runs ``fn`` on Tensors, backpropagates a random upstream gradient and
    compares every input's analytic gradient with the numerical one, all in
    float64. On failure it names the input and the worst element.

Typical use while writing a layer::

    x = Tensor(np.random.randn(4, 5), requires_grad=True)
    gradcheck(lambda t: MyLayer.apply(t, alpha=0.1), x)

Avoid points where the function has a kink (ReLU at 0, max with ties):
central differences straddle the kink and disagree with any one-sided slope.
"""
import numpy as np

from ._grad_mode import no_grad
from .tensor import Tensor
from .validation import check_finite


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` when analytic and numerical gradients disagree."""


def numerical_gradient(f, x, dout, h=1e-5):
    """Estimate d(sum(f(x) * dout))/dx by central differences.

    Parameters
    ----------
    f : callable
        Maps an ndarray (``x`` itself, modified in place) to an ndarray.
    x : ndarray
        The point; every element is perturbed by ``±h`` in turn and restored.
    dout : ndarray
        Upstream gradient, same shape as ``f(x)``.
    h : float
        Step size. 1e-5 balances truncation and round-off error in float64.

    Returns
    -------
    ndarray
        Same shape as ``x``.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"numerical_gradient: x must be a floating ndarray, got {type(x).__name__}")
    dout = np.asarray(dout)
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat_x, x):
        raise ValueError("numerical_gradient: x must be contiguous so it can be perturbed in place")
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + h
        plus = np.array(f(x), dtype=np.float64)
        flat_x[i] = original - h
        minus = np.array(f(x), dtype=np.float64)
        flat_x[i] = original
        # Differencing the outputs before weighting keeps round-off small.
        flat_grad[i] = np.sum((plus - minus) * dout) / (2 * h)
    return grad


def rel_error(a, b, floor=1e-8):
    """Maximum element-wise relative error ``|a - b| / max(floor, |a| + |b|)``.

    With the default ``floor`` this is exactly CS231n's definition.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(_elementwise_rel_error(a, b, floor)))


def _elementwise_rel_error(a, b, floor):
    return np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b))


def _noise_floor(analytic, numeric, roundoff, tol):
    """Denominator floor for ``gradcheck``: what relative errors can be measured against.

    Central differences carry an absolute round-off error of about
    ``roundoff`` = eps * sum|f * dout| / h. For an element whose true gradient
    is tiny next to the others (a variance at a point near the mean, say),
    that error alone would exceed any relative tolerance. So elements are
    measured against at least 1e-3 of the input's largest gradient, and
    against at least ``roundoff / tol``: an absolute disagreement within the
    round-off then passes, and every larger one is still caught.
    """
    scale = np.max(np.abs(analytic) + np.abs(numeric)) if analytic.size else 0.0
    return max(1e-8, 1e-3 * scale, roundoff / tol)


def gradcheck(fn, *inputs, h=1e-5, tol=1e-7, seed=0):
    """Compare analytic and numerical gradients of ``fn`` for every input.

    Parameters
    ----------
    fn : callable
        Takes Tensors (in the order of ``inputs``) and returns one Tensor.
    *inputs : Tensor or ndarray
        Points to check at. Each is copied to float64; the ones that are
        Tensors with ``requires_grad=True`` (or ndarrays) are checked.
    h : float
        Central-difference step.
    tol : float
        Largest acceptable ``rel_error``.
    seed : int
        Seed of the random upstream gradient.

    Returns
    -------
    list of float
        The relative error of each checked input, in order.

    Raises
    ------
    GradcheckError
        When an input's error exceeds ``tol`` or is NaN (a NaN gradient is
        never correct); the message gives the input, the worst element's
        index and both gradient values there.
    ValueError
        When an input holds NaN or inf.
    """
    arrays, checked = [], []
    for i, value in enumerate(inputs):
        is_tensor = isinstance(value, Tensor)
        data = value.data if is_tensor else np.asarray(value)
        if data.dtype.kind == "f":
            # A NaN or inf point has no meaningful finite differences.
            check_finite("gradcheck", f"input {i}", data)
            data = data.astype(np.float64)
            if not is_tensor or value.requires_grad:
                checked.append(i)
        arrays.append(data)
    if not checked:
        raise ValueError("gradcheck: no floating-point input requires grad")

    def run(arrs, requires):
        tensors = [Tensor(a, requires_grad=(k in requires)) for k, a in enumerate(arrs)]
        return tensors, fn(*tensors)

    tensors, out = run(arrays, checked)
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(dout)
    roundoff = np.finfo(np.float64).eps * float(np.sum(np.abs(out.data * dout))) / h

    errors = []
    for i in checked:
        analytic = tensors[i].grad if tensors[i].grad is not None else np.zeros_like(arrays[i])
        probe = [a.copy() for a in arrays]

        def f(x, i=i):
            probe[i] = x
            with no_grad():
                return run(probe, ())[1].data

        numeric = numerical_gradient(f, probe[i], dout, h=h)
        floor = _noise_floor(analytic, numeric, roundoff, tol)
        error = rel_error(analytic, numeric, floor)
        if not error <= tol:  # written so that a NaN error fails too
            per_element = _elementwise_rel_error(analytic, numeric, floor)
            # NaN sorts above every number here, so a NaN element is the worst.
            worst = np.unravel_index(np.argmax(np.nan_to_num(per_element, nan=np.inf)),
                                     per_element.shape)
            raise GradcheckError(
                f"gradcheck: input {i} (shape {arrays[i].shape}) has relative error "
                f"{error:.3e} > {tol:.1e}; worst element {tuple(int(w) for w in worst)}: "
                f"analytic {analytic[worst]:.10g}, numerical {numeric[worst]:.10g}"
            )
        errors.append(error)
    return errors
