"""The fdg view: Frequency-decoupled guidance (Sadat et al., arXiv 2506.19713), on 8x8 images: the
difference D_c - D_u is split by a two-level Laplacian pyramid (``models.engine.pyramid``) into its
low band L (the 4x4 level brought back to 8x8) and its high band H = (D_c - D_u) - L. From D_u the
low part ``gamma_low L`` (green), then the high part ``gamma H`` (blue), head to tail, reach the
guided point (= x0_hat); plain CFG's point (both bands at gamma) is hollow. The split is linear, so
the construction is the same in eps and v: it is drawn in x0. The exact plane of each step runs
through D_u along L and H, which holds D_c, both parts, the guided point and CFG's."""

from __future__ import annotations

from typing import Optional

import numpy as np

from models.engine.pyramid import IMAGE_SIDE, low_band
from models.engine.trajectory import Trajectory
from viz.draw.geometry import StepVectors
from viz.draw.projection import Projection
from viz.draw.style import X0C, X0U
from viz.methods import register_view
from viz.methods.in_space import _GuiderView, _PREDICTIONS, _STEP, _parts, check_rebuilt, check_run
from viz.views.construction import Segment


@register_view
class FDGDiagram(_GuiderView):
    """Frequency-decoupled guidance (Sadat et al., arXiv 2506.19713), on 8x8 images: the difference
    D_c - D_u is split by a two-level Laplacian pyramid (``models.engine.pyramid``) into its low band L (the
    4x4 level brought back to 8x8) and its high band H = (D_c - D_u) - L. From D_u the low part
    ``gamma_low L`` (green), then the high part ``gamma H`` (blue), head to tail, reach the guided
    point (= x0_hat); plain CFG's point (both bands at gamma) is hollow. The split is linear, so the
    construction is the same in eps and v: it is drawn in x0. The exact plane of each step runs
    through D_u along L and H, which holds D_c, both parts, the guided point and CFG's."""

    method = kind = "fdg"
    title = "Frequency-decoupled guidance (FDG)"
    point_texts = {"x_cfg": "plain CFG (γ on both)", "low_end": "low part added"}
    plane = ("x0_uncond", "band_low", "band_high")
    pinnable = ("guided", "x_cfg")
    pin_from = {"guided": "low_end", "x_cfg": "x0_uncond"}

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        self.low = check_run(traj, "fdg")["fdg_low"]
        if traj.x0_hat.shape[-1] != IMAGE_SIDE * IMAGE_SIDE:
            raise ValueError(f"the {self.title} view draws 8x8 images (the digits); this run's data are "
                             f"{traj.x0_hat.shape[-1]}-D points")
        gamma = float(traj.meta["gamma"])
        d_u, d_c, *_ = _parts(traj)
        delta = d_c - d_u
        low = low_band(delta)
        check_rebuilt(traj, d_u + gamma * (delta - low) + self.low * low,
                      f"FDG with γ = {gamma:g} on the high band and γ_low = {self.low:g} on the low")
        self.shares = np.linalg.norm(low[:, sample], axis=-1) / np.maximum(np.linalg.norm(delta[:, sample], axis=-1),
                                                                           1e-300)
        segments = [*_PREDICTIONS, Segment("diff", "diff", "x0_uncond", "x0_cond"),
                    Segment("low_part", "apg_par", "x0_uncond", "low_end"),
                    Segment("high_part", "apg_orth", "low_end", "guided"),
                    Segment("to_guided", "to_guided", "x_t", "guided"), *_STEP]
        labels = {"diff": X0C + " − " + X0U, "apg_par": "γ_low × its low band (4×4 level)",
                  "apg_orth": "γ × its high band (the rest)"}
        self._start(traj, sample, projection, segments=segments,
                    markers=["x0_uncond", "x0_cond", "x_cfg", "guided", "x_next", "x_t"],
                    key=["diff", "apg_par", "apg_orth", "step", "noise"], labels=labels,
                    region=("x0_uncond", "x0_cond", "low_end", "guided", "x_cfg"),
                    inset=("to_uncond", "to_cond", "diff", "low_part", "high_part", "to_guided"),
                    triggers=("low_part", "high_part"), width=width,
                    plane_note=("Exact plane through x̂₀ᵘ along the two bands of x̂₀ᶜ − x̂₀ᵘ: its low band L (blurred, "
                                "halved to 4×4, doubled back to 8×8 and blurred: a Laplacian pyramid) and its high band "
                                "H, the rest (L + H = x̂₀ᶜ − x̂₀ᵘ). guided = x̂₀ᵘ + γ_low L + γ H (Sadat et al., arXiv "
                                "2506.19713); linear, so the same in ε and v. xₜ, the step and the noise are "
                                "projected."))

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """x_t, D_u, D_c, the end of the low part, x0_hat, plain CFG's point, D_u plus each band
        (they span the plane), the step's end and x_{t-1}."""
        gamma = float(self.traj.meta["gamma"])
        delta = sv.x0_cond - sv.x0_uncond
        low = low_band(delta)
        return {"x_t": sv.x_t, "x0_uncond": sv.x0_uncond, "x0_cond": sv.x0_cond,
                "low_end": sv.x0_uncond + self.low * low, "guided": sv.x0_hat, "x_cfg": sv.x0_uncond + gamma * delta,
                "band_low": sv.x0_uncond + low, "band_high": sv.x0_uncond + (delta - low), "mean": sv.mean,
                "x_next": sv.x_next}


    def title_at(self, k: int) -> str:
        """Step, t, both scales and the low band's share of the difference."""
        return (f"step {k + 1}/{self.traj.steps}  ·  {self.traj.level_text(k)}  ·  γ = {self.gamma:g} (high), "
                f"γ_low = {self.low:g}  ·  ‖L‖ / ‖x̂₀ᶜ − x̂₀ᵘ‖ = {self.shares[k]:.2f}").replace("-", "−")
