"""models.flow.path: the flow levels are diffusers' FlowMatchEulerDiscreteScheduler grid at the same shift, and
``match_level`` is one change of variables: it keeps the signal-to-noise ratio, round-trips between the paths,
and clips at the VP schedule's ends as documented. (diffusers is a test-only oracle.)"""

import numpy as np
import pytest
from diffusers import FlowMatchEulerDiscreteScheduler

from models.engine.names import PATH_NAMES
from models.engine.schedule import make_schedule
from models.flow.path import FlowSchedule, make_levels, match_level, path_of, shifted

VP = make_schedule("linear")


@pytest.mark.parametrize("shift", [1.0, 3.0])
@pytest.mark.parametrize("steps", [1, 2, 10, 28, 50, 1000])
def test_timesteps_are_diffusers_grid(shift, steps):
    ref = FlowMatchEulerDiscreteScheduler(shift=shift)
    ref.set_timesteps(steps)
    theirs = ref.sigmas.double().numpy()
    assert theirs[-1] == 0 and len(theirs) == steps + 1  # the step after the last lands on the data
    ours = FlowSchedule(shift).timesteps(steps)
    assert ours.dtype == np.float64 and np.all(np.diff(ours) < 0)
    # diffusers keeps its sigmas in float32: agreement to float32 rounding
    np.testing.assert_allclose(ours, theirs[:-1] * 1000, rtol=2e-7, atol=0)
    np.testing.assert_allclose(ours, ref.timesteps.double().numpy(), rtol=2e-7, atol=0)


def test_shift_moves_levels_toward_the_noise_and_keeps_the_ends():
    sigma = np.linspace(0, 1, 11)
    out = shifted(sigma, 3.0)
    assert out[0] == 0 and out[-1] == 1 and np.all(out[1:-1] > sigma[1:-1])
    np.testing.assert_array_equal(shifted(sigma, 1.0), sigma)


def test_flow_scales_and_clean_data():
    sch = FlowSchedule()
    t = np.array([1000.0, 500.0, 1.0, -1.0])
    np.testing.assert_array_equal(sch.s(t), [1.0, 0.5, 0.001, 0.0])
    np.testing.assert_array_equal(sch.a(t) + sch.s(t), 1.0)
    assert sch.sigma(-1) == 0 and np.isinf(sch.sigma(1000.0))


@pytest.mark.parametrize("steps", [0, 1001, 2.0, True])
def test_bad_step_counts_are_value_errors(steps):
    with pytest.raises(ValueError, match="steps must be an integer in 1..1000"):
        FlowSchedule().timesteps(steps)


def test_make_levels_and_path_of():
    assert path_of(make_levels("vp")) == "vp" and make_levels("vp").T == 1000
    flow = make_levels("flow", 3)
    assert path_of(flow) == "flow" and flow.shift == 3.0
    cosine = make_schedule("cosine")
    assert make_levels("vp", vp=cosine) is cosine
    with pytest.raises(ValueError, match="unknown path 've'; valid: " + ", ".join(PATH_NAMES)):
        make_levels("ve")


def test_vp_to_flow_keeps_the_snr_and_puts_the_point_on_the_flow_path():
    t = np.arange(VP.T)
    a, s = VP.a(t), VP.s(t)
    k, t2, a2, s2 = match_level(a, s, FlowSchedule())
    np.testing.assert_allclose(a2 / s2, a / s, rtol=1e-13)
    np.testing.assert_allclose(a2 + s2, 1.0, rtol=0, atol=1e-15)  # a flow point
    np.testing.assert_allclose(t2, 1000 * s / (a + s), rtol=1e-15)
    np.testing.assert_allclose(k, 1 / (a + s), rtol=1e-15)


def test_vp_flow_vp_round_trip_inside_the_schedule():
    t = np.arange(1, VP.T - 1)  # strictly inside: the ends are clipped (below)
    a, s = VP.a(t), VP.s(t)
    k1, t_flow, a1, s1 = match_level(a, s, FlowSchedule())
    k2, t_back, a2, s2 = match_level(a1, s1, VP)
    np.testing.assert_allclose(t_back, t, rtol=0, atol=1e-6)
    np.testing.assert_allclose(k1 * k2, 1.0, rtol=1e-12)
    np.testing.assert_allclose(a2, a, rtol=1e-12)
    np.testing.assert_allclose(s2, s, rtol=1e-12)


def test_flow_vp_flow_round_trip_and_snr():
    lo, hi = match_level(VP.a([0, VP.T - 1]), VP.s([0, VP.T - 1]), FlowSchedule())[1] / 1000  # VP's range in sigma
    sigma = np.linspace(lo, hi, 201)[1:-1]
    k1, t_vp, a1, s1 = match_level(1 - sigma, sigma, VP)
    assert np.all((t_vp > 0) & (t_vp < VP.T - 1))
    np.testing.assert_allclose(a1 / s1, (1 - sigma) / sigma, rtol=1e-12)
    np.testing.assert_allclose(a1**2 + s1**2, 1.0, rtol=1e-12)  # a VP point
    k2, t_back, a2, s2 = match_level(a1, s1, FlowSchedule())
    np.testing.assert_allclose(t_back / 1000, sigma, rtol=1e-12)
    np.testing.assert_allclose(k1 * k2, 1.0, rtol=1e-12)


def test_fractional_vp_level_interpolates_the_log_snr():
    t_mid = 400.5
    logsnr = lambda t: np.log(VP.abar(t)) - np.log1p(-VP.abar(t))  # noqa: E731
    target = 0.5 * (logsnr(400) + logsnr(401))
    a, s = 1 / np.sqrt(1 + np.exp(-target)), 1 / np.sqrt(1 + np.exp(target))  # a VP pair with that log-SNR
    _, t, _, _ = match_level(a, s, VP)
    np.testing.assert_allclose(t, t_mid, atol=1e-9)


def test_clipping_at_the_vp_ends():
    """Beyond the schedule's ends the SNR cannot be matched: the target's own end level is used, and ``k``
    matches the signal (least-noise end) or the noise (most-noise end)."""
    last = VP.T - 1
    # The flow path's pure noise (sigma = 1, a = 0) and nearly pure noise: past VP's most-noise end.
    sigma = np.array([1.0, 0.9999])
    k, t, a2, s2 = match_level(1 - sigma, sigma, VP)
    np.testing.assert_array_equal(t, last)
    np.testing.assert_array_equal(a2, VP.a(last))
    np.testing.assert_array_equal(s2, VP.s(last))
    np.testing.assert_allclose(k * sigma, VP.s(last), rtol=1e-15)  # the noise matched
    # The clean data (sigma = 0, s = 0) and almost clean: past VP's least-noise end.
    sigma = np.array([0.0, 1e-6])
    k, t, a2, s2 = match_level(1 - sigma, sigma, VP)
    np.testing.assert_array_equal(t, 0)
    np.testing.assert_array_equal(a2, VP.a(0))
    np.testing.assert_array_equal(s2, VP.s(0))
    np.testing.assert_allclose(k * (1 - sigma), VP.a(0), rtol=1e-15)  # the signal matched
    assert np.isfinite(k).all()


def test_flow_target_never_clips():
    k, t, a2, s2 = match_level(np.array([1.0, 0.0, 0.3]), np.array([0.0, 1.0, 0.4]), FlowSchedule())
    np.testing.assert_allclose(t, [0.0, 1000.0, 1000 * 0.4 / 0.7])
    np.testing.assert_allclose(k, [1.0, 1.0, 1 / 0.7])
