"""models.flow.samplers against references: diffusers' FlowMatchEulerDiscreteScheduler step by step (a test-only
oracle), DDIM and DDPM on the VP path through the change of variables, the Euler update in closed form, and the
exact model's samples landing on the data (component shares within the multinomial's error)."""

import math

import numpy as np
import pytest
import torch
from diffusers import FlowMatchEulerDiscreteScheduler

from models.engine.data import DATA_NAMES, make_gmm2d
from models.engine.loading import load_bundle
from models.engine.pipeline import SampleSpec, run
from models.engine.samplers import get_sampler
from models.engine.schedule import make_schedule
from models.flow.path import FlowSchedule, match_level
from models.flow.path import posterior
from models.flow.samplers import FLOW_SAMPLERS, sample_flow_ddpm, sample_flow_euler

VP = make_schedule("linear")


def _exact(data: str, levels):
    return load_bundle(data, "exact", path="flow" if levels.kind == "flow" else "vp", shift=getattr(levels, "shift", 1.0)).denoiser


def _x_T(data: str, batch: int, seed: int, dtype=torch.float32) -> torch.Tensor:
    dim = 64 if data == "digits" else 2
    return torch.randn((batch, dim), generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _labels(data: str, batch: int) -> torch.Tensor:
    return torch.arange(batch) % (10 if data == "digits" else 3)


@pytest.mark.parametrize("data", DATA_NAMES)
@pytest.mark.parametrize("shift", [1.0, 3.0])
def test_euler_matches_diffusers_step_by_step(data, shift):
    """Every step of our Euler run equals diffusers' ``step`` given our state and our model's velocity."""
    steps = 20
    levels = FlowSchedule(shift)
    den = _exact(data, levels)
    y = _labels(data, 8)
    traj = sample_flow_euler(den, _x_T(data, 8, 3), levels.timesteps(steps), y, generator=torch.Generator())
    ref = FlowMatchEulerDiscreteScheduler(shift=shift)
    ref.set_timesteps(steps)
    worst = 0.0
    for i, t in enumerate(ref.timesteps):
        x = torch.as_tensor(traj.x[i])
        x0 = den(x, torch.full((8,), float(traj.timesteps[i]), dtype=torch.float64), y)
        np.testing.assert_array_equal(x0.numpy(), traj.x0_hat[i])  # the prediction the step used
        velocity = (x - x0) / float(levels.s(traj.timesteps[i]))
        theirs = ref.step(velocity, t, x, return_dict=False)[0].numpy()
        worst = max(worst, float(np.abs(theirs - traj.x[i + 1]).max()))
    assert ref.step_index == steps  # diffusers walked its whole grid
    assert worst <= 1e-6, worst


@pytest.mark.parametrize("data", DATA_NAMES)
def test_ddim_on_vp_is_euler_on_flow_after_the_change_of_variables(data):
    """DDIM (eta = 0) on the VP path = Euler on the flow path at sigma = s / (a + s), states scaled by k = 1 / (a + s)."""
    steps, batch = 25, 6
    vp_den, flow_den = _exact(data, VP), _exact(data, FlowSchedule())
    ts = VP.timesteps(steps)
    levels = np.append(ts, -1)
    k, t_flow, _, _ = match_level(VP.a(levels), VP.s(levels), FlowSchedule())
    assert t_flow[-1] == 0 and k[-1] == 1  # the last step lands on the data on both paths
    x_T = _x_T(data, batch, 5, torch.float64)
    y = _labels(data, batch)
    ddim = get_sampler("ddim")(vp_den, x_T, ts, y, generator=torch.Generator(), eta=0.0)
    euler = sample_flow_euler(flow_den, k[0] * x_T, t_flow[:-1], y, generator=torch.Generator())
    scaled = ddim.x * k[:, None, None]
    err = np.abs(euler.x - scaled).max()
    assert err <= 1e-10, err
    np.testing.assert_allclose(euler.x0_hat, ddim.x0_hat, rtol=0, atol=1e-10)  # same predictions


@pytest.mark.parametrize("data", DATA_NAMES)
def test_flow_ddpm_on_matched_levels_is_vp_ddpm_scaled(data):
    """The posterior is the same Gaussian on any path, scaled: with the same noise draws, ancestral sampling on
    the flow levels matched to VP's is DDPM's trajectory times k."""
    steps, batch = 15, 4
    ts = VP.timesteps(steps)
    levels = np.append(ts, -1)
    k, t_flow, _, _ = match_level(VP.a(levels), VP.s(levels), FlowSchedule())
    x_T, y = _x_T(data, batch, 6, torch.float64), _labels(data, batch)
    vp = get_sampler("ddpm")(_exact(data, VP), x_T, ts, y, generator=torch.Generator().manual_seed(1))
    flow = sample_flow_ddpm(_exact(data, FlowSchedule()), k[0] * x_T, t_flow[:-1], y,
                            generator=torch.Generator().manual_seed(1))
    np.testing.assert_array_equal(flow.noise, vp.noise)
    np.testing.assert_allclose(flow.x, vp.x * k[:, None, None], rtol=0, atol=1e-9)


def test_posterior_is_ddpms_on_vp_levels():
    """``posterior`` on VP scales gives the coefficients ``models.engine.samplers.sample_ddpm`` writes out."""
    for t, t_prev in [(999, 966), (500, 499), (100, 0), (10, 3), (0, -1)]:
        abar, abar_prev = float(VP.abar(t)), float(VP.abar(t_prev))
        beta = 1.0 - abar / abar_prev
        c_x, c_0, std = posterior(math.sqrt(abar), math.sqrt(1 - abar), math.sqrt(abar_prev), math.sqrt(1 - abar_prev))
        np.testing.assert_allclose(c_0, math.sqrt(abar_prev) * beta / (1 - abar), rtol=1e-12)
        np.testing.assert_allclose(c_x, math.sqrt(abar / abar_prev) * (1 - abar_prev) / (1 - abar), rtol=1e-12)
        np.testing.assert_allclose(std, math.sqrt((1 - abar_prev) / (1 - abar) * beta), rtol=1e-12, atol=1e-300)


def test_posterior_on_the_flow_path_is_a_gaussian_bridge():
    """On the flow path the posterior mean and variance make x_next's marginal (1 - s') x0 + s' eps again:
    c_x a + c_0 = a', c_x^2 s^2 + std^2 = s'^2."""
    for s, s_next in [(1.0, 0.9), (0.8, 0.3), (0.3, 0.299), (0.2, 0.0)]:
        a, a_next = 1 - s, 1 - s_next
        c_x, c_0, std = posterior(a, s, a_next, s_next)
        np.testing.assert_allclose(c_x * a + c_0, a_next, rtol=1e-12)
        np.testing.assert_allclose(c_x**2 * s**2 + std**2, s_next**2, rtol=1e-12, atol=1e-15)


def test_exact_euler_steps_obey_the_update_and_flow_levels_add_to_one():
    traj = run(SampleSpec(data="gmm2d", model="exact", path="flow", sampler="euler", guidance="cfg", gamma=2.0,
                          label=1, steps=12, batch=5, shift=3.0), device="cpu")
    sigma = np.append(traj.timesteps / 1000, 0.0)
    np.testing.assert_allclose(traj.sigma, sigma, rtol=1e-15)
    np.testing.assert_array_equal(traj.alpha + traj.sigma, 1.0)
    x, x0 = traj.x.astype(np.float64), traj.x0_hat.astype(np.float64)
    for i in range(traj.steps):
        expected = x[i] + (sigma[i + 1] - sigma[i]) * (x[i] - x0[i]) / sigma[i]
        np.testing.assert_allclose(x[i + 1], expected, rtol=0, atol=5e-6)
    np.testing.assert_allclose(traj.samples, traj.x0_hat[-1], atol=1e-6)  # the last step lands on x0_hat
    assert not traj.noise.any()


def _component_shares(x: np.ndarray) -> np.ndarray:
    g = make_gmm2d()
    nearest = np.argmin(((x[:, None] - g.means[None]) ** 2).sum(-1), axis=1)
    return np.bincount(nearest, minlength=len(g.means)) / len(x), g


@pytest.mark.parametrize("sampler", ["euler", "heun", "ddpm"])
def test_exact_model_lands_on_the_data(sampler):
    """gamma = 0 (unconditional, guidance none): the shares of the nine components are the mixture weights
    within 4 standard deviations of the multinomial, and the samples sit within the components' width."""
    n = 4000
    traj = run(SampleSpec(data="gmm2d", model="exact", path="flow", sampler=sampler, guidance="none", label=-1,
                          steps=40, batch=n, seed=7), device="cpu")
    shares, g = _component_shares(traj.samples)
    bound = 4 * np.sqrt(g.weights * (1 - g.weights) / n)
    # Nearest-mean assignment misplaces a true draw with probability < 1e-3 here (means >= 5.4 widths apart).
    assert np.all(np.abs(shares - g.weights) <= bound + 1e-3), (shares, g.weights)
    dist = np.sqrt(((traj.samples[:, None] - g.means[None]) ** 2).sum(-1).min(1))
    mean_sq = float((dist**2).mean())  # a 2-D Gaussian of width 0.09: 2 * 0.09^2
    assert 0.6 * 2 * 0.09**2 < mean_sq < 1.4 * 2 * 0.09**2, mean_sq


@pytest.mark.parametrize("model", ["exact", "neural_flow"])
@pytest.mark.parametrize("sampler", ["euler", "ddpm"])
def test_cfg_at_gamma_one_is_conditional_sampling(model, sampler):
    base = dict(data="gmm2d", model=model, path="flow", sampler=sampler, label=2, steps=10, batch=16, seed=3, shift=2.0)
    cfg = run(SampleSpec(**base, guidance="cfg", gamma=1.0), device="cpu")
    cond = run(SampleSpec(**base, guidance="none"), device="cpu")
    np.testing.assert_allclose(cfg.x, cond.x, rtol=0, atol=1e-5)
    np.testing.assert_allclose(cfg.x0_hat, cond.x0_hat, rtol=0, atol=1e-5)


def test_heun_is_second_order_and_euler_first():
    """Against a fine Heun reference, halving the step size shrinks Euler's error 2x and Heun's 4x (RMS over
    256 paths, gmm2d exact)."""
    den = _exact("gmm2d", FlowSchedule())
    x_T, y = _x_T("gmm2d", 256, 9, torch.float64), _labels("gmm2d", 256)

    def state_at_end(name: str, steps: int) -> np.ndarray:
        """The state at sigma = 0.2 after ``steps`` even steps from sigma = 1 (away from the sharp end, where the
        ODE is stiff and the asymptotic orders show late); the run's own last step, to sigma = 0, is not compared."""
        sigmas = np.linspace(1.0, 0.2, steps + 1)
        return FLOW_SAMPLERS[name](den, x_T, sigmas * 1000, y, generator=torch.Generator()).x[-2]

    ref = state_at_end("heun", 1000)
    err = lambda name, steps: float(np.sqrt(((state_at_end(name, steps) - ref) ** 2).mean()))  # noqa: E731
    e1, e2 = err("euler", 20), err("euler", 40)
    h1, h2 = err("heun", 20), err("heun", 40)
    assert 1.8 < e1 / e2 < 2.2, (e1, e2)
    assert 3.5 < h1 / h2 < 4.5, (h1, h2)
    assert h1 < e1 / 10, (h1, e1)
