"""The guiders diffusers ships for any denoiser, in our zoo (models.guidance.zoo: cfgzero, tcfg, mambo, apgmix):
each against its diffusers guider class over whole float64 trajectories of the exact models, the
reductions their papers state, and a deliberate break of each wrapper caught by the same comparison.

How the comparison runs (``DiffusersInSpace``): a diffusers guider combines whatever its model
outputs. Each method acts in the space its paper defines (``space``: v for CFG-Zero* and MAMBO-G,
eps for TCFG, x0 for APG), so the guider is driven exactly as ``tests/models/test_guiders_parity``
drives the others (``DiffusersGuided``), on a model that returns our exact x0 prediction converted
into that space by the formulas written out here (not ``models.engine.conversions``), and its output is
converted back to x0 for the sampler. Both trajectories then evolve on their own.

Scales (read from diffusers 0.42.1): every one of these guiders writes ``uncond' + s (cond - uncond')``
natively, so s = our gamma, and ``cond + s (cond - uncond')`` with ``use_original_formulation``, so
s = gamma - 1; both are compared. MAMBO-G's damping keeps this mapping: natively ``1 + (s - 1) e``,
originally ``s e``, i.e. ``1 + (gamma - 1) e`` either way. ``AdaptiveProjectedMixGuidance`` is
compared in the original formulation only, the paper's APG (as ``test_guiders_parity`` explains for
APG), with its CFG scale and APG scale both gamma - 1, and its step-count switch
(``adaptive_projected_guidance_start_step``) turned into our noise-level window.

Precision: ``ClassifierFreeZeroStarGuidance`` and ``TangentialClassifierFreeGuidance`` cast their
inputs to float32 (``.float()``) before the scale / the SVD. Shipped as is, they agree with ours to
float32 rounding only (measured: up to 5e-4 in x0 for TCFG on digits, where eps -> x0 multiplies by
sigma up to 157). ``float64_oracle`` lifts that one cast while they run (a float64 tensor's
``.float()`` returns it unchanged), so their own arithmetic runs in float64 and must agree to 1e-10;
``test_shipped_float32_guiders_agree_to_float32_rounding`` runs them untouched.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
import torch
from diffusers.guiders import (AdaptiveProjectedMixGuidance, ClassifierFreeZeroStarGuidance, MagnitudeAwareGuidance,
                               TangentialClassifierFreeGuidance)

import models.guidance.zoo.apgmix
import models.guidance.zoo.cfgzero
import models.guidance.zoo.mambo
import models.guidance.zoo.tcfg
from models.engine.denoiser import Prediction, scales
from models.engine.exact import exact_digits_denoiser, exact_gmm2d_denoiser
from models.guidance import REGISTRY, make_guidance
from models.guidance.zoo.apgmix import APGMix
from models.guidance.zoo.cfgzero import CFGZERO_GUARD, optimal_scale
from models.guidance.zoo.tcfg import leading_direction
from tests.models.test_guiders_parity import DATA, F64, STEPS, TOL, DiffusersGuided, _diff, _same, _sample


@pytest.fixture(scope="module")
def exact(schedule):
    """``{data: exact denoiser}``."""
    return {"digits": exact_digits_denoiser(schedule), "gmm2d": exact_gmm2d_denoiser(schedule)}


# ----------------------------------------------------------------------------- the oracle in its space

def space_of(x0, x_t, a, s, space):
    """The x0 prediction as a prediction in ``space``: eps = (x_t - a x0) / s, v = a eps - s x0."""
    if space == "x0":
        return x0
    eps = (x_t - a * x0) / s
    return eps if space == "eps" else a * eps - s * x0


def x0_of(pred, x_t, a, s, space):
    """The x0 prediction a prediction in ``space`` stands for: x0 = (x_t - s eps) / a = a x_t - s v."""
    if space == "x0":
        return pred
    return (x_t - s * pred) / a if space == "eps" else a * x_t - s * pred


class InSpace:
    """The exact denoiser as a network that predicts in ``space``."""

    def __init__(self, denoiser, space: str) -> None:
        self.denoiser, self.space = denoiser, space
        self.schedule, self.num_classes = denoiser.schedule, denoiser.num_classes

    def __call__(self, x_t, t, y):
        a, s = scales(self.schedule, t, x_t)
        return space_of(self.denoiser(x_t, t, y), x_t, a, s, self.space)


class DiffusersInSpace:
    """A diffusers guider driven as ``DiffusersGuided`` does, on ``InSpace(denoiser, space)``; its
    combined prediction converted back to x0."""

    def __init__(self, guider, denoiser, space: str) -> None:
        self.inner = DiffusersGuided(guider, InSpace(denoiser, space), STEPS)
        self.space, self.schedule, self.num_classes = space, denoiser.schedule, denoiser.num_classes

    @property
    def step(self) -> int:
        return self.inner.step

    def predict(self, x_t, t, y):
        a, s = scales(self.schedule, t, x_t)
        return Prediction(x0=x0_of(self.inner.predict(x_t, t, y).x0, x_t, a, s, self.space))

    def __call__(self, x_t, t, y):
        return self.predict(x_t, t, y).x0


@contextlib.contextmanager
def float64_oracle():
    """While it runs, ``Tensor.float()`` leaves a float64 tensor as it is (module docstring)."""
    original = torch.Tensor.float

    def keep_float64(self, *args, **kwargs):
        return self if self.dtype == F64 else original(self, *args, **kwargs)

    torch.Tensor.float = keep_float64
    try:
        yield
    finally:
        torch.Tensor.float = original


def _moves(a, b, at_least: float = 1e-3) -> bool:
    return bool(np.abs(a.x0_hat - b.x0_hat).max() > at_least)


# ----------------------------------------------------------------------------- one oracle per method

def cfgzero_oracle(den, gamma, zero_steps, original):
    return DiffusersInSpace(ClassifierFreeZeroStarGuidance(guidance_scale=gamma - 1.0 if original else gamma,
                                                           zero_init_steps=zero_steps, use_original_formulation=original),
                            den, "v")


def tcfg_oracle(den, gamma, original):
    return DiffusersInSpace(TangentialClassifierFreeGuidance(guidance_scale=gamma - 1.0 if original else gamma,
                                                             use_original_formulation=original), den, "eps")


def mambo_oracle(den, gamma, alpha, original):
    return DiffusersInSpace(MagnitudeAwareGuidance(guidance_scale=gamma - 1.0 if original else gamma, alpha=alpha,
                                                   use_original_formulation=original), den, "v")


def apgmix_window(schedule, start_step: int) -> dict:
    """Our window equal to diffusers' ``adaptive_projected_guidance_start_step``: APG at the steps
    after it, whose sigmas all lie at or below a bound halfway to the previous step's."""
    sigma = schedule.sigma(schedule.timesteps(STEPS))
    return dict(apgmix_lo=0.0, apgmix_hi=float((sigma[start_step] + sigma[start_step + 1]) / 2))


