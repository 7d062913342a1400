"""The apg view: Adaptive projected guidance (Sadat et al., arXiv 2410.02416): D_u and D_c (dashed
from x_t) and their difference, the dotted line from the origin through D_c, and from D_c the
guidance ``x0_hat - D_c = (gamma - 1)(orth + eta par)`` split against that line: the parallel part
(times eta, along the line), then the orthogonal part, ending at the guided x0_hat. A hollow diamond
marks where plain CFG, ``D_u + gamma (D_c - D_u)``, would have put the prediction."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Optional

import numpy as np

from models.engine.trajectory import Trajectory
from viz.draw.geometry import StepVectors
from viz.draw.projection import Projection, plane_projection
from viz.draw.style import X0C
from viz.methods import check_method, register_view
from viz.methods.on_cfg import _PREDICTIONS, _STEP, _fmt, _parts, _predictions, _unit, apg_parts, check_rebuilt
from viz.views.construction import ConstructionView, Segment, step_inset, step_title
from viz.views.guidance import CFG_KEY_LABELS, _toward


@register_view
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
    title = "Adaptive projected guidance"
    point_texts = {"x_cfg": "plain CFG's"}

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        self.settings = check_method(traj, "apg")
        self._check(traj)
        # at η = 0 the parallel part is 0 at every step: neither drawn nor listed in the key
        parallel = self.settings["apg_eta"] != 0.0
        segments = [*_PREDICTIONS, Segment("cfg_diff", "diff", "x0_uncond", "x0_cond"),
                    Segment("ray", "ray", "origin", "ray_end"),
                    *([Segment("apg_par", "apg_par", "x0_cond", "par_end")] if parallel else []),
                    Segment("apg_orth", "apg_orth", "par_end", "guided"),
                    Segment("to_guided", "to_guided", "x_t", "guided"), *_STEP]
        self.magnify = (_predictions(("origin", "x0_uncond", "x0_cond", "par_end", "guided", "x_cfg"),
                                     ("to_uncond", "to_cond", "cfg_diff", "ray", *(("apg_par",) if parallel else ()),
                                      "apg_orth", "to_guided"),
                                     ("origin", "x0_uncond", "x0_cond", "x_cfg", "guided")), *step_inset(segments))
        labels = {**CFG_KEY_LABELS, "ray": "line 0 → " + X0C}
        super().__init__(traj, projection, sample, segments=segments,
                         markers=["origin", "x0_uncond", "x0_cond", "x_cfg", "guided", "x_next", "x_t"],
                         key=["diff", "ray", *(["apg_par"] if parallel else []), "apg_orth", "step", "noise"],
                         key_labels=labels,
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

    def plane_at(self, k: int) -> Projection:
        """The exact plane through the origin, D_c and x0_hat of step ``k`` (through D_u where x0_hat
        lies on the line through D_c, e.g. gamma = 1)."""
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
