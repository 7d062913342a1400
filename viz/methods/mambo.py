"""The mambo view: MAMBO-G (Zhu et al., arXiv 2508.03442): the CFG construction with the scale
damped by the ratio of |u_c - u_u| to |u_u|, u = eps - x0 the flow-matching velocity, ``1 + (gamma -
1) exp(-alpha r)``. In x0 units |u_u| is the length of the dotted line from u = 0 (+, x_t / (a + s))
to D_u and |u_c - u_u| that of the difference; plain CFG's point (gamma) is hollow."""

from __future__ import annotations

from typing import Optional

import numpy as np

from models.engine.trajectory import Trajectory
from viz.draw.geometry import StepVectors
from viz.draw.projection import Projection
from viz.draw.style import X0C, X0U
from viz.methods import register_view
from viz.methods.cfgzero import u_zero
from viz.methods.in_space import _GuiderView, _PREDICTIONS, _STEP, _parts, check_rebuilt, check_run, mambo_scale, signal_noise
from viz.views.construction import Segment, step_title


def mambo_ratio(d_u: np.ndarray, d_c: np.ndarray, x_t: np.ndarray, a, s) -> np.ndarray:
    """``|u_c - u_u| / |u_u| = |D_c - D_u| / |x_t / (a + s) - D_u|`` (..., 1): u's factor (a + s) / s cancels."""
    return (np.linalg.norm(d_c - d_u, axis=-1, keepdims=True)
            / np.maximum(np.linalg.norm(u_zero(x_t, a, s) - d_u, axis=-1, keepdims=True), 1e-300))


@register_view
class MamboDiagram(_GuiderView):
    """MAMBO-G (Zhu et al., arXiv 2508.03442): the CFG construction with the scale damped by the
    ratio of |u_c - u_u| to |u_u| (flow-matching velocities), ``1 + (gamma - 1) exp(-alpha r)``. In x0
    units |u_u| is the length of the dotted line from u = 0 (+, x_t / (a + s)) to D_u and |u_c - u_u|
    that of the difference; plain CFG's point (gamma) is hollow."""

    method = kind = "mambo"
    title = "MAMBO-G (magnitude-aware guidance)"
    point_texts = {"x_cfg": "plain CFG (γ)"}
    plane = ("x0_uncond", "origin", "x0_cond")
    pinnable = ("guided", "x_cfg")
    pin_from = {"guided": "x0_uncond", "x_cfg": "x0_uncond"}

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        self.alpha = check_run(traj, "mambo")["mambo_alpha"]
        gamma = float(traj.meta["gamma"])
        d_u, d_c, x_t, a, s = _parts(traj)
        ratio = mambo_ratio(d_u, d_c, x_t, a, s)
        scale = mambo_scale(gamma, self.alpha, ratio)
        check_rebuilt(traj, d_u + scale * (d_c - d_u), f"MAMBO-G with γ = {gamma:g}, α = {self.alpha:g}")
        self.ratios, self.scales = ratio[:, sample, 0], scale[:, sample, 0]
        segments = [*_PREDICTIONS, Segment("ray", "ray", "origin", "x0_uncond"),
                    Segment("cfg_diff", "diff", "x0_uncond", "x0_cond"),
                    Segment("cfg_diff_scaled", "diff_scaled", "x0_uncond", "guided"),
                    Segment("to_guided", "to_guided", "x_t", "guided"), *_STEP]
        labels = {"ray": r"u = 0 → " + X0U + r": ‖$u^{u}$‖", "diff": X0C + " − " + X0U + r": ‖$u^{c} − u^{u}$‖",
                  "diff_scaled": "γ_eff × (" + X0C + " − " + X0U + ")"}
        self._start(traj, sample, projection, segments=segments,
                    markers=["origin", "x0_uncond", "x0_cond", "x_cfg", "guided", "x_next", "x_t"],
                    key=["ray", "diff", "diff_scaled", "step", "noise"], labels=labels,
                    # u = 0 lies near x_t (x_t / (a + s)): the inset magnifies the band, not the line to it
                    region=("x0_uncond", "x0_cond", "guided"),
                    inset=("to_uncond", "to_cond", "ray", "cfg_diff", "cfg_diff_scaled", "to_guided"),
                    triggers=("ray", "cfg_diff"), width=width,
                    plane_note=("Exact plane through u = 0 (+), x̂₀ᵘ and x̂₀ᶜ, drawn in x̂₀ units (x̂₀ = (xₜ − s u) / (a + s): "
                                "ratios of lengths are those of the flow-matching velocities uᵘ, uᶜ, u = ε − x₀). "
                                "r = ‖uᶜ − uᵘ‖ / ‖uᵘ‖; guided = "
                                "x̂₀ᵘ + γ_eff (x̂₀ᶜ − x̂₀ᵘ), γ_eff = 1 + (γ − 1) exp(−α r) (Zhu et al., arXiv 2508.03442). "
                                "xₜ, the step and the noise are projected."))

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """x_t, u = 0 ("origin"), D_u, D_c, plain CFG's point, x0_hat, the step's end and x_{t-1}."""
        a, s = signal_noise(self.traj, sv.k)
        gamma = float(self.traj.meta["gamma"])
        return {"x_t": sv.x_t, "origin": u_zero(sv.x_t, a, s), "x0_uncond": sv.x0_uncond, "x0_cond": sv.x0_cond,
                "x_cfg": sv.x0_uncond + gamma * (sv.x0_cond - sv.x0_uncond), "guided": sv.x0_hat, "mean": sv.mean,
                "x_next": sv.x_next}


    def title_at(self, k: int) -> str:
        """Step, level, alpha, r and the damped scale (gamma)."""
        return (f"{step_title(self.traj, k, None)}  ·  α = {self.alpha:g}  ·  "
                f"r = {self.ratios[k]:.2g}  ·  γ_eff = {self.scales[k]:.3g} (γ = {self.gamma:g})")