def apgmix_oracle(den, gamma, eta, r, beta, start_step):
    return DiffusersInSpace(AdaptiveProjectedMixGuidance(
        guidance_scale=gamma - 1.0, adaptive_projected_guidance_scale=gamma - 1.0, eta=eta,
        adaptive_projected_guidance_momentum=beta if beta != 0.0 else None,
        adaptive_projected_guidance_rescale=r if math.isfinite(r) else 0.0, use_original_formulation=True,
        adaptive_projected_guidance_start_step=start_step), den, "x0")


# ----------------------------------------------------------------------------- parity over trajectories

@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
@pytest.mark.parametrize("original", [False, True])
@pytest.mark.parametrize("gamma, zero_steps", [(3.0, 1), (0.5, 0), (5.0, 3), (1.0, 2)])
def test_cfgzero_matches_diffusers_classifier_free_zero_star_guidance(exact, data, sampler, original, gamma, zero_steps):
    den = exact[data]
    ours = _sample(make_guidance("cfgzero", den, gamma, settings=dict(cfgzero_zero_steps=zero_steps)), data, sampler)
    if gamma != 1.0:
        assert _moves(ours, _sample(make_guidance("cfg", den, gamma), data, sampler))  # s* really acts
    with float64_oracle():
        theirs = _sample(cfgzero_oracle(den, gamma, zero_steps, original), data, sampler)
    _same(ours, theirs, f"cfgzero {data} {sampler} original={original} gamma={gamma} zero_steps={zero_steps}")


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
@pytest.mark.parametrize("original", [False, True])
@pytest.mark.parametrize("gamma", [3.0, 0.5, 7.0])
def test_tcfg_matches_diffusers_tangential_classifier_free_guidance(exact, data, sampler, original, gamma):
    den = exact[data]
    ours = _sample(make_guidance("tcfg", den, gamma), data, sampler)
    assert _moves(ours, _sample(make_guidance("cfg", den, gamma), data, sampler), 1e-4)  # the projection acts
    with float64_oracle():
        theirs = _sample(tcfg_oracle(den, gamma, original), data, sampler)
    _same(ours, theirs, f"tcfg {data} {sampler} original={original} gamma={gamma}")


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("original", [False, True])
@pytest.mark.parametrize("gamma, alpha", [(3.0, 8.0), (7.0, 2.0), (5.0, 0.5), (0.5, 1.0)])
def test_mambo_matches_diffusers_magnitude_aware_guidance(exact, data, original, gamma, alpha):
    den = exact[data]
    ours = _sample(make_guidance("mambo", den, gamma, settings=dict(mambo_alpha=alpha)), data, "ddpm")
    assert _moves(ours, _sample(make_guidance("cfg", den, gamma), data, "ddpm"))  # the damping acts
    assert _moves(ours, _sample(make_guidance("none", den), data, "ddpm"))  # ... and is not total
    _same(ours, _sample(mambo_oracle(den, gamma, alpha, original), data, "ddpm"),
          f"mambo {data} original={original} gamma={gamma} alpha={alpha}")


