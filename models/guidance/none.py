"""No guidance: the denoiser as it is, conditional on ``y`` (or unconditional when ``y`` is None)."""

from __future__ import annotations

from models.engine.denoiser import Prediction
from models.guidance.base import Card, Guided, register

CARD = Card(name="none", label="No guidance", about="The denoiser as it is: conditional on the class, or unconditional.",
            order=1, field_name="no guidance (conditional)")


@register(CARD)
class NoGuidance(Guided):
    """The denoiser as it is: conditional on ``y``, or unconditional when ``y`` is None."""

    def __init__(self, denoiser) -> None:
        super().__init__(denoiser, 1.0)

    @classmethod
    def build(cls, denoiser, gamma, settings, **resources):
        """The denoiser alone: no scale, no settings."""
        return cls(denoiser)

    def predict(self, x_t, t, y):
        return Prediction(x0=self.denoiser(x_t, t, y))
