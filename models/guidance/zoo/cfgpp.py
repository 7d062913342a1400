"""CFG++ (Chung et al., arXiv 2406.08070): the guided prediction with lambda in [0, 1], ``D_lambda =
D_u + lambda (D_c - D_u)``, but the step re-noises along the *unconditional* noise estimate;
implemented for the DDIM sampler (its ``x0_renoise`` part is D_u).
"""

from __future__ import annotations

import numpy as np

from models.engine.denoiser import Prediction
from models.engine.settings import Setting
from models.guidance.base import Card, Guided, Readout, need_labels, register, unconditional_and_conditional

NAME = "cfgpp"

CARD = Card(
    name=NAME,
    label="CFG++",
    about=("CFG++ (Chung et al., arXiv 2406.08070) interpolates instead of extrapolating, with λ in [0, 1], and "
          "takes the DDIM step's re-noising direction from the unconditional noise estimate instead of the "
          "guided one. It is defined for DDIM, so this page samples it with DDIM whatever the sidebar says."),
    paper="arXiv 2406.08070",
    settings=(
        Setting("cfgpp_lambda", NAME, 0.6, 0.0, 1.0, "λ (interpolation, 0 = unconditional, 1 = conditional)",
                "CFG++: interpolation weight between the unconditional and the conditional prediction, used instead of gamma.",
                "arXiv 2406.08070", slider=(0.0, 1.0, 0.05), replaces="gamma"),
    ),
    sampler="ddim",
    readout=Readout("‖λ (x̂₀ᶜ − x̂₀ᵘ)‖", None, lambda d_u, d_c, guided, scale: float(np.linalg.norm(guided - d_u))),
    zoo=True,
    order=50,
    figure="CFG++ step",
    field_name="CFG++",
)


@register(CARD)
class CFGPlusPlus(Guided):
    """CFG++ (arXiv 2406.08070): predict ``D_lambda = D_u + lambda (D_c - D_u)``, re-noise with eps_u.

    ``lam`` is CFG++'s lambda, in [0, 1] (``models.engine.settings``: ``cfgpp_lambda``); it replaces gamma,
    which stays None. Only the DDIM sampler uses ``x0_renoise``.
    """

    def __init__(self, denoiser, lam: float) -> None:
        super().__init__(denoiser, None)
        self.lam = float(lam)

    def predict(self, x_t, t, y):
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, NAME))
        return Prediction(x0=d_u + self.lam * (d_c - d_u), x0_uncond=d_u, x0_cond=d_c, x0_renoise=d_u)
