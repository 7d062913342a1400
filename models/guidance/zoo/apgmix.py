"""diffusers' ``AdaptiveProjectedMixGuidance`` (APG, arXiv 2410.02416, as HunyuanImage-2.1 uses it),
on x0: APG while sigma lies in (lo, hi], CFG at the same gamma outside, one momentum buffer fed at
every step.
"""

from __future__ import annotations

import math
from typing import Optional

from models.engine.denoiser import Prediction
from models.engine.settings import Setting, sigma_window
from models.guidance.base import Card, Guided, dot, need_labels, register, unconditional_and_conditional
from models.guidance.zoo.interval import in_window

NAME = "apgmix"

CARD = Card(
    name=NAME,
    label="APG in a σ window, CFG outside",
    about=("diffusers' `AdaptiveProjectedMixGuidance` (used by HunyuanImage-2.1) applies APG (Sadat et al., "
          "arXiv 2410.02416) on the $\\hat{x}_0$ prediction while σ lies in a window (lo, hi], and plain CFG at "
          "the same γ outside it; its momentum average is fed at every step, the CFG steps' too. diffusers "
          "switches after a number of steps; here the window is in σ, so it does not depend on the step count."),
    paper="arXiv 2410.02416",
    settings=(
        *sigma_window(NAME, "apgmix_window", 0.0, 50.0, "APG (not CFG) while σ is in",
                      "APG mix, on the x0 prediction: APG while the noise level sigma lies in (LO, HI], CFG at the same "
                      "gamma outside (diffusers switches to APG after a step count; the first steps are the noisiest).",
                      "arXiv 2410.02416"),
        Setting("apgmix_eta", NAME, 0.0, -math.inf, math.inf, "η (APG's weight of the parallel part)",
                "APG mix: inside the window, weight of the part of the guidance parallel to the conditional prediction.",
                "arXiv 2410.02416", lo_open=True, hi_open=True, slider=(0.0, 1.0, 0.1)),
        Setting("apgmix_r", NAME, math.inf, 0.0, math.inf, "r (APG's clip of the difference)",
                "APG mix: inside the window, clip the (momentum-averaged) guidance difference to this norm; inf turns "
                "clipping off.", "arXiv 2410.02416", lo_open=True, choices=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0, math.inf),
                inf_text="off"),
        Setting("apgmix_beta", NAME, -0.5, -1.0, 1.0, "β (momentum, also fed by the CFG steps)",
                "APG mix: momentum of the guidance difference across steps, updated at every step, CFG's too "
                "(diffusers' default is -0.5).", "arXiv 2410.02416", lo_open=True, hi_open=True, slider=(-0.9, 0.9, 0.1)),
    ),
    zoo=True,
    order=90,
    figure="APG-in-a-window step",
)


@register(CARD)
class APGMix(Guided):
    """diffusers' ``AdaptiveProjectedMixGuidance``, in x0 (APG's space, arXiv 2410.02416): APG,
    ``D_c + (gamma - 1)(orth + eta par)`` of the clipped momentum average, while sigma lies in
    (lo, hi]; CFG, ``D_u + gamma (D_c - D_u)``, outside. The momentum ``m <- (D_c - D_u) + beta m``
    is updated at every step, the CFG ones too (as diffusers does).

    The momentum buffer lives in the wrapper: make a new wrapper for each sampling run.
    """

    def __init__(self, denoiser, gamma: float, lo: float = 0.0, hi: float = 50.0, eta: float = 0.0,
                 r: float = math.inf, beta: float = -0.5) -> None:
        import torch
        super().__init__(denoiser, gamma)
        self.lo, self.hi = float(lo), float(hi)
        self.eta, self.r, self.beta = float(eta), float(r), float(beta)
        self._momentum: Optional[torch.Tensor] = None

    def predict(self, x_t, t, y):
        import torch
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, NAME))
        delta = d_c - d_u
        m = delta if self._momentum is None else delta + self.beta * self._momentum
        self._momentum = m
        if math.isfinite(self.r):
            m = m * torch.clamp(self.r / m.norm(dim=1, keepdim=True).clamp_min(torch.finfo(m.dtype).tiny), max=1.0)
        unit = torch.nn.functional.normalize(d_c.double(), dim=1)  # the split in float64, as in models.guidance.zoo's apg
        par = (dot(m.double(), unit) * unit).to(m.dtype)
        apg = d_c + (self.gamma - 1.0) * (m - par + self.eta * par)
        cfg = d_u + self.gamma * delta
        sigma = torch.as_tensor(self.schedule.sigma(t.detach().cpu().numpy()), device=x_t.device)
        inside = in_window(sigma, self.lo, self.hi).reshape(-1, 1)
        return Prediction(x0=torch.where(inside, apg, cfg), x0_uncond=d_u, x0_cond=d_c)
