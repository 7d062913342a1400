"""Langevin corrector steps on the guided score (models.engine.corrector).

References: the plain samplers (K = 0 must change nothing, bit for bit), a single Gaussian whose
noisy score is known in closed form (the corrector must leave it in place, up to the known bias of
unadjusted Langevin), and the step-size rules written out by hand.
"""
import math

import numpy as np
import pytest
import torch

from models.engine.corrector import DEFAULT_SNR, Corrector, guided_score, snr_step_size, with_corrector
from models.engine.exact import ExactMixtureDenoiser, exact_gmm2d_denoiser
from models.guidance import make_guidance
from models.engine.samplers import SAMPLERS, sample_ddpm, standard_normal

MU = np.array([0.3, -0.2])
R = 0.4  # the single Gaussian's std


@pytest.fixture(scope="module")
def gaussian(schedule):
    """The exact denoiser of N(MU, R^2 I): its score at level t is -(x - a MU) / (a^2 R^2 + s^2)."""
    return ExactMixtureDenoiser(MU[None], np.array([R]), np.array([1.0]), np.array([0]), 1, schedule)


def _start(schedule, t: int, n: int, seed: int, dtype=torch.float64) -> tuple[torch.Tensor, float, float]:
    """n exact draws of p_t = N(a MU, v I), and (a, v)."""
    a, s = float(schedule.a(t)), float(schedule.s(t))
    v = a * a * R * R + s * s
    z = torch.as_tensor(np.random.default_rng(seed).standard_normal((n, 2)), dtype=dtype)
    return torch.as_tensor(a * MU, dtype=dtype) + math.sqrt(v) * z, a, v


# --- K = 0 is no corrector at all -------------------------------------------------------------

def _run(den, schedule, name, steps=25, corrector=None, wrap=False, dtype=torch.float32, **options):
    y = torch.tensor([0, 1, 2, 1, 1, 0, 2, 2, 1, 0])
    gen = torch.Generator().manual_seed(7)
    x_T = torch.randn((len(y), 2), generator=gen, dtype=torch.float32).to(dtype)
    sampler = with_corrector(SAMPLERS[name], corrector) if wrap else SAMPLERS[name]
    kwargs = {} if wrap or corrector is None else {"corrector": corrector}
    return sampler(den, x_T, schedule.timesteps(steps), y, generator=gen, **kwargs, **options)


@pytest.mark.parametrize("name, options", [("ddpm", {}), ("ddim", {}), ("ddim", {"eta": 0.5}), ("euler", {}),
                                           ("heun", {}), ("dpmpp2m", {})])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_zero_steps_is_bit_identical_to_the_sampler(schedule, name, options, dtype):
    den = make_guidance("cfg", exact_gmm2d_denoiser(schedule), 3.0)
    plain = _run(den, schedule, name, dtype=dtype, **options)
    for pc in (_run(den, schedule, name, corrector=Corrector(steps=0), dtype=dtype, **options),
               _run(den, schedule, name, corrector=Corrector(steps=0), wrap=True, dtype=dtype, **options)):
        for field in ("x", "x0_hat", "noise", "x0_uncond", "x0_cond", "labels", "timesteps"):
            np.testing.assert_array_equal(getattr(pc, field), getattr(plain, field), err_msg=field)
    assert with_corrector(SAMPLERS[name], Corrector(steps=0)) is SAMPLERS[name]


def test_the_corrector_runs_after_the_step_on_the_new_level(schedule):
    # Two DDPM steps by hand: predictor (its noise first), K corrector steps at the level it landed
    # on (their noise after), then the last step to the clean data with no corrector after it.
    den = make_guidance("cfg", exact_gmm2d_denoiser(schedule), 3.0)
    c = Corrector(steps=3)
    y = torch.full((5,), 1)
    ts = schedule.timesteps(2)  # [999, 499]
    gen = torch.Generator().manual_seed(11)
    x_T = torch.randn((5, 2), generator=gen, dtype=torch.float64)
    traj = sample_ddpm(den, x_T, ts, y, generator=gen, corrector=c)

    gen = torch.Generator().manual_seed(11)
    x = torch.randn((5, 2), generator=gen, dtype=torch.float64)
    t, t_prev = int(ts[0]), int(ts[1])
    abar, abar_prev = float(schedule.abar(t)), float(schedule.abar(t_prev))
    beta = 1 - abar / abar_prev
    x0 = den(x, torch.full((5,), t), y)
    mean = math.sqrt(abar_prev) * beta / (1 - abar) * x0 + math.sqrt(abar / abar_prev) * (1 - abar_prev) / (1 - abar) * x
    x = mean + math.sqrt((1 - abar_prev) / (1 - abar) * beta) * standard_normal((5, 2), gen, x)
    for _ in range(3):
        g = guided_score(den, x, t_prev, y)
        z = standard_normal((5, 2), gen, x)
        eps = snr_step_size(g, z, DEFAULT_SNR, 1 - float(schedule.betas[t_prev]))
        x = x + eps * g + math.sqrt(2 * eps) * z
    np.testing.assert_array_equal(traj.x[1], x.numpy())
    x_last = den(x, torch.full((5,), t_prev), y)  # the last DDPM step lands on the prediction
    np.testing.assert_allclose(traj.x[2], x_last.numpy(), rtol=1e-12, atol=1e-12)


