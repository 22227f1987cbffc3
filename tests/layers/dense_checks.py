"""Checks shared by the dense-layer test modules."""
import numpy as np

import minigrad as mg


def assert_float32_matches(mg_fn, torch_fn, arrays, torch, rtol=1e-4, seed=12345):
    """Run ours in float32 and assert forward and input gradients agree to ``rtol``
    (relative to the reference's largest magnitude) with torch run in float64 on
    the same float32-rounded inputs and upstream gradient; also assert we kept
    float32. Comparing with torch's float64 rather than its float32 result
    measures our error alone (torch's float32 GELU, for one, is the less
    accurate of the two in the tails)."""
    arrays = [np.array(a, dtype=np.float32) for a in arrays]
    ours = [mg.Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    out, ref = mg_fn(*ours), torch_fn(*theirs)
    assert out.dtype == np.float32, f"output dtype {out.dtype}, expected float32"
    dout = np.random.default_rng(seed).standard_normal(out.shape).astype(np.float32)
    out.backward(dout)
    ref.backward(torch.tensor(dout.astype(np.float64)))
    pairs = [("forward", out.data, ref.detach().numpy())]
    pairs += [
        (f"grad {k}", o.grad if o.grad is not None else np.zeros_like(a),
         t.grad.numpy() if t.grad is not None else np.zeros_like(a))
        for k, (o, t, a) in enumerate(zip(ours, theirs, arrays))
    ]
    for what, a, b in pairs:
        assert a.dtype == np.float32, f"{what}: dtype {a.dtype}, expected float32"
        scale = max(float(np.abs(b).max(initial=0.0)), 1e-6)
        err = float(np.abs(a.astype(np.float64) - b).max(initial=0.0)) / scale
        assert err < rtol, f"{what}: relative error {err:.2e} >= {rtol:.0e}"


def away_from(x, points, gap=1e-3):
    """Nudge elements of ``x`` that lie within ``gap`` of a kink in ``points``."""
    x = np.array(x, dtype=np.float64)
    for p in points:
        near = np.abs(x - p) < gap
        x[near] = p + np.where(x[near] >= p, gap, -gap) * 2
    return x


def assert_gradcheck_normwise(fn, *arrays, tol=1e-7, seed=12345):
    """Numerical gradient check with the error measured against each gradient's
    scale: ``max|analytic - numeric| / max(1, max|numeric|)`` per input, float64.

    For layers whose gradient elements can come arbitrarily close to zero (a
    normalised group's input gradient sums to zero, an MSE gradient is
    ``x - y``), the *element-wise* relative error of those elements is
    dominated by the ~1e-10 round-off of central differences even though the
    analytic value is exact. Measured against the gradient's scale the same
    check stays tight (typical errors are ~1e-10; up to ~1e-8 where a group's
    spread is small and the truncation error of the differences grows). The
    floor of 1 (inputs and upstream gradients here are O(1)) keeps a gradient
    that is small as a whole from magnifying the same round-off.
    """
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    tensors = [mg.Tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    dout = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(dout)
    for i, t in enumerate(tensors):
        probe = [a.copy() for a in arrays]

        def f(x, i=i):
            probe[i] = x
            with mg.no_grad():
                return fn(*[mg.Tensor(a) for a in probe]).data

        numeric = mg.numerical_gradient(f, probe[i], dout)
        analytic = t.grad if t.grad is not None else np.zeros_like(numeric)
        scale = max(float(np.abs(numeric).max(initial=0.0)), 1.0)
        err = float(np.abs(analytic - numeric).max(initial=0.0)) / scale
        assert err < tol, f"input {i}: error {err:.2e} relative to the gradient's scale {scale:.2e}"
