"""Adaptive projected guidance (Sadat et al., arXiv 2410.02416): momentum, clipping, and the guidance
difference split into parts parallel and orthogonal to D_c, the parallel part down-weighted by eta:
``x0' = D_c + (gamma - 1) (orth + eta par)``.
"""

from __future__ import annotations

import math
from typing import Optional

from models.engine.denoiser import Prediction
from models.engine.settings import Setting
from models.guidance.base import Card, Guided, need_labels, register, unconditional_and_conditional

NAME = "apg"

CARD = Card(
    name=NAME,
    label="Adaptive projected guidance (APG)",
    about=("APG (Sadat et al., arXiv 2410.02416) splits the guidance difference into a part along the "
          "conditional prediction $\\hat{x}_0^{c}$ (which mostly raises contrast and saturation) and a part "
          "orthogonal to it (which mostly adds detail), and keeps only η of the parallel part. Optionally the "
          "difference is clipped to a norm r and averaged over steps with momentum β (the paper uses negative "
          "β). η = 1 with no clipping and no momentum is CFG."),
    paper="arXiv 2410.02416",
    settings=(
        Setting("apg_eta", NAME, 0.0, -math.inf, math.inf, "η (weight of the parallel part)",
                "APG: weight of the part of the guidance parallel to the conditional prediction (1 keeps it, as CFG does).",
                "arXiv 2410.02416", lo_open=True, hi_open=True, slider=(0.0, 1.0, 0.1)),
        Setting("apg_r", NAME, math.inf, 0.0, math.inf, "r (clip the difference to this norm)",
                "APG: clip the guidance difference to this norm; inf turns clipping off.", "arXiv 2410.02416",
                lo_open=True, choices=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0, math.inf), inf_text="off"),
        Setting("apg_beta", NAME, 0.0, -1.0, 1.0, "β (momentum across steps)",
                "APG: momentum of the guidance difference across steps (the paper uses negative values).",
                "arXiv 2410.02416", lo_open=True, hi_open=True, slider=(-0.9, 0.9, 0.1)),
    ),
    zoo=True,
    order=20,
    figure="APG step",
    field_name="APG",
)


@register(CARD)
class AdaptiveProjectedGuidance(Guided):
    """APG (arXiv 2410.02416, Algorithm 1), in x0 space. With eta = 1, r = inf and beta = 0 it is CFG.

    The momentum buffer lives in the wrapper: make a new wrapper for each sampling run.
    """

    def __init__(self, denoiser, gamma: float, eta: float = 0.0, r: float = math.inf, beta: float = 0.0) -> None:
        import torch
        super().__init__(denoiser, gamma)
        self.eta, self.r, self.beta = float(eta), float(r), float(beta)
        self._momentum: Optional[torch.Tensor] = None

    def predict(self, x_t, t, y):
        import torch
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, NAME))
        delta = d_c - d_u  # (B, D)
        # 1. Momentum: m <- delta + beta m.
        if self.beta != 0.0:
            self._momentum = delta if self._momentum is None else delta + self.beta * self._momentum
            delta = self._momentum
        # 2. Clip the difference to norm r.
        if math.isfinite(self.r):
            norm = delta.norm(dim=1, keepdim=True)
            delta = delta * torch.clamp(self.r / norm.clamp_min(torch.finfo(delta.dtype).tiny), max=1.0)
        # 3. Split against the unit conditional prediction (in float64, as the reference does).
        unit = torch.nn.functional.normalize(d_c.double(), dim=1)
        par = ((delta.double() * unit).sum(1, keepdim=True) * unit).to(delta.dtype)
        orth = delta - par
        x0 = d_c + (self.gamma - 1.0) * (orth + self.eta * par)
        return Prediction(x0=x0, x0_uncond=d_u, x0_cond=d_c)
