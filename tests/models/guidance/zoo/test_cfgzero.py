"""models.guidance.zoo.cfgzero: CFG-Zero*'s zeroed first steps predict the flow-matching velocity u = 0
on both paths, what that does to the sample, its levels told apart on the flow path, and its scale s*
projecting c on u (against diffusers' ``ClassifierFreeZeroStarGuidance``: test_parity.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.guidance import make_guidance
from models.guidance.zoo.cfgzero import CFGZERO_GUARD, optimal_scale

from tests.models.guidance.test_parity import DATA, F64, _sample


def _scales(traj):
    """``(a, s)`` of every recorded step (S, 1, 1), the path's own (``Trajectory.alpha``, ``sigma``)."""
    return traj.alpha[:-1, None, None], traj.sigma[:-1, None, None]


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("path, sampler", [("vp", "ddpm"), ("vp", "ddim"), ("vp", "heun"), ("flow", "euler"),
                                           ("flow", "heun"), ("flow", "ddpm")])
def test_cfgzero_zero_steps_predict_u_zero(exact_on, data, path, sampler):
    """u = eps - x0 = 0 at the first zero_steps noise levels: x0 = x_t / (a + s) there (= eps); from the
    next level on, s* u + gamma (c - s* u) in u, which is not zero."""
    den, k = exact_on[path][data], 3
    traj = _sample(make_guidance("cfgzero", den, 3.0, settings=dict(cfgzero_zero_steps=k)), data, sampler)
    a, s = _scales(traj)
    zero = traj.x[:-1] / (a + s)
    np.testing.assert_allclose(traj.x0_hat[:k], zero[:k], atol=1e-12, rtol=0)
    assert np.abs(traj.x0_hat[k:] - zero[k:]).min(axis=-1).max() > 1e-6


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("path, sampler", [("flow", "euler"), ("vp", "ddim")])
def test_a_zero_step_keeps_the_scaled_point(exact_on, data, path, sampler):
    """What a zeroed step does to the sample, exactly: x_t / (a + s) stays where it is. On the flow
    path (a + s = 1) Euler leaves x_t unchanged; on VP, DDIM (eta 0) moves x_t to x_t (a' + s') / (a + s),
    not to x_t itself. The step after the last zero step moves it (the test can fail)."""
    den, k = exact_on[path][data], 2
    traj = _sample(make_guidance("cfgzero", den, 3.0, settings=dict(cfgzero_zero_steps=k)), data, sampler)
    scaled = traj.x / (traj.alpha + traj.sigma)[:, None, None]
    np.testing.assert_allclose(scaled[1:k + 1], scaled[:k], atol=1e-12, rtol=0)
    if path == "flow":
        np.testing.assert_allclose(traj.x[1:k + 1], traj.x[:k], atol=1e-12, rtol=0)
    else:
        assert np.abs(traj.x[1] - traj.x[0]).max() > 1e-3  # on VP x_t itself is rescaled
    assert np.abs(scaled[k + 1] - scaled[k]).max() > 1e-3


def test_levels_closer_than_one_apart_are_told_apart():
    """The flow path's levels sigma * 1000 are floats: at shift 3 and 1000 steps the noisiest lie about
    1/3 apart (the shift's slope at sigma = 1 is 1 / shift), so whole numbers would merge them. Each gets
    its own number, while VP's integer levels are numbered as before."""
    from models.flow.path import FlowSchedule
    from models.guidance.zoo.cfgzero import _LevelCounter

    levels = FlowSchedule(shift=3.0).timesteps(1000)
    assert len(set(levels.astype(np.int64).tolist())) < 900  # whole numbers would merge over a hundred levels
    count = _LevelCounter()
    numbers = [int(count(torch.full((2,), t, dtype=F64))[0]) for t in levels]
    assert numbers == list(range(1000))
    assert int(count(torch.tensor([levels[3]], dtype=F64))[0]) == 3  # met again (Heun, a corrector): same number
    vp = _LevelCounter()
    assert vp(torch.tensor([999, 999, 958])).tolist() == [0, 0, 1]
    assert vp(torch.tensor([958, 917])).tolist() == [1, 2]


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
