"""The guidance zoo: each method reduces to CFG or to conditional sampling where its paper says it
does, and matches diffusers' implementation where diffusers has one."""

import math

import numpy as np
import pytest
import torch
from diffusers.guiders.adaptive_projected_guidance import MomentumBuffer, normalized_guidance
from diffusers.guiders.guider_utils import rescale_noise_cfg

from models.engine.exact import exact_digits_denoiser, exact_gmm2d_denoiser
from models.guidance import make_guidance
from models.engine.pipeline import SampleSpec, run
from models.engine.loading import load_bundle
from models.engine.samplers import get_sampler
from models.guidance import check_values

F64 = torch.float64


@pytest.fixture(scope="module")
def digits(schedule):
    return exact_digits_denoiser(schedule)


def _trajectory(guided, schedule, sampler="ddpm", seed=0, dim=64, steps=8):
    g = torch.Generator().manual_seed(seed)
    x_T = torch.randn(3, dim, generator=g, dtype=torch.float32).to(F64)
    y = torch.tensor([1, 4, 7]) % (10 if dim == 64 else 3)
    options = {"eta": 0.0} if sampler == "ddim" else {}
    return get_sampler(sampler)(guided, x_T, schedule.timesteps(steps), y, generator=g, **options)


def _same(a, b, tol=1e-10):
    np.testing.assert_allclose(a.x, b.x, atol=tol, rtol=0)
    np.testing.assert_allclose(a.x0_hat, b.x0_hat, atol=tol, rtol=0)


@pytest.mark.parametrize("sampler", ["ddpm", "ddim", "dpmpp2m"])
@pytest.mark.parametrize("gamma", [0.5, 3.0])
def test_reductions_to_cfg(digits, schedule, sampler, gamma):
    cfg = _trajectory(make_guidance("cfg", digits, gamma), schedule, sampler)
    reductions = {
        "rescale": dict(rescale_phi=0.0),  # arXiv 2305.08891: phi = 0 is CFG
        "apg": dict(apg_eta=1.0, apg_r=math.inf, apg_beta=0.0),  # arXiv 2410.02416
        "interval": dict(interval_lo=0.0, interval_hi=1e9),  # an interval holding every step
    }
    for name, settings in reductions.items():
        _same(_trajectory(make_guidance(name, digits, gamma, settings=settings), schedule, sampler), cfg)


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


@pytest.mark.parametrize("data", ["digits", "gmm2d"])
def test_autoguidance_with_the_main_model_as_weak_is_conditional_sampling(schedule, data):
    den = exact_digits_denoiser(schedule) if data == "digits" else exact_gmm2d_denoiser(schedule)
    dim = 64 if data == "digits" else 2
    cond = _trajectory(make_guidance("none", den), schedule, dim=dim)
    _same(_trajectory(make_guidance("autoguidance", den, 3.0, weak=den), schedule, dim=dim), cond)


def test_autoguidance_extrapolates_from_the_weak_model(schedule):
    bundle = load_bundle("digits", "exact", needs=("weak",))
    traj = _trajectory(make_guidance("autoguidance", bundle.denoiser, 2.5, weak=bundle.weak), schedule)
    np.testing.assert_allclose(traj.x0_hat, traj.x0_uncond + 2.5 * (traj.x0_cond - traj.x0_uncond), atol=1e-12)
    assert np.abs(traj.x0_cond - traj.x0_uncond).max() > 1e-3  # the blurred model really is different


def test_rescale_matches_diffusers(digits, schedule):
    x = torch.randn(5, 64, dtype=F64, generator=torch.Generator().manual_seed(1))
    t, y = torch.full((5,), 400), torch.arange(5)
    for phi in (0.0, 0.3, 0.7, 1.0):
        ours = make_guidance("rescale", digits, 4.0, settings=dict(rescale_phi=phi)).predict(x, t, y)
        x_cfg = ours.x0_uncond + 4.0 * (ours.x0_cond - ours.x0_uncond)
        torch.testing.assert_close(ours.x0, rescale_noise_cfg(x_cfg, ours.x0_cond, phi), atol=1e-12, rtol=0)