# --- the guided score ------------------------------------------------------------------------

@pytest.mark.parametrize("t", [0, 50, 400, 999])
def test_guided_score_of_a_gaussian_is_its_closed_form(schedule, gaussian, t):
    x, a, v = _start(schedule, t, 64, seed=1)
    expected = -(x - torch.as_tensor(a * MU)) / v
    torch.testing.assert_close(guided_score(gaussian, x, t, None), expected, rtol=1e-9, atol=1e-9)


def test_cfg_score_is_the_gamma_mix_of_the_two_scores(schedule):
    den = exact_gmm2d_denoiser(schedule)
    x = torch.as_tensor(np.random.default_rng(2).normal(size=(32, 2)))
    y = torch.full((32,), 1)
    s_u, s_c = guided_score(den, x, 300, None), guided_score(den, x, 300, y)
    for gamma in (0.0, 1.0, 4.0):
        torch.testing.assert_close(guided_score(make_guidance("cfg", den, gamma), x, 300, y),
                                   (1 - gamma) * s_u + gamma * s_c, rtol=1e-9, atol=1e-9)


# --- step sizes ------------------------------------------------------------------------------

def test_snr_step_size_is_song_et_al_algorithm_5():
    g = torch.tensor([[3.0, 4.0], [0.0, 1.0], [float("nan"), 0.0]])  # norms 5, 1, (not finite)
    z = torch.tensor([[1.0, 0.0], [0.0, 2.0], [9.0, 9.0]])  # norms 1, 2, (left out with its score)
    expected = 2 * 0.99 * (0.16 * 1.5 / 3.0) ** 2
    assert snr_step_size(g, z, 0.16, 0.99) == pytest.approx(expected, rel=1e-12)
    assert snr_step_size(torch.zeros(4, 2), z[:1].repeat(4, 1), 0.16, 1.0) == 0.0
    assert snr_step_size(torch.full((3, 2), float("nan")), z, 0.16, 1.0) == 0.0


def test_fixed_step_size_is_a_fraction_of_the_noise_variance(schedule):
    c = Corrector(steps=1, rule="fixed", fraction=0.2)
    for t in (0, 100, 999):
        assert c.step_size(torch.ones(2, 2), torch.ones(2, 2), t, schedule) == pytest.approx(0.2 * (1 - schedule.abar(t)))


# --- the corrector samples the density of its score --------------------------------------------

@pytest.mark.parametrize("t, fraction", [(30, 0.05), (300, 0.05), (300, 0.5)])
def test_fixed_rule_leaves_the_gaussian_in_place_up_to_the_langevin_bias(schedule, gaussian, t, fraction):
    # Unadjusted Langevin on N(m, v) with step eps: x <- (1 - eps / v) x + ... + sqrt(2 eps) z, so from
    # exact draws the variance after K steps is v_inf + (v - v_inf) rho^(2K), v_inf = v / (1 - eps / (2 v)),
    # rho = 1 - eps / v, and the mean stays m.
    n, K = 40000, 5
    x, a, v = _start(schedule, t, n, seed=3)
    c = Corrector(steps=K, rule="fixed", fraction=fraction)
    out = c(gaussian, x, t, None, torch.Generator().manual_seed(0)).numpy()
    eps = fraction * float(1 - schedule.abar(t))  # eps / v: 0.0036, 0.045, 0.45
    v_inf, rho = v / (1 - eps / (2 * v)), 1 - eps / v
    v_K = v_inf + (v - v_inf) * rho ** (2 * K)
    se_mean, se_var = math.sqrt(v / n), v * math.sqrt(2 / n)
    assert np.all(np.abs(out.mean(0) - a * MU) <= 4 * se_mean)
    assert np.all(np.abs(out.var(0) - v_K) <= 4 * se_var)
    assert np.all(np.abs(out.var(0) - v) <= 4 * se_var + (v_inf - v))  # invariant up to the bias
    # In distribution, N(a MU, v_K I): the share within sqrt(v) of the mean is 1 - exp(-v / (2 v_K)).
    inside = (((out - a * MU) ** 2).sum(1) <= v).mean()
    assert abs(inside - (1 - math.exp(-v / (2 * v_K)))) <= 4 * math.sqrt(0.25 / n)


