"""models.guidance.zoo.cfgpp: CFG++'s DDIM step as the paper writes it, its difference from CFG (the
re-noising), and its lambda read instead of gamma."""

import numpy as np
import torch

from models.engine.exact import exact_gmm2d_denoiser
from models.guidance import make_guidance

from tests.models.guidance.zoo.test_zoo import _trajectory


def test_cfgpp_step_follows_the_paper(digits, schedule):
    """CFG++ (arXiv 2406.08070), DDIM form: x_prev = sqrt(abar_prev) D_lambda + sqrt(1 - abar_prev) eps_u."""
    lam = 0.6
    traj = _trajectory(make_guidance("cfgpp", digits, settings=dict(cfgpp_lambda=lam)), schedule, "ddim")
    for k in range(traj.steps - 1):
        abar, abar_prev = schedule.abar(traj.timesteps[k]), schedule.abar(traj.timesteps[k + 1])
        d_lam = traj.x0_uncond[k] + lam * (traj.x0_cond[k] - traj.x0_uncond[k])
        eps_u = (traj.x[k] - np.sqrt(abar) * traj.x0_uncond[k]) / np.sqrt(1 - abar)
        np.testing.assert_allclose(traj.x[k + 1], np.sqrt(abar_prev) * d_lam + np.sqrt(1 - abar_prev) * eps_u,
                                   atol=1e-10)
        np.testing.assert_allclose(traj.x0_hat[k], d_lam, atol=1e-12)


def test_cfgpp_with_lambda_one_differs_from_cfg_only_by_the_renoising(digits, schedule):
    plus = _trajectory(make_guidance("cfgpp", digits, settings=dict(cfgpp_lambda=1.0)), schedule, "ddim")
    cond = _trajectory(make_guidance("cfg", digits, 1.0), schedule, "ddim")
    np.testing.assert_allclose(plus.x0_hat[0], cond.x0_hat[0], atol=1e-12)  # same first prediction
    assert not np.allclose(plus.x[1], cond.x[1])  # re-noised along eps_u, not eps_c


def test_cfgpp_reads_its_lambda_not_gamma(schedule):
    den = exact_gmm2d_denoiser(schedule)
    x, t, y = torch.randn(3, 2, dtype=torch.float64), torch.full((3,), 500), torch.tensor([0, 1, 2])
    a = make_guidance("cfgpp", den, 3.0, settings={"cfgpp_lambda": 0.25})
    b = make_guidance("cfgpp", den, -7.0, settings={"cfgpp_lambda": 0.25})
    assert a.gamma is None and a.lam == 0.25
    torch.testing.assert_close(a.predict(x, t, y).x0, b.predict(x, t, y).x0, rtol=0, atol=0)
    torch.testing.assert_close(a.predict(x, t, y).x0, make_guidance("cfg", den, 0.25).predict(x, t, y).x0,
                               rtol=0, atol=1e-12)
