"""viz.draw.geometry: a step split into its parts (DDPM's posterior mean, the fitted noise level of DDPM
and DDIM), and the step a page opens on (neither the first nor the last; tiny runs)."""

import math

import numpy as np
import pytest

from viz.draw.geometry import ddpm_sigma, fitted_sigma, noise_scales, readable_step, step_vectors
from viz.draw.style import MIN_ARROW_PX

from tests.viz.projector import build, sample
from tests.viz.small_runs import exact_run


# ----------------------------------------------------------------------------- step geometry

def test_ddpm_step_split_matches_the_posterior_mean(cfg_digits):
    """mean = x_{t-1} - sigma z equals the DDPM posterior mean c0 x0_hat + ct x_t (arXiv 2006.11239)."""
    traj = cfg_digits
    for k in range(traj.steps):
        t = int(traj.timesteps[k])
        abar = traj.alphas_cumprod[t]
        abar_prev = traj.alphas_cumprod[int(traj.timesteps[k + 1])] if k + 1 < traj.steps else 1.0
        beta = 1 - abar / abar_prev
        sv = step_vectors(traj, k, sample=1)
        c0 = math.sqrt(abar_prev) * beta / (1 - abar)
        ct = math.sqrt(abar / abar_prev) * (1 - abar_prev) / (1 - abar)
        np.testing.assert_allclose(sv.mean, c0 * sv.x0_hat + ct * sv.x_t, atol=2e-5)
    assert noise_scales(traj)[-1] == 0  # the last DDPM step adds no noise


def test_fitted_sigma_recovers_ddpm_and_ddim_noise_levels(cfg_digits):
    """The least-squares split finds DDPM's sigma, and DDIM's is eta times it (arXiv 2010.02502)."""
    for k in range(cfg_digits.steps - 1):
        assert fitted_sigma(cfg_digits, k) == pytest.approx(ddpm_sigma(*_abar(cfg_digits, k)), rel=1e-4)
    ddim = exact_run(sampler="ddim", eta=0.5)
    sig = noise_scales(ddim)
    for k in range(ddim.steps - 1):
        assert sig[k] == pytest.approx(0.5 * ddpm_sigma(*_abar(ddim, k)), rel=1e-9)
        assert fitted_sigma(ddim, k) == pytest.approx(sig[k], rel=1e-4)  # without meta['eta']
    assert not noise_scales(exact_run(sampler="ddim", eta=0.0)).any()


def _abar(traj, k):
    abar = traj.alphas_cumprod[int(traj.timesteps[k])]
    return abar, traj.alphas_cumprod[int(traj.timesteps[k + 1])] if k + 1 < traj.steps else 1.0


# ----------------------------------------------------------------------------- where a page opens

@pytest.mark.parametrize("sampler, steps", [("ddpm", 25), ("ddim", 25), ("euler", 10), ("heun", 50), ("dpmpp2m", 200)])
def test_readable_step_is_neither_the_first_nor_the_last(sampler, steps):
    traj = sample("digits", "cfg", 3.0, sampler, steps)
    k = readable_step(traj)
    assert 0 < k < steps - 1
    seen = build("cfg", traj).visibility(k)
    if steps <= 25:
        assert seen["step"][0] >= MIN_ARROW_PX  # a run of few steps opens where the step reads without a magnifier
    else:
        assert seen["step"][0] >= MIN_ARROW_PX or seen["step"][1] >= MIN_ARROW_PX
    # its parts are better balanced than those of the first step (a blur far away, the step a dot)
    def balance(i):
        sv = step_vectors(traj, i, 0)
        parts = [np.linalg.norm(sv.mean - sv.x_t), np.linalg.norm(sv.x0_hat - sv.mean),
                 3.0 * np.linalg.norm(sv.x0_cond - sv.x0_uncond)]
        if sv.sigma > 0:
            parts.append(np.linalg.norm(sv.x_next - sv.mean))
        return min(parts) / max(parts)
    assert balance(k) > balance(0)


def test_readable_step_of_tiny_runs():
    assert readable_step(sample("gmm2d", "cfg", 3.0, "ddpm", 1)) == 0
    assert readable_step(sample("gmm2d", "cfg", 3.0, "ddpm", 2)) == 1
    with pytest.raises(ValueError, match="sample"):
        readable_step(sample("gmm2d", "cfg", 3.0, "ddpm", 5), sample=7)
