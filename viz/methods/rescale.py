"""The rescale view: CFG rescale (Lin et al., arXiv 2305.08891): D_u and D_c (dashed from x_t), the
CFG band ``D_u -> x_cfg = D_u + gamma (D_c - D_u)``, the rescale ``x_cfg -> x_r = x_cfg std(D_c) /
std(x_cfg)`` along the dotted line from the origin (a shrink or stretch toward the origin), and the
guided prediction ``phi x_r + (1 - phi) x_cfg`` (= x0_hat) on it; then the step and the noise."""

from __future__ import annotations

from typing import Optional

import numpy as np

from models.engine.trajectory import Trajectory
from viz.draw.geometry import StepVectors
from viz.draw.projection import Projection
from viz.methods import check_method, register_view
from viz.methods.on_cfg import _PREDICTIONS, _STEP, _parts, _predictions, check_rebuilt
from viz.views.construction import ConstructionView, Segment, step_inset, step_title
from viz.views.guidance import CFG_KEY_LABELS, _toward


def _std(x: np.ndarray) -> np.ndarray:
    """Standard deviation over the last axis, keeping it (as ``models.guidance.zoo.rescale._std``, up to the n - 1
    it divides by, which cancels in the ratio of two)."""
    return x.std(axis=-1, keepdims=True)


def rescaled(x_cfg: np.ndarray, d_c: np.ndarray) -> np.ndarray:
    """CFG rescale's ``x_r = x_cfg std(D_c) / std(x_cfg)`` (arXiv 2305.08891, eq. 3-4): a multiple of x_cfg."""
    return x_cfg * _std(d_c) / np.maximum(_std(x_cfg), np.finfo(np.float32).tiny)


@register_view
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
    title = "CFG rescale"
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
                    Segment("ray", "ray", "origin", "ray_end"), Segment("scaled", "scaled", "x_cfg", "x_r"),
                    Segment("to_guided", "to_guided", "x_t", "guided"), *_STEP]
        self.magnify = (_predictions(("origin", "x0_uncond", "x0_cond", "x_cfg", "x_r", "guided"),
                                     ("to_uncond", "to_cond", "cfg_diff", "cfg_diff_scaled", "ray", "scaled", "to_guided"),
                                     ("origin", "x0_uncond", "x0_cond", "x_cfg", "guided")), *step_inset(segments))
        labels = {**CFG_KEY_LABELS, "ray": "line from the origin 0"}
        super().__init__(traj, projection, sample, segments=segments,
                         markers=["origin", "x0_uncond", "x0_cond", "x_cfg", "guided", "x_next", "x_t"],
                         key=["diff", "diff_scaled", "ray", "scaled", "step", "noise"], key_labels=labels,
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
