"""Diffusion arithmetic: the schedules, the forward process' closed form, one reverse step by
hand, and both samplers recovering a point mass from the exact noise predictor."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assignments import diffusion
from tests.conftest import assert_close


def test_linear_schedule_is_ddpms():
    s = diffusion.make_schedule("linear", 1000)
    assert s.steps == 1000 and s.betas[0] == 1e-4 and s.betas[-1] == 0.02
    np.testing.assert_allclose(np.diff(s.betas), (0.02 - 1e-4) / 999, rtol=1e-9)
    # DDPM: L_T ~ 0, since alpha_bar_T = prod(1 - beta) ~ exp(-sum beta) ~ 4e-5.
    assert 1e-5 < s.alpha_bars[-1] < 1e-4
    assert_close(s.alpha_bars[-1], np.exp(np.sum(np.log1p(-s.betas))), 1e-15, "alpha_bar_T")
    assert np.all(np.diff(s.alpha_bars) < 0) and s.alpha_bars[0] == 1 - 1e-4
    assert s.alpha_bars_prev[0] == 1.0 and np.array_equal(s.alpha_bars_prev[1:], s.alpha_bars[:-1])


def test_cosine_schedule():
    T = 1000
    s = diffusion.make_schedule("cosine", T)
    f = np.cos((np.arange(T + 1) / T + 0.008) / 1.008 * np.pi / 2) ** 2
    # Away from the capped last steps, alpha_bar follows f(t) / f(0).
    uncapped = s.betas < 0.999
    assert uncapped[: T - 5].all() and s.betas.max() <= 0.999
    assert_close(s.alpha_bars[:T - 5], (f[1:] / f[0])[:T - 5], 1e-12, "cosine alpha_bar")
    assert s.alpha_bars[-1] < 1e-6 and np.all(s.betas > 0)


def test_posterior_variance():
    s = diffusion.make_schedule("linear", 50)
    tilde = s.variance("posterior")
    assert tilde[0] == 0.0
    assert np.all(tilde[1:] < s.betas[1:]) and np.all(tilde[1:] > 0)
    t = 17
    assert_close(tilde[t], (1 - s.alpha_bars[t - 1]) / (1 - s.alpha_bars[t]) * s.betas[t], 1e-18, "beta~")
    assert s.variance("beta") is s.betas


@settings(max_examples=10)
@given(t=st.integers(0, 999), kind=st.sampled_from(diffusion.SCHEDULES), pixels=st.integers(1, 4))
def test_forward_process_has_the_closed_form_mean_and_variance(t, kind, pixels):
    # Many draws of x_t from one x_0: per pixel, mean sqrt(abar) x0 and variance 1 - abar.
    rng = np.random.default_rng(t)
    s = diffusion.make_schedule(kind, 1000)
    n = 40000
    x0 = np.broadcast_to(rng.uniform(-1, 1, (1, 1, pixels, 3)), (n, 1, pixels, 3))
    xt = diffusion.q_sample(s, x0, np.full(n, t), rng.standard_normal(x0.shape))
    abar = s.alpha_bars[t]
    var = 1 - abar
    # 5 standard errors of the sample mean and variance.
    assert_close(xt.mean(axis=0), np.sqrt(abar) * x0[0], 5 * np.sqrt(var / n), f"mean at t={t}")
    assert_close(xt.var(axis=0), np.full(x0.shape[1:], var), 5 * var * np.sqrt(2 / n), f"variance at t={t}")


def test_q_sample_uses_each_images_own_timestep(rng):
    s = diffusion.make_schedule("linear", 100)
    x0, noise, t = rng.standard_normal((3, 1, 2, 2)), rng.standard_normal((3, 1, 2, 2)), np.array([0, 50, 99])
    xt = diffusion.q_sample(s, x0.astype(np.float32), t, noise.astype(np.float32))
    assert xt.dtype == np.float32
    for i in range(3):
        a = s.alpha_bars[t[i]]
        assert_close(xt[i], np.sqrt(a) * x0[i] + np.sqrt(1 - a) * noise[i], 1e-6, f"image {i}")


@pytest.mark.parametrize("variance", diffusion.VARIANCES)
def test_one_reverse_step_by_hand(variance):
    s = diffusion.make_schedule("linear", 10)
    t = 4
    x, eps, z = np.array([0.5, -1.0]), np.array([0.2, 0.1]), np.array([1.0, -2.0])
    beta = 1e-4 + t * (0.02 - 1e-4) / 9
    abar = np.prod([1 - (1e-4 + k * (0.02 - 1e-4) / 9) for k in range(t + 1)])
    abar_prev = abar / (1 - beta)
    sigma2 = beta if variance == "beta" else (1 - abar_prev) / (1 - abar) * beta
    expected = (x - beta / np.sqrt(1 - abar) * eps) / np.sqrt(1 - beta) + np.sqrt(sigma2) * z
    assert_close(diffusion.ddpm_step(s, x, t, eps, z, variance), expected, 1e-15, "x_{t-1}")
    # The last step adds no noise.
    assert_close(diffusion.ddpm_step(s, x, 0, eps, z, variance),
                 (x - 1e-4 / np.sqrt(1e-4) * eps) / np.sqrt(1 - 1e-4), 1e-15, "x_0")


def test_one_ddim_step_by_hand():
    s = diffusion.make_schedule("linear", 10)
    x, eps = np.array([0.3, 2.0]), np.array([-0.5, 0.25])
    a, a_prev = s.alpha_bars[7], s.alpha_bars[2]
    x0 = (x - np.sqrt(1 - a) * eps) / np.sqrt(a)
    assert_close(diffusion.ddim_step(s, x, 7, 2, eps, clip=None), np.sqrt(a_prev) * x0 + np.sqrt(1 - a_prev) * eps,
                 1e-15, "DDIM")
    assert_close(diffusion.ddim_step(s, x, 7, -1, eps, clip=None), x0, 1e-15, "DDIM to the clean image")
    # Clipped: x0_hat = (0.33.., 2.3..) becomes (0.33.., 1), and eps follows it.
    assert abs(x0[0]) < 1 < x0[1]
    x0_clipped = np.array([x0[0], 1.0])
    eps_clipped = (x - np.sqrt(a) * x0_clipped) / np.sqrt(1 - a)
    assert eps_clipped[0] == pytest.approx(eps[0]) and eps_clipped[1] != pytest.approx(eps[1])
    assert_close(diffusion.ddim_step(s, x, 7, 2, eps), np.sqrt(a_prev) * x0_clipped + np.sqrt(1 - a_prev) * eps_clipped,
                 1e-15, "clipped DDIM")
    assert_close(diffusion.ddim_step(s, x, 7, -1, eps), x0_clipped, 1e-15, "clipped DDIM to the clean image")


@settings(max_examples=8)
@given(total=st.integers(1, 300), data=st.data())
def test_ddim_timesteps(total, data):
    steps = data.draw(st.integers(1, total))
    ts = diffusion.ddim_timesteps(total, steps)
    assert ts[-1] == total - 1 and (ts[0] == 0 or steps == 1) and np.all(np.diff(ts) > 0)
    assert len(ts) == steps
    assert_close(np.diff(ts), np.full(steps - 1, (total - 1) / max(steps - 1, 1)), 1.0, "even spacing")


def _point_mass_predictor(s, c):
    """The exact noise predictor when every data image is ``c``: eps = (x_t - sqrt(abar) c) / sqrt(1 - abar)."""
    def eps_model(x, t):
        a = s.alpha_bars[t].reshape(-1, *([1] * (x.ndim - 1)))
        return (x - np.sqrt(a) * c) / np.sqrt(1 - a)
    return eps_model


@pytest.mark.parametrize("kind", diffusion.SCHEDULES)
def test_samplers_recover_a_point_mass_from_the_exact_predictor(kind, rng):
    s = diffusion.make_schedule(kind, 200)
    c = rng.uniform(-1, 1, (1, 1, 3, 3))
    eps = _point_mass_predictor(s, c)
    for variance in diffusion.VARIANCES:
        x, chain, kept = diffusion.sample_ddpm(eps, s, (4, 1, 3, 3), rng=1, variance=variance, snapshots=5,
                                               dtype=np.float64)
        assert_close(x, np.broadcast_to(c, x.shape), 1e-9, f"DDPM ({variance})")
        assert chain.shape == (5, 4, 1, 3, 3) and kept[0] == 199 and kept[-1] == -1
        assert np.array_equal(chain[-1], x)
    x, _, _ = diffusion.sample_ddim(eps, s, (4, 1, 3, 3), steps=7, rng=1, dtype=np.float64)
    assert_close(x, np.broadcast_to(c, x.shape), 1e-9, "DDIM")


def test_ddim_is_deterministic_given_x_T_and_ddpm_is_not():
    s = diffusion.make_schedule("linear", 100)

    def eps_model(x, t):  # any smooth predictor
        return np.tanh(x) * (t[:, None, None, None] / 100.0)

    a, chain, _ = diffusion.sample_ddim(eps_model, s, (3, 1, 4, 4), steps=20, rng=5, snapshots=3)
    b, _, _ = diffusion.sample_ddim(eps_model, s, (3, 1, 4, 4), steps=20, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    # Only x_T is random: it is the chain's first state, and the rest follows from it.
    x_T = np.random.default_rng(5).standard_normal((3, 1, 4, 4)).astype(np.float32)
    np.testing.assert_array_equal(chain[0], x_T)
    # DDPM draws fresh z at every step: the same x_T gives another sample with other z.
    c, _, _ = diffusion.sample_ddpm(eps_model, s, (3, 1, 4, 4), rng=5)
    d, _, _ = diffusion.sample_ddpm(eps_model, s, (3, 1, 4, 4), rng=6)
    assert not np.allclose(c, d)
    assert a.dtype == np.float32 and np.isfinite(a).all()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="make_schedule: kind must be one of"):
        diffusion.make_schedule("quadratic", 10)
    with pytest.raises(ValueError, match="make_schedule: steps"):
        diffusion.make_schedule("linear", 0)
    with pytest.raises(ValueError, match="make_schedule: beta_end"):
        diffusion.make_schedule("linear", 10, beta_start=0.1, beta_end=0.01)
    s = diffusion.make_schedule("linear", 10)
    with pytest.raises(ValueError, match="sample_ddim: steps must be"):
        diffusion.sample_ddim(lambda x, t: x, s, (1, 1, 2, 2), steps=11)
    with pytest.raises(ValueError, match="sample_ddpm: variance must be one of"):
        diffusion.sample_ddpm(lambda x, t: x, s, (1, 1, 2, 2), variance="learned")
    with pytest.raises(TypeError, match="sample_ddpm: schedule must be a Schedule"):
        diffusion.sample_ddpm(lambda x, t: x, np.ones(10), (1, 1, 2, 2))
    with pytest.raises(ValueError, match="sample_ddim: shape must be"):
        diffusion.sample_ddim(lambda x, t: x, s, (4,))
