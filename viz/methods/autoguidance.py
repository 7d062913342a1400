"""The autoguidance view: Autoguidance (Karras et al., arXiv 2406.02507): the CFG construction
between the weak model's prediction (recorded as x0_uncond) and the main model's (x0_cond), both
conditional: ``x0_hat = D_weak + gamma (D_main - D_weak)``."""

from __future__ import annotations

from typing import Optional

from models.engine.trajectory import Trajectory
from viz.draw.projection import Projection
from viz.methods import check_method, register_view
from viz.methods.on_cfg import _CFGConstruction, _parts, check_rebuilt


@register_view
class AutoguidanceDiagram(_CFGConstruction):
    """Autoguidance (Karras et al., arXiv 2406.02507): the CFG construction between the weak model's
    prediction (recorded as x0_uncond) and the main model's (x0_cond), both conditional:
    ``x0_hat = D_weak + gamma (D_main - D_weak)``."""

    kind = "autoguidance"
    title = "Autoguidance"
    point_texts = {"x0_uncond": r"$\hat{x}_0$ weak", "x0_cond": r"$\hat{x}_0$ main"}

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        check_method(traj, "autoguidance")
        gamma = float(traj.meta["gamma"])
        d_weak, d_main = _parts(traj)
        check_rebuilt(traj, d_weak + gamma * (d_main - d_weak), f"x̂₀(weak) + γ (x̂₀(main) − x̂₀(weak)) with γ = {gamma:g}")
        labels = {"diff": "main − weak", "diff_scaled": "γ × (main − weak)"}
        self._build(traj, sample, projection, labels=labels, suptitle="Autoguidance: weak model → main model",
                    width=width,
                    plane_note=("Exact plane through xₜ and the two models' predictions (both conditional): the "
                                "construction keeps its true lengths and angles; the step and the noise are projected "
                                "onto it. x̂₀ = x̂₀(weak) + γ (x̂₀(main) − x̂₀(weak)) (Karras et al., arXiv 2406.02507)."))
