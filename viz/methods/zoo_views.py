"""The guidance zoo (``models.guidance.zoo``), each method drawn as its own construction, one frame per step.

Every method starts from the same two predictions, x0_uncond and x0_cond (written x̂0ᵘ and x̂0ᶜ on
the figures; for autoguidance: the weak and the main model's), and the CFG construction
``x0_uncond + gamma (x0_cond - x0_uncond)`` (``viz.views.guidance.CFGDiagram``). Symbols in code
comments below: D_u = x0_uncond, D_c = x0_cond.
Each view draws what its method changes, with the guided prediction always the recorded
``x0_hat`` (checked against the method's formula when the view is built):

* ``RescaleDiagram`` (CFG rescale, arXiv 2305.08891): the CFG point x_cfg, scaled toward (or
  away from) the origin to ``x_r = x_cfg std(D_c) / std(x_cfg)``, and the guided point
  ``phi x_r + (1 - phi) x_cfg`` on that move. Everything lies in span(D_u, D_c): the exact plane
  runs through the origin, D_u and D_c.
* ``APGDiagram`` (adaptive projected guidance, arXiv 2410.02416): from D_c, the guidance split
  against the line through the origin and D_c, ``x0_hat - D_c = (gamma - 1)(orth + eta par)``: the
  parallel part (times eta) along that line, then the orthogonal part; plain CFG's point as a hollow
  marker. The exact plane runs through the origin, D_c and x0_hat.
* ``IntervalDiagram`` (guidance in an interval of sigma, arXiv 2404.07724): the CFG construction,
  each frame's title saying whether sigma_t lies in [lo, hi] (gamma) or not (gamma = 1: the band
  ends on D_c).
* ``AutoguidanceDiagram`` (arXiv 2406.02507): the CFG construction between the weak and the main
  model's predictions.
* ``CFGPlusPlusDiagram`` (CFG++, arXiv 2406.08070): the construction with lambda in [0, 1], and the
  DDIM step re-noised with the unconditional noise estimate; for deterministic DDIM, also where
  plain CFG-DDIM with the same lambda would have landed.

Where part of a construction is too small to read (the 2-D mixture's predictions at high noise, the
step and the noise), an inset beside the frame magnifies it (``viz.draw.magnifier``).

Each view refuses (``ValueError``) a run of another guidance method, and a run whose meta lacks its
method's settings (``models.engine.settings.settings_for``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Optional

import numpy as np

from models.engine.settings import settings_for
from models.engine.trajectory import Trajectory
from viz.views.construction import ConstructionView, Segment, step_inset, step_title
from viz.draw.geometry import StepVectors, abar_pair
from viz.views.guidance import (CFG_INSET, CFG_INSET_POINTS, CFG_KEY_LABELS, GUIDANCE_KEY, CFGDiagram, _toward,
                                   cfg_segments)
from viz.draw.magnifier import Magnified, clip_segment
from viz.draw.projection import Projection, plane_projection
from viz.draw.style import LABELS, X0C, X0U

ZOO_TITLES = {"rescale": "CFG rescale", "apg": "Adaptive projected guidance", "interval": "Guidance in an interval",
              "autoguidance": "Autoguidance", "cfgpp": "CFG++"}
_STEP = [Segment("step", "step", "x_t", "mean"), Segment("noise", "noise", "mean", "x_next")]
_PREDICTIONS = [Segment("to_uncond", "to_uncond", "x_t", "x0_uncond"), Segment("to_cond", "to_cond", "x_t", "x0_cond")]


def _predictions(region: tuple[str, ...], segments: tuple[str, ...], markers: tuple[str, ...]) -> Magnified:
    """The inset over the predictions where they crowd together (the 2-D mixture at high noise)."""
    return Magnified("the predictions", region, segments, markers, triggers=("cfg_diff",), color="guided",
                     whole_region=True)


# ----------------------------------------------------------------------------- checks

def check_method(traj: Trajectory, method: str) -> dict[str, float]:
    """The settings of ``method`` recorded in ``traj.meta``; ``ValueError`` for a run of another
    guidance method, one without both predictions, or one that does not record the settings."""
    title = ZOO_TITLES[method]
    names = tuple(s.name for s in settings_for(method))
    used = traj.meta.get("guidance")
    if used != method:
        raise ValueError(f"the {title} view ({method!r}) draws runs with guidance {method!r}; this run used {used!r}")
    if traj.x0_uncond is None or traj.x0_cond is None:
        raise ValueError(f"the {title} view needs both predictions of every step (x0_uncond, x0_cond); "
                         f"this run does not record them")
    missing = [k for k in names if k not in traj.meta]
    if missing:
        raise ValueError(f"the {title} view needs the run's {', '.join(missing)} in its meta (a run saved before "
                         f"they were recorded): sample it again")
    return {k: float(traj.meta[k]) for k in names}


def check_rebuilt(traj: Trajectory, rebuilt: np.ndarray, what: str, steps: Optional[np.ndarray] = None) -> None:
    """``ValueError`` unless ``rebuilt`` (S, B, D), the guided prediction recomputed from the run's
    parts and settings, equals its recorded ``x0_hat`` (up to float32 rounding) at ``steps`` (default all)."""
    recorded = np.asarray(traj.x0_hat, np.float64)
    if steps is not None:
        recorded, rebuilt = recorded[steps], rebuilt[steps]
    scale = max(1.0, float(np.abs(recorded).max(initial=0.0)), float(np.abs(rebuilt).max(initial=0.0)))
    err = float(np.abs(rebuilt - recorded).max(initial=0.0))
    if not err <= 1e-4 * scale:
        raise ValueError(f"this run's guided predictions are not {what} of its recorded parts and settings "
                         f"(off by up to {err:.3g}): its meta does not describe how it was sampled")


def _parts(traj: Trajectory) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(traj.x0_uncond, np.float64), np.asarray(traj.x0_cond, np.float64)


def _std(x: np.ndarray) -> np.ndarray:
    """Standard deviation over the last axis, keeping it (as ``models.guidance.zoo._std``, up to the n - 1
    it divides by, which cancels in the ratio of two)."""
    return x.std(axis=-1, keepdims=True)


def rescaled(x_cfg: np.ndarray, d_c: np.ndarray) -> np.ndarray:
    """CFG rescale's ``x_r = x_cfg std(D_c) / std(x_cfg)`` (arXiv 2305.08891, eq. 3-4): a multiple of x_cfg."""
    return x_cfg * _std(d_c) / np.maximum(_std(x_cfg), np.finfo(np.float32).tiny)