@pytest.mark.parametrize("eta,r,beta", [(0.0, math.inf, 0.0), (0.3, 2.0, 0.0), (0.0, 1.5, -0.5), (1.0, math.inf, 0.4)])
def test_apg_matches_diffusers_over_a_trajectory(digits, schedule, eta, r, beta):
    """diffusers' ``normalized_guidance`` with ``use_original_formulation=True`` is
    ``D_c + scale * (orth + eta * par)``: our gamma is its scale + 1 (MATH.md)."""
    gamma = 4.0
    settings = dict(apg_eta=eta, apg_r=r, apg_beta=beta)
    traj = _trajectory(make_guidance("apg", digits, gamma, settings=settings), schedule, steps=10)
    buffer = MomentumBuffer(beta) if beta != 0.0 else None
    for k in range(traj.steps):
        ref = normalized_guidance(torch.from_numpy(traj.x0_cond[k]), torch.from_numpy(traj.x0_uncond[k]), gamma - 1.0,
                                  momentum_buffer=buffer, eta=eta, norm_threshold=0.0 if math.isinf(r) else r,
                                  use_original_formulation=True)
        np.testing.assert_allclose(traj.x0_hat[k], ref.numpy(), atol=1e-10, rtol=0)


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


@pytest.mark.parametrize("settings,match", [
    (dict(rescale_phi=1.5), "phi"), (dict(apg_r=-1.0), "apg r"), (dict(apg_r=math.nan), "apg r"),
    (dict(apg_beta=1.0), "beta"), (dict(apg_eta=math.inf), "apg eta"), (dict(interval_lo=3.0, interval_hi=1.0), "interval"),
    (dict(cfgpp_lambda=2.0), "lambda"),
])
def test_bad_zoo_settings_raise_value_error(digits, settings, match):
    with pytest.raises(ValueError, match=match):
        check_values(settings)
    with pytest.raises(ValueError, match=match):
        make_guidance(next(iter(settings)).split("_")[0], digits, 2.0, settings=settings)
    with pytest.raises(ValueError, match=match):
        SampleSpec(model="exact", **settings).validate()


def test_cfgpp_needs_ddim_and_autoguidance_needs_a_weak_model(digits):
    with pytest.raises(ValueError, match="ddim"):
        SampleSpec(model="exact", guidance="cfgpp", sampler="ddpm").validate()
    with pytest.raises(ValueError, match="weak"):
        make_guidance("autoguidance", digits, 2.0)


def test_every_zoo_method_runs_on_the_shipped_neural_models():
    for guidance in ("rescale", "apg", "interval", "autoguidance", "cfgpp"):
        for data in ("digits", "gmm2d"):
            spec = SampleSpec(data=data, model="neural", guidance=guidance, sampler="ddim", gamma=3.0, steps=5, batch=2)
            traj = run(spec, device="cpu")
            assert np.isfinite(traj.x).all() and set(traj.parts()) >= {"x0_uncond", "x0_cond"}


@pytest.mark.parametrize("flags", [["--guidance", "rescale", "--rescale-phi", "0.5"],
                                   ["--guidance", "apg", "--apg-eta", "0.2", "--apg-r", "inf", "--apg-beta", "-0.3"],
                                   ["--guidance", "interval", "--interval", "0.5,4"],
                                   ["--guidance", "autoguidance"],
                                   ["--guidance", "cfgpp", "--sampler", "ddim", "--cfgpp-lambda", "0.8"]])
def test_zoo_flags_on_the_command_lines(tmp_path, flags):
    from models.analysis.evaluate import main as evaluate_main
    from viz.export import main as export_main

    base = ["--model", "exact", "--steps", "4"]
    assert export_main(base + flags + ["--batch", "2", "--out", str(tmp_path / "z.gif"), "--npz", str(tmp_path / "z.npz")]) == 0
    with np.load(tmp_path / "z.npz") as z:
        assert str(z["guidance"]) == flags[1] and np.isfinite(z["x"]).all()
    if flags[1] == "cfgpp":  # CFG++ sweeps its λ: --gammas are λ values, --cfgpp-lambda is refused (test_evaluate.py)
        flags = flags[:-2] + ["--gammas", "0.2,0.8"]
    else:
        flags = flags + ["--gammas", "1,2"]
    assert evaluate_main(base + flags + ["--samples", "10", "--json"]) == 0


@pytest.mark.parametrize("flags", [["--rescale-phi", "1.5"], ["--apg-r", "0"], ["--apg-r", "nan"], ["--apg-beta", "1"],
                                   ["--interval", "3"], ["--interval", "4,1"], ["--interval", "a,b"],
                                   ["--cfgpp-lambda", "-0.1"], ["--apg-eta", "inf"]])
def test_bad_zoo_flags_are_one_line_errors(tmp_path, capsys, flags):
    from viz.export import main as export_main

    with pytest.raises(SystemExit) as e:
        export_main(["--model", "exact", "--steps", "2", "--batch", "1", "--out", str(tmp_path / "z.gif")] + flags)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error" in err[0]
