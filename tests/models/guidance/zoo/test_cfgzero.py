"""models.guidance.zoo.cfgzero: CFG-Zero*'s zeroed first steps predict v = 0, and its scale s* projects c
on u (against diffusers' ``ClassifierFreeZeroStarGuidance``: test_parity.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.guidance import make_guidance
from models.guidance.zoo.cfgzero import CFGZERO_GUARD, optimal_scale

from tests.models.guidance.test_parity import DATA, F64, _sample


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("sampler", ["ddpm", "ddim", "heun"])
def test_cfgzero_zero_steps_predict_sqrt_abar_x_t(exact, data, sampler):
    """v = 0 at the first zero_steps noise levels: x0 = a x_t there (the velocity's zero, x_t's
    signal part kept); from the next level on, s* u + gamma (c - s* u) in v."""
    den, k = exact[data], 3
    traj = _sample(make_guidance("cfgzero", den, 3.0, settings=dict(cfgzero_zero_steps=k)), data, sampler)
    a = np.sqrt(traj.alphas_cumprod[traj.timesteps])[:, None, None]
    np.testing.assert_allclose(traj.x0_hat[:k], a[:k] * traj.x[:k], atol=1e-12, rtol=0)
    assert np.abs(traj.x0_hat[k:] - a[k:] * traj.x[k:-1]).min(axis=-1).max() > 1e-6


def test_cfgzero_scale_projects_c_on_u():
    """s* = <c, u> / |u|^2 (arXiv 2503.18886) makes s* u the multiple of u nearest to c: c - s* u is
    orthogonal to u, and s* = 1 where u = c."""
    g = torch.Generator().manual_seed(0)
    c, u = torch.randn(5, 7, generator=g, dtype=F64), torch.randn(5, 7, generator=g, dtype=F64)
    residual = c - optimal_scale(c, u) * u
    cu, uu = (c * u).sum(1), (u * u).sum(1)
    # orthogonal up to the guard added to |u|^2 (1e-8, as the authors' code and diffusers add)
    torch.testing.assert_close((residual * u).sum(1), cu * CFGZERO_GUARD / (uu + CFGZERO_GUARD), rtol=0, atol=1e-14)
    assert CFGZERO_GUARD == 1e-8
    torch.testing.assert_close(optimal_scale(u, u), torch.ones(5, 1, dtype=F64), rtol=0, atol=1e-7)
