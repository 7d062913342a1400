"""The tcfg view: Tangential CFG (Kwon et al., arXiv 2503.18137), in eps: from eps = 0 (+, at x_t /
sqrt(abar), far off at high noise and pinned to the edge) the line along the leading right-singular
vector of [eps_c; eps_u]; D_u projected on it (the green arrow drops its tangential part), then CFG
from the projection u_n: ``u_n + gamma (D_c - u_n)`` (= x0_hat)."""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from models.engine.trajectory import Trajectory
from viz.draw.geometry import StepVectors
from viz.draw.projection import Projection
from viz.draw.style import X0C, X0U
from viz.methods import register_view
from viz.methods.in_space import _GuiderView, _PREDICTIONS, _STEP, _dot, _parts, _unit, check_rebuilt, check_run, leading_direction, line_ends, signal_noise
from viz.views.construction import Segment, step_title

#: where a = 0 (the flow path's sigma = 1) eps = 0 lies at infinity along x_t: the view puts it at x_t / A_LIMIT,
#: pinned to the edge, whose construction is the model's a -> 0 limit (models.guidance.zoo.tcfg) to about 1e-6
A_LIMIT = 1e-6


VP_UNITS = "x̂₀ = (xₜ − √(1−ᾱ) ε) / √ᾱ scales the noise space about ε = 0 (at xₜ / √ᾱ), keeping angles and ratios."
FLOW_UNITS = "x̂₀ = (xₜ − σ ε) / (1 − σ) scales the noise space about ε = 0 (at xₜ / (1 − σ); at infinity where σ = 1)."


def _signal(a):
    """The signal scale the view divides by: ``a``, or ``A_LIMIT`` where it is 0."""
    return np.where(np.asarray(a) > 0, a, A_LIMIT)


@register_view
class TangentialCFGDiagram(_GuiderView):
    """Tangential CFG (Kwon et al., arXiv 2503.18137), in eps: from eps = 0 (+, at x_t / sqrt(abar),
    far off at high noise and pinned to the edge) the line along the leading right-singular vector
    of [eps_c; eps_u]; D_u projected on it (the green arrow drops its tangential part), then CFG from
    the projection u_n: ``u_n + gamma (D_c - u_n)`` (= x0_hat)."""

    method = kind = "tcfg"
    title = "Tangential CFG"
    plane = ("x0_uncond", "origin", "x0_cond")
    pinnable = ("origin", "guided")
    pin_from = {"origin": "u_n", "guided": "u_n"}
    max_ratio = 5.0  # predictions thrown far out are pinned once 5 spans of the rest away
    zero_ratio = 2.0  # eps = 0 lies sigma-fold beyond x_t: pinned to the edge once 2 spans of the rest away

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        check_run(traj, "tcfg")
        gamma = float(traj.meta["gamma"])
        d_u, d_c, x_t, a, s = _parts(traj)
        a = _signal(a)
        zero = x_t / a
        gram = np.stack([np.concatenate([_dot(d_c - zero, d_c - zero), _dot(d_c - zero, d_u - zero)], -1),
                         np.concatenate([_dot(d_u - zero, d_c - zero), _dot(d_u - zero, d_u - zero)], -1)], -2)
        w = np.linalg.eigh(gram)[1][..., -1]  # (S, B, 2): the Gram matrix's top eigenvector
        n = _unit(w[..., :1] * (d_c - zero) + w[..., 1:] * (d_u - zero))
        u_n = zero + _dot(d_u - zero, n) * n
        # float32 rounding of the model's own x0 -> eps -> x0 grows with gamma |x_t| / sqrt(abar) (measured up to
        # 2.3e-6 of |x_t| / sqrt(abar) at gamma 7): allowed 5e-6 gamma of it
        check_rebuilt(traj, u_n + gamma * (d_c - u_n), f"tangential CFG with γ = {gamma:g}",
                      scale=0.05 * max(1.0, abs(gamma)) * np.linalg.norm(x_t, axis=-1, keepdims=True) / a)
        segments = [*_PREDICTIONS, Segment("ray", "ray", "origin", "ray_end"),
                    Segment("scaled", "scaled", "x0_uncond", "u_n"), Segment("diff", "diff", "u_n", "x0_cond"),
                    Segment("diff_scaled", "diff_scaled", "u_n", "guided"),
                    Segment("to_guided", "to_guided", "x_t", "guided"), *_STEP]
        labels = {"ray": "singular line from ε = 0", "scaled": X0U + " projected on it",
                  "diff": X0C + " − projected " + X0U, "diff_scaled": "γ × (" + X0C + " − projected " + X0U + ")"}
        self._start(traj, sample, projection, segments=segments,
                    markers=["origin", "x0_uncond", "x0_cond", "guided", "x_next", "x_t"],
                    key=["ray", "scaled", "diff", "diff_scaled", "step", "noise"], labels=labels,
                    region=("x0_uncond", "x0_cond", "u_n", "guided"),
                    inset=("to_uncond", "to_cond", "ray", "scaled", "diff", "diff_scaled", "to_guided"),
                    triggers=("scaled", "diff"), width=width,
                    plane_note=("Exact plane through ε = 0 (+), x̂₀ᵘ and x̂₀ᶜ, drawn in x̂₀ units: "
                                + (FLOW_UNITS if traj.path == "flow" else VP_UNITS) + " x̂₀ᵘ is "
                                "projected on the leading right-singular direction of [εᶜ; εᵘ], then CFG: guided = "
                                "projected + γ (x̂₀ᶜ − projected) (Kwon et al., arXiv 2503.18137). xₜ, the step and the "
                                "noise are projected."))

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """x_t, eps = 0 ("origin"), D_u, D_c, D_u's projection u_n, the end of the singular line,
        x0_hat, the step's end and x_{t-1}."""
        a, _ = signal_noise(self.traj, sv.k)
        zero = sv.x_t / _signal(a)
        n = leading_direction(sv.x0_uncond, sv.x0_cond, zero)
        u_n = zero + float(np.dot(sv.x0_uncond - zero, n)) * n
        return {"x_t": sv.x_t, "origin": zero, "x0_uncond": sv.x0_uncond, "x0_cond": sv.x0_cond, "u_n": u_n,
                "ray_end": line_ends(zero, n, [u_n, sv.x0_uncond, sv.x0_cond, sv.x0_hat])[1], "guided": sv.x0_hat,
                "mean": sv.mean, "x_next": sv.x_next}


    def title_at(self, k: int) -> str:
        """Step, t, gamma and the angle between eps_u and eps_c."""
        sv = self.vectors(k)
        a, _ = signal_noise(self.traj, k)
        zero = sv.x_t / _signal(a)
        u, c = sv.x0_uncond - zero, sv.x0_cond - zero
        cos = float(np.dot(u, c) / max(np.linalg.norm(u) * np.linalg.norm(c), 1e-300))
        return f"{step_title(self.traj, k, self.gamma)}  ·  angle(εᵘ, εᶜ) = {math.degrees(math.acos(min(1.0, max(-1.0, cos)))):.2g}°"