def sigma_of(traj: Trajectory, k: int) -> float:
    """The VE noise level ``sigma_t = sqrt(1 - abar) / sqrt(abar)`` of step ``k``, computed as
    ``models.engine.schedule.Schedule.sigma`` does (the interval method compares this very number)."""
    abar = np.float64(traj.alphas_cumprod[int(traj.timesteps[k])])
    return float(np.sqrt(1.0 - abar) / np.sqrt(abar))


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / max(n, 1e-12)


def apg_parts(v: np.ndarray, d_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(par, orth)``: ``v`` split against the unit vector of ``d_c`` (arXiv 2410.02416, eq. 6-7)."""
    u = _unit(d_c)
    par = float(np.dot(v, u)) * u
    return par, v - par


def _fmt(v: float) -> str:
    return "∞" if math.isinf(v) else f"{v:g}"


# ----------------------------------------------------------------------------- CFG rescale

class RescaleDiagram(ConstructionView):
    """CFG rescale (Lin et al., arXiv 2305.08891): D_u and D_c (dashed from x_t), the CFG band
    ``D_u -> x_cfg = D_u + gamma (D_c - D_u)``, the rescale ``x_cfg -> x_r = x_cfg std(D_c) / std(x_cfg)``
    along the dotted line from the origin (a shrink or stretch toward the origin), and the guided
    prediction ``phi x_r + (1 - phi) x_cfg`` (= x0_hat) on it; then the step and the noise.

    Default view: the exact plane through the origin, D_u and D_c of each step, which holds every
    point of the construction except x_t and the step (projected onto it).
    """

    plane = ("origin", "x0_uncond", "x0_cond")
    pinnable = ("guided", "x_cfg", "x_r", "ray_end")
    pin_from = {"guided": "x_r", "x_cfg": "x0_uncond", "x_r": "origin", "ray_end": "origin"}

    kind = "rescale"
    point_texts = {"x_cfg": r"CFG's $\hat{x}_0$ (φ = 0)", "guided": r"guided $\hat{x}_0$ (φ of the way)"}

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        self.phi = check_method(traj, "rescale")["rescale_phi"]
        gamma = float(traj.meta["gamma"])
        d_u, d_c = _parts(traj)
        x_cfg = d_u + gamma * (d_c - d_u)
        check_rebuilt(traj, self.phi * rescaled(x_cfg, d_c) + (1 - self.phi) * x_cfg,
                      f"φ x_r + (1 − φ) x_cfg with γ = {gamma:g}, φ = {self.phi:g}")
        segments = [*_PREDICTIONS, Segment("cfg_diff", "diff", "x0_uncond", "x0_cond"),
                    Segment("cfg_diff_scaled", "diff_scaled", "x0_uncond", "x_cfg"),
                    Segment("ray", "ray", "origin", "ray_end"), Segment("rescale", "rescale", "x_cfg", "x_r"),
                    Segment("to_guided", "to_guided", "x_t", "guided"), *_STEP]
        self.magnify = (_predictions(("origin", "x0_uncond", "x0_cond", "x_cfg", "x_r", "guided"),
                                     ("to_uncond", "to_cond", "cfg_diff", "cfg_diff_scaled", "ray", "rescale", "to_guided"),
                                     ("origin", "x0_uncond", "x0_cond", "x_cfg", "guided")), *step_inset(segments))
        labels = {**CFG_KEY_LABELS, "ray": "line from the origin 0"}
        super().__init__(traj, projection, sample, segments=segments,
                         markers=["origin", "x0_uncond", "x0_cond", "x_cfg", "guided", "x_next", "x_t"],
                         key=["diff", "diff_scaled", "ray", "rescale", "step", "noise"], key_labels=labels,
                         suptitle=f"CFG rescale{_toward(traj, sample)}", width=width,
                         plane_note=("Exact plane through the origin and both predictions: it holds the whole "
                                     "construction, with true lengths and angles; xₜ, the step and the noise are "
                                     "projected onto it. CFG's x̂₀ is rescaled to x_r = x_cfg · std(x̂₀ᶜ) / std(x_cfg); "
                                     "guided = φ x_r + (1 − φ) x_cfg (Lin et al., arXiv 2305.08891)."))

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """The origin, x_t, D_u, D_c, x_cfg, x_r, the guided x0_hat, the far end of the line from the
        origin through x_cfg and x_r, the step's end and x_{t-1}."""
        gamma = float(self.traj.meta["gamma"])
        x_cfg = sv.x0_uncond + gamma * (sv.x0_cond - sv.x0_uncond)
        x_r = rescaled(x_cfg, sv.x0_cond)
        ray_end = x_r if np.linalg.norm(x_r) > np.linalg.norm(x_cfg) else x_cfg
        return {"origin": np.zeros_like(sv.x_t), "x_t": sv.x_t, "x0_uncond": sv.x0_uncond, "x0_cond": sv.x0_cond,
                "x_cfg": x_cfg, "x_r": x_r, "ray_end": ray_end, "guided": sv.x0_hat, "mean": sv.mean,
                "x_next": sv.x_next}

    def title_at(self, k: int) -> str:
        """Step, t, gamma and phi."""
        return f"{step_title(self.traj, k, self.gamma)}  ·  φ = {self.phi:g}"


# ----------------------------------------------------------------------------- APG

class APGDiagram(ConstructionView):
    """Adaptive projected guidance (Sadat et al., arXiv 2410.02416): D_u and D_c (dashed from x_t)
    and their difference, the dotted line from the origin through D_c, and from D_c the guidance
    ``x0_hat - D_c = (gamma - 1)(orth + eta par)`` split against that line: the parallel part
    (times eta, along the line), then the orthogonal part, ending at the guided x0_hat. A hollow
    diamond marks where plain CFG, ``D_u + gamma (D_c - D_u)``, would have put the prediction.

    Default view: the exact plane through the origin, D_c and x0_hat of each step (through D_u
    instead where x0_hat lies on the line through D_c). Without momentum (beta = 0) it holds D_u
    and plain CFG's point too; x_t, the step and the noise are projected onto it.
    """

    plane = ("origin", "x0_cond", "guided")
    pinnable = ("guided", "par_end", "x_cfg", "ray_end")
    pin_from = {"guided": "par_end", "par_end": "x0_cond", "x_cfg": "x0_uncond", "ray_end": "origin"}

    kind = "apg"
    point_texts = {"x_cfg": "plain CFG's"}

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        self.settings = check_method(traj, "apg")
        self._check(traj)
        segments = [*_PREDICTIONS, Segment("cfg_diff", "diff", "x0_uncond", "x0_cond"),
                    Segment("ray", "ray", "origin", "ray_end"), Segment("apg_par", "apg_par", "x0_cond", "par_end"),
                    Segment("apg_orth", "apg_orth", "par_end", "guided"),
                    Segment("to_guided", "to_guided", "x_t", "guided"), *_STEP]
        self.magnify = (_predictions(("origin", "x0_uncond", "x0_cond", "par_end", "guided", "x_cfg"),
                                     ("to_uncond", "to_cond", "cfg_diff", "ray", "apg_par", "apg_orth", "to_guided"),
                                     ("origin", "x0_uncond", "x0_cond", "x_cfg", "guided")), *step_inset(segments))
        labels = {**CFG_KEY_LABELS, "ray": "line 0 → " + X0C}
        super().__init__(traj, projection, sample, segments=segments,
                         markers=["origin", "x0_uncond", "x0_cond", "x_cfg", "guided", "x_next", "x_t"],
                         key=["diff", "ray", "apg_par", "apg_orth", "step", "noise"], key_labels=labels,
                         suptitle=f"Adaptive projected guidance{_toward(traj, sample)}", width=width,
                         plane_note=("Exact plane through the origin, x̂₀ᶜ and the guided x̂₀ = x̂₀ᶜ + (γ − 1)(orth + η par): "
                                     "the split along and across the line through x̂₀ᶜ keeps true lengths and angles "
                                     "(Sadat et al., arXiv 2410.02416). "
                                     + ("x̂₀ᵘ and CFG's point lie in it too; xₜ, the step and the noise are projected."
                                        if self.settings["apg_beta"] == 0.0 else
                                        "xₜ, x̂₀ᵘ, CFG's point (momentum β), the step and the noise are projected.")))

    def _check(self, traj: Trajectory) -> None:
        """Rebuild x0_hat as ``models.guidance.zoo.AdaptiveProjectedGuidance`` does, where the recorded steps
        allow it: without momentum, or with it for samplers that predict once per step."""
        eta, r, beta = self.settings["apg_eta"], self.settings["apg_r"], self.settings["apg_beta"]
        if beta != 0.0 and traj.meta.get("sampler") == "heun":
            return  # Heun's second prediction of each step fed the momentum but is not recorded
        gamma = float(traj.meta["gamma"])
        d_u, d_c = _parts(traj)
        delta = d_c - d_u
        if beta != 0.0:
            for k in range(1, traj.steps):
                delta[k] = delta[k] + beta * delta[k - 1]
        if math.isfinite(r):
            norm = np.linalg.norm(delta, axis=-1, keepdims=True)
            delta = delta * np.minimum(r / np.maximum(norm, np.finfo(np.float32).tiny), 1.0)
        unit = d_c / np.maximum(np.linalg.norm(d_c, axis=-1, keepdims=True), 1e-12)
        par = (delta * unit).sum(-1, keepdims=True) * unit
        check_rebuilt(traj, d_c + (gamma - 1.0) * (delta - par + eta * par),
                      f"x̂₀ᶜ + (γ − 1)(orth + η par) with γ = {gamma:g}, η = {eta:g}, r = {_fmt(r)}, β = {beta:g}")

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """The origin, x_t, D_u, D_c, the end of the parallel part (D_c + par), the guided x0_hat,
        plain CFG's point, the end of the line from the origin through D_c, the step's end and x_{t-1}."""
        gamma = float(self.traj.meta["gamma"])
        par, _ = apg_parts(sv.x0_hat - sv.x0_cond, sv.x0_cond)
        par_end = sv.x0_cond + par
        u = _unit(sv.x0_cond)
        reach = max(float(np.dot(p, u)) for p in (sv.x0_cond, par_end, sv.x0_hat))
        return {"origin": np.zeros_like(sv.x_t), "x_t": sv.x_t, "x0_uncond": sv.x0_uncond, "x0_cond": sv.x0_cond,
                "par_end": par_end, "guided": sv.x0_hat, "x_cfg": sv.x0_uncond + gamma * (sv.x0_cond - sv.x0_uncond),
                "ray_end": 1.1 * reach * u, "mean": sv.mean, "x_next": sv.x_next}

    def projection_at(self, k: int) -> Projection:
        """The fixed projection, or the exact plane through the origin, D_c and x0_hat of step ``k``
        (through D_u where x0_hat lies on the line through D_c, e.g. gamma = 1)."""
        if self.fixed is not None:
            return self.fixed
        named = self.named_points(self.vectors(k))
        d_c, guided = named["x0_cond"], named["guided"]
        _, orth = apg_parts(guided - d_c, d_c)
        third = guided if np.linalg.norm(orth) > 1e-9 * max(1.0, float(np.linalg.norm(guided))) else named["x0_uncond"]
        return replace(plane_projection(named["origin"], d_c, third), note=self.plane_note)

    def title_at(self, k: int) -> str:
        """Step, t, gamma, eta, and r and beta where they are used."""
        parts = [step_title(self.traj, k, self.gamma), f"η = {self.settings['apg_eta']:g}"]
        if math.isfinite(self.settings["apg_r"]):
            parts.append(f"r = {self.settings['apg_r']:g}")
        if self.settings["apg_beta"] != 0.0:
            parts.append(f"β = {self.settings['apg_beta']:g}".replace("-", "−"))
        return "  ·  ".join(parts)


# ----------------------------------------------------------------------------- the CFG construction, relabelled

class _CFGConstruction(CFGDiagram):
    """The CFG construction (named points, plane, pinning of ``CFGDiagram``) with other labels."""

    def _build(self, traj: Trajectory, sample: int, projection: Projection | str, *, labels: dict[str, str],
               suptitle: str, plane_note: str, width: Optional[int], extra_segments=(), extra_markers=(),
               extra_key=(), magnify: Optional[tuple[Magnified, ...]] = None) -> None:
        segments = cfg_segments(extra_segments)
        key = list(GUIDANCE_KEY)
        key[key.index("noise"):key.index("noise")] = list(extra_key)
        self.magnify = magnify if magnify is not None else (
            _predictions(CFG_INSET_POINTS, CFG_INSET, CFG_INSET_POINTS), *step_inset(segments))
        ConstructionView.__init__(self, traj, projection, sample, segments=segments,
                                  markers=["x0_uncond", "x0_cond", *extra_markers, "guided", "x_next", "x_t"],
                                  key=key,
                                  key_labels={**CFG_KEY_LABELS, **labels}, suptitle=suptitle + _toward(traj, sample),
                                  plane_note=plane_note, width=width)


class IntervalDiagram(_CFGConstruction):
    """Guidance in a limited interval (Kynkäänniemi et al., arXiv 2404.07724): the CFG construction
    at every step; the title says whether the step's noise level sigma_t lies in [lo, hi] (guided,
    gamma) or not (gamma = 1: the band ends on x0_cond, conditional sampling)."""

    kind = "interval"

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        settings = check_method(traj, "interval")
        self.lo, self.hi = settings["interval_lo"], settings["interval_hi"]
        self.sigmas_ve = np.array([sigma_of(traj, k) for k in range(traj.steps)])
        self.inside = (self.sigmas_ve > self.lo) & (self.sigmas_ve <= self.hi)  # (lo, hi], as models.guidance.zoo.in_window
        gamma = float(traj.meta["gamma"])
        d_u, d_c = _parts(traj)
        gammas = np.where(self.inside, gamma, 1.0)[:, None, None]
        check_rebuilt(traj, d_u + gammas * (d_c - d_u), f"CFG with γ = {gamma:g} inside [{_fmt(self.lo)}, "
                      f"{_fmt(self.hi)}] and γ = 1 outside")
        self._build(traj, sample, projection, labels={}, suptitle="Guidance in an interval of σ", width=width,
                    plane_note=("Exact plane through xₜ and both predictions: the guidance construction keeps its "
                                f"true lengths and angles; the step and the noise are projected onto it. Guided (γ = "
                                f"{gamma:g}) only while σₜ = √(1 − ᾱₜ) / √ᾱₜ lies in [{_fmt(self.lo)}, "
                                f"{_fmt(self.hi)}], γ = 1 (conditional) outside (Kynkäänniemi et al., arXiv 2404.07724)."))

    def title_at(self, k: int) -> str:
        """Step, sigma_t, and whether guidance is on (gamma) or off (gamma = 1) at this step."""
        sigma, where = self.sigmas_ve[k], f"[{_fmt(self.lo)}, {_fmt(self.hi)}]"
        state = (f"inside {where}: guided, γ = {self.gamma:g}" if self.inside[k]
                 else f"outside {where}: γ = 1, conditional")
        return f"step {k + 1}/{self.traj.steps}  ·  σ = {sigma:.3g}  {state}"


class AutoguidanceDiagram(_CFGConstruction):
    """Autoguidance (Karras et al., arXiv 2406.02507): the CFG construction between the weak model's
    prediction (recorded as x0_uncond) and the main model's (x0_cond), both conditional:
    ``x0_hat = D_weak + gamma (D_main - D_weak)``."""

    kind = "autoguidance"
    point_texts = {"x0_uncond": r"$\hat{x}_0$ weak", "x0_cond": r"$\hat{x}_0$ main"}

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        check_method(traj, "autoguidance")
        gamma = float(traj.meta["gamma"])
        d_weak, d_main = _parts(traj)
        check_rebuilt(traj, d_weak + gamma * (d_main - d_weak), f"x̂₀(weak) + γ (x̂₀(main) − x̂₀(weak)) with γ = {gamma:g}")
        labels = {"diff": "main − weak", "diff_scaled": "γ × (main − weak)"}
        self._build(traj, sample, projection, labels=labels, suptitle="Autoguidance: weak model → main model",
                    width=width,
                    plane_note=("Exact plane through xₜ and the two models' predictions (both conditional): the "
                                "construction keeps its true lengths and angles; the step and the noise are projected "
                                "onto it. x̂₀ = x̂₀(weak) + γ (x̂₀(main) − x̂₀(weak)) (Karras et al., arXiv 2406.02507)."))


class CFGPlusPlusDiagram(_CFGConstruction):
    """CFG++ (Chung et al., arXiv 2406.08070): the prediction interpolates,
    ``x0_lambda = D_u + lambda (D_c - D_u)`` with lambda in [0, 1], and the DDIM step re-noises it with
    the unconditional noise estimate ``eps_u = (x_t - sqrt(abar) D_u) / sqrt(1 - abar)``.

    For deterministic DDIM (eta = 0) a hollow circle marks where plain CFG-DDIM with the same lambda
    would have landed, ``sqrt(abar_prev) x0_lambda + sqrt(1 - abar_prev) eps_lambda``, and an arrow
    joins it to x_{t-1}: ``sqrt(1 - abar_prev)(eps_u - eps_lambda) = sqrt(abar) sqrt(1 - abar_prev) /
    sqrt(1 - abar) lambda (D_c - D_u)``, parallel to the difference and so drawn at its true length.
    """

    kind = "cfgpp"
    point_texts = {"guided": r"$\hat{x}_0^{\lambda}$"}

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        self.lam = check_method(traj, "cfgpp")["cfgpp_lambda"]
        d_u, d_c = _parts(traj)
        check_rebuilt(traj, d_u + self.lam * (d_c - d_u), f"x̂₀ᵘ + λ (x̂₀ᶜ − x̂₀ᵘ) with λ = {self.lam:g}")
        self.deterministic = traj.meta.get("sampler") == "ddim" and traj.meta.get("eta") == 0
        if self.deterministic:
            self._check_step(traj)
        extra = dict(extra_segments=[Segment("renoise", "renoise", "x_ddim", "x_next")], extra_markers=["x_ddim"],
                     extra_key=["renoise"]) if self.deterministic else {}
        labels = {"diff_scaled": "λ × (" + X0C + " − " + X0U + ")", "step": r"step, re-noised by $\hat{\epsilon}^{u}$",
                  "renoise": LABELS["renoise"]}
        self._build(traj, sample, projection, labels=labels, suptitle="CFG++", width=width,
                    plane_note=("Exact plane through xₜ and both predictions (true lengths and angles); the step is "
                                "projected onto it. x̂₀ = x̂₀ᵘ + λ (x̂₀ᶜ − x̂₀ᵘ), λ in [0, 1], re-noised by DDIM with ε̂ᵘ, "
                                "the unconditional noise estimate (Chung et al., arXiv 2406.08070)."), **extra)

    def _ddim_points(self, traj: Trajectory, k: int, x_t, x0, d_u) -> tuple[np.ndarray, np.ndarray]:
        """``(x_{t-1} of CFG++, x_{t-1} of plain CFG-DDIM)`` of step ``k``, deterministic DDIM."""
        abar, abar_prev = abar_pair(traj, k)
        eps_u = (x_t - math.sqrt(abar) * d_u) / math.sqrt(1 - abar)
        eps_lam = (x_t - math.sqrt(abar) * x0) / math.sqrt(1 - abar)
        return (math.sqrt(abar_prev) * x0 + math.sqrt(1 - abar_prev) * eps_u,
                math.sqrt(abar_prev) * x0 + math.sqrt(1 - abar_prev) * eps_lam)

    def _check_step(self, traj: Trajectory) -> None:
        """The recorded x_{t-1} is the CFG++ DDIM step (re-noised with eps_u) of every step."""
        x = np.asarray(traj.x, np.float64)
        x0, d_u = np.asarray(traj.x0_hat, np.float64), np.asarray(traj.x0_uncond, np.float64)
        for k in range(traj.steps):
            landed, _ = self._ddim_points(traj, k, x[k], x0[k], d_u[k])
            scale = max(1.0, float(np.abs(x[k + 1]).max()), float(np.abs(x[k]).max()))
            if not np.abs(landed - x[k + 1]).max() <= 1e-4 * scale:
                raise ValueError("this run's steps are not CFG++ DDIM steps (re-noised with the unconditional "
                                 "noise estimate): its meta does not describe how it was sampled")

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """The CFG construction's points (x0_lambda as "guided") and, for deterministic DDIM, where
        plain CFG-DDIM with the same lambda would have landed ("x_ddim")."""
        named = super().named_points(sv)
        if self.deterministic:
            _, named["x_ddim"] = self._ddim_points(self.traj, sv.k, sv.x_t, sv.x0_hat, sv.x0_uncond)
        return named

    def title_at(self, k: int) -> str:
        """Step, t and lambda (CFG++'s gamma is unused)."""
        return f"step {k + 1}/{self.traj.steps}  ·  t = {int(self.traj.timesteps[k])}  ·  λ = {self.lam:g}"


#: guidance method -> its construction view
ZOO_VIEWS = {"rescale": RescaleDiagram, "apg": APGDiagram, "interval": IntervalDiagram,
             "autoguidance": AutoguidanceDiagram, "cfgpp": CFGPlusPlusDiagram}

__all__ = ["APGDiagram", "AutoguidanceDiagram", "CFGPlusPlusDiagram", "IntervalDiagram", "RescaleDiagram",
           "ZOO_TITLES", "ZOO_VIEWS", "apg_parts", "check_method", "rescaled", "sigma_of"]
