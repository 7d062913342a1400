"""Classifier-free guidance (Ho & Salimans, arXiv 2207.12598): ``x0' = D_u + gamma (D_c - D_u)``.
The paper writes ``(1 + w)``: our gamma is ``1 + w``."""

from __future__ import annotations

import numpy as np

from models.engine.denoiser import Prediction
from models.guidance.base import Card, Guided, Readout, need_labels, register, unconditional_and_conditional

CARD = Card(
    name="cfg",
    label="CFG (the reference)",
    about=("Start at the unconditional prediction $\\hat{x}_0^{u}$ and go γ times the difference "
           "$\\hat{x}_0^{c} - \\hat{x}_0^{u}$ (Ho & Salimans, arXiv 2207.12598). Every method below changes one part "
           "of this construction."),
    paper="arXiv 2207.12598",
    order=2,
    field_name="CFG",
    tilted=True,
    readout=Readout("‖γ (x̂₀ᶜ − x̂₀ᵘ)‖", None,
                    lambda d_u, d_c, guided, scale: float(np.linalg.norm(scale * (d_c - d_u)))),
)


@register(CARD)
class ClassifierFreeGuidance(Guided):
    """``x0' = D_u + gamma * (D_c - D_u)`` (arXiv 2207.12598, with gamma = 1 + w)."""

    def predict(self, x_t, t, y):
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, "cfg"))
        return Prediction(x0=d_u + self.gamma * (d_c - d_u), x0_uncond=d_u, x0_cond=d_c)
