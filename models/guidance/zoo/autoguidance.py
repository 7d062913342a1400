"""Autoguidance: guide with a weaker model of the same kind (Karras et al., arXiv 2406.02507): ``x0' = D_weak +
gamma (D_main - D_weak)``, both conditional.
"""

from __future__ import annotations

import numpy as np

from models.engine.denoiser import Prediction
from models.guidance.base import Card, Guided, Readout, need_labels, register

NAME = "autoguidance"

CARD = Card(
    name=NAME,
    label="Autoguidance",
    about=("Karras et al. (arXiv 2406.02507) replace the unconditional prediction by the conditional prediction "
          "of a weaker model of the same kind, and extrapolate away from its mistakes: x̂₀ = x̂₀(weak) + γ "
          "(x̂₀(main) − x̂₀(weak)). Here the weak network is a smaller, shorter-trained MLP (`assets/`); the "
          "exact model's weak twin is the exact denoiser of blurred data."),
    paper="arXiv 2406.02507",
    needs=("weak",),
    readout=Readout("‖x̂₀ − main model's x̂₀‖",
                    "how far autoguidance moves the main model's conditional prediction: (γ − 1) times the gap between "
                    "the main and the weak model (0 only at γ = 1, or where the two models agree)",
                    lambda d_u, d_c, guided, scale: float(np.linalg.norm(guided - d_c))),
    zoo=True,
    order=40,
    figure="autoguidance step",
)


@register(CARD)
class AutoGuidance(Guided):
    """``x0' = D_weak + gamma (D_main - D_weak)`` (arXiv 2406.02507), both conditional on y.

    Parts: ``x0_uncond`` holds the weak model's prediction and ``x0_cond`` the main model's,
    so the CFG construction draws autoguidance with 'weak' in place of 'unconditional'.
    """

    def __init__(self, denoiser, weak, gamma: float) -> None:
        super().__init__(denoiser, gamma)
        if weak is None:
            raise ValueError("autoguidance needs a weak model of the same kind")
        self.weak = weak

    @classmethod
    def build(cls, denoiser, gamma, settings, *, weak=None, **resources):
        """Needs the weaker model ``weak``."""
        return cls(denoiser, weak, gamma)

    def predict(self, x_t, t, y):
        y = need_labels(y, NAME)
        d_main, d_weak = self.denoiser(x_t, t, y), self.weak(x_t, t, y)
        return Prediction(x0=d_weak + self.gamma * (d_main - d_weak), x0_uncond=d_weak, x0_cond=d_main)
