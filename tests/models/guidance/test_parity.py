"""Our guidance wrappers against diffusers' guider *classes* (``diffusers.guiders``), along whole
sampling trajectories: cfg, rescale, apg, interval and autoguidance (``DiffusersGuided``), and the
guiders diffusers ships for any denoiser, cfgzero, tcfg, mambo and apgmix, each in the space its paper
defines (``DiffusersInSpace``), with a deliberate break of each of those wrappers caught by the same
comparison. Frequency-decoupled guidance, compared the same way, is in ``zoo/test_fdg.py``, which
imports the oracles from here; the reductions the papers state are in each method's own module
(``test_cfg.py``, ``zoo/test_<method>.py``) and, for several methods at once, ``zoo/test_zoo.py``.

Each test samples twice from the same x_T with the same noise: once with our wrapper
(``models.guidance.make_guidance``), once with ``DiffusersGuided``, which drives a diffusers guider
the way its modular pipelines do (``set_state`` -> ``prepare_inputs`` -> one denoiser call per
batch it asks for -> ``guider(batches)``), on the exact closed-form denoiser in float64. The two
trajectories evolve independently (diffusers' momentum buffer follows its own trajectory), and
the guided x0 predictions and the states x_t must agree to 1e-10 at every step.

Conventions (read from diffusers 0.42 source):

* ``ClassifierFreeGuidance`` / ``AutoGuidance``: the default ("diffusers-native") formulation is
  ``uncond + s (cond - uncond)``, so s = our gamma; ``use_original_formulation=True`` is
  ``cond + s (cond - uncond)``, so s = gamma - 1. The guider switches itself off (returns
  ``pred_cond``) when s is 1 (native) or 0 (original), and outside its start/stop step fractions.
* ``AdaptiveProjectedGuidance``: only ``use_original_formulation=True`` is the paper's (and our)
  ``cond + s (orth + eta par)`` with s = gamma - 1; the native one, ``uncond + s (orth + eta par)``,
  agrees with it only where APG is plain CFG. ``adaptive_projected_guidance_rescale`` is our r
  (0 = no clipping, our inf); ``adaptive_projected_guidance_momentum`` is our beta (None = none).

In a method's own space (``DiffusersInSpace``): a diffusers guider combines whatever its model
outputs. Each method acts in the space its paper defines (``space``: the flow-matching velocity u =
eps - x0 for CFG-Zero* and MAMBO-G, eps for TCFG, x0 for APG), so the guider is driven exactly as
``DiffusersGuided`` drives the others, on a model that returns our exact x0 prediction converted into
that space by the formulas written out here (not ``models.engine.conversions``), and its output is
converted back to x0 for the sampler. Both trajectories then evolve on their own. CFG-Zero* and
MAMBO-G are compared on both paths: on the flow path (``models.flow``, SD3's shift 3, Euler and the
ancestral sampler) u is what a flow-matching network feeds these guiders in diffusers; on VP (DDPM,
DDIM) it is the velocity of the scaled point x_t / (a + s).

Scales (read from diffusers 0.42.1): every one of these guiders writes ``uncond' + s (cond - uncond')``
natively, so s = our gamma, and ``cond + s (cond - uncond')`` with ``use_original_formulation``, so
s = gamma - 1; both are compared. MAMBO-G's damping keeps this mapping: natively ``1 + (s - 1) e``,
originally ``s e``, i.e. ``1 + (gamma - 1) e`` either way. ``AdaptiveProjectedMixGuidance`` is
compared in the original formulation only, the paper's APG (as for APG above), with its CFG scale and
APG scale both gamma - 1, and its step-count switch (``adaptive_projected_guidance_start_step``)
turned into our noise-level window.

Precision: ``ClassifierFreeZeroStarGuidance`` and ``TangentialClassifierFreeGuidance`` cast their
inputs to float32 (``.float()``) before the scale / the SVD. Shipped as is, they agree with ours to
float32 rounding only (measured: up to 5e-4 in x0 for TCFG on digits, where eps -> x0 multiplies by
sigma up to 157). ``float64_oracle`` lifts that one cast while they run (a float64 tensor's
``.float()`` returns it unchanged), so their own arithmetic runs in float64 and must agree to 1e-10;
``test_shipped_float32_guiders_agree_to_float32_rounding`` runs them untouched.

Not compared: CFG++ (``cfgpp``) has no diffusers guider; classifier and universal guidance have none
either; PAG, SEG and skip-layer guidance have no counterpart in our zoo.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import pytest
import torch
from diffusers.guiders import (AdaptiveProjectedGuidance, AdaptiveProjectedMixGuidance, AutoGuidance,
                               ClassifierFreeGuidance, ClassifierFreeZeroStarGuidance, MagnitudeAwareGuidance,
                               TangentialClassifierFreeGuidance)

import models.guidance.zoo.apgmix
import models.guidance.zoo.cfgzero
import models.guidance.zoo.mambo
import models.guidance.zoo.tcfg
from models.engine.denoiser import Prediction, scales
from models.engine.exact import exact_digits_denoiser, exact_gmm2d_denoiser
from models.engine.loading import blurred_exact_denoiser
from models.engine.samplers import get_sampler
from models.flow.path import path_of
from models.flow.samplers import FLOW_SAMPLERS
from models.guidance import REGISTRY, make_guidance
from models.guidance.zoo.apgmix import APGMix


F64 = torch.float64
STEPS = 25
BATCH = 4
TOL = 1e-10
DATA = ["digits", "gmm2d"]
#: (path, sampler) pairs the methods acting in u are compared on
PATH_SAMPLERS = [("vp", "ddpm"), ("vp", "ddim"), ("flow", "euler"), ("flow", "ddpm")]


@pytest.fixture(scope="module")
def exact_models(schedule):
    """``{data: (exact denoiser, blurred exact denoiser as autoguidance's weak model)}``."""
    return {"digits": (exact_digits_denoiser(schedule), blurred_exact_denoiser("digits", schedule)),
            "gmm2d": (exact_gmm2d_denoiser(schedule), blurred_exact_denoiser("gmm2d", schedule))}


class DiffusersGuided:
    """A diffusers guider behind our denoiser signature, driven as in diffusers' modular pipelines
    (``modular_pipelines/stable_diffusion_xl/denoise.py``): per step ``set_state(step, n, t)``, then
    ``prepare_inputs`` splits the inputs into the batches the guider wants (one, conditional, when it
    is switched off at this step; APG also resets its momentum buffer there at step 0), the model
    fills each batch's ``noise_pred``, and ``guider(batches).pred`` combines them.

    The model inputs are ``{"model": (cond model, uncond model), "y": (y, None)}``: CFG and APG
    get the same denoiser with and without labels. AutoGuidance's weak model is, in diffusers, the
    main transformer with layers skipped by hooks that ``prepare_models`` installs; our models are
    not transformers, so its batches get ``(main, weak)`` as the model and the same labels, and
    ``prepare_models`` (hooks only) is not called for it: everything else runs as in diffusers.

    ``layout`` reshapes our (B, D) predictions into what the guider sees (e.g. (B, 1, D) for a
    latent-like tensor); its reductions run over all non-batch dimensions either way.
    """

    def __init__(self, guider, denoiser, num_inference_steps: int, weak=None, layout=None) -> None:
        self.guider, self.denoiser, self.weak, self.n = guider, denoiser, weak, num_inference_steps
        self.schedule, self.num_classes = denoiser.schedule, denoiser.num_classes
        self.layout = layout
        self.step = 0
        self.enabled_steps: list[int] = []  # steps at which the guider asked for two predictions

    def predict(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> Prediction:
        g = self.guider
        g.set_state(step=self.step, num_inference_steps=self.n, timestep=t[0])
        auto = isinstance(g, AutoGuidance)
        inputs = {"model": (self.denoiser, self.weak), "y": (y, y)} if auto else \
            {"model": (self.denoiser, self.denoiser), "y": (y, None)}
        batches = g.prepare_inputs(inputs)
        if len(batches) == 2:
            self.enabled_steps.append(self.step)
        for batch in batches:
            if not auto:
                g.prepare_models(self.denoiser)
            pred = batch.model(x_t, t, batch.y)
            batch.noise_pred = pred if self.layout is None else pred.reshape(self.layout(pred.shape))
            if not auto:
                g.cleanup_models(self.denoiser)
        out = g(batches).pred.reshape(x_t.shape)
        self.step += 1
        return Prediction(x0=out)

    def __call__(self, x_t, t, y):
        return self.predict(x_t, t, y).x0


def _sample(guided, data: str, sampler: str = "ddpm", seed: int = 0):
    """A float64 trajectory of ``STEPS`` steps for a batch of ``BATCH`` with mixed labels. A diffusers
    oracle (``DiffusersGuided``, and wrappers of it) counts its calls in ``step``: one per step."""
    dim = 64 if data == "digits" else 2
    g = torch.Generator().manual_seed(seed)
    x_T = torch.randn(BATCH, dim, generator=g, dtype=F64)
    y = torch.tensor([3, 1, 4, 9]) % guided.num_classes
    options = {"eta": 0.0} if sampler == "ddim" else {}
    run = FLOW_SAMPLERS[sampler] if path_of(guided.schedule) == "flow" else get_sampler(sampler)
    traj = run(guided, x_T, guided.schedule.timesteps(STEPS), y, generator=g, **options)
    if hasattr(guided, "step"):
        assert guided.step == STEPS  # one guider call per step
    return traj


def _diff(ours, theirs) -> float:
    """The largest difference between two trajectories' x0 predictions and states."""
    return float(max(np.abs(theirs.x0_hat - ours.x0_hat).max(), np.abs(theirs.x - ours.x).max()))


def _same(ours, theirs, what: str, tol: float = TOL) -> float:
    """Every step's guided x0 prediction and state agree to ``tol``; returns the largest difference."""
    assert ours.x0_hat.shape == theirs.x0_hat.shape == (STEPS, BATCH, ours.x.shape[-1])
    for k in range(STEPS):
        np.testing.assert_allclose(theirs.x0_hat[k], ours.x0_hat[k], atol=tol, rtol=0,
                                   err_msg=f"{what}: x0 at step {k}")
    np.testing.assert_allclose(theirs.x, ours.x, atol=tol, rtol=0, err_msg=f"{what}: x_t")
    diff = _diff(ours, theirs)
    print(f"{what}: max |diffusers - ours| = {diff:.2e}")
    return diff


def _guides(traj, at_least: float = 1e-3) -> None:
    """The guidance really moved the prediction away from the conditional one (the test can fail)."""
    assert np.abs(traj.x0_hat - traj.x0_cond).max() > at_least


@pytest.mark.parametrize("sampler", ["ddim", "ddpm"])
@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("original", [False, True])
@pytest.mark.parametrize("gamma", [3.0, 0.5])
def test_cfg_matches_diffusers_classifier_free_guidance(exact_models, data, sampler, original, gamma):
    """``ClassifierFreeGuidance(s)`` is our cfg with gamma = s (native) or gamma = s + 1 (original)."""
    den, _ = exact_models[data]
    ours = _sample(make_guidance("cfg", den, gamma), data, sampler)
    _guides(ours)
    guider = ClassifierFreeGuidance(guidance_scale=gamma - 1.0 if original else gamma,
                                    use_original_formulation=original)
    theirs_guided = DiffusersGuided(guider, den, STEPS)
    _same(ours, _sample(theirs_guided, data, sampler), f"cfg {data} {sampler} original={original} gamma={gamma}")
    assert theirs_guided.enabled_steps == list(range(STEPS))


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("original", [False, True])
@pytest.mark.parametrize("phi", [0.3, 0.7, 1.0])
def test_rescale_matches_diffusers_guidance_rescale(exact_models, data, original, phi):
    """``ClassifierFreeGuidance(s, guidance_rescale=phi)`` is our rescale with the same phi.

    diffusers takes the standard deviations over all non-batch dimensions, ours over dim 1 of a
    (B, D) tensor: the guider is fed (B, 1, D) tensors (a one-channel latent), whose non-batch
    dimensions hold exactly our D numbers per sample, so both reductions agree."""
    den, _ = exact_models[data]
    gamma = 4.0
    sampler = "ddim" if original else "ddpm"
    ours = _sample(make_guidance("rescale", den, gamma, settings=dict(rescale_phi=phi)), data, sampler)
    plain = ours.x0_uncond + gamma * (ours.x0_cond - ours.x0_uncond)
    assert np.abs(ours.x0_hat - plain).max() > 1e-3  # the rescale really acts
    guider = ClassifierFreeGuidance(guidance_scale=gamma - 1.0 if original else gamma, guidance_rescale=phi,
                                    use_original_formulation=original)
    theirs = _sample(DiffusersGuided(guider, den, STEPS, layout=lambda s: (s[0], 1, s[1])), data, sampler)
    _same(ours, theirs, f"rescale {data} {sampler} original={original} phi={phi}")


# (eta, r, beta): r = inf is no clipping, beta = 0 no momentum. r is in units of the median
# |D_c - D_u| along these trajectories (about 2.3 for digits, 0.1 for gmm2d), so that clipping acts
# on some steps and not on others.
APG_SETTINGS = [(0.0, math.inf, 0.0), (0.3, 1.0, 0.0), (0.0, math.inf, 0.5), (0.2, 0.9, -0.5), (1.0, 1.2, 0.3)]


def _apg_r(data: str, r: float) -> float:
    return r * (2.3 if data == "digits" else 0.1)


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("eta,r,beta", APG_SETTINGS)
def test_apg_matches_diffusers_adaptive_projected_guidance(exact_models, data, eta, r, beta):
    """``AdaptiveProjectedGuidance(s, eta=eta, adaptive_projected_guidance_rescale=r,
    adaptive_projected_guidance_momentum=beta, use_original_formulation=True)`` is our apg with
    gamma = s + 1, across a whole trajectory (the momentum buffers evolve step by step on their
    own trajectories). The same guider object then samples a second time from another x_T: its
    buffer must be reset at step 0 (``prepare_inputs``), as our fresh wrapper's is."""
    den, _ = exact_models[data]
    gamma, sampler = 4.0, "ddpm"
    r = _apg_r(data, r)

    def ours_apg(r=r, beta=beta):
        return make_guidance("apg", den, gamma, settings=dict(apg_eta=eta, apg_r=r, apg_beta=beta))

    ours = _sample(ours_apg(), data, sampler)
    _guides(ours)
    # The settings under test change the trajectory, so a guider ignoring them would fail.
    if math.isfinite(r):
        assert np.abs(_sample(ours_apg(r=math.inf), data, sampler).x0_hat - ours.x0_hat).max() > 1e-3
    if beta != 0.0:
        assert np.abs(_sample(ours_apg(beta=0.0), data, sampler).x0_hat - ours.x0_hat).max() > 1e-3

    guider = AdaptiveProjectedGuidance(guidance_scale=gamma - 1.0, eta=eta,
                                       adaptive_projected_guidance_rescale=r if math.isfinite(r) else 0.0,
                                       adaptive_projected_guidance_momentum=beta if beta != 0.0 else None,
                                       use_original_formulation=True)
    what = f"apg {data} eta={eta} r={r:.3g} beta={beta}"
    _same(ours, _sample(DiffusersGuided(guider, den, STEPS), data, sampler), what)
    # Second run, same guider, another seed: only a reset buffer matches a fresh wrapper.
    again = _sample(DiffusersGuided(guider, den, STEPS), data, sampler, seed=1)
    _same(_sample(ours_apg(), data, sampler, seed=1), again, what + " (guider reused)")


@pytest.mark.parametrize("data", DATA)
def test_apg_native_formulation_is_not_the_papers(exact_models, data):
    """Why the APG comparison uses ``use_original_formulation=True``: diffusers' native APG,
    ``uncond + s (orth + eta par)``, equals our apg at gamma = s only where APG is CFG (eta = 1, no
    clipping, no momentum); with eta = 0 it is a different method (it drops D_c - D_u's parallel
    part but starts from D_u), and our apg (the paper's ``D_c + (gamma - 1) (orth + eta par)``) must
    not match it."""
    den, _ = exact_models[data]
    gamma, sampler = 4.0, "ddim"

    def pair(eta):
        ours = _sample(make_guidance("apg", den, gamma, settings=dict(apg_eta=eta)), data, sampler)
        guider = AdaptiveProjectedGuidance(guidance_scale=gamma, eta=eta, adaptive_projected_guidance_rescale=0.0)
        return ours, _sample(DiffusersGuided(guider, den, STEPS), data, sampler)

    _same(*pair(1.0), f"apg native {data} eta=1")
    ours, theirs = pair(0.0)
    assert np.abs(ours.x0_hat[0] - theirs.x0_hat[0]).max() > 1e-3


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("original", [False, True])
@pytest.mark.parametrize("start,stop", [(0.2, 0.6), (0.0, 0.5), (0.44, 1.0), (0.1, 0.92)])
def test_interval_matches_diffusers_start_stop(exact_models, data, original, start, stop):
    """``ClassifierFreeGuidance(start, stop)`` guides the steps ``int(start n) <= k < int(stop n)``;
    our interval guidance guides the steps whose sigma lies in [lo, hi]. Sigma falls step by step,
    so the steps diffusers enables are those with sigma between the sigmas of the first and the last
    of them: lo and hi are taken halfway to the neighbouring steps' sigmas (0 and 2 sigma_max at the
    ends), and the two must then guide the same steps and give the same predictions."""
    den, _ = exact_models[data]
    gamma, sampler = 3.0, "ddpm"
    guider = ClassifierFreeGuidance(guidance_scale=gamma - 1.0 if original else gamma,
                                    use_original_formulation=original, start=start, stop=stop)
    # The steps the guider itself enables (its own rule, read back through set_state).
    enabled = []
    for k in range(STEPS):
        guider.set_state(step=k, num_inference_steps=STEPS, timestep=None)
        if guider._is_cfg_enabled():
            enabled.append(k)
    assert enabled == list(range(enabled[0], enabled[-1] + 1)) and 0 < len(enabled) < STEPS
    sigma = den.schedule.sigma(den.schedule.timesteps(STEPS))  # descending
    first, last = enabled[0], enabled[-1]
    hi = 2 * sigma[0] if first == 0 else (sigma[first - 1] + sigma[first]) / 2
    lo = 0.0 if last == STEPS - 1 else (sigma[last] + sigma[last + 1]) / 2

    assert [k for k in range(STEPS) if lo < sigma[k] <= hi] == enabled  # (lo, hi], as arXiv 2404.07724

    ours = _sample(make_guidance("interval", den, gamma, settings=dict(interval_lo=lo, interval_hi=hi)), data, sampler)
    _guides(ours)
    # (On the last few digits steps the exact D_c and D_u coincide, so guidance moves nothing there.)
    theirs_guided = DiffusersGuided(guider, den, STEPS)
    theirs = _sample(theirs_guided, data, sampler)
    assert theirs_guided.enabled_steps == enabled
    _same(ours, theirs, f"interval {data} original={original} start={start} stop={stop} sigma in [{lo:.4g}, {hi:.4g}]")


@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("sampler", ["ddim", "ddpm"])
@pytest.mark.parametrize("original", [False, True])
def test_autoguidance_matches_diffusers_auto_guidance(exact_models, data, sampler, original):
    """``AutoGuidance(s)`` combines ``pred_cond`` (main model) and ``pred_uncond`` (its weak model,
    both conditional on y) exactly as CFG does: ``weak + s (main - weak)`` natively, so s = our gamma
    (``main + s (main - weak)`` in the original formulation, s = gamma - 1). Its weak model is built
    by layer-skip hooks on a transformer, which the exact models are not: the guider is constructed
    with a layer to skip (never hooked) and given the blurred exact model's prediction as its
    ``pred_uncond`` batch (see ``DiffusersGuided``), the weak model ``models.engine.loading`` gives
    autoguidance for the exact models."""
    den, weak = exact_models[data]
    gamma = 2.5
    ours = _sample(make_guidance("autoguidance", den, gamma, weak=weak), data, sampler)
    _guides(ours)
    assert np.abs(ours.x0_cond - ours.x0_uncond).max() > 1e-3  # the weak model really is weaker
    guider = AutoGuidance(guidance_scale=gamma - 1.0 if original else gamma, auto_guidance_layers=[0], dropout=1.0,
                          use_original_formulation=original)
    theirs = _sample(DiffusersGuided(guider, den, STEPS, weak=weak), data, sampler)
    _same(ours, theirs, f"autoguidance {data} {sampler} original={original}")


# ----------------------------------------------------------------------------- the oracle in its space

def space_of(x0, x_t, a, s, space):
    """The x0 prediction as a prediction in ``space``: eps = (x_t - a x0) / s, v = a eps - s x0 (VP),
    u = eps - x0 (flow matching)."""
    if space == "x0":
        return x0
    eps = (x_t - a * x0) / s
    return {"eps": eps, "v": a * eps - s * x0, "u": eps - x0}[space]


def x0_of(pred, x_t, a, s, space):
    """The x0 prediction a prediction in ``space`` stands for: x0 = (x_t - s eps) / a = a x_t - s v (VP)
    = (x_t - s u) / (a + s)."""
    if space == "x0":
        return pred
    return {"eps": lambda: (x_t - s * pred) / a, "v": lambda: a * x_t - s * pred,
            "u": lambda: (x_t - s * pred) / (a + s)}[space]()


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
                            den, "u")


def tcfg_oracle(den, gamma, original):
    return DiffusersInSpace(TangentialClassifierFreeGuidance(guidance_scale=gamma - 1.0 if original else gamma,
                                                             use_original_formulation=original), den, "eps")


def mambo_oracle(den, gamma, alpha, original):
    return DiffusersInSpace(MagnitudeAwareGuidance(guidance_scale=gamma - 1.0 if original else gamma, alpha=alpha,
                                                   use_original_formulation=original), den, "u")


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


# ----------------------------------------------------------------------------- parity in each method's space

@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("path, sampler", PATH_SAMPLERS)
@pytest.mark.parametrize("original", [False, True])
@pytest.mark.parametrize("gamma, zero_steps", [(3.0, 1), (0.5, 0), (5.0, 3), (1.0, 2)])
def test_cfgzero_matches_diffusers_classifier_free_zero_star_guidance(exact_on, data, path, sampler, original, gamma,
                                                                      zero_steps):
    """``ClassifierFreeZeroStarGuidance`` fed flow-matching velocities u is our cfgzero, on both paths."""
    den = exact_on[path][data]
    ours = _sample(make_guidance("cfgzero", den, gamma, settings=dict(cfgzero_zero_steps=zero_steps)), data, sampler)
    if gamma != 1.0:
        assert _moves(ours, _sample(make_guidance("cfg", den, gamma), data, sampler))  # s* really acts
    with float64_oracle():
        theirs = _sample(cfgzero_oracle(den, gamma, zero_steps, original), data, sampler)
    _same(ours, theirs, f"cfgzero {path} {data} {sampler} original={original} gamma={gamma} zero_steps={zero_steps}")


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
@pytest.mark.parametrize("path, sampler", PATH_SAMPLERS)
@pytest.mark.parametrize("original", [False, True])
@pytest.mark.parametrize("gamma, alpha", [(3.0, 8.0), (7.0, 2.0), (5.0, 0.5), (0.5, 1.0)])
def test_mambo_matches_diffusers_magnitude_aware_guidance(exact_on, data, path, sampler, original, gamma, alpha):
    """``MagnitudeAwareGuidance`` fed flow-matching velocities u is our mambo, on both paths."""
    den = exact_on[path][data]
    ours = _sample(make_guidance("mambo", den, gamma, settings=dict(mambo_alpha=alpha)), data, sampler)
    assert _moves(ours, _sample(make_guidance("cfg", den, gamma), data, sampler))  # the damping acts
    assert _moves(ours, _sample(make_guidance("none", den), data, sampler))  # ... and is not total
    _same(ours, _sample(mambo_oracle(den, gamma, alpha, original), data, sampler),
          f"mambo {path} {data} {sampler} original={original} gamma={gamma} alpha={alpha}")


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
    "cfgzero acting on x0, not u": ("cfgzero", _patched_space(REGISTRY["cfgzero"], "x0")),
    "cfgzero acting on VP's v, not u": ("cfgzero", _patched_space(REGISTRY["cfgzero"], "v")),
    "cfgzero without s* (plain CFG after the zero step)": (
        "cfgzero", lambda mp: mp.setattr(models.guidance.zoo.cfgzero, "optimal_scale", lambda c, u: torch.ones_like(c[:, :1]))),
    "cfgzero zeroing one step too many": (
        "cfgzero", lambda mp: mp.setattr(REGISTRY["cfgzero"], "zero_steps", property(lambda s: 2, lambda s, v: None), raising=False)),
    "tcfg acting on v, not eps": ("tcfg", _patched_space(REGISTRY["tcfg"], "v")),
    "tcfg projecting on c, not the singular direction": (
        "tcfg", lambda mp: mp.setattr(models.guidance.zoo.tcfg, "leading_direction",
                                      lambda c, u: torch.nn.functional.normalize(c, dim=1))),
    "mambo measuring the ratio in x0, not u": ("mambo", _patched_space(REGISTRY["mambo"], "x0")),
    "mambo measuring the ratio in VP's v, not u": ("mambo", _patched_space(REGISTRY["mambo"], "v")),
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
