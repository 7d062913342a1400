"""models.guidance.zoo.interval: guidance only at the noise levels in (lo, hi] (arXiv 2404.07724), none
outside (against diffusers' start/stop steps: test_parity.py)."""

import numpy as np

from models.guidance import make_guidance

from tests.models.guidance.zoo.test_zoo import _same, _trajectory


def test_interval_outside_every_step_is_conditional_sampling(digits, schedule):
    cond = _trajectory(make_guidance("none", digits), schedule)
    guided = make_guidance("interval", digits, 5.0, settings=dict(interval_lo=1e6, interval_hi=2e6))
    _same(_trajectory(guided, schedule), cond)


def test_interval_guides_exactly_the_steps_inside(digits, schedule):
    lo, hi = 0.5, 3.0
    traj = _trajectory(make_guidance("interval", digits, 4.0, settings=dict(interval_lo=lo, interval_hi=hi)), schedule)
    sigma = schedule.sigma(traj.timesteps)
    inside = (sigma > lo) & (sigma <= hi)
    assert inside.any() and (~inside).any()
    expected = np.where(inside[:, None, None], traj.x0_uncond + 4.0 * (traj.x0_cond - traj.x0_uncond), traj.x0_cond)
    np.testing.assert_allclose(traj.x0_hat, expected, atol=1e-12)


def test_interval_is_the_papers_half_open_interval(digits, schedule):
    """arXiv 2404.07724 guides for sigma in (lo, hi]: a step whose sigma is exactly lo is not guided,
    one whose sigma is exactly hi is."""
    sigma = schedule.sigma(schedule.timesteps(8))
    lo, hi = float(sigma[5]), float(sigma[2])  # steps 2..4 inside, 5 (= lo) outside
    traj = _trajectory(make_guidance("interval", digits, 4.0, settings=dict(interval_lo=lo, interval_hi=hi)), schedule)
    guided = np.abs(traj.x0_hat - traj.x0_cond).max(axis=(1, 2)) > 1e-9
    assert guided.tolist() == [False, False, True, True, True, False, False, False]
