"""Optimizer classes against torch.optim: 200-step float64 trajectories, groups, state, clipping,
and refused arguments and states."""
import copy
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from optim import SGD, AdaGrad, Adam, AdamW, RMSProp, clip_grad_norm_, clip_grad_value_
from optim.optimizers import describe_group
from tests.conftest import assert_close
from tests.optim.problems import run_minigrad, run_torch

TORCH_NAMES = {SGD: "SGD", AdaGrad: "Adagrad", RMSProp: "RMSprop", Adam: "Adam", AdamW: "AdamW"}

# Chosen where the dynamics are not chaotic: PyTorch's CPU kernels fuse
# multiply-adds (one rounding where NumPy rounds twice), and e.g. RMSProp with
# alpha=0.9 near a minimum amplifies that last-bit difference to 1e-3 within
# 100 steps, exactly as it would amplify any other perturbation.
CONFIGS = [
    (SGD, dict(lr=0.01)),
    (SGD, dict(lr=0.01, momentum=0.9)),
    (SGD, dict(lr=0.01, momentum=0.9, dampening=0.1, weight_decay=1e-2)),
    (SGD, dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-2)),
    (AdaGrad, dict(lr=0.1)),
    (AdaGrad, dict(lr=0.1, lr_decay=1e-3, weight_decay=1e-3, initial_accumulator_value=0.1)),
    (RMSProp, dict(lr=1e-2)),
    (RMSProp, dict(lr=3e-3, alpha=0.99, momentum=0.5, weight_decay=1e-2)),
    (RMSProp, dict(lr=1e-2, centered=True, momentum=0.5)),
    (Adam, dict(lr=1e-2)),
    (Adam, dict(lr=1e-2, betas=(0.8, 0.99), amsgrad=True, weight_decay=1e-2)),
    (AdamW, dict(lr=1e-2, weight_decay=0.1)),
    (AdamW, dict(lr=1e-2, amsgrad=True)),
]


def torch_optimizer(torch, cls, **kwargs):
    """A factory for the torch.optim twin of ``cls`` (single-tensor code path)."""
    return lambda params: getattr(torch.optim, TORCH_NAMES[cls])(params, foreach=False, **kwargs)


