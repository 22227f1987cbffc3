"""Learning-rate schedules against torch.optim.lr_scheduler: rates and 200-step trajectories;
refused arguments, overflow and states."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from optim import SGD, Adam, schedules
from tests.conftest import assert_close
from tests.optim.problems import run_minigrad, run_torch

# Each entry builds a schedule from a module that has torch's names (ours or torch's).
SCHEDULES = {
    "step": lambda m, opt: m.StepLR(opt, step_size=30, gamma=0.5),
    "multistep": lambda m, opt: m.MultiStepLR(opt, milestones=[120, 20, 50, 50], gamma=0.5),
    "exponential": lambda m, opt: m.ExponentialLR(opt, gamma=0.98),
    "cosine": lambda m, opt: m.CosineAnnealingLR(opt, T_max=80, eta_min=1e-3),
    "warmup": lambda m, opt: m.LinearLR(opt, start_factor=0.1, total_iters=25),
    "linear_decay": lambda m, opt: m.LinearLR(opt, start_factor=1.0, end_factor=0.2, total_iters=100),
    "chain_warmup_exponential": lambda m, opt: m.ChainedScheduler(
        [m.LinearLR(opt, start_factor=0.1, total_iters=20), m.ExponentialLR(opt, gamma=0.99)]),
    "chain_warmup_cosine": lambda m, opt: m.ChainedScheduler(
        [m.LinearLR(opt, start_factor=0.2, total_iters=10), m.CosineAnnealingLR(opt, T_max=150)]),
    "sequential_warmup_cosine": lambda m, opt: m.SequentialLR(
        opt, [m.LinearLR(opt, start_factor=0.1, total_iters=20),
              m.CosineAnnealingLR(opt, T_max=180, eta_min=1e-4)], milestones=[20]),
    "sequential_three": lambda m, opt: m.SequentialLR(
        opt, [m.ExponentialLR(opt, gamma=0.99), m.StepLR(opt, step_size=15, gamma=0.7),
              m.LinearLR(opt, start_factor=0.5, end_factor=0.1, total_iters=40)], milestones=[50, 120]),
}


def lr_sequence(module, optimizer, make, steps):
    schedule = make(module, optimizer)
    rates = [schedule.get_last_lr()]
    for _ in range(steps):
        optimizer.step()  # torch warns when a schedule steps before its optimizer
        schedule.step()
        rates.append(schedule.get_last_lr())
    return np.array(rates, dtype=np.float64)


def two_group_optimizers(torch):
    """An Adam with two groups (lr 0.1 and 0.01) on each side, over dummy parameters."""
    ours = Adam([{"params": [mg.Parameter(np.ones(2))]},
                 {"params": [mg.Parameter(np.ones(2))], "lr": 0.01}], lr=0.1)
    ref = torch.optim.Adam([{"params": [torch.ones(2, requires_grad=True)]},
                            {"params": [torch.ones(2, requires_grad=True)], "lr": 0.01}], lr=0.1)
    return ours, ref


@pytest.mark.parametrize("name", SCHEDULES)
def test_rates_match_torch(torch, name):
    ours_opt, ref_opt = two_group_optimizers(torch)
    ours = lr_sequence(schedules, ours_opt, SCHEDULES[name], 200)
    ref = lr_sequence(torch.optim.lr_scheduler, ref_opt, SCHEDULES[name], 200)
    assert np.ptp(ours[:, 0]) > 1e-3, "the rate never changed: a vacuous test"
    assert_close(ours, ref, 1e-14, f"{name} learning rates")


@pytest.mark.parametrize("problem", ["quadratic", "mlp"])
@pytest.mark.parametrize("name", SCHEDULES)
def test_trajectory_matches_torch(torch, name, problem):
    ours = run_minigrad(problem, lambda p: SGD(p, lr=0.01, momentum=0.9), 200,
                        lambda opt: SCHEDULES[name](schedules, opt))
    ref = run_torch(torch, problem, lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9, foreach=False),
                    200, lambda opt: SCHEDULES[name](torch.optim.lr_scheduler, opt))
    assert_close(ours, ref, 1e-10, f"SGD with {name} on {problem}")


SPACE = st.one_of(
    st.builds(lambda s, g: lambda m, o: m.StepLR(o, step_size=s, gamma=g),
              st.integers(1, 40), st.floats(0.05, 1.0)),
    st.builds(lambda ms, g: lambda m, o: m.MultiStepLR(o, milestones=ms, gamma=g),
              st.lists(st.integers(1, 120), max_size=5), st.floats(0.05, 1.0)),
    st.builds(lambda g: lambda m, o: m.ExponentialLR(o, gamma=g), st.floats(0.9, 1.0)),
    st.builds(lambda t, e: lambda m, o: m.CosineAnnealingLR(o, T_max=t, eta_min=e),
              st.integers(1, 150), st.floats(0.0, 1e-2)),
    st.builds(lambda s, e, n: lambda m, o: m.LinearLR(o, start_factor=s, end_factor=e, total_iters=n),
              st.floats(0.01, 1.0), st.floats(0.0, 1.0), st.integers(1, 100)),
)


@given(SPACE)
def test_rates_match_torch_for_any_hyperparameters(torch, make):
    ours_opt, ref_opt = two_group_optimizers(torch)
    ours = lr_sequence(schedules, ours_opt, make, 150)
    ref = lr_sequence(torch.optim.lr_scheduler, ref_opt, make, 150)
    assert_close(ours, ref, 1e-12, "learning rates")


def test_state_dict_round_trip():
    opt = SGD([mg.Parameter(np.ones(2))], lr=0.1)
    first = schedules.CosineAnnealingLR(opt, T_max=50)
    for _ in range(17):
        first.step()
    saved, lr = first.state_dict(), opt.param_groups[0]["lr"]
    opt2 = SGD([mg.Parameter(np.ones(2))], lr=0.1)
    second = schedules.CosineAnnealingLR(opt2, T_max=50)
    second.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == lr and second.last_epoch == 17
    first.step(), second.step()
    assert first.get_last_lr() == second.get_last_lr()


def test_later_schedule_keeps_the_first_base_rate():
    opt = SGD([mg.Parameter(np.ones(2))], lr=0.1)
    schedules.ExponentialLR(opt, gamma=0.5).step()
    assert schedules.StepLR(opt, step_size=3).base_lrs == [0.1]


@pytest.mark.parametrize("make, error, message", [
    (lambda o: schedules.StepLR(o, step_size=0), ValueError,
     "StepLR: step_size must be an integer >= 1, got 0"),
    (lambda o: schedules.StepLR(o, step_size=2.5), TypeError, "step_size must be an integer"),
    (lambda o: schedules.StepLR(o, step_size=2, gamma=0.0), ValueError, "gamma"),
    (lambda o: schedules.MultiStepLR(o, milestones=[0, 3]), ValueError, "milestones"),
    (lambda o: schedules.ExponentialLR(o, gamma=-0.5), ValueError, "gamma"),
    (lambda o: schedules.CosineAnnealingLR(o, T_max=0), ValueError, "T_max"),
    (lambda o: schedules.CosineAnnealingLR(o, T_max=5, eta_min=-1.0), ValueError, "eta_min"),
    (lambda o: schedules.LinearLR(o, start_factor=0.0), ValueError, "start_factor"),
    (lambda o: schedules.LinearLR(o, end_factor=1.5), ValueError, "end_factor"),
    (lambda o: schedules.SequentialLR(o, [schedules.StepLR(o, 2)], milestones=[3]), ValueError,
     "one milestone fewer"),
    (lambda o: schedules.SequentialLR(o, [schedules.StepLR(o, 2)] * 3, milestones=[5, 5]), ValueError,
     "must increase"),
    (lambda o: schedules.ChainedScheduler([]), ValueError, "must not be empty"),
    (lambda o: schedules.ChainedScheduler(
        [schedules.StepLR(o, 2), schedules.StepLR(SGD([mg.Parameter(np.ones(1))], lr=1.0), 2)]),
     ValueError, "different optimizer"),
    (lambda o: schedules.StepLR(object(), step_size=2), TypeError, "optimizer must be"),
])
def test_invalid_arguments_raise(make, error, message):
    with pytest.raises(error, match=message):
        make(SGD([mg.Parameter(np.ones(2))], lr=0.1))


# ------------------------------------------------------------- bad arguments
def _opt():
    return SGD([mg.Parameter(np.ones(2))], lr=0.1)


# schedule name -> (build from one keyword, {argument: (low, high, low_open, integer)})
SCHEDULE_ARGS = {
    "StepLR": (lambda o, **kw: schedules.StepLR(o, **{"step_size": 3, **kw}),
               {"step_size": (1, None, False, True), "gamma": (0, None, True, False)}),
    "MultiStepLR": (lambda o, **kw: schedules.MultiStepLR(o, **{"milestones": [2], **kw}),
                    {"gamma": (0, None, True, False)}),
    "ExponentialLR": (lambda o, **kw: schedules.ExponentialLR(o, **{"gamma": 0.9, **kw}),
                      {"gamma": (0, None, True, False)}),
    "CosineAnnealingLR": (lambda o, **kw: schedules.CosineAnnealingLR(o, **{"T_max": 10, **kw}),
                          {"T_max": (1, None, False, True), "eta_min": (0, None, False, False)}),
    "LinearLR": (lambda o, **kw: schedules.LinearLR(o, **kw),
                 {"start_factor": (0, 1, True, False), "end_factor": (0, 1, False, False),
                  "total_iters": (1, None, False, True)}),
}


@st.composite
def bad_schedule_argument(draw):
    schedule = draw(st.sampled_from(sorted(SCHEDULE_ARGS)))
    build, args = SCHEDULE_ARGS[schedule]
    name = draw(st.sampled_from(sorted(args)))
    low, high, low_open, integer = args[name]
    if integer:
        value = draw(st.one_of(st.integers(max_value=low - 1), st.floats(),
                               st.sampled_from([True, False, None, "3"])))
    else:
        out = [st.floats(max_value=low, exclude_max=not low_open)]
        if high is not None:
            out.append(st.floats(min_value=high, exclude_min=True))
        value = draw(st.one_of(*out, st.sampled_from([math.nan, math.inf, -math.inf, True, None, "0.5"])))
    return schedule, build, name, value, integer


@settings(max_examples=80)
@given(bad_schedule_argument())
def test_bad_schedule_arguments_raise_naming_the_argument(spec):
    schedule, build, name, value, integer = spec
    wrong_kind = (isinstance(value, bool) or not isinstance(value, (int, float))
                  or (integer and isinstance(value, float)))
    opt = _opt()
    with pytest.raises(TypeError if wrong_kind else ValueError, match=f"{schedule}: {name} must be"):
        build(opt, **{name: value})
    assert opt.param_groups[0]["lr"] == 0.1 and "initial_lr" not in opt.param_groups[0]


@settings(max_examples=30)
@given(st.sampled_from(["MultiStepLR", "SequentialLR"]),
       st.one_of(st.integers(max_value=0), st.floats(), st.sampled_from([True, "3"])))
def test_bad_milestones_raise_naming_the_entry(schedule, milestone):
    opt = _opt()
    error = ValueError if isinstance(milestone, int) and not isinstance(milestone, bool) else TypeError
    with pytest.raises(error, match=rf"{schedule}: milestones\[1\] must be an integer"):
        if schedule == "MultiStepLR":
            schedules.MultiStepLR(opt, milestones=[4, milestone])
        else:
            parts = [schedules.StepLR(opt, 2) for _ in range(3)]
            schedules.SequentialLR(opt, parts, milestones=[4, milestone])


def test_milestones_must_be_a_list():
    with pytest.raises(TypeError, match="MultiStepLR: milestones must be a list of integers, got 5"):
        schedules.MultiStepLR(_opt(), milestones=5)
    with pytest.raises(TypeError, match="ChainedScheduler: schedules must be a list"):
        schedules.ChainedScheduler(3)
    with pytest.raises(TypeError, match="SequentialLR: optimizer must be an optim Optimizer"):
        schedules.SequentialLR(None, [schedules.StepLR(_opt(), 2)], milestones=[])


@pytest.mark.parametrize("make, steps", [
    (lambda o: schedules.ExponentialLR(o, gamma=1e10), 31),
    (lambda o: schedules.StepLR(o, step_size=2, gamma=1e300), 4),
    (lambda o: schedules.MultiStepLR(o, milestones=[1, 2], gamma=1e200), 2),
    (lambda o: schedules.ChainedScheduler([schedules.ExponentialLR(o, gamma=1e100),
                                           schedules.ExponentialLR(o, gamma=1e100)]), 2),
])
def test_growing_schedule_refuses_to_overflow(make, steps):
    """A rate that would overflow raises ValueError (not OverflowError) and changes nothing."""
    opt = _opt()
    schedule = make(opt)
    for _ in range(steps - 1):
        schedule.step()
    lr, clock = opt.param_groups[0]["lr"], schedule.last_epoch
    assert math.isfinite(lr)
    with pytest.raises(ValueError, match=rf"the learning rate overflows after {steps} steps"):
        schedule.step()
    assert opt.param_groups[0]["lr"] == lr and schedule.last_epoch == clock == steps - 1


def test_growing_schedule_is_allowed():
    """gamma > 1 is a learning-rate range test, as PyTorch allows."""
    opt = _opt()
    schedule = schedules.ExponentialLR(opt, gamma=2.0)
    for _ in range(3):
        schedule.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(0.8)


def test_state_of_another_schedule_is_refused():
    opt = _opt()
    schedule = schedules.SequentialLR(opt, [schedules.LinearLR(opt, 0.1, total_iters=3),
                                            schedules.CosineAnnealingLR(opt, T_max=10)], milestones=[3])
    assert repr(schedule) == ("SequentialLR(schedules=[LinearLR(start_factor=0.1, end_factor=1.0, "
                              "total_iters=3), CosineAnnealingLR(T_max=10, eta_min=0.0)], milestones=[3])")
    for _ in range(5):
        schedule.step()
    lr = opt.param_groups[0]["lr"]
    o = _opt()
    other = schedules.SequentialLR(o, [schedules.LinearLR(o, 0.1, total_iters=3),
                                       schedules.CosineAnnealingLR(o, T_max=20)], milestones=[3])
    for bad, message in [
        (other.state_dict(),
         r"the state is of SequentialLR\(.*T_max=20.*this schedule is SequentialLR\(.*T_max=10"),
        (schedules.StepLR(_opt(), 3).state_dict(), r"the state is of StepLR\(step_size=3, gamma=0.1\)"),
        ({**schedule.state_dict(), "last_epoch": 2.5}, "last_epoch must be an integer"),
        ({**schedule.state_dict(), "base_lrs": [math.nan]}, r"base_lrs\[0\] must be >= 0, got nan"),
        ({**schedule.state_dict(), "base_lrs": [0.1, 0.1]}, "2 base learning rates"),
        ({"last_epoch": 3}, "must be a dict with"),
    ]:
        with pytest.raises((ValueError, TypeError), match=message):
            schedule.load_state_dict(bad)
        assert schedule.last_epoch == 5 and opt.param_groups[0]["lr"] == lr


@pytest.mark.parametrize("state_dict", [5, None, ["config", "last_epoch", "base_lrs"]])
def test_load_state_dict_of_a_non_dict_is_a_type_error(state_dict):
    schedule = schedules.StepLR(_opt(), 3)
    with pytest.raises(TypeError, match=f"^StepLR.load_state_dict: state_dict must be a dict, "
                                        f"got {type(state_dict).__name__}$"):
        schedule.load_state_dict(state_dict)
    assert schedule.last_epoch == 0