# (eta, r, beta, start step): r in units of the median |D_c - D_u| (2.3 digits, 0.1 gmm2d), inf = no clip
APGMIX_SETTINGS = [(0.0, math.inf, -0.5, 5), (0.2, 1.0, -0.5, 3), (1.0, 0.8, 0.3, 10), (0.5, math.inf, 0.0, 0)]


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("eta, r, beta, start_step", APGMIX_SETTINGS)
def test_apgmix_matches_diffusers_adaptive_projected_mix_guidance(exact, schedule, data, eta, r, beta, start_step):
    den, gamma = exact[data], 4.0
    r_abs = r * (2.3 if data == "digits" else 0.1)
    settings = dict(apgmix_eta=eta, apgmix_r=r_abs, apgmix_beta=beta, **apgmix_window(schedule, start_step))
    ours = _sample(make_guidance("apgmix", den, gamma, settings=settings), data, "ddpm")
    cfg = _sample(make_guidance("cfg", den, gamma), data, "ddpm")
    assert _moves(ours, cfg)
    # CFG at the steps up to the start step, APG after it (the two differ at the first APG step).
    np.testing.assert_allclose(ours.x0_hat[:start_step + 1], cfg.x0_hat[:start_step + 1], atol=1e-12)
    theirs = _sample(apgmix_oracle(den, gamma, eta, r_abs, beta, start_step), data, "ddpm")
    _same(ours, theirs, f"apgmix {data} eta={eta} r={r_abs:.3g} beta={beta} start={start_step}")


