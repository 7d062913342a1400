"""MAMBO-G (Zhu et al., arXiv 2508.03442), measured on the flow-matching velocity ``u = eps - x0``: CFG
with the scale ``1 + (gamma - 1) exp(-alpha |u_c - u_u| / |u_u|)`` (per sample).

The paper damps flow-matching models, whose network predicts ``u``. On any Gaussian path ``x_t = a x0 +
s eps`` (the VP path included) ``u`` is the velocity of the scaled point ``x_t / (a + s)`` on the flow path,
and ``u = (a + s) / s (x_t / (a + s) - x0)``: the ratio is ``|D_c - D_u| / |x_t / (a + s) - D_u|`` on
either path.
"""

from __future__ import annotations

import math

from models.engine.conversions import from_space, to_space
from models.engine.denoiser import Prediction, scales
from models.engine.settings import Setting
from models.guidance.base import Card, Guided, need_labels, register, unconditional_and_conditional

NAME = "mambo"

CARD = Card(
    name=NAME,
    label="Magnitude-aware guidance (MAMBO-G)",
    about=("MAMBO-G (Zhu et al., arXiv 2508.03442) damps the guidance where it is large compared with the "
          "prediction itself: γ becomes $1 + (γ - 1)\\,e^{-α r}$ with $r = \\|u_c - u_u\\| / \\|u_u\\|$ measured on "
          "the **flow-matching velocities** $u = \\epsilon - x_0$ (on the VP path, the velocities of the scaled "
          "point $x_t / (a + s)$). Early, noisy steps (large r) get almost no guidance, late ones almost "
          "the full γ; α = 0 is CFG."),
    paper="arXiv 2508.03442",
    space="u",
    settings=(
        Setting("mambo_alpha", NAME, 8.0, 0.0, math.inf, "α (damping; 0 = CFG)",
                "MAMBO-G, on the flow-matching velocity u = eps - x0: the guidance gamma - 1 is damped by "
                "exp(-alpha |u_c - u_u| / |u_u|), "
                "per sample; 0 is CFG (diffusers' default is 8).",
                "arXiv 2508.03442", hi_open=True, slider=(0.0, 20.0, 0.5)),
    ),
    zoo=True,
    order=80,
    figure="MAMBO-G step (ratio in u)",
)


def damped_scale(gamma: float, alpha: float, c: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """MAMBO-G's per-sample scale (B, 1): ``1 + (gamma - 1) exp(-alpha |c - u| / |u|)``."""
    import torch
    ratio = (c - u).norm(dim=1, keepdim=True) / u.norm(dim=1, keepdim=True).clamp_min(torch.finfo(u.dtype).tiny)
    return 1.0 + (gamma - 1.0) * torch.exp(-alpha * ratio)


@register(CARD)
class MagnitudeAwareCFG(Guided):
    """MAMBO-G (arXiv 2508.03442): CFG whose guidance ``gamma - 1`` is damped by
    ``exp(-alpha |u_c - u_u| / |u_u|)``, the ratio measured on the flow-matching velocities ``u = eps -
    x0``. The
    combination itself is affine, so it is the same in every space: it is applied to x0 directly."""


    def __init__(self, denoiser, gamma: float, alpha: float = 8.0) -> None:
        super().__init__(denoiser, gamma)
        self.alpha = float(alpha)

    def predict(self, x_t, t, y):
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, NAME))
        a, s = scales(self.schedule, t, x_t)
        scale = damped_scale(self.gamma, self.alpha, to_space(self.space, d_c, x_t, a, s),
                             to_space(self.space, d_u, x_t, a, s))
        return Prediction(x0=d_u + scale * (d_c - d_u), x0_uncond=d_u, x0_cond=d_c)
