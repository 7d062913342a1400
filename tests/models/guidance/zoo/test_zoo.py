"""The guidance zoo as a whole (models.guidance.zoo, several methods at once): rescale, apg and interval
reduce to CFG where their papers say so, diffusers' guiders are conditional sampling at gamma = 1, each
says its space and records its parts, the same seed gives the same run, bad settings and missing needs
are clear errors, every method runs on the shipped neural models, and every method runs on the flow
path, finite from its first level (sigma = 1, where a = 0), and is conditional sampling at gamma = 1
there. Each method's own tests are in zoo/test_<method>.py (they share ``_trajectory`` and ``_same``
from here); the comparisons with diffusers are in ../test_parity.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from models.engine.pipeline import SampleSpec, run
from models.engine.samplers import get_sampler
from models.guidance import REGISTRY, check_values, make_guidance

from models.engine.data import IMAGE_SHAPES
from models.engine.loading import load_bundle
from models.guidance import names, resources

from tests.models.guidance.test_parity import DATA, _sample


F64 = torch.float64


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


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("method, settings", [("tcfg", {}), ("mambo", dict(mambo_alpha=8.0)),
                                              ("cfgzero", dict(cfgzero_zero_steps=0)),
                                              ("apgmix", dict(apgmix_beta=-0.5, apgmix_eta=0.3, apgmix_r=0.5))])
@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_gamma_one_is_conditional_sampling(exact, data, method, settings, sampler):
    """At gamma = 1 (w = 0) every one of them is the conditional model (CFG-Zero* after its zero
    steps: here none)."""
    den = exact[data]
    cond = _sample(make_guidance("none", den), data, sampler)
    np.testing.assert_allclose(_sample(make_guidance(method, den, 1.0, settings=settings), data, sampler).x, cond.x,
                               atol=1e-12, rtol=0)


@pytest.mark.parametrize("method", ["cfgzero", "tcfg", "mambo", "apgmix"])
def test_each_method_says_its_space_and_records_its_parts(exact, method):
    """The space each paper defines, and the two predictions recorded for the views."""
    assert REGISTRY[method].space == {"cfgzero": "u", "tcfg": "eps", "mambo": "u", "apgmix": "x0"}[method]
    traj = _sample(make_guidance(method, exact["gmm2d"], 3.0), "gmm2d")
    assert traj.x0_uncond is not None and traj.x0_cond is not None


def test_same_seed_same_trajectory_and_what_a_reused_wrapper_keeps(exact):
    """Bit for bit again from a fresh wrapper. cfgzero numbers the noise levels by the order it first
    meets them, so a wrapper reused over the same timesteps zeroes the same levels (same run), and
    over other timesteps it zeroes none of the levels it has met; a reused apgmix wrapper keeps its
    momentum (another run): one wrapper per run."""
    den = exact["gmm2d"]
    for method in ("cfgzero", "apgmix"):
        first = _sample(make_guidance(method, den, 3.0), "gmm2d")
        assert np.array_equal(first.x, _sample(make_guidance(method, den, 3.0), "gmm2d").x)
    reused = make_guidance("cfgzero", den, 3.0, settings=dict(cfgzero_zero_steps=2))
    first = _sample(reused, "gmm2d")
    assert np.array_equal(first.x, _sample(reused, "gmm2d").x)
    a, s = first.alpha[:-1, None, None], first.sigma[:-1, None, None]
    np.testing.assert_allclose(first.x0_hat[:2], first.x[:2] / (a[:2] + s[:2]), atol=1e-12)  # u = 0
    reused = make_guidance("apgmix", den, 3.0)
    first = _sample(reused, "gmm2d")
    assert not np.array_equal(first.x, _sample(reused, "gmm2d").x)


# ----------------------------------------------------------------------------- the flow path

FLOW_SAMPLERS_ALL = ("euler", "heun", "ddpm")


def _flow_spec(data, model, guidance, sampler):
    return SampleSpec(data=data, model=model, guidance=guidance, path="flow", shift=3.0, sampler=sampler, steps=10,
                      batch=3, gamma=3.0, label=0 if guidance != "none" else -1)


def _runs_on_flow(guidance: str, data: str) -> bool:
    """Every method but CFG++ (DDIM only, which the flow path lacks) and, off the digits, FDG (images)."""
    return guidance != "cfgpp" and not (guidance == "fdg" and IMAGE_SHAPES.get(data) is None)


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("sampler", FLOW_SAMPLERS_ALL)
def test_every_method_is_finite_on_the_flow_path(data, sampler):
    """Exact model, every method of ``names()``: finite states, predictions and recorded parts at every
    step, the first one included, where sigma = 1 and a = 0 (classifier and universal guidance's s^2 / a
    and TCFG's eps -> x0 divide by a: their rules at a = 0 are in their modules)."""
    ran = []
    for guidance in names():
        if not _runs_on_flow(guidance, data):
            continue
        bundle = load_bundle(data, "exact", needs=resources(guidance), path="flow", shift=3.0)
        traj = run(_flow_spec(data, "exact", guidance, sampler), bundle=bundle)
        assert traj.alpha[0] == 0.0 and traj.sigma[0] == 1.0  # the first level is pure noise
        for name, values in {"x": traj.x, "x0_hat": traj.x0_hat, **traj.parts()}.items():
            assert np.isfinite(values).all(), f"{guidance} {data} {sampler}: {name} not finite"
        ran.append(guidance)
    assert len(ran) >= len(names()) - 2


@pytest.mark.parametrize("data", DATA)
def test_every_method_runs_on_the_flow_path_with_the_neural_model(data):
    """The shipped VP networks (through ``models.flow.nets.OnPath``: denoiser, classifiers, weak model) on flow."""
    for guidance in names():
        if _runs_on_flow(guidance, data):
            traj = run(_flow_spec(data, "neural", guidance, "euler"), device="cpu")
            assert np.isfinite(traj.x).all() and np.isfinite(traj.x0_hat).all(), guidance


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("method, settings", [("cfg", {}), ("tcfg", {}), ("mambo", dict(mambo_alpha=8.0)),
                                              ("cfgzero", dict(cfgzero_zero_steps=0)), ("rescale", {}), ("apg", {}),
                                              ("apgmix", dict(apgmix_beta=-0.5, apgmix_eta=0.3, apgmix_r=0.5))])
@pytest.mark.parametrize("sampler", ["euler", "ddpm"])
def test_gamma_one_is_conditional_sampling_on_the_flow_path(exact_on, data, method, settings, sampler):
    """At gamma = 1 these methods are the conditional model on the flow path too, the first level
    (a = 0) included; at gamma = 3 they guide (the identity is not vacuous)."""
    den = exact_on["flow"][data]
    cond = _sample(make_guidance("none", den), data, sampler)
    guided = _sample(make_guidance(method, den, 1.0, settings=settings), data, sampler)
    np.testing.assert_allclose(guided.x0_hat, cond.x0_hat, atol=1e-12, rtol=0)
    np.testing.assert_allclose(guided.x, cond.x, atol=1e-12, rtol=0)
    assert np.abs(_sample(make_guidance(method, den, 3.0, settings=settings), data, sampler).x - cond.x).max() > 1e-3


def test_cfgpp_is_refused_on_the_flow_path_in_one_line():
    """CFG++ is defined with DDIM, which the flow path does not offer: every sampler is refused on flow
    with one line that names the way out (the vp path), not another sampler."""
    for sampler in (*FLOW_SAMPLERS_ALL, "ddim"):
        with pytest.raises(ValueError, match="needs the ddim sampler, which the flow path does not offer: use path vp"
                           ) as refused:
            SampleSpec(model="exact", guidance="cfgpp", path="flow", sampler=sampler).validate()
        assert "\n" not in str(refused.value)
