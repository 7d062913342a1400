"""CFG rescale (Lin et al., arXiv 2305.08891, section 3.4): ``x_r = x_cfg * std(D_c) / std(x_cfg)``,
``x = phi * x_r + (1 - phi) * x_cfg``. A departure: here it rescales the x0 prediction, where the
paper (a v-prediction model) and diffusers' pipelines rescale the network's own output (eps or v);
the rescale is not affine, so the numbers differ.
"""

from __future__ import annotations

from models.engine.denoiser import Prediction
from models.engine.settings import Setting
from models.guidance.base import Card, Guided, need_labels, register, unconditional_and_conditional

NAME = "rescale"

CARD = Card(
    name=NAME,
    label="CFG rescale",
    about=("Large γ inflates the spread of the guided prediction, and images over-saturate. CFG rescale (Lin et "
          "al., arXiv 2305.08891) scales the CFG prediction, toward or away from the origin, until its standard "
          "deviation matches the conditional prediction's, then mixes that with plain CFG by φ (φ = 0 is CFG). "
          "*Note:* here it rescales the $\\hat{x}_0$ prediction; the paper (a v-prediction model) and diffusers' "
          "pipelines rescale the network's own output (ε or v), which gives other numbers because the rescale "
          "is not an affine combination."),
    paper="arXiv 2305.08891",
    settings=(
        Setting("rescale_phi", NAME, 0.7, 0.0, 1.0, "φ (0 = CFG, 1 = fully rescaled)",
                "CFG rescale: mix of the rescaled and the plain CFG prediction. Here it rescales the x0 prediction; the "
                "paper and diffusers rescale the network's own output (eps or v), which gives other numbers.",
                "arXiv 2305.08891",
                slider=(0.0, 1.0, 0.05)),
    ),
    help_note="rescales x0 where its paper rescales the network's own output (eps or v)",
    zoo=True,
    order=10,
    figure="CFG rescale step",
    field_name="CFG rescale",
)


def _std(x: torch.Tensor) -> torch.Tensor:
    """Standard deviation over the non-batch dimension, (B, 1)."""
    return x.std(dim=1, keepdim=True)


@register(CARD)
class RescaledCFG(Guided):
    """CFG rescale (arXiv 2305.08891): CFG, then pulled back toward the conditional prediction's spread."""

    def __init__(self, denoiser, gamma: float, phi: float = 0.7) -> None:
        super().__init__(denoiser, gamma)
        self.phi = float(phi)

    def predict(self, x_t, t, y):
        import torch
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, NAME))
        x_cfg = d_u + self.gamma * (d_c - d_u)
        x_r = x_cfg * _std(d_c) / _std(x_cfg).clamp_min(torch.finfo(x_cfg.dtype).tiny)
        return Prediction(x0=self.phi * x_r + (1 - self.phi) * x_cfg, x0_uncond=d_u, x0_cond=d_c)
