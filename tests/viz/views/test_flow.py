"""The flow path's picture (viz.views.flow): x_t on the segment from x0_hat to the implied noise, both
ends extrapolated by gamma under CFG, the Euler step along the segment; one run on both paths."""

import numpy as np
import pytest

from models.engine.pipeline import SampleSpec, run
from viz.draw.geometry import noise_scales, posterior_std, scales
from models.flow.pair import meets_flow_runs
from viz.views.flow import FlowStepDiagram, MeetsFlow, implied_noise
from viz.views.kinds import make_animation


def flow_run(data="gmm2d", guidance="cfg", gamma=3.0, sampler="euler", shift=3.0, steps=6):
    return run(SampleSpec(model="exact", data=data, path="flow", shift=shift, sampler=sampler, guidance=guidance,
                          gamma=gamma, label=-1 if guidance == "none" else 2, steps=steps, batch=3, seed=0))


def _drawn(view, k):
    names, pts, _, _ = view._positions[k]
    return dict(zip(names, pts))


@pytest.mark.parametrize("data", ["gmm2d", "digits"])
def test_x_t_lies_on_the_segment_at_share_sigma_in_the_drawn_points(data):
    traj = flow_run(data, guidance="none", gamma=1.0)
    view = FlowStepDiagram(traj, 0, "plane")
    for k in range(traj.steps):
        p = _drawn(view, k)
        sigma = traj.sigma[k]
        assert np.allclose(p["x_t"], (1 - sigma) * p["x0_hat"] + sigma * p["eps_hat"], atol=1e-9)


def test_cfg_extrapolates_both_ends_by_gamma_from_the_recorded_parts():
    gamma = 3.0
    traj = flow_run(gamma=gamma)
    view = FlowStepDiagram(traj, 0, "plane")
    for k in range(traj.steps):
        a, s = scales(traj, k)
        x_t, d_u, d_c = (np.asarray(v[k, 0], np.float64) for v in (traj.x[:-1], traj.x0_uncond, traj.x0_cond))
        e_u, e_c = implied_noise(x_t, d_u, a, s), implied_noise(x_t, d_c, a, s)
        p = view.named_points(view.vectors(k))
        assert np.allclose(p["guided"], d_u + gamma * (d_c - d_u), atol=1e-5)
        assert np.allclose(p["eps_guided"], e_u + gamma * (e_c - e_u), atol=1e-4)
        for end0, end1 in (("x0_uncond", "eps_uncond"), ("x0_cond", "eps_cond"), ("guided", "eps_guided")):
            assert np.allclose(x_t, a * p[end0] + s * p[end1], atol=1e-9)  # every segment passes through x_t


def test_the_euler_step_slides_x_t_along_the_segment_to_sigma_next():
    traj = flow_run(gamma=5.0, shift=1.0)
    view = FlowStepDiagram(traj, 0, "plane")
    for k in range(traj.steps):
        p = view.named_points(view.vectors(k))
        s_next = traj.sigma[k + 1]
        assert np.allclose(p["x_next"], (1 - s_next) * p["guided"] + s_next * p["eps_guided"], atol=1e-4)
        assert np.array_equal(p["mean"], p["x_next"])  # Euler adds no noise


def test_flow_ddpm_noise_is_the_path_posterior_spread():
    traj = flow_run(guidance="none", sampler="ddpm")
    sig = noise_scales(traj)
    for k in range(traj.steps - 1):
        want = posterior_std(traj.alpha[k], traj.sigma[k], traj.alpha[k + 1], traj.sigma[k + 1])
        assert sig[k] == pytest.approx(want) and want > 0
    assert sig[-1] == 0  # the last step lands on its prediction


def test_posterior_std_is_ddpms_on_the_vp_path():
    from viz.draw.geometry import ddpm_sigma
    abar, abar_prev = 0.3, 0.5
    a, s, a2, s2 = np.sqrt(abar), np.sqrt(1 - abar), np.sqrt(abar_prev), np.sqrt(1 - abar_prev)
    assert posterior_std(a, s, a2, s2) == pytest.approx(ddpm_sigma(abar, abar_prev))
    # off VP, by hand: the variance added between the levels, v = s^2 - (a / a')^2 s'^2, scaled by s' / s
    v = 0.6**2 - (0.4 / 0.7) ** 2 * 0.3**2
    assert posterior_std(0.4, 0.6, 0.7, 0.3) == pytest.approx(np.sqrt(v) * 0.3 / 0.6)


def test_the_flow_view_refuses_a_vp_run_in_one_sentence():
    traj = run(SampleSpec(model="exact", data="gmm2d", sampler="ddim", guidance="cfg", label=1, steps=4, batch=2))
    with pytest.raises(ValueError, match="--path flow"):
        make_animation("flow", traj, "plane")


@pytest.mark.parametrize("data", ["gmm2d", "digits"])
def test_ddim_on_vp_and_euler_on_flow_coincide_after_scaling(data):
    vp, flow = meets_flow_runs(data, "exact", 8, 0, 3)
    view = MeetsFlow(vp, flow)
    assert view.gap() < 1e-6  # drawn coordinates
    assert np.abs(view.p_vp - view.p_flow).max() > 100 * view.gap() + 1e-3  # unscaled, they differ
    frame = view.frame(view.num_frames // 2)
    assert frame.shape == (640, 1100, 4)
