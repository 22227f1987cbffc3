"""The arithmetic of each update rule, in place on plain arrays.

Both the CS231n-style functional rules (``rules.py``) and the ``Optimizer``
classes (``optimizers.py``) call these functions, so the two can never drift
apart. Each one performs the same operations, in the same order, as the
single-tensor path of ``torch.optim``. PyTorch's CPU kernels fuse each
multiply-add (one rounding where NumPy rounds twice), so one step agrees to
about an ulp, and float64 trajectories of 200 steps to ~1e-13 unless the
dynamics themselves amplify tiny perturbations.

Conventions: ``param`` and the state arrays are updated in place; ``grad`` is
only read (weight decay makes a new array rather than touching the caller's
gradient). All arrays of one call share one shape.
"""
import numpy as np

from . import _fused


def lerp_(start, end, weight):
    """``start += weight * (end - start)`` in place, rounded like ``torch.lerp``.

    PyTorch switches formulas at ``weight = 0.5`` so that both ends of the
    interpolation are exact; matching it keeps Adam's first moment bitwise
    equal.
    """
    diff = end - start
    if abs(weight) < 0.5:
        diff *= weight
        start += diff
    else:
        diff *= 1.0 - weight
        np.subtract(end, diff, out=start)


def _with_l2(grad, param, weight_decay):
    """``grad + weight_decay * param`` as a new array (the L2 penalty's gradient)."""
    return grad + weight_decay * param if weight_decay != 0 else grad


def sgd_update(param, grad, momentum_buffer, *, lr, momentum=0.0, dampening=0.0,
               nesterov=False, weight_decay=0.0):
    """One SGD step with optional momentum, Nesterov momentum and L2 weight decay.

    ``b <- momentum * b + (1 - dampening) * g`` (``b = g`` on the first step),
    then ``w <- w - lr * b`` (or ``w <- w - lr * (g + momentum * b)`` with
    Nesterov), where ``g = dw + weight_decay * w``.

    Parameters
    ----------
    param, grad : ndarray, same shape
    momentum_buffer : ndarray or None
        The running buffer ``b``; None before the first step.

    Returns
    -------
    momentum_buffer : ndarray or None
        The (possibly new) buffer; None when ``momentum == 0``.
    """
    grad = _with_l2(grad, param, weight_decay)
    if momentum != 0:
        if momentum_buffer is None:
            momentum_buffer = np.array(grad, copy=True)
        else:
            momentum_buffer *= momentum
            momentum_buffer += (1.0 - dampening) * grad
        grad = grad + momentum * momentum_buffer if nesterov else momentum_buffer
    param -= lr * grad
    return momentum_buffer


def adagrad_update(param, grad, state_sum, step, *, lr, lr_decay=0.0, weight_decay=0.0,
                   eps=1e-10):
    """One AdaGrad step: ``s <- s + g**2``, ``w <- w - clr * g / (sqrt(s) + eps)``.

    ``clr = lr / (1 + (step - 1) * lr_decay)``; ``step`` counts from 1 and
    already includes this update.
    """
    grad = _with_l2(grad, param, weight_decay)
    clr = lr / (1 + (step - 1) * lr_decay)
    state_sum += grad * grad
    std = np.sqrt(state_sum)
    std += eps
    param += (-clr * grad) / std


def rmsprop_update(param, grad, square_avg, grad_avg, momentum_buffer, *, lr, alpha=0.99,
                   eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    """One RMSProp step (Hinton's, with PyTorch's optional centering and momentum).

    ``v <- alpha * v + (1 - alpha) * g**2``; with ``centered`` also
    ``m <- lerp(m, g, 1 - alpha)`` and ``v - m**2`` replaces ``v``. Then
    ``w <- w - lr * g / (sqrt(v) + eps)``, or through a momentum buffer
    ``b <- momentum * b + g / (sqrt(v) + eps)``, ``w <- w - lr * b``.

    ``grad_avg`` is used only when ``centered``, ``momentum_buffer`` only when
    ``momentum > 0`` (pass None otherwise).
    """
    grad = _with_l2(grad, param, weight_decay)
    square_avg *= alpha
    square_avg += (1.0 - alpha) * grad * grad
    if centered:
        lerp_(grad_avg, grad, 1.0 - alpha)
        avg = np.sqrt(square_avg - grad_avg * grad_avg)
    else:
        avg = np.sqrt(square_avg)
    avg += eps
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += grad / avg
        param -= lr * momentum_buffer
    else:
        param += (-lr * grad) / avg


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, *, lr, beta1=0.9,
                beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False,
                amsgrad=False):
    """One bias-corrected Adam step (AdamW with ``decoupled_weight_decay``).

    ``m <- lerp(m, g, 1 - beta1)``, ``v <- beta2 * v + (1 - beta2) * g**2``,
    ``w <- w - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)``.
    Weight decay is either added to the gradient (Adam's L2 penalty) or, when
    decoupled, applied to the weights first: ``w <- w * (1 - lr * weight_decay)``.
    With ``amsgrad`` the running maximum of ``v`` (``max_exp_avg_sq``, updated
    in place) replaces ``v`` in the denominator.

    ``step`` counts from 1 and already includes this update.
    """
    if weight_decay != 0:
        if decoupled_weight_decay:
            param *= 1.0 - lr * weight_decay
        else:
            grad = grad + weight_decay * param
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    step_size = lr / bias_correction1
    moments = (exp_avg, exp_avg_sq) + ((max_exp_avg_sq,) if amsgrad else ())
    if _fused.fusable(param, grad, *moments):
        _fused.adam(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq if amsgrad else None,
                    lerp_weight=1.0 - beta1, beta2=beta2, step_size=step_size,
                    bias_correction2_sqrt=bias_correction2 ** 0.5, eps=eps)
        return
    lerp_(exp_avg, grad, 1.0 - beta1)
    exp_avg_sq *= beta2
    exp_avg_sq += (1.0 - beta2) * grad * grad
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second_moment = max_exp_avg_sq
    else:
        second_moment = exp_avg_sq
    denom = np.sqrt(second_moment)
    denom /= bias_correction2 ** 0.5
    denom += eps
    param += (-step_size * exp_avg) / denom
