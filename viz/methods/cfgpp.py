"""The cfgpp view: CFG++ (Chung et al., arXiv 2406.08070): the prediction interpolates, ``x0_lambda
= D_u + lambda (D_c - D_u)`` with lambda in [0, 1], and the DDIM step re-noises it with the
unconditional noise estimate ``eps_u = (x_t - sqrt(abar) D_u) / sqrt(1 - abar)``."""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from models.engine.trajectory import Trajectory
from viz.draw.geometry import StepVectors, abar_pair
from viz.draw.projection import Projection
from viz.draw.style import LABELS, X0C, X0U
from viz.methods import check_method, register_view
from viz.methods.on_cfg import _CFGConstruction, _parts, check_rebuilt
from viz.views.construction import Segment


@register_view
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
    title = "CFG++"
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
        return f"step {k + 1}/{self.traj.steps}  ·  {self.traj.level_text(k)}  ·  λ = {self.lam:g}"
