import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from layers import Conv2d, ReLU, Sequential, relu
from layers.norm import (
    BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, batch_norm, group_norm, layer_norm,
)
from tests.conftest import assert_close, assert_grads_match
from tests.layers.dense_checks import assert_float32_matches, assert_gradcheck_normwise

# Every group normalised holds at least 3 values: with 2 the output is +-1 whatever
# the input and the gradient is (up to eps) zero, which no check can resolve.
bn_shapes = st.sampled_from([(5, 3), (4, 2, 3), (3, 2, 2, 3), (3, 3, 1, 1), (6, 1, 2, 2)])


# ------------------------------------------------------------- layer norm
@given(lead=st.lists(st.integers(1, 3), max_size=2).map(tuple),
       norm=st.lists(st.integers(3, 4), min_size=1, max_size=2).map(tuple),
       affine=st.booleans(), seed=st.integers(0, 999))
def test_layer_norm_gradcheck(lead, norm, affine, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(lead + norm)
    if affine:
        w, b = rng.standard_normal(norm), rng.standard_normal(norm)
        assert_gradcheck_normwise(lambda x, w, b: layer_norm(x, norm, w, b), x, w, b)
    else:
        assert_gradcheck_normwise(lambda x: layer_norm(x, norm), x)


@given(lead=st.lists(st.integers(1, 3), max_size=2).map(tuple),
       norm=st.lists(st.integers(3, 5), min_size=1, max_size=2).map(tuple), seed=st.integers(0, 999))
def test_layer_norm_matches_torch(torch, lead, norm, seed):
    rng = np.random.default_rng(seed)
    arrays = [3 * rng.standard_normal(lead + norm) + 1, rng.standard_normal(norm), rng.standard_normal(norm)]
    fn = lambda x, w, b: layer_norm(x, norm, w, b)  # noqa: E731
    ref = lambda x, w, b: torch.nn.functional.layer_norm(x, norm, w, b)  # noqa: E731
    assert_grads_match(fn, ref, arrays, torch, atol=1e-11)
    assert_float32_matches(fn, ref, arrays, torch)


def test_layer_norm_module(torch, rng):
    ours, ref = LayerNorm((3, 4), eps=1e-3, dtype=np.float64), torch.nn.LayerNorm((3, 4), eps=1e-3)
    assert set(ours.state_dict()) == set(ref.state_dict())
    x = rng.standard_normal((2, 3, 4))
    assert_close(ours(mg.Tensor(x)).data, ref(torch.tensor(x)).detach().numpy(), 1e-6)
    assert LayerNorm(4, elementwise_affine=False).parameters() == []


# ------------------------------------------------------------- batch norm
@given(shape=bn_shapes, training=st.booleans(), affine=st.booleans(), seed=st.integers(0, 999))
def test_batch_norm_gradcheck(shape, training, affine, seed):
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = rng.standard_normal(shape)
    rm, rv = rng.standard_normal(c), rng.uniform(0.5, 2, c)

    def fn(x, *wb):
        # Fresh running copies: gradcheck calls fn many times.
        w, b = wb or (None, None)
        return batch_norm(x, w, b, rm.copy(), rv.copy(), training=training)

    if affine:
        assert_gradcheck_normwise(fn, x, rng.standard_normal(c), rng.standard_normal(c))
    else:
        assert_gradcheck_normwise(fn, x)


@given(shape=bn_shapes, training=st.booleans(), seed=st.integers(0, 999))
def test_batch_norm_matches_torch(torch, shape, training, seed):
    rng = np.random.default_rng(seed)
    c = shape[1]
    arrays = [2 * rng.standard_normal(shape) + 1, rng.standard_normal(c), rng.standard_normal(c)]
    rm, rv = rng.standard_normal(c), rng.uniform(0.5, 2, c)
    ours_stats, ref_stats = [rm.copy(), rv.copy()], [torch.tensor(rm), torch.tensor(rv)]
    fn = lambda x, w, b: batch_norm(x, w, b, *ours_stats, training=training, momentum=0.2)  # noqa: E731
    ref = lambda x, w, b: torch.nn.functional.batch_norm(  # noqa: E731
        x, *ref_stats, w, b, training=training, momentum=0.2)
    assert_grads_match(fn, ref, arrays, torch, atol=1e-11)
    assert_close(ours_stats[0], ref_stats[0].numpy(), 1e-14, "running_mean")
    assert_close(ours_stats[1], ref_stats[1].numpy(), 1e-14, "running_var")
    ours_stats[:] = [rm.astype(np.float32), rv.astype(np.float32)]
    ref_stats[:] = [torch.tensor(rm), torch.tensor(rv)]  # the float32 check runs torch in float64
    assert_float32_matches(fn, ref, arrays, torch)


@given(shape=bn_shapes, training=st.booleans(), seed=st.integers(0, 999))
def test_batch_norm_with_relu_matches_torch(torch, shape, training, seed):
    """``relu=True`` against ``torch.relu(batch_norm(...))``, and gradient-checked."""
    rng = np.random.default_rng(seed)
    c = shape[1]
    arrays = [2 * rng.standard_normal(shape) + 1, rng.standard_normal(c), rng.standard_normal(c)]
    rm, rv = rng.standard_normal(c), rng.uniform(0.5, 2, c)
    fn = lambda x, w, b: batch_norm(x, w, b, rm.copy(), rv.copy(), training=training, relu=True)  # noqa: E731
    ref = lambda x, w, b: torch.relu(torch.nn.functional.batch_norm(  # noqa: E731
        x, torch.tensor(rm), torch.tensor(rv), w, b, training=training))
    assert_grads_match(fn, ref, arrays, torch, atol=1e-11)
    assert_gradcheck_normwise(fn, *arrays)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_with_relu_is_relu_of_batch_norm_bit_for_bit(dtype, rng):
    """The fused pass stores exactly what ReLU would store after batch norm (NaN kept, -0.0 as
    +0.0), and its gradients are exactly those of the two layers in turn."""
    x = rng.standard_normal((4, 3, 5, 6)).astype(dtype)
    x[0, 1, 2, :3] = [np.nan, np.inf, -np.inf]
    w, b = rng.standard_normal(3).astype(dtype), rng.standard_normal(3).astype(dtype)
    dout = rng.standard_normal(x.shape).astype(dtype)
    results = []
    for fused in (True, False):
        t, wt, bt = (mg.Tensor(a, requires_grad=True) for a in (x, w, b))
        out = batch_norm(t, wt, bt, training=True, relu=True) if fused else relu(batch_norm(t, wt, bt, training=True))
        out.backward(dout)
        results.append([out.data, t.grad, wt.grad, bt.grad])
    for name, got, want in zip(("out", "dx", "dweight", "dbias"), *results):
        np.testing.assert_array_equal(got, want, err_msg=name)
    out = results[0][0]
    assert np.isnan(out[0, 1, 2, 0]) and not np.signbit(out[~np.isnan(out)]).any()


def test_sequential_fuses_batch_norm_and_relu(rng, monkeypatch):
    """``Sequential(..., BatchNorm2d, ReLU, ...)`` calls batch norm with ``relu=True`` and skips the
    ReLU module, with the outputs and gradients of the unfused pair; a ReLU after anything else,
    or a batch norm last, runs as usual."""
    x = rng.standard_normal((3, 2, 4, 4)).astype(np.float32)
    calls = []
    monkeypatch.setattr(ReLU, "forward", lambda self, t: calls.append(1) or relu(t))
    fused = Sequential(BatchNorm2d(2), ReLU(), Conv2d(2, 2, 1, rng=0), ReLU(), BatchNorm2d(2))
    unfused = Sequential(*(module for module in fused))
    unfused.forward = lambda t: unfused[4](relu(unfused[2](relu(unfused[0](t)))))
    grads = []
    for model in (fused, unfused):
        t = mg.Tensor(x, requires_grad=True)
        out = model(t)
        out.backward(np.ones_like(out.data))
        grads.append((out.data, t.grad))
    assert len(calls) == 1, "only the ReLU after the convolution runs as a module"
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_array_equal(grads[0][1], grads[1][1])


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("dims", [1, 2])
def test_running_statistics_follow_torch_over_steps(torch, momentum, dims):
    rng = np.random.default_rng(1)
    ours = (BatchNorm1d if dims == 1 else BatchNorm2d)(3, momentum=momentum, dtype=np.float64)
    ref = (torch.nn.BatchNorm1d if dims == 1 else torch.nn.BatchNorm2d)(3, momentum=momentum)
    assert list(ours.state_dict()) == list(ref.state_dict())
    shape = (8, 3) if dims == 1 else (4, 3, 5, 5)
    for step in range(5):
        x = (step + 1) * rng.standard_normal(shape) + step
        ours(mg.Tensor(x))
        ref(torch.tensor(x))
        for name, value in ref.state_dict().items():
            assert_close(ours.state_dict()[name], value.numpy(), 1e-13, f"{name} at step {step}")
    ours.eval(), ref.eval()
    x = rng.standard_normal(shape)
    assert_close(ours(mg.Tensor(x)).data, ref(torch.tensor(x)).detach().numpy(), 1e-12, "eval output")
    # Evaluation leaves the statistics alone.
    assert int(ours.num_batches_tracked) == 5


def test_without_running_stats_uses_batch_stats_in_eval(torch, rng):
    ours = BatchNorm2d(2, track_running_stats=False, affine=False, dtype=np.float64).eval()
    ref = torch.nn.BatchNorm2d(2, track_running_stats=False, affine=False).eval()
    assert ours.state_dict() == {} and ours.parameters() == []
    x = rng.standard_normal((3, 2, 4, 4))
    assert_close(ours(mg.Tensor(x)).data, ref(torch.tensor(x)).numpy(), 1e-12)


def test_batch_norm_float32_large_offset_is_accurate(torch):
    # A large common offset defeats one-pass E[x^2] - E[x]^2 in float32.
    x = (1000 + np.random.default_rng(0).standard_normal((64, 4, 8, 8))).astype(np.float32)
    out = BatchNorm2d(4)(mg.Tensor(x)).data
    exact = torch.nn.BatchNorm2d(4)(torch.tensor(x, dtype=torch.float64)).detach().numpy()
    assert out.dtype == np.float32
    # float32 rounding of x itself near 1000 is ~3e-5, i.e. ~3e-5 after normalising.
    assert_close(out, exact, 1e-4)


# ------------------------------------------------------------- group norm
@given(n=st.integers(1, 3), groups=st.integers(1, 3), per=st.integers(1, 3),
       spatial=st.sampled_from([(), (3,), (2, 2)]), affine=st.booleans(), seed=st.integers(0, 999))
def test_group_norm_gradcheck(n, groups, per, spatial, affine, seed):
    rng = np.random.default_rng(seed)
    c = groups * per
    if per * int(np.prod(spatial)) < 3:
        spatial = (3,)  # as for bn_shapes: groups of at least 3 values
    x = rng.standard_normal((n, c) + spatial)
    if affine:
        assert_gradcheck_normwise(
            lambda x, w, b: group_norm(x, groups, w, b), x, rng.standard_normal(c), rng.standard_normal(c)
        )
    else:
        assert_gradcheck_normwise(lambda x: group_norm(x, groups), x)


@given(n=st.integers(1, 3), groups=st.integers(1, 3), per=st.integers(1, 3),
       spatial=st.sampled_from([(3,), (3, 2)]), seed=st.integers(0, 999))
def test_group_norm_matches_torch(torch, n, groups, per, spatial, seed):
    rng = np.random.default_rng(seed)
    c = groups * per
    arrays = [rng.standard_normal((n, c) + spatial), rng.standard_normal(c), rng.standard_normal(c)]
    fn = lambda x, w, b: group_norm(x, groups, w, b)  # noqa: E731
    ref = lambda x, w, b: torch.nn.functional.group_norm(x, groups, w, b)  # noqa: E731
    assert_grads_match(fn, ref, arrays, torch, atol=1e-11)
    assert_float32_matches(fn, ref, arrays, torch)


def test_group_norm_module(torch):
    ours, ref = GroupNorm(2, 4), torch.nn.GroupNorm(2, 4)
    assert set(ours.state_dict()) == set(ref.state_dict())
    assert "2, 4" in repr(ours)


# -------------------------------------------------------------- bad input
def test_bad_inputs():
    with pytest.raises(ValueError, match=r"BatchNorm2d: x must be 4-D \(N, C, H, W\) with C=3, got shape \(2, 4, 5, 5\)"):
        BatchNorm2d(3)(np.ones((2, 4, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"BatchNorm1d: x must be 2-D \(N, C\) or 3-D \(N, C, L\) with C=3, got shape \(2, 3, 1, 1\)"):
        BatchNorm1d(3)(np.ones((2, 3, 1, 1), np.float32))
    with pytest.raises(ValueError, match=r"BatchNorm1d: training needs more than one value per channel, got x of shape \(1, 3\)"):
        BatchNorm1d(3)(np.ones((1, 3), np.float32))
    with pytest.raises(ValueError, match=r"batch_norm: weight must have shape \(3,\) for x of shape \(2, 3\), got \(4,\)"):
        batch_norm(np.ones((2, 3)), weight=np.ones(4), bias=np.ones(4), training=True)
    with pytest.raises(ValueError, match=r"LayerNorm: x must end with normalized_shape \(4,\), got shape \(2, 3\)"):
        LayerNorm(4)(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"^group_norm: num_groups must divide the number of channels C=6, got 4"):
        group_norm(np.ones((2, 6, 3)), 4)
    with pytest.raises(ValueError, match=r"^GroupNorm: x must be at least 2-D \(N, C, \*\) with C=4, got shape \(2, 6\)"):
        GroupNorm(2, 4)(np.ones((2, 6), np.float32))
    with pytest.raises(ValueError, match="^GroupNorm: num_groups must divide the number of channels C=5, got 2"):
        GroupNorm(2, 5)
    for name, call in (("batch_norm", batch_norm), ("group_norm", lambda x: group_norm(x, 1))):
        with pytest.raises(ValueError, match=rf"^{name}: x must be at least 2-D \(N, C, \*\), got shape \(3,\)"):
            call(np.ones(3))
    with pytest.raises(ValueError, match=r"^group_norm: bias must have shape \(3,\) for x of shape \(2, 3\), got \(2,\)"):
        group_norm(np.ones((2, 3)), 1, bias=np.ones(2))
    with pytest.raises(TypeError, match="batch_norm: x must be float32 or float64, got dtype int64"):
        batch_norm(np.ones((2, 3), np.int64))


# ------------------------------------------- bad hyper-parameters and dtypes
bad_eps = st.sampled_from([0.0, -1.0, -1e-5, np.nan, np.inf, -np.inf, True])
bad_dtypes = st.sampled_from([np.float16, np.int64, np.int32, np.bool_])

NORM_MODULES = {
    "LayerNorm": lambda **kw: LayerNorm(3, **kw),
    "BatchNorm1d": lambda **kw: BatchNorm1d(3, **kw),
    "BatchNorm2d": lambda **kw: BatchNorm2d(3, **kw),
    "GroupNorm": lambda **kw: GroupNorm(1, 3, **kw),
}
NORM_FUNCTIONS = {
    "layer_norm": (lambda x, **kw: layer_norm(x, 3, **kw), (2, 3)),
    "batch_norm": (lambda x, **kw: batch_norm(x, training=True, **kw), (2, 3)),
    "group_norm": (lambda x, **kw: group_norm(x, 1, **kw), (2, 3)),
}


def _raises_naming(error, func, name):
    return pytest.raises(error, match=rf"^{func}: {name} must be")


@given(name=st.sampled_from(sorted(NORM_MODULES)), eps=bad_eps)
def test_modules_reject_bad_eps(name, eps):
    with _raises_naming(TypeError if isinstance(eps, bool) else ValueError, name, "eps"):
        NORM_MODULES[name](eps=eps)


@given(name=st.sampled_from(sorted(NORM_FUNCTIONS)), eps=bad_eps)
def test_functions_reject_bad_eps(name, eps):
    fn, shape = NORM_FUNCTIONS[name]
    with _raises_naming(TypeError if isinstance(eps, bool) else ValueError, name, "eps"):
        fn(np.ones(shape), eps=eps)


@given(momentum=st.sampled_from([-0.1, 1.5, np.nan, np.inf, True]), module=st.booleans())
def test_batch_norm_rejects_bad_momentum(momentum, module):
    error = TypeError if isinstance(momentum, bool) else ValueError
    with _raises_naming(error, "BatchNorm1d" if module else "batch_norm", "momentum"):
        if module:
            BatchNorm1d(3, momentum=momentum)
        else:
            batch_norm(np.ones((2, 3)), training=True, momentum=momentum)


def test_batch_norm_momentum_none_and_bool_flags():
    assert BatchNorm1d(3, momentum=None).momentum is None
    with _raises_naming(TypeError, "BatchNorm2d", "affine"):
        BatchNorm2d(3, affine=1)
    with _raises_naming(TypeError, "batch_norm", "training"):
        batch_norm(np.ones((2, 3)), training="yes")
    with _raises_naming(TypeError, "batch_norm", "relu"):
        batch_norm(np.ones((2, 3)), training=True, relu=1)
    with _raises_naming(TypeError, "BatchNorm1d", "relu"):
        BatchNorm1d(3)(np.ones((2, 3)), relu="yes")
    with _raises_naming(ValueError, "GroupNorm", "num_groups"):
        GroupNorm(0, 3)
    with _raises_naming(TypeError, "LayerNorm", "normalized_shape"):
        LayerNorm(2.5)
    with _raises_naming(TypeError, "LayerNorm", "normalized_shape"):
        LayerNorm("3")
    with pytest.raises(ValueError, match=r"^LayerNorm: normalized_shape must not be empty, got \(\)"):
        LayerNorm(())
    with pytest.raises(ValueError, match=r"^layer_norm: normalized_shape must not be empty, got \[\]"):
        layer_norm(np.ones(3), [])


@given(name=st.sampled_from(sorted(NORM_MODULES)),
       dtype=st.sampled_from([np.float16, np.int64, np.int32, bool, np.complex64, "bogus", None]))
def test_modules_reject_bad_parameter_dtypes(name, dtype):
    with _raises_naming(TypeError, name, "dtype"):
        NORM_MODULES[name](dtype=dtype)


# ------------------------------------------- running statistics arguments
def test_batch_norm_running_statistics_must_be_ndarray_pairs():
    x, stats = np.ones((2, 3)), np.zeros(3)
    # A list is reported as not an ndarray (it could not be updated in place), before its dtype.
    with pytest.raises(TypeError, match=r"^batch_norm: running_mean must be an ndarray \(updated in place\) or None, got list"):
        batch_norm(x, running_mean=[0, 0, 0], running_var=stats)
    with pytest.raises(TypeError, match=r"^batch_norm: running_var must be an ndarray .* got Tensor"):
        batch_norm(x, running_mean=stats, running_var=mg.Tensor(np.ones(3)))
    with pytest.raises(ValueError, match=r"^batch_norm: running_var must be an ndarray when running_mean is given, got None"):
        batch_norm(x, running_mean=stats)
    with pytest.raises(ValueError, match=r"^batch_norm: running_mean must be an ndarray when running_var is given, got None"):
        batch_norm(x, running_var=stats)
    with pytest.raises(TypeError, match=r"^batch_norm: running_var must be float32 or float64, got dtype int64"):
        batch_norm(x, running_mean=stats, running_var=np.ones(3, np.int64))
    with pytest.raises(TypeError, match=r"^batch_norm: running_mean must have the dtype of x \(float64\), got float32"):
        batch_norm(x, running_mean=stats.astype(np.float32), running_var=stats.astype(np.float32))


# -------------------------------------- weight and bias optional on their own
@pytest.mark.parametrize("given_arg", ["weight", "bias"])
@pytest.mark.parametrize("kind", ["layer", "batch", "group"])
def test_weight_or_bias_alone_matches_torch(torch, rng, kind, given_arg):
    """PyTorch's rule: weight and bias are independently optional."""
    F = torch.nn.functional
    ours, ref = {
        "layer": (lambda x, p, **kw: layer_norm(x, 3, **kw), lambda x, p, **kw: F.layer_norm(x, (3,), **kw)),
        "batch": (lambda x, p, **kw: batch_norm(x, training=True, **kw),
                  lambda x, p, **kw: F.batch_norm(x, None, None, training=True, **kw)),
        # torch 2.13's group_norm backward fails with a bias and no weight: give it the ones we mean.
        "group": (lambda x, p, **kw: group_norm(x, 1, **kw),
                  lambda x, p, **kw: F.group_norm(x, 1, **{"weight": torch.ones(3, dtype=x.dtype), **kw})),
    }[kind]
    arrays = [rng.standard_normal((4, 3)), rng.standard_normal(3) + 1]
    assert_grads_match(lambda x, p: ours(x, p, **{given_arg: p}), lambda x, p: ref(x, p, **{given_arg: p}),
                       arrays, torch, atol=1e-11)


@pytest.mark.parametrize("given_arg", ["weight", "bias"])
@pytest.mark.parametrize("kind", ["layer", "batch", "group"])
def test_weight_or_bias_alone_passes_gradcheck(rng, kind, given_arg):
    fn = {"layer": lambda x, **kw: layer_norm(x, 6, **kw),
          "batch": lambda x, **kw: batch_norm(x, training=True, **kw),
          "group": lambda x, **kw: group_norm(x, 2, **kw)}[kind]
    x = rng.standard_normal((5, 6)) if kind != "group" else rng.standard_normal((5, 6, 3))
    assert_gradcheck_normwise(lambda x, p: fn(x, **{given_arg: p}), x, rng.standard_normal(6) + 1)


@given(name=st.sampled_from(sorted(NORM_FUNCTIONS) + sorted(NORM_MODULES)), dtype=bad_dtypes)
def test_bad_dtypes_raise_type_error(name, dtype):
    if name in NORM_FUNCTIONS:
        fn, shape = NORM_FUNCTIONS[name]
        call = lambda: fn(np.ones(shape, dtype))  # noqa: E731
    else:
        shape = (2, 3, 2, 2) if name == "BatchNorm2d" else (2, 3)
        call = lambda: NORM_MODULES[name]()(np.ones(shape, dtype))  # noqa: E731
    with pytest.raises(TypeError, match=rf"^{name}: x must be float32 or float64, got dtype"):
        call()


@pytest.mark.parametrize("name", sorted(NORM_FUNCTIONS))
def test_mixed_float_dtypes_raise(name):
    fn, shape = NORM_FUNCTIONS[name]
    with pytest.raises(TypeError, match=rf"^{name}: weight must have the dtype of x \(float32\), got float64"):
        fn(np.ones(shape, np.float32), weight=np.ones(3), bias=np.zeros(3))
    with pytest.raises(TypeError, match=r"^LayerNorm: x must have the dtype of weight \(float32\), got float64"):
        LayerNorm(3)(np.ones((2, 3)))


# ------------------------------------------- NaN propagates, empty batches
@pytest.mark.parametrize("training", [True, False])
def test_nan_activations_propagate_like_torch(torch, training):
    x = np.array([[1.0, np.nan], [2.0, 3.0], [0.5, -1.0]])
    for ours, ref in ((BatchNorm1d(2, dtype=np.float64), torch.nn.BatchNorm1d(2)),
                      (LayerNorm(2, dtype=np.float64), torch.nn.LayerNorm(2)),
                      (GroupNorm(1, 2, dtype=np.float64), torch.nn.GroupNorm(1, 2))):
        ours.train(training), ref.train(training)
        out, expected = ours(x).data, ref(torch.tensor(x)).detach().numpy()
        np.testing.assert_array_equal(np.isnan(out), np.isnan(expected))
        assert np.isnan(out).any()
        assert_close(np.nan_to_num(out), np.nan_to_num(expected), 1e-12)


@pytest.mark.parametrize("kind", ["batch1d", "batch2d", "layer", "group"])
def test_empty_batch_matches_torch(torch, kind):
    shape = {"batch1d": (0, 4), "batch2d": (0, 4, 3, 3), "layer": (0, 5, 4), "group": (0, 4, 3)}[kind]
    ours, ref = {
        "batch1d": (BatchNorm1d(4, dtype=np.float64), torch.nn.BatchNorm1d(4)),
        "batch2d": (BatchNorm2d(4, dtype=np.float64), torch.nn.BatchNorm2d(4)),
        "layer": (LayerNorm(4, dtype=np.float64), torch.nn.LayerNorm(4)),
        "group": (GroupNorm(2, 4, dtype=np.float64), torch.nn.GroupNorm(2, 4)),
    }[kind]
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    x, xt = mg.Tensor(np.zeros(shape), requires_grad=True), torch.zeros(shape, requires_grad=True)
    out, expected = ours(x), ref(xt)
    assert out.shape == tuple(expected.shape) == shape
    out.sum().backward()
    expected.sum().backward()
    assert x.grad.shape == shape
    for name, p in ours.named_parameters():
        np.testing.assert_array_equal(p.grad, dict(ref.named_parameters())[name].grad.numpy())
    for name, value in ref.state_dict().items():  # running statistics untouched, counter advanced
        np.testing.assert_array_equal(ours.state_dict()[name], value.numpy(), err_msg=name)