@pytest.mark.parametrize("problem", ["quadratic", "mlp"])
@pytest.mark.parametrize("cls, kwargs", CONFIGS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_trajectory_matches_torch(torch, cls, kwargs, problem):
    ours = run_minigrad(problem, lambda p: cls(p, **kwargs), 200)
    ref = run_torch(torch, problem, torch_optimizer(torch, cls, **kwargs), 200)
    assert np.abs(ours[-1] - ours[0]).max() > 1e-2, "the parameters barely moved: a vacuous test"
    assert_close(ours, ref, 1e-10, f"{cls.__name__}({kwargs}) on {problem}")


# Learning rates stay inside each method's stability region on the bowl
# (largest curvature 100): a diverging run grows to 1e9 and its absolute
# differences with it. Adam's beta2 stays >= 0.9: with a short second-moment
# memory (beta2 = 0.625, beta1 = 0) Adam is close to sign descent, which
# amplifies PyTorch's one-ulp fused multiply-add differences to 2e-10 in 40 steps.
hyper = st.fixed_dictionaries
OPTIMIZER_SPACE = st.one_of(
    st.tuples(st.just(SGD), hyper({
        "lr": st.floats(1e-4, 1e-2), "momentum": st.sampled_from([0.0, 0.5, 0.9]),
        "weight_decay": st.floats(0, 0.1), "dampening": st.sampled_from([0.0, 0.3])})),
    st.tuples(st.just(SGD), hyper({
        "lr": st.floats(1e-4, 1e-2), "momentum": st.floats(0.1, 0.95), "nesterov": st.just(True)})),
    st.tuples(st.just(AdaGrad), hyper({
        "lr": st.floats(1e-3, 0.5), "lr_decay": st.floats(0, 0.1), "eps": st.floats(1e-10, 1e-3),
        "initial_accumulator_value": st.floats(0, 1)})),
    st.tuples(st.just(RMSProp), hyper({
        "lr": st.floats(1e-4, 1e-2), "alpha": st.floats(0.5, 0.999), "eps": st.floats(1e-8, 1e-2),
        "momentum": st.sampled_from([0.0, 0.7]), "centered": st.booleans()})),
    st.tuples(st.sampled_from([Adam, AdamW]), hyper({
        "lr": st.floats(1e-4, 5e-2), "betas": st.tuples(st.floats(0, 0.99), st.floats(0.9, 0.9999)),
        "eps": st.floats(1e-8, 1e-2), "weight_decay": st.floats(0, 0.1), "amsgrad": st.booleans()})),
)


@given(OPTIMIZER_SPACE)
def test_trajectory_matches_torch_for_any_hyperparameters(torch, spec):
    cls, kwargs = spec
    ours = run_minigrad("quadratic", lambda p: cls(p, **kwargs), 40)
    ref = run_torch(torch, "quadratic", torch_optimizer(torch, cls, **kwargs), 40)
    assert_close(ours, ref, 1e-10, f"{cls.__name__}({kwargs})")


def test_param_groups_have_their_own_hyperparameters(torch):
    def ours(params):
        return Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.05, "betas": (0.5, 0.9)}],
                    lr=1e-2, weight_decay=1e-3)

    def ref(params):
        return torch.optim.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.05,
                                                          "betas": (0.5, 0.9)}],
                                lr=1e-2, weight_decay=1e-3, foreach=False)

    assert_close(run_minigrad("mlp", ours, 100), run_torch(torch, "mlp", ref, 100), 1e-10)
    single = run_minigrad("mlp", lambda p: Adam(p, lr=1e-2, weight_decay=1e-3), 100)
    assert np.abs(single - run_minigrad("mlp", ours, 100)).max() > 1e-3


@pytest.mark.parametrize("cls, kwargs", CONFIGS[1::2], ids=lambda v: getattr(v, "__name__", str(v)))
def test_state_dict_round_trip_continues_identically(cls, kwargs):
    """Stopping after 30 steps, loading the state into a fresh optimizer and going on
    gives exactly the uninterrupted trajectory."""
    from tests.optim.problems import quadratic

    init, loss_fn, _ = quadratic()

    def train(params, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            loss_fn(params).backward()
            opt.step()

    straight = [mg.Parameter(a.copy()) for a in init]
    train(straight, cls(straight, **kwargs), 60)

    first = [mg.Parameter(a.copy()) for a in init]
    opt = cls(first, **kwargs)
    train(first, opt, 30)
    saved = opt.state_dict()
    train(first, opt, 5)  # must not leak into the saved copy

    # The same 30 steps again, then a new optimizer (other lr) that loads the state.
    resumed = [mg.Parameter(a.copy()) for a in init]
    train(resumed, cls(resumed, **kwargs), 30)
    fresh = cls(resumed, **{**kwargs, "lr": 123.0})
    fresh.load_state_dict(saved)
    assert fresh.param_groups[0]["lr"] == kwargs["lr"]
    train(resumed, fresh, 30)
    np.testing.assert_array_equal(resumed[0].data, straight[0].data)


def test_state_dict_layout_and_validation():
    params = [mg.Parameter(np.ones((2, 3))), mg.Parameter(np.ones(4))]
    opt = Adam([{"params": [params[0]]}, {"params": [params[1]], "lr": 0.1}])
    for p in params:
        p.grad = np.ones_like(p.data)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0], [1]]
    assert sd["state"][1]["step"] == 1 and sd["state"][0]["exp_avg"].shape == (2, 3)
    other = Adam([mg.Parameter(np.ones((2, 3))), mg.Parameter(np.ones(4))])
    with pytest.raises(ValueError, match="1 parameter groups|2 parameter groups"):
        other.load_state_dict(sd)
    wrong = Adam([{"params": [mg.Parameter(np.ones((3, 2)))]}, {"params": [mg.Parameter(np.ones(4))]}])
    with pytest.raises(ValueError, match="shape"):
        wrong.load_state_dict(sd)
    assert wrong.state == {}  # nothing changed by the failed load


