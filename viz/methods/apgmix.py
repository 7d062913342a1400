"""The apgmix view: APG inside a sigma window, CFG outside (diffusers' AdaptiveProjectedMixGuidance;
APG of Sadat et al., arXiv 2410.02416), in x0: from D_c the guidance ``x0_hat - D_c`` split along
the line through the origin and D_c (green, the parallel part) and across it (blue). Inside the
window it is ``(gamma - 1)(orth + eta par)`` of the clipped momentum average; outside it is CFG's
``(gamma - 1)(D_c - D_u)``, its parallel part whole. Plain CFG's point is hollow."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Optional

import numpy as np

from models.engine.trajectory import Trajectory
from viz.draw.geometry import StepVectors
from viz.draw.projection import Projection, plane_projection
from viz.draw.style import X0C
from viz.methods import register_view
from viz.methods.in_space import _GuiderView, _PREDICTIONS, _STEP, _dot, _fmt, _parts, _unit, check_rebuilt, check_run, in_window, sigma_at
from viz.views.construction import Segment


@register_view
class APGMixDiagram(_GuiderView):
    """APG inside a sigma window, CFG outside (diffusers' AdaptiveProjectedMixGuidance; APG of
    Sadat et al., arXiv 2410.02416), in x0: from D_c the guidance ``x0_hat - D_c`` split along the
    line through the origin and D_c (green, the parallel part) and across it (blue). Inside the
    window it is ``(gamma - 1)(orth + eta par)`` of the clipped momentum average; outside it is
    CFG's ``(gamma - 1)(D_c - D_u)``, its parallel part whole. Plain CFG's point is hollow."""

    method = kind = "apgmix"
    title = "APG in a σ window (CFG outside it)"
    plane = ("origin", "x0_cond", "guided")
    pinnable = ("origin", "guided", "par_end", "x_cfg", "ray_end")
    pin_from = {"origin": "x0_cond", "guided": "par_end", "par_end": "x0_cond", "x_cfg": "x0_uncond",
                "ray_end": "origin"}
    zero_ratio = 2.0  # on digits the origin lies far from the construction of the late steps: pinned there

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        self.settings = check_run(traj, "apgmix")
        self.lo, self.hi = self.settings["apgmix_lo"], self.settings["apgmix_hi"]
        self.sigmas_ve = np.array([sigma_at(traj, k) for k in range(traj.steps)])
        self.inside = np.array([in_window(sg, self.lo, self.hi) for sg in self.sigmas_ve])
        self._check(traj)
        segments = [*_PREDICTIONS, Segment("ray", "ray", "origin", "ray_end"),
                    Segment("apg_par", "apg_par", "x0_cond", "par_end"),
                    Segment("apg_orth", "apg_orth", "par_end", "guided"),
                    Segment("to_guided", "to_guided", "x_t", "guided"), *_STEP]
        labels = {"ray": "line 0 → " + X0C, "apg_par": "parallel part (× η in APG)"}
        window = f"({_fmt(self.lo)}, {_fmt(self.hi)}]"
        self._start(traj, sample, projection, segments=segments,
                    markers=["origin", "x0_uncond", "x0_cond", "x_cfg", "guided", "x_next", "x_t"],
                    key=["ray", "apg_par", "apg_orth", "step", "noise"], labels=labels,
                    region=("x0_cond", "par_end", "guided"),
                    inset=("to_uncond", "to_cond", "ray", "apg_par", "apg_orth", "to_guided"),
                    triggers=("apg_par", "apg_orth"), width=width,
                    plane_note=(f"Exact plane through the origin, x̂₀ᶜ and the guided x̂₀. While σ lies in {window}: APG, "
                                "guided = x̂₀ᶜ + (γ − 1)(orth + η par) of the momentum average (Sadat et al., arXiv "
                                "2410.02416); outside: CFG at the same γ, whose parallel part is whole. The momentum is "
                                "fed at every step (as diffusers' AdaptiveProjectedMixGuidance). xₜ, x̂₀ᵘ, the step "
                                "and the noise are projected."))

    def _check(self, traj: Trajectory) -> None:
        """Rebuild x0_hat as ``models.guidance.zoo.APGMix`` does, where the recorded steps allow it (with
        momentum: samplers that predict once per step)."""
        eta, r, beta = self.settings["apgmix_eta"], self.settings["apgmix_r"], self.settings["apgmix_beta"]
        if beta != 0.0 and traj.meta.get("sampler") == "heun":
            return  # Heun's second prediction of each step fed the momentum but is not recorded
        gamma = float(traj.meta["gamma"])
        d_u, d_c, *_ = _parts(traj)
        delta = d_c - d_u
        m = delta.copy()
        for k in range(1, traj.steps):
            m[k] = delta[k] + beta * m[k - 1]
        if math.isfinite(r):
            m = m * np.minimum(r / np.maximum(np.linalg.norm(m, axis=-1, keepdims=True), 1e-300), 1.0)
        unit = _unit(d_c)
        par = _dot(m, unit) * unit
        apg = d_c + (gamma - 1.0) * (m - par + eta * par)
        cfg = d_u + gamma * delta
        check_rebuilt(traj, np.where(self.inside[:, None, None], apg, cfg),
                      f"APG (η = {eta:g}, r = {_fmt(r)}, β = {beta:g}) inside ({_fmt(self.lo)}, {_fmt(self.hi)}] "
                      f"and CFG outside, γ = {gamma:g}")

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """The origin, x_t, D_u, D_c, the end of the parallel part, x0_hat, plain CFG's point, the
        end of the line through D_c, the step's end and x_{t-1}."""
        gamma = float(self.traj.meta["gamma"])
        u = _unit(sv.x0_cond)
        par_end = sv.x0_cond + float(np.dot(sv.x0_hat - sv.x0_cond, u)) * u
        reach = max(float(np.dot(p, u)) for p in (sv.x0_cond, par_end, sv.x0_hat))
        return {"origin": np.zeros_like(sv.x_t), "x_t": sv.x_t, "x0_uncond": sv.x0_uncond, "x0_cond": sv.x0_cond,
                "par_end": par_end, "guided": sv.x0_hat, "x_cfg": sv.x0_uncond + gamma * (sv.x0_cond - sv.x0_uncond),
                "ray_end": 1.1 * reach * u, "mean": sv.mean, "x_next": sv.x_next}

    def plane_at(self, k: int) -> Projection:
        """The exact plane through the origin, D_c and x0_hat (through D_u where x0_hat lies on the
        line through D_c) of step ``k``."""
        named = self.named_points(self.vectors(k))
        d_c, guided = named["x0_cond"], named["guided"]
        off = guided - named["par_end"]
        third = guided if np.linalg.norm(off) > 1e-9 * max(1.0, float(np.linalg.norm(guided))) else named["x0_uncond"]
        return replace(plane_projection(named["origin"], d_c, third), note=self.plane_note)

    def title_at(self, k: int) -> str:
        """Step, sigma, and which of APG (its settings) or CFG acts at this step."""
        window = f"({_fmt(self.lo)}, {_fmt(self.hi)}]"
        if self.inside[k]:
            st = self.settings
            extra = f", r = {st['apgmix_r']:g}" if math.isfinite(st["apgmix_r"]) else ""
            state = (f"in {window}: APG, γ = {self.gamma:g}, η = {st['apgmix_eta']:g}{extra}, "
                     f"β = {st['apgmix_beta']:g}").replace("-", "−")
        else:
            state = f"outside {window}: CFG, γ = {self.gamma:g}"
        return f"step {k + 1}/{self.traj.steps}  ·  σ = {self.sigmas_ve[k]:.3g}  ·  {state}"
