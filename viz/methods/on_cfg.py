"""What the views built on the CFG construction share (``viz.methods``): the checks that a run is one
of the view's method and that its recorded prediction is the method's formula of its recorded parts,
the CFG construction's segments and insets, and the numbers some of them redraw (APG's parallel and orthogonal parts, the noise level sigma of a step).

Every such method starts from the same two predictions, x0_uncond and x0_cond (written x̂0ᵘ and x̂0ᶜ
on the figures; for guidance by a weaker model: the weak and the main model's), and the CFG
construction ``x0_uncond + gamma (x0_cond - x0_uncond)`` (``viz.views.guidance.CFGDiagram``); each
view draws what its method changes, with the guided prediction always the recorded ``x0_hat``.
Symbols in code comments: D_u = x0_uncond, D_c = x0_cond. Where part of a construction is too small
to read, an inset beside the frame magnifies it (``viz.draw.magnifier``).
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np

from models.engine.trajectory import Trajectory
from viz.views.construction import ConstructionView, Segment, step_inset
from viz.views.guidance import (CFG_INSET, CFG_INSET_POINTS, CFG_KEY_LABELS, GUIDANCE_KEY, CFGDiagram, _toward,
                                   cfg_segments)
from viz.draw.magnifier import Magnified
from viz.draw.projection import Projection
from viz.methods import check_method

_STEP = [Segment("step", "step", "x_t", "mean"), Segment("noise", "noise", "mean", "x_next")]
_PREDICTIONS = [Segment("to_uncond", "to_uncond", "x_t", "x0_uncond"), Segment("to_cond", "to_cond", "x_t", "x0_cond")]


def _predictions(region: tuple[str, ...], segments: tuple[str, ...], markers: tuple[str, ...]) -> Magnified:
    """The inset over the predictions where they crowd together (the 2-D mixture at high noise)."""
    return Magnified("the predictions", region, segments, markers, triggers=("cfg_diff",), color="guided",
                     whole_region=True)


# ----------------------------------------------------------------------------- checks

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


def sigma_of(traj: Trajectory, k: int) -> float:
    """The VE noise level ``sigma_t = sqrt(1 - abar) / sqrt(abar)`` of step ``k``, computed as
    ``models.engine.schedule.Schedule.sigma`` does (the interval method compares this very number)."""
    if traj.path == "flow":  # sigma = 1 (pure noise) is infinitely far
        return float(traj.sigma[k] / traj.alpha[k]) if traj.alpha[k] > 0 else float("inf")
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



__all__ = ["apg_parts", "check_method", "check_rebuilt", "sigma_of"]
