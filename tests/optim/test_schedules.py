"""Learning-rate schedules against torch.optim.lr_scheduler: rates and 200-step trajectories."""
import numpy as np
import pytest
from hypothesis import given
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
    (lambda o: schedules.StepLR(o, step_size=0), ValueError, "step_size must be >= 1"),
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
