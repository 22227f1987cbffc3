"""Every minigrad op: numerical gradient check and PyTorch forward/backward match.

Each case draws its own shapes (with broadcasting where the op broadcasts),
values (kept away from kinks and outside domains), and hyper-parameters.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad as mg
from tests.conftest import assert_grads_match

FLOAT_RANGE = dict(min_value=-3.0, max_value=3.0, allow_nan=False, allow_infinity=False)


def values(draw, shape, low=-3.0, high=3.0, away_from=None):
    """Draw a float64 array; ``away_from`` keeps every element >= 1e-2 from that point."""
    elements = st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)
    if away_from is not None:
        elements = elements.filter(lambda v: abs(v - away_from) > 1e-2)
    return draw(hnp.arrays(np.float64, shape, elements=elements))


def two_broadcastable(draw, max_dims=3):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=max_dims, max_side=4))
    return shapes.input_shapes


def small_shape(draw, min_dims=1, max_dims=3):
    return draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=4))


def axis_choice(draw, ndim):
    """None, a single (possibly negative) axis, or a tuple of axes."""
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none" or ndim == 0:
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    return tuple(draw(st.sets(st.integers(0, ndim - 1), min_size=1)))


@dataclass
class Case:
    """An op under test: ``draw(data) -> (arrays, params)`` and both implementations."""

    name: str
    draw: Callable
    ours: Callable  # (params, *Tensors) -> Tensor
    theirs: Callable  # (params, torch, *torch tensors) -> torch tensor


def _binary(draw_values):
    def draw(data):
        sa, sb = two_broadcastable(data.draw)
        return draw_values(data.draw, sa, sb), {}

    return draw


def _unary(**value_kwargs):
    def draw(data):
        return [values(data.draw, small_shape(data.draw, 0), **value_kwargs)], {}

    return draw


def distinct_values(draw, shape):
    """Values at least 0.5 apart, so max/min have no near-ties for differences to straddle."""
    size = int(np.prod(shape))
    order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    return (0.5 * order + draw(st.floats(-3, 0))).reshape(shape)


def _draw_reduction(distinct=False, keep_var_dims=False):
    def draw(data):
        shape = small_shape(data.draw, 1)
        axis = axis_choice(data.draw, len(shape))
        keepdims = data.draw(st.booleans())
        params = dict(axis=axis, keepdims=keepdims)
        if keep_var_dims:
            axes = range(len(shape)) if axis is None else np.atleast_1d(axis)
            count = int(np.prod([shape[a] for a in axes]))
            params["ddof"] = data.draw(st.sampled_from([0, 1] if count > 1 else [0]))
        x = distinct_values(data.draw, shape) if distinct else values(data.draw, shape)
        return [x], params

    return draw


def _torch_dims(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


def _draw_matmul(data):
    kind = data.draw(st.sampled_from(["1d1d", "1d2d", "2d1d", "2d2d", "batched"]))
    n, k, m = (data.draw(st.integers(1, 4)) for _ in range(3))
    if kind == "batched":
        batch = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
        sa, sb = batch.input_shapes
        shapes = (sa + (n, k), sb + (k, m))
    else:
        shapes = {"1d1d": ((k,), (k,)), "1d2d": ((k,), (k, m)), "2d1d": ((n, k), (k,)),
                  "2d2d": ((n, k), (k, m))}[kind]
    return [values(data.draw, s) for s in shapes], {}


def _draw_getitem(data):
    shape = small_shape(data.draw, 1, 3)
    kinds = ["basic", "int_array", "bool"] + (["mixed"] if len(shape) >= 2 else [])
    kind = data.draw(st.sampled_from(kinds))
    if kind == "basic":
        index = data.draw(hnp.basic_indices(shape, allow_ellipsis=True))
    elif kind == "int_array":  # repeated indices must accumulate in backward
        index = np.array(data.draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1, max_size=6)))
    elif kind == "bool":
        index = np.array(data.draw(st.lists(st.booleans(), min_size=shape[0], max_size=shape[0])))
    else:
        rows = np.array(data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=5)))
        index = (rows, slice(None, None, data.draw(st.sampled_from([1, -1, 2]))))
    return [values(data.draw, shape)], dict(index=index)


def _torch_getitem(p, torch, x):
    # torch has no negative-step slices, so express any NumPy index as a
    # gather of flat positions; torch's backward of that gather scatter-adds.
    positions = np.arange(x.numel()).reshape(tuple(x.shape))[p["index"]]
    return x.reshape(-1)[torch.tensor(np.array(positions, copy=True))]


def _draw_join(stack):
    def draw(data):
        shape = small_shape(data.draw, 1, 3)
        count = data.draw(st.integers(1, 3))
        axis = data.draw(st.integers(-len(shape) - stack, len(shape) - 1 + stack))
        arrays = []
        for _ in range(count):
            s = list(shape)
            if not stack:
                s[axis] = data.draw(st.integers(1, 3))
            arrays.append(values(data.draw, tuple(s)))
        return arrays, dict(axis=axis)

    return draw


def _draw_where(data):
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3)).input_shapes
    condition = data.draw(hnp.arrays(np.bool_, shapes[0]))
    return [values(data.draw, shapes[1]), values(data.draw, shapes[2])], dict(condition=condition)


def _draw_clip(data):
    low = data.draw(st.one_of(st.none(), st.floats(-2, 0)))
    high = data.draw(st.one_of(st.none(), st.floats(0.1, 2)))
    if low is None and high is None:
        low = -1.0
    shape = small_shape(data.draw, 0)
    elements = st.floats(**FLOAT_RANGE).filter(
        lambda v: all(b is None or abs(v - b) > 1e-2 for b in (low, high))
    )
    return [data.draw(hnp.arrays(np.float64, shape, elements=elements))], dict(low=low, high=high)


def _draw_softmax(data):
    shape = small_shape(data.draw, 1)
    return [values(data.draw, shape, -5, 5)], dict(axis=data.draw(st.integers(-len(shape), len(shape) - 1)))


def _draw_reshape(data):
    shape = small_shape(data.draw, 1)
    size = int(np.prod(shape))
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    first = data.draw(st.sampled_from(divisors))
    return [values(data.draw, shape)], dict(shape=(first, -1))


def _draw_transpose(data):
    shape = small_shape(data.draw, 1)
    return [values(data.draw, shape)], dict(axes=tuple(data.draw(st.permutations(range(len(shape))))))


def _draw_pow_scalar(data):
    exponent = data.draw(st.sampled_from([2, 3, -1, 0.5, 1.7, -2.5]))
    return [values(data.draw, small_shape(data.draw, 0), 0.3, 3.0)], dict(exponent=exponent)


CASES = [
    Case("add", _binary(lambda d, sa, sb: [values(d, sa), values(d, sb)]),
         lambda p, a, b: a + b, lambda p, t, a, b: a + b),
    Case("sub", _binary(lambda d, sa, sb: [values(d, sa), values(d, sb)]),
         lambda p, a, b: a - b, lambda p, t, a, b: a - b),
    Case("mul", _binary(lambda d, sa, sb: [values(d, sa), values(d, sb)]),
         lambda p, a, b: a * b, lambda p, t, a, b: a * b),
    Case("div", _binary(lambda d, sa, sb: [values(d, sa), values(d, sb, 0.5, 3.0)]),
         lambda p, a, b: a / b, lambda p, t, a, b: a / b),
    Case("rdiv_scalar", _unary(low=0.5, high=3.0), lambda p, a: 2.0 / a, lambda p, t, a: 2.0 / a),
    Case("pow_tensor", _binary(lambda d, sa, sb: [values(d, sa, 0.3, 3.0, away_from=1.0), values(d, sb, -2.0, 2.0, away_from=0.0)]),
         lambda p, a, b: a ** b, lambda p, t, a, b: a ** b),
    Case("pow_scalar", _draw_pow_scalar,
         lambda p, a: a ** p["exponent"], lambda p, t, a: a ** p["exponent"]),
    Case("maximum", _binary(lambda d, sa, sb: [values(d, sa, 0.0, 1.0), values(d, sb, 1.5, 2.5)]
                            if d(st.booleans()) else [values(d, sa, 1.5, 2.5), values(d, sb, 0.0, 1.0)]),
         lambda p, a, b: mg.maximum(a, b), lambda p, t, a, b: t.maximum(a, b)),
    Case("matmul", _draw_matmul, lambda p, a, b: a @ b, lambda p, t, a, b: a @ b),
    Case("where", _draw_where, lambda p, a, b: mg.where(p["condition"], a, b),
         lambda p, t, a, b: t.where(t.tensor(p["condition"]), a, b)),
    Case("neg", _unary(), lambda p, a: -a, lambda p, t, a: -a),
    Case("exp", _unary(), lambda p, a: a.exp(), lambda p, t, a: a.exp()),
    Case("log", _unary(low=0.1), lambda p, a: a.log(), lambda p, t, a: a.log()),
    Case("sqrt", _unary(low=0.1), lambda p, a: a.sqrt(), lambda p, t, a: a.sqrt()),
    Case("tanh", _unary(), lambda p, a: a.tanh(), lambda p, t, a: a.tanh()),
    Case("sigmoid", _unary(low=-8, high=8), lambda p, a: a.sigmoid(), lambda p, t, a: a.sigmoid()),
    Case("relu", _unary(away_from=0.0), lambda p, a: a.relu(), lambda p, t, a: a.relu()),
    Case("abs", _unary(away_from=0.0), lambda p, a: a.abs(), lambda p, t, a: a.abs()),
    Case("clip", _draw_clip, lambda p, a: a.clip(p["low"], p["high"]),
         lambda p, t, a: a.clamp(p["low"], p["high"])),
    Case("sum", _draw_reduction(), lambda p, a: a.sum(p["axis"], p["keepdims"]),
         lambda p, t, a: a.sum(_torch_dims(p["axis"], a.ndim), keepdim=p["keepdims"])),
    Case("mean", _draw_reduction(), lambda p, a: a.mean(p["axis"], p["keepdims"]),
         lambda p, t, a: a.mean(_torch_dims(p["axis"], a.ndim), keepdim=p["keepdims"])),
    Case("var", _draw_reduction(keep_var_dims=True), lambda p, a: a.var(p["axis"], p["keepdims"], p["ddof"]),
         lambda p, t, a: a.var(_torch_dims(p["axis"], a.ndim), correction=p["ddof"], keepdim=p["keepdims"])),
    Case("max", _draw_reduction(distinct=True), lambda p, a: a.max(p["axis"], p["keepdims"]),
         lambda p, t, a: a.amax(_torch_dims(p["axis"], a.ndim), keepdim=p["keepdims"])),
    Case("min", _draw_reduction(distinct=True), lambda p, a: a.min(p["axis"], p["keepdims"]),
         lambda p, t, a: a.amin(_torch_dims(p["axis"], a.ndim), keepdim=p["keepdims"])),
    Case("reshape", _draw_reshape, lambda p, a: a.reshape(p["shape"]), lambda p, t, a: a.reshape(p["shape"])),
    Case("transpose", _draw_transpose, lambda p, a: a.transpose(p["axes"]),
         lambda p, t, a: a.permute(p["axes"])),
    Case("getitem", _draw_getitem, lambda p, a: a[p["index"]], _torch_getitem),
    Case("concatenate", _draw_join(stack=False), lambda p, *xs: mg.concatenate(xs, p["axis"]),
         lambda p, t, *xs: t.cat(xs, p["axis"])),
    Case("stack", _draw_join(stack=True), lambda p, *xs: mg.stack(xs, p["axis"]),
         lambda p, t, *xs: t.stack(xs, p["axis"])),
    Case("softmax", _draw_softmax, lambda p, a: a.softmax(p["axis"]), lambda p, t, a: a.softmax(p["axis"])),
    Case("log_softmax", _draw_softmax, lambda p, a: a.log_softmax(p["axis"]),
         lambda p, t, a: a.log_softmax(p["axis"])),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@given(data=st.data())
def test_gradient_matches_numerical(case, data):
    arrays, params = case.draw(data)
    errors = mg.gradcheck(lambda *ts: case.ours(params, *ts), *arrays, tol=1e-7)
    assert all(e < 1e-7 for e in errors)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@given(data=st.data())
def test_forward_and_backward_match_torch(case, data, torch):
    arrays, params = case.draw(data)
    assert_grads_match(
        lambda *ts: case.ours(params, *ts),
        lambda *ts: case.theirs(params, torch, *ts),
        arrays,
        torch,
        atol=1e-10,
    )
