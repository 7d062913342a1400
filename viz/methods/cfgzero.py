"""The cfgzero view: CFG-Zero* (Fan et al., arXiv 2503.18886), in the flow-matching velocity u = eps -
x0: from u = 0 (+, at x_t / (a + s)) the line through D_u; on it the point s* u nearest to D_c (the
green arrow scales D_u's velocity by s*); then CFG from that point, ``s* u + gamma (D_c - s* u)`` (=
x0_hat). At the zero steps the guided point is u = 0 itself and the construction is not drawn."""

from __future__ import annotations

from typing import Optional

import numpy as np

from models.engine.trajectory import Trajectory
from viz.draw.geometry import StepVectors
from viz.draw.magnifier import Magnified
from viz.draw.projection import Projection
from viz.methods import register_view
from viz.methods.in_space import _GuiderView, _PREDICTIONS, _STEP, _dot, _parts, _unit, check_rebuilt, check_run, line_ends, signal_noise
from viz.views.construction import Segment, step_title


#: added to |u_u|^2 in s*, as ``models.guidance.zoo.cfgzero.CFGZERO_GUARD`` (the figures never import torch)
CFGZERO_GUARD = 1e-8


def u_zero(x_t: np.ndarray, a, s) -> np.ndarray:
    """The x0 prediction that the velocity ``u = 0`` stands for: ``x_t / (a + s)`` (= its eps)."""
    return x_t / (a + s)


def velocity(x0: np.ndarray, x_t: np.ndarray, a, s) -> np.ndarray:
    """``u = eps - x0 = (a + s) / s (x_t / (a + s) - x0)`` of the prediction ``x0`` at ``x_t``."""
    return (a + s) / s * (u_zero(x_t, a, s) - x0)


def cfgzero_scale(d_u: np.ndarray, d_c: np.ndarray, x_t: np.ndarray, a, s) -> np.ndarray:
    """CFG-Zero*'s ``s* = <u_c, u_u> / (|u_u|^2 + 1e-8)`` (..., 1), as ``models.guidance.zoo.cfgzero``."""
    u, c = velocity(d_u, x_t, a, s), velocity(d_c, x_t, a, s)
    return _dot(c, u) / (_dot(u, u) + CFGZERO_GUARD)


@register_view
class CFGZeroDiagram(_GuiderView):
    """CFG-Zero* (Fan et al., arXiv 2503.18886), in the flow-matching velocity u: from u = 0 (+, at
    x_t / (a + s)) the line through D_u; on it the point s* u nearest to D_c (the green arrow scales
    D_u's velocity by s*); then CFG from that point, ``s* u + gamma (D_c - s* u)`` (= x0_hat). At the
    zero steps the guided point is u = 0 itself and the construction is not drawn."""

    method = kind = "cfgzero"
    title = "CFG-Zero*"
    plane = ("x0_uncond", "origin", "x0_cond")
    pinnable = ("guided",)
    pin_from = {"guided": "su"}

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        self.zero_steps = int(check_run(traj, "cfgzero")["cfgzero_zero_steps"])
        gamma = float(traj.meta["gamma"])
        d_u, d_c, x_t, a, s = _parts(traj)
        star = cfgzero_scale(d_u, d_c, x_t, a, s)
        zero = u_zero(x_t, a, s)
        su = zero + star * (d_u - zero)
        rebuilt = su + gamma * (d_c - su)
        rebuilt[:self.zero_steps] = zero[:self.zero_steps]  # the levels a run meets first: its first steps
        check_rebuilt(traj, rebuilt, f"CFG-Zero* with γ = {gamma:g} and {self.zero_steps} zero steps")
        self.stars = star[:, sample, 0]
        segments = [*_PREDICTIONS, Segment("ray", "ray", "ray_start", "ray_end"),
                    Segment("scaled", "scaled", "x0_uncond", "su"), Segment("diff", "diff", "diff_start", "x0_cond"),
                    Segment("diff_scaled", "diff_scaled", "su", "band_end"),
                    Segment("to_guided", "to_guided", "x_t", "guided"), *_STEP]
        labels = {"ray": r"line from u = 0 through $u^{u}$", "scaled": r"$u^{u}$ × $s^*$",
                  "diff": r"$u^{c}$ − $s^* u^{u}$", "diff_scaled": r"γ × ($u^{c}$ − $s^* u^{u}$)"}
        self._start(traj, sample, projection, segments=segments,
                    markers=["origin", "x0_uncond", "x0_cond", "guided", "x_next", "x_t"],
                    key=["ray", "scaled", "diff", "diff_scaled", "step", "noise"], labels=labels,
                    region=("origin", "x0_uncond", "x0_cond", "su", "guided"),
                    inset=("to_uncond", "to_cond", "ray", "scaled", "diff", "diff_scaled", "to_guided"),
                    triggers=("scaled", "diff"), width=width,
                    # s* is often near 1: the scaling is then shorter than x̂0ᵘ's marker, and magnified beside the
                    # frame (after the step's inset, which it never displaces)
                    extra=(Magnified("the rescale by s*", ("x0_uncond", "su"), ("ray", "scaled", "diff", "diff_scaled"),
                                     ("x0_uncond",), ("scaled",), "scaled"),),
                    plane_note=("Exact plane through u = 0 (+), x̂₀ᵘ and x̂₀ᶜ, drawn in x̂₀ units: x̂₀ = (xₜ − s u) / (a + s) "
                                "scales the space of flow-matching velocities u = ε − x₀ about u = 0 (x̂₀ = xₜ / (a + s)), "
                                "keeping angles and ratios, so each prediction stands for its velocity uᵘ, uᶜ. "
                                "s* = ⟨uᶜ, uᵘ⟩ / ‖uᵘ‖² puts s* uᵘ at the foot of the perpendicular from x̂₀ᶜ; guided: "
                                "s* uᵘ + γ (uᶜ − s* uᵘ) (Fan et al., arXiv 2503.18886); "
                                f"u = 0 at the first {self.zero_steps} step(s). xₜ, the step and the noise are "
                                "projected."))

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """x_t, u = 0 ("origin"), D_u, D_c, s* u ("su"), the end of the line from u = 0, the band's
        end (the guided point; D_u at a zero step, where nothing is built), x0_hat, the step's end, x_{t-1}."""
        a, s = signal_noise(self.traj, sv.k)
        zero = u_zero(sv.x_t, a, s)
        if sv.k < self.zero_steps:  # a zero step: nothing is built (every arrow of the construction has no length)
            su, diff_start, band_end = sv.x0_uncond, sv.x0_cond, sv.x0_uncond
        else:
            star = float(cfgzero_scale(sv.x0_uncond, sv.x0_cond, sv.x_t, a, s)[0])
            su = diff_start = zero + star * (sv.x0_uncond - zero)
            band_end = sv.x0_hat
        start, end = line_ends(zero, _unit(sv.x0_uncond - zero), [zero, sv.x0_uncond, su, sv.x0_cond])
        return {"x_t": sv.x_t, "origin": zero, "x0_uncond": sv.x0_uncond, "x0_cond": sv.x0_cond, "su": su,
                "diff_start": diff_start, "ray_start": start, "ray_end": end, "band_end": band_end,
                "guided": sv.x0_hat, "mean": sv.mean, "x_next": sv.x_next}


    def title_at(self, k: int) -> str:
        """Step, level, gamma, and s* or the zero step."""
        state = "zero step: u = 0" if k < self.zero_steps else f"s* = {self.stars[k]:.4g}"
        return f"{step_title(self.traj, k, self.gamma)}  ·  {state}"