@pytest.mark.parametrize("data", DATA)
def test_shipped_float32_guiders_agree_to_float32_rounding(exact, data):
    """The two guiders that compute in float32, untouched: they agree to float32 rounding, and
    their gap is that rounding, not a difference of method (it is 1e-10 with the cast lifted)."""
    den = exact[data]
    for ours, oracle in ((make_guidance("cfgzero", den, 3.0), lambda: cfgzero_oracle(den, 3.0, 1, False)),
                         (make_guidance("tcfg", den, 3.0), lambda: tcfg_oracle(den, 3.0, False))):
        mine = _sample(ours, data)
        shipped = _diff(mine, _sample(oracle(), data))
        with float64_oracle():
            lifted = _diff(mine, _sample(oracle(), data))
        print(f"{ours.name} {data}: shipped (float32 inside) {shipped:.2e}, cast lifted {lifted:.2e}")
        assert lifted <= TOL and 1e-9 < shipped <= 1e-3


# ----------------------------------------------------------------------------- a broken wrapper is caught

def _patched_space(cls, space):
    return lambda mp: mp.setattr(cls, "space", space)


BREAKS = {
    "cfgzero acting on x0, not v": ("cfgzero", _patched_space(REGISTRY["cfgzero"], "x0")),
    "cfgzero without s* (plain CFG after the zero step)": (
        "cfgzero", lambda mp: mp.setattr(models.guidance.zoo.cfgzero, "optimal_scale", lambda c, u: torch.ones_like(c[:, :1]))),
    "cfgzero zeroing one step too many": (
        "cfgzero", lambda mp: mp.setattr(REGISTRY["cfgzero"], "zero_steps", property(lambda s: 2, lambda s, v: None), raising=False)),
    "tcfg acting on v, not eps": ("tcfg", _patched_space(REGISTRY["tcfg"], "v")),
    "tcfg projecting on c, not the singular direction": (
        "tcfg", lambda mp: mp.setattr(models.guidance.zoo.tcfg, "leading_direction",
                                      lambda c, u: torch.nn.functional.normalize(c, dim=1))),
    "mambo measuring the ratio in x0, not v": ("mambo", _patched_space(REGISTRY["mambo"], "x0")),
    "mambo damping gamma, not gamma - 1": (
        "mambo", lambda mp: mp.setattr(models.guidance.zoo.mambo, "damped_scale",
                                       lambda g, al, c, u: g * torch.exp(-al * (c - u).norm(dim=1, keepdim=True)
                                                                        / u.norm(dim=1, keepdim=True)))),
    "apgmix with APG and CFG swapped": (
        "apgmix", lambda mp: mp.setattr(models.guidance.zoo.apgmix, "in_window", lambda sigma, lo, hi: ~((sigma > lo) & (sigma <= hi)))),
    "apgmix forgetting its momentum": (
        "apgmix", lambda mp: mp.setattr(APGMix, "_momentum", property(lambda s: None, lambda s, v: None), raising=False)),
}


@pytest.mark.parametrize("what", BREAKS)
def test_a_broken_wrapper_is_caught(exact, schedule, monkeypatch, what):
    """Each break changes one thing the papers fix; the parity comparison must fail on it."""
    method, patch = BREAKS[what]
    den, data = exact["digits"], "digits"
    window = apgmix_window(schedule, 5)
    build = {"cfgzero": (dict(cfgzero_zero_steps=1), lambda: cfgzero_oracle(den, 3.0, 1, False)),
             "tcfg": ({}, lambda: tcfg_oracle(den, 3.0, False)),
             "mambo": (dict(mambo_alpha=2.0), lambda: mambo_oracle(den, 3.0, 2.0, False)),
             "apgmix": (dict(apgmix_eta=0.0, apgmix_beta=-0.5, **window),
                        lambda: apgmix_oracle(den, 3.0, 0.0, math.inf, -0.5, 5))}
    settings, oracle = build[method]
    with float64_oracle():
        theirs = _sample(oracle(), data)
    _same(_sample(make_guidance(method, den, 3.0, settings=settings), data), theirs, f"{method} intact")
    patch(monkeypatch)
    broken = _sample(make_guidance(method, den, 3.0, settings=settings), data)
    with pytest.raises(AssertionError):
        _same(broken, theirs, f"{method} broken: {what}")
    print(f"{what}: caught, off by {_diff(broken, theirs):.2e}")


