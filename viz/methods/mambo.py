"""The mambo view: MAMBO-G (Zhu et al., arXiv 2508.03442): the CFG construction with the scale
damped by the ratio of |v_c - v_u| to |v_u|, ``1 + (gamma - 1) exp(-alpha r)``. In x0 units |v_u| is
the length of the dotted line from v = 0 (+, sqrt(abar) x_t) to D_u and |v_c - v_u| that of the
difference; plain CFG's point (gamma) is hollow."""

from __future__ import annotations

from typing import Optional

import numpy as np

from models.engine.trajectory import Trajectory
from viz.draw.geometry import StepVectors
from viz.draw.projection import Projection
from viz.draw.style import X0C, X0U
from viz.methods import register_view
from viz.methods.in_space import _GuiderView, _PREDICTIONS, _STEP, _parts, check_rebuilt, check_run, mambo_ratio, mambo_scale, signal_noise
from viz.views.construction import Segment


@register_view
class MamboDiagram(_GuiderView):
    """MAMBO-G (Zhu et al., arXiv 2508.03442): the CFG construction with the scale damped by the
    ratio of |v_c - v_u| to |v_u|, ``1 + (gamma - 1) exp(-alpha r)``. In x0 units |v_u| is the
    length of the dotted line from v = 0 (+, sqrt(abar) x_t) to D_u and |v_c - v_u| that of the
    difference; plain CFG's point (gamma) is hollow."""

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
        d_u, d_c, x_t, a, _ = _parts(traj)
        ratio = mambo_ratio(d_u, d_c, x_t, a)
        scale = mambo_scale(gamma, self.alpha, ratio)
        check_rebuilt(traj, d_u + scale * (d_c - d_u), f"MAMBO-G with γ = {gamma:g}, α = {self.alpha:g}")
        self.ratios, self.scales = ratio[:, sample, 0], scale[:, sample, 0]
        segments = [*_PREDICTIONS, Segment("ray", "ray", "origin", "x0_uncond"),
                    Segment("cfg_diff", "diff", "x0_uncond", "x0_cond"),
                    Segment("cfg_diff_scaled", "diff_scaled", "x0_uncond", "guided"),
                    Segment("to_guided", "to_guided", "x_t", "guided"), *_STEP]
        labels = {"ray": r"v = 0 → " + X0U + r": ‖$v^{u}$‖", "diff": X0C + " − " + X0U + r": ‖$v^{c} − v^{u}$‖",
                  "diff_scaled": "γ_eff × (" + X0C + " − " + X0U + ")"}
        self._start(traj, sample, projection, segments=segments,
                    markers=["origin", "x0_uncond", "x0_cond", "x_cfg", "guided", "x_next", "x_t"],
                    key=["ray", "diff", "diff_scaled", "step", "noise"], labels=labels,
                    region=("origin", "x0_uncond", "x0_cond", "guided"),
                    inset=("to_uncond", "to_cond", "ray", "cfg_diff", "cfg_diff_scaled", "to_guided"),
                    triggers=("ray", "cfg_diff"), width=width,
                    plane_note=("Exact plane through v = 0 (+), x̂₀ᵘ and x̂₀ᶜ, drawn in x̂₀ units (x̂₀ = √ᾱ xₜ − √(1−ᾱ) v: "
                                "ratios of lengths are those of the velocities vᵘ, vᶜ). r = ‖vᶜ − vᵘ‖ / ‖vᵘ‖; guided = "
                                "x̂₀ᵘ + γ_eff (x̂₀ᶜ − x̂₀ᵘ), γ_eff = 1 + (γ − 1) exp(−α r) (Zhu et al., arXiv 2508.03442). "
                                "xₜ, the step and the noise are projected."))

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """x_t, v = 0 ("origin"), D_u, D_c, plain CFG's point, x0_hat, the step's end and x_{t-1}."""
        a, _ = signal_noise(self.traj, sv.k)
        gamma = float(self.traj.meta["gamma"])
        return {"x_t": sv.x_t, "origin": a * sv.x_t, "x0_uncond": sv.x0_uncond, "x0_cond": sv.x0_cond,
                "x_cfg": sv.x0_uncond + gamma * (sv.x0_cond - sv.x0_uncond), "guided": sv.x0_hat, "mean": sv.mean,
                "x_next": sv.x_next}


    def title_at(self, k: int) -> str:
        """Step, t, gamma, alpha, r and the damped scale."""
        return (f"step {k + 1}/{self.traj.steps}  ·  t = {int(self.traj.timesteps[k])}  ·  α = {self.alpha:g}  ·  "
                f"r = {self.ratios[k]:.2g}  ·  γ_eff = {self.scales[k]:.3g} (γ = {self.gamma:g})")