@pytest.mark.parametrize("t", [30, 300])
def test_snr_rule_leaves_the_gaussian_in_place_up_to_the_langevin_bias(schedule, gaussian, t):
    # Here eps ~ 2 alpha snr^2 v (mean |g| = mean |z| / sqrt(v)): a variance bias below snr^2 = 2.6 %.
    n, K = 40000, 5
    x, a, v = _start(schedule, t, n, seed=4)
    out = Corrector(steps=K)(gaussian, x, t, None, torch.Generator().manual_seed(1)).numpy()
    se_mean, se_var = math.sqrt(v / n), v * math.sqrt(2 / n)
    assert np.all(np.abs(out.mean(0) - a * MU) <= 4 * se_mean)
    assert np.all(np.abs(out.var(0) - v) <= 4 * se_var + DEFAULT_SNR**2 * v)
    assert np.all(out.var(0) >= v - 4 * se_var)  # the bias only widens


@pytest.mark.parametrize("corrector, calls", [(Corrector(steps=60, rule="fixed", fraction=0.05), 1), (Corrector(steps=100), 2)])
def test_corrector_pulls_a_wrong_start_toward_the_density(schedule, gaussian, corrector, calls):
    # From variance 9 v. Fixed rule: eps / v = 0.05 s^2 / v = 0.04 here, so 60 steps leave
    # 8 v (1 - 0.04)^120 = 0.06 v of the excess. The snr rule's step shrinks as |g| grows
    # (eps ~ 2 snr^2 v^2 / var): about 130 steps bring var from 9 v to 1.05 v.
    t, n = 200, 4000
    x, a, v = _start(schedule, t, n, seed=5)
    wide = torch.as_tensor(a * MU) + 3.0 * (x - torch.as_tensor(a * MU))  # variance 9 v
    gen = torch.Generator().manual_seed(2)
    for _ in range(calls):
        wide = corrector(gaussian, wide, t, None, gen)
    out = wide.numpy()
    assert np.all(np.abs(out.var(0) / v - 1) < 0.12)
    assert np.all(np.abs(out.mean(0) - a * MU) <= 4 * math.sqrt(v / n))


# --- the predictor-corrector loop -------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_corrected_run_is_deterministic_and_differs_from_the_plain_one(schedule, name):
    den = make_guidance("cfg", exact_gmm2d_denoiser(schedule), 3.0)
    a = _run(den, schedule, name, steps=10, corrector=Corrector(steps=2))
    b = _run(den, schedule, name, steps=10, corrector=Corrector(steps=2), wrap=True)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x[1:], _run(den, schedule, name, steps=10).x[1:])
    assert np.isfinite(a.x).all() and a.x.shape == (11, 10, 2)
    # The recorded prediction at step i is the one taken at x[i], the corrected state.
    y = torch.as_tensor(a.labels)
    pred = den(torch.as_tensor(a.x[3]), torch.full((10,), int(a.timesteps[3])), y).numpy()
    np.testing.assert_allclose(a.x0_hat[3], pred, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs, message", [
    (dict(steps=-1), "corrector steps"), (dict(steps=1.5), "corrector steps"), (dict(steps=True), "corrector steps"),
    (dict(steps=2.0), "corrector steps must be an integer"), (dict(steps=101), "corrector steps"),
    (dict(rule="mala"), "unknown corrector step rule"), (dict(snr=0.0), "snr"), (dict(snr=float("inf")), "snr"), (dict(snr=1.0), "snr"),
    (dict(fraction=-1.0), "fraction"),
])
def test_bad_settings_raise_one_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Corrector(**kwargs)


def test_no_correction_on_clean_data(gaussian):
    with pytest.raises(ValueError, match="t >= 0"):
        Corrector(steps=1)(gaussian, torch.zeros(2, 2), -1, None, torch.Generator())
