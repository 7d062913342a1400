"""Guidance interval: guidance only for noise levels sigma in (lo, hi], the paper's half-open interval (Kynkaanniemi et
al., arXiv 2404.07724); plain D_c elsewhere.
"""

from __future__ import annotations

from models.engine.denoiser import Prediction
from models.engine.settings import Setting, sigma_window
from models.guidance.base import Card, Guided, need_labels, register, unconditional_and_conditional

NAME = "interval"

CARD = Card(
    name=NAME,
    label="Guidance in a limited interval",
    about=("Kynkäänniemi et al. (arXiv 2404.07724) found guidance harmful at the highest noise levels (it "
          "collapses diversity) and useless at the lowest, so they guide only while the noise level σ lies in "
          "an interval, and sample plainly conditionally elsewhere. As in the paper the interval is half-open, "
          "(lo, hi]: a step whose σ equals lo exactly is not guided."),
    paper="arXiv 2404.07724",
    settings=(
        *sigma_window(NAME, NAME, 0.3, 5.0, "Guide while σ is in",
                      "Interval: guide only while the noise level sigma lies in (LO, HI], the paper's half-open interval; "
                      "plain conditional elsewhere.", "arXiv 2404.07724"),
    ),
    zoo=True,
    order=30,
    figure="guidance-interval step",
    field_name="guidance interval",
)


def in_window(sigma: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """Whether each noise level lies in the half-open ``(lo, hi]``, the interval of arXiv 2404.07724
    (guidance for sigma in (sigma_lo, sigma_hi])."""
    return (sigma > lo) & (sigma <= hi)


@register(CARD)
class IntervalGuidance(Guided):
    """CFG only while the noise level sigma lies in (lo, hi] (arXiv 2404.07724); D_c outside."""

    def __init__(self, denoiser, gamma: float, lo: float, hi: float) -> None:
        super().__init__(denoiser, gamma)
        self.lo, self.hi = float(lo), float(hi)

    def predict(self, x_t, t, y):
        import torch
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, NAME))
        sigma = torch.as_tensor(self.schedule.sigma(t.detach().cpu().numpy()), device=x_t.device)
        inside = in_window(sigma, self.lo, self.hi).to(x_t.dtype).reshape(-1, 1)  # (B, 1)
        gamma = 1.0 + inside * (self.gamma - 1.0)
        return Prediction(x0=d_u + gamma * (d_c - d_u), x0_uncond=d_u, x0_cond=d_c)