def test_float32_parameters_stay_float32():
    p = mg.Parameter(np.ones(5, dtype=np.float32))
    p.grad = np.full(5, 0.5, dtype=np.float32)
    for cls in (SGD, AdaGrad, RMSProp, Adam, AdamW):
        cls([p], lr=0.1).step()
        assert p.dtype == np.float32


def test_step_skips_parameters_without_gradient_and_zero_grad_clears():
    a, b = mg.Parameter(np.ones(3)), mg.Parameter(np.ones(3))
    a.grad = np.ones(3)
    opt = SGD([a, b], lr=0.5, momentum=0.9)
    opt.step()
    np.testing.assert_array_equal(a.data, 0.5)
    np.testing.assert_array_equal(b.data, 1.0)
    assert id(b) not in opt.state
    opt.zero_grad()
    assert a.grad is None


@pytest.mark.parametrize("make, message", [
    (lambda p: SGD(p, lr=-0.1), "SGD: lr must be >= 0, got -0.1"),
    (lambda p: SGD(p, lr=float("nan")), "lr"),
    (lambda p: SGD(p, lr=0.1, momentum=-1), "momentum"),
    (lambda p: SGD(p, lr=0.1, nesterov=True), "nesterov"),
    (lambda p: SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening"),
    (lambda p: SGD(p, lr=0.1, weight_decay=-1e-4), "weight_decay"),
    (lambda p: Adam(p, betas=(1.0, 0.999)), "betas\\[0\\] must be in \\[0, 1\\), got 1.0"),
    (lambda p: Adam(p, betas=(0.9, -0.1)), "betas\\[1\\]"),
    (lambda p: Adam(p, betas=(0.9,)), "betas must be a pair"),
    (lambda p: AdamW(p, eps=0.0), "AdamW: eps must be > 0, got 0.0"),
    (lambda p: Adam(p, lr=-1e-3), "Adam: lr"),
    (lambda p: RMSProp(p, alpha=1.5), "alpha"),
    (lambda p: RMSProp(p, eps=-1.0), "eps"),
    (lambda p: AdaGrad(p, lr_decay=-1.0), "lr_decay"),
    (lambda p: AdaGrad(p, initial_accumulator_value=-1.0), "initial_accumulator_value"),
    (lambda p: SGD([{"params": p, "lr": -1.0}], lr=0.1), "lr"),
    (lambda p: SGD([{"params": p, "learning_rate": 1.0}], lr=0.1), "unknown hyper-parameters"),
    (lambda p: SGD([], lr=0.1), "empty parameter list"),
    (lambda p: SGD(p + p, lr=0.1), "more than one place"),
])
def test_invalid_hyperparameters_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make([mg.Parameter(np.ones(2))])


def test_invalid_types_raise():
    with pytest.raises(TypeError, match="SGD: params .*wrap it in a list"):
        SGD(mg.Parameter(np.ones(2)), lr=0.1)
    with pytest.raises(TypeError, match="got a single dict"):
        SGD({"params": [mg.Parameter(np.ones(2))]}, lr=0.1)
    with pytest.raises(TypeError, match="lr must be a real number"):
        SGD([mg.Parameter(np.ones(2))], lr="0.1")
    with pytest.raises(TypeError, match="floating point"):
        SGD([mg.Parameter(np.ones(2, dtype=np.float32)).astype(np.int64)], lr=0.1)


# ----------------------------------------------------------------- clipping
def _grads_pair(torch, rng, scale):
    arrays = [rng.standard_normal(s) * scale for s in [(3, 4), (5,), (2, 2, 2)]]
    ours = [mg.Parameter(a.copy()) for a in arrays]
    ref = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    for p, t, a in zip(ours, ref, arrays):
        g = rng.standard_normal(a.shape) * scale
        p.grad, t.grad = g.copy(), torch.tensor(g)
    return ours, ref


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(torch, rng, norm_type, max_norm):
    ours, ref = _grads_pair(torch, rng, 2.0)
    total = clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(ref, max_norm, norm_type, foreach=False)
    assert abs(total - expected.item()) <= 1e-12 * expected.item()
    for p, t in zip(ours, ref):
        assert_close(p.grad, t.grad.numpy(), 1e-14, "clipped gradient")
    clipped = np.linalg.norm(np.concatenate([p.grad.ravel() for p in ours]), ord=norm_type)
    assert clipped <= max_norm * (1 + 1e-12) and (max_norm < total or np.isclose(clipped, total))


def test_clip_grad_value_matches_torch(torch, rng):
    ours, ref = _grads_pair(torch, rng, 2.0)
    clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(ref, 0.7, foreach=False)
    for p, t in zip(ours, ref):
        np.testing.assert_array_equal(p.grad, t.grad.numpy())
    assert max(np.abs(p.grad).max() for p in ours) == 0.7


def test_clipping_validation():
    p = mg.Parameter(np.ones(2))
    p.grad = np.array([np.inf, 1.0])
    with pytest.raises(FloatingPointError, match="total gradient norm is inf"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm_([p], -1.0)
    with pytest.raises(ValueError, match="clip_value"):
        clip_grad_value_([p], -1.0)
    assert clip_grad_norm_([mg.Parameter(np.ones(2))], 1.0) == 0.0  # no gradients: nothing to do


# ------------------------------------------------------------- bad arguments
# (class, argument): (low, high, low_open, high_open) of the accepted range.
NUMERIC_ARGS = {
    (SGD, "lr"): (0, None, False, False), (SGD, "momentum"): (0, None, False, False),
    (SGD, "dampening"): (0, 1, False, False), (SGD, "weight_decay"): (0, None, False, False),
    (AdaGrad, "lr"): (0, None, False, False), (AdaGrad, "lr_decay"): (0, None, False, False),
    (AdaGrad, "weight_decay"): (0, None, False, False),
    (AdaGrad, "initial_accumulator_value"): (0, None, False, False), (AdaGrad, "eps"): (0, None, True, False),
    (RMSProp, "lr"): (0, None, False, False), (RMSProp, "alpha"): (0, 1, False, False),
    (RMSProp, "eps"): (0, None, True, False), (RMSProp, "weight_decay"): (0, None, False, False),
    (RMSProp, "momentum"): (0, None, False, False),
    (Adam, "lr"): (0, None, False, False), (Adam, "eps"): (0, None, True, False),
    (Adam, "weight_decay"): (0, None, False, False), (AdamW, "lr"): (0, None, False, False),
    (AdamW, "eps"): (0, None, True, False), (AdamW, "weight_decay"): (0, None, False, False),
}
FLAG_ARGS = [(SGD, "nesterov"), (RMSProp, "centered"), (Adam, "amsgrad"), (AdamW, "amsgrad")]
NOT_NUMBERS = st.sampled_from([True, False, None, "0.1", [0.1], np.bool_(True)])


@st.composite
def bad_numeric_hyperparameter(draw):
    (cls, name), (low, high, low_open, high_open) = draw(st.sampled_from(sorted(
        NUMERIC_ARGS.items(), key=lambda kv: (kv[0][0].__name__, kv[0][1]))))
    out_of_range = [st.floats(max_value=low, exclude_max=not low_open, allow_nan=False)]
    if high is not None:
        out_of_range.append(st.floats(min_value=high, exclude_min=not high_open, allow_nan=False))
    value = draw(st.one_of(*out_of_range, st.sampled_from([math.nan, math.inf, -math.inf]), NOT_NUMBERS))
    return cls, name, value


@settings(max_examples=80)
@given(bad_numeric_hyperparameter(), st.booleans())
def test_bad_hyperparameters_raise_naming_the_argument(spec, in_group):
    cls, name, value = spec
    params = [mg.Parameter(np.ones(2))]
    error = TypeError if isinstance(value, (bool, np.bool_, str, list, type(None))) else ValueError
    with pytest.raises(error, match=f"{cls.__name__}: {name} must be"):
        if in_group:  # a bad value in a parameter group is refused the same way
            cls([{"params": params, name: value}])
        else:
            cls(params, **{name: value})


@settings(max_examples=20)
@given(st.sampled_from(FLAG_ARGS), st.sampled_from([1, 0, "yes", None, 1.0]))
def test_bad_flags_raise_type_error(spec, value):
    cls, name = spec
    with pytest.raises(TypeError, match=f"{cls.__name__}: {name} must be True or False"):
        cls([mg.Parameter(np.ones(2))], **{name: value})


@settings(max_examples=30)
@given(st.sampled_from([Adam, AdamW]), st.integers(0, 1),
       st.one_of(st.floats(min_value=1.0), st.floats(max_value=0.0, exclude_max=True),
                 st.sampled_from([math.nan, math.inf, -math.inf])))
def test_bad_betas_raise_naming_the_entry(cls, k, beta):
    betas = [0.9, 0.999]
    betas[k] = beta
    with pytest.raises(ValueError, match=rf"{cls.__name__}: betas\[{k}\] must be in \[0, 1\)"):
        cls([mg.Parameter(np.ones(2))], betas=tuple(betas))


def test_infinite_learning_rate_is_refused():
    """NaN was always refused; inf used to be accepted and gave inf weights on the first step."""
    for cls in (SGD, AdaGrad, RMSProp, Adam, AdamW):
        with pytest.raises(ValueError, match=f"{cls.__name__}: lr must be"):
            cls([mg.Parameter(np.ones(2))], lr=math.inf)
    with pytest.raises(TypeError, match="betas must be a pair"):
        Adam([mg.Parameter(np.ones(2))], betas=0.9)


def test_a_bad_default_is_refused_even_when_every_group_overrides_it():
    with pytest.raises(ValueError, match="SGD: lr must be"):
        SGD([{"params": [mg.Parameter(np.ones(2))], "lr": 0.1}], lr=math.nan)


def test_hyperparameters_are_stored_clean():
    opt = Adam([mg.Parameter(np.ones(2))], lr=np.float32(0.5), betas=[0.5, 0.75], amsgrad=np.bool_(True))
    group = opt.param_groups[0]
    assert type(group["lr"]) is float and group["betas"] == (0.5, 0.75) and group["amsgrad"] is True
    assert describe_group("Adam", group) == ("Adam(lr=0.5, betas=(0.5, 0.75), eps=1e-08, weight_decay=0.0, "
                                             "amsgrad=True)")


def _stepped(cls, **kwargs):
    params = [mg.Parameter(np.ones((2, 3))), mg.Parameter(np.ones(4))]
    opt = cls(params, **kwargs)
    for p in params:
        p.grad = np.full(p.shape, 0.5)
    opt.step()
    return opt


@pytest.mark.parametrize("source, target, message", [
    (lambda: _stepped(Adam), lambda: _stepped(SGD, lr=0.1, momentum=0.9),
     "SGD.load_state_dict: the state comes from Adam, this optimizer is SGD"),
    (lambda: _stepped(AdamW), lambda: _stepped(Adam), "the state comes from AdamW, this optimizer is Adam"),
    (lambda: _stepped(RMSProp), lambda: _stepped(AdaGrad), "the state comes from RMSProp"),
])
def test_state_of_another_optimizer_type_is_refused(source, target, message):
    saved, opt = source().state_dict(), target()
    groups, state = copy.deepcopy(opt.param_groups), copy.deepcopy(opt.state)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(saved)
    if set(saved["param_groups"][0]) != set(opt.param_groups[0]):
        del saved["type"]  # a state without its class name: the hyper-parameter names still tell
        with pytest.raises(ValueError, match="hyper-parameters"):
            opt.load_state_dict(saved)
    assert repr(opt.param_groups) == repr(groups)
    assert opt.state.keys() == state.keys()
    for key in state:
        assert opt.state[key].keys() == state[key].keys()
        for name, value in state[key].items():
            np.testing.assert_array_equal(opt.state[key][name], value)


@pytest.mark.parametrize("edit, message", [
    (lambda sd: sd["state"][0].pop("exp_avg_sq"), r"state of parameter 0 must hold \['exp_avg', 'exp_avg_sq'"),
    (lambda sd: sd["state"][0].update(exp_avg=[0.0] * 6), "'exp_avg' of parameter 0 must be a float array"),
    (lambda sd: sd["state"][1].update(step=-1), "step' must be an integer >= 0"),
    (lambda sd: sd["state"].update({5: {}}), "unknown parameter index 5"),
    (lambda sd: sd["param_groups"][0].update(lr=math.inf), "lr must be >= 0, got inf"),
    (lambda sd: sd["param_groups"][0].update(params=[0, 0]), "index 0 twice"),
    (lambda sd: sd.pop("state"), "must be a dict with 'state' and 'param_groups'"),
])
def test_malformed_state_dict_is_refused_and_changes_nothing(edit, message):
    saved, opt = _stepped(Adam, lr=0.1).state_dict(), _stepped(Adam, lr=0.2)
    before = opt.state_dict()
    edit(saved)
    with pytest.raises(ValueError, match=message):
        opt.load_state_dict(saved)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for i in before["state"]:
        np.testing.assert_array_equal(after["state"][i]["exp_avg"], before["state"][i]["exp_avg"])


@pytest.mark.parametrize("params", [None, 5, 2.5])
def test_params_that_are_not_iterable_raise_type_error_naming_params(params):
    with pytest.raises(TypeError, match=f"SGD: params must be an iterable of Parameters or of dicts, "
                                        f"got {type(params).__name__}"):
        SGD(params)
    with pytest.raises(TypeError, match="a parameter group's 'params' must be an iterable of Parameters"):
        SGD([{"params": params}])


@pytest.mark.parametrize("state_dict", [5, None, [("state", {})], "state"])
def test_load_state_dict_of_a_non_dict_is_a_type_error(state_dict):
    opt = _stepped(Adam)
    with pytest.raises(TypeError, match=f"Adam.load_state_dict: state_dict must be a dict, "
                                        f"got {type(state_dict).__name__}"):
        opt.load_state_dict(state_dict)


def test_strict_load_requires_the_same_settings_and_plain_load_replaces_them():
    saved, opt = _stepped(Adam, lr=0.1).state_dict(), _stepped(Adam, lr=0.2)
    with pytest.raises(ValueError, match=r"the state is of Adam\(lr=0.1, .*this optimizer is Adam\(lr=0.2,"):
        opt._prepare_load(saved, strict=True)
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["lr"] == 0.1


def test_clip_grad_norm_arguments():
    p = mg.Parameter(np.ones(2))
    p.grad = np.array([3.0, 4.0])
    assert clip_grad_norm_([p], None) == 5.0  # None: measure only
    np.testing.assert_array_equal(p.grad, [3.0, 4.0])
    assert clip_grad_norm_([p], 10.0, norm_type=math.inf) == 4.0  # inf names the max-norm
    for bad in (math.inf, math.nan, 0.0, -1.0):
        with pytest.raises(ValueError, match="clip_grad_norm_: max_norm must be > 0"):
            clip_grad_norm_([p], bad)
    for bad in (math.nan, -math.inf, 0.0):
        with pytest.raises(ValueError, match="clip_grad_norm_: norm_type must be > 0"):
            clip_grad_norm_([p], 1.0, norm_type=bad)
    with pytest.raises(TypeError, match="norm_type must be a real number"):
        clip_grad_norm_([p], 1.0, norm_type="inf")
    with pytest.raises(TypeError, match="error_if_nonfinite must be True or False"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=1)
    with pytest.raises(ValueError, match="clip_grad_value_: clip_value must be >= 0, got inf"):
        clip_grad_value_([p], math.inf)
    with pytest.raises(TypeError, match="clip_grad_norm_: parameters must be Parameters, got int"):
        clip_grad_norm_(3, 1.0)