# ----------------------------------------------------------------------------- the papers' reductions

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


@pytest.mark.parametrize("data", DATA)
def test_mambo_without_damping_is_cfg(exact, data):
    """alpha = 0: the scale is gamma at every step (arXiv 2508.03442: w(r) = 1 + (w_max - 1) e^(-alpha r))."""
    den = exact[data]
    cfg = _sample(make_guidance("cfg", den, 4.0), data)
    np.testing.assert_allclose(_sample(make_guidance("mambo", den, 4.0, settings=dict(mambo_alpha=0.0)), data).x,
                               cfg.x, atol=1e-12, rtol=0)


@pytest.mark.parametrize("data", DATA)
def test_apgmix_is_cfg_outside_its_window_and_apg_inside_it(exact, data):
    """An empty window is CFG; a window holding every step is APG with the same settings (whose
    momentum is fed at every step too)."""
    den = exact[data]
    apg_settings = dict(eta=0.3, r=0.7 if data == "digits" else 0.05, beta=-0.5)
    cfg = _sample(make_guidance("cfg", den, 4.0), data)
    empty = dict(apgmix_lo=1e6, apgmix_hi=2e6, **{f"apgmix_{k}": v for k, v in apg_settings.items()})
    np.testing.assert_allclose(_sample(make_guidance("apgmix", den, 4.0, settings=empty), data).x, cfg.x, atol=1e-12)
    every = dict(apgmix_lo=0.0, apgmix_hi=math.inf, **{f"apgmix_{k}": v for k, v in apg_settings.items()})
    apg = _sample(make_guidance("apg", den, 4.0, settings={f"apg_{k}": v for k, v in apg_settings.items()}), data)
    assert _moves(apg, cfg)
    np.testing.assert_allclose(_sample(make_guidance("apgmix", den, 4.0, settings=every), data).x, apg.x, atol=1e-12)


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


def test_tcfg_direction_is_the_leading_right_singular_vector_and_keeps_parallel_u():
    """The direction equals the leading right-singular vector of torch.linalg.svd (up to sign), and
    where u is parallel to c the projection keeps u: TCFG is CFG there."""
    g = torch.Generator().manual_seed(1)
    c, u = torch.randn(6, 64, generator=g, dtype=F64), torch.randn(6, 64, generator=g, dtype=F64)
    n = leading_direction(c, u)
    vh = torch.linalg.svd(torch.stack([c, u], 1), full_matrices=False).Vh[:, 0]
    torch.testing.assert_close((n * vh).sum(1).abs(), torch.ones(6, dtype=F64), rtol=0, atol=1e-12)
    parallel = 0.7 * c
    n = leading_direction(c, parallel)
    torch.testing.assert_close((parallel * n).sum(1, keepdim=True) * n, parallel, rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", ["cfgzero", "tcfg", "mambo", "apgmix"])
def test_each_method_says_its_space_and_records_its_parts(exact, method):
    """The space each paper defines, and the two predictions recorded for the views."""
    assert REGISTRY[method].space == {"cfgzero": "v", "tcfg": "eps", "mambo": "v", "apgmix": "x0"}[method]
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
    a = np.sqrt(first.alphas_cumprod[first.timesteps])[:, None, None]
    np.testing.assert_allclose(first.x0_hat[:2], a[:2] * first.x[:2], atol=1e-12)
    reused = make_guidance("apgmix", den, 3.0)
    first = _sample(reused, "gmm2d")
    assert not np.array_equal(first.x, _sample(reused, "gmm2d").x)
