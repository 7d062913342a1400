"""The interval view: Guidance in a limited interval (Kynkäänniemi et al., arXiv 2404.07724): the
CFG construction at every step; the title says whether the step's noise level sigma_t lies in [lo,
hi] (guided, gamma) or not (gamma = 1: the band ends on x0_cond, conditional sampling)."""

from __future__ import annotations

from typing import Optional

import numpy as np

from models.engine.trajectory import Trajectory
from viz.draw.projection import Projection
from viz.methods import check_method, register_view
from viz.methods.on_cfg import _CFGConstruction, _fmt, _parts, check_rebuilt, sigma_of


@register_view
class IntervalDiagram(_CFGConstruction):
    """Guidance in a limited interval (Kynkäänniemi et al., arXiv 2404.07724): the CFG construction
    at every step; the title says whether the step's noise level sigma_t lies in [lo, hi] (guided,
    gamma) or not (gamma = 1: the band ends on x0_cond, conditional sampling)."""

    kind = "interval"
    title = "Guidance in an interval"

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
