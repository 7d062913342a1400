"""Forward universal guidance (Bansal et al., arXiv 2302.07121): as classifier guidance, with
``p(y | x_t)`` replaced by a clean classifier applied to ``D_u(x_t)``, the gradient taken through the
denoiser. Where ``a = 0`` (the flow path's ``sigma = 1``) the shift is 0: ``D_u`` does not depend on pure
noise, so the gradient through it is 0 and ``s^2 / a`` would make 0 / 0. (Its limit as ``a -> 0`` is not 0:
for the exact denoiser ``D_u`` moves by ``(a / s^2) Cov[x0] dx`` near pure noise, so the shift tends to
``Cov[x0] grad log p(y | E[x0])``. A clean classifier offers no closed form of it, so at that one level
universal guidance adds nothing; ``models.guidance.classifier`` explains the rule for classifiers.)"""

from __future__ import annotations

from models.engine.denoiser import Prediction, scales
from models.guidance.base import Card, CleanLogProbFn, Guided, need_labels, register
from models.guidance.classifier import classifier_shift, label_log_prob

CARD = Card(name="universal", label="Universal guidance",
            about="Classifier guidance with a classifier of clean data, applied to the model's prediction.",
            paper="arXiv 2302.07121", needs=("clean_classifier",), order=4, field_name="universal guidance",
            tilted=True)


@register(CARD)
class UniversalGuidance(Guided):
    """Forward universal guidance (arXiv 2302.07121): a clean classifier on ``D_u(x_t)``,
    differentiated through the denoiser, scaled like classifier guidance."""

    def __init__(self, denoiser, clean_log_prob: CleanLogProbFn, gamma: float) -> None:
        super().__init__(denoiser, gamma)
        self.clean_log_prob = clean_log_prob

    @classmethod
    def build(cls, denoiser, gamma, settings, *, clean_log_prob=None, **resources):
        """Needs the clean classifier ``clean_log_prob``."""
        if clean_log_prob is None:
            raise ValueError("universal guidance needs a clean classifier (clean_log_prob)")
        return cls(denoiser, clean_log_prob, gamma)

    def predict(self, x_t, t, y):
        import torch

        y = need_labels(y, "universal")
        with torch.enable_grad():
            x = x_t.detach().requires_grad_(True)
            d_u = self.denoiser(x, t, None)
            grad, = torch.autograd.grad(label_log_prob(self.clean_log_prob(d_u), y), x)
        a, s = scales(self.schedule, t, x_t)
        shift = classifier_shift(grad, a, s)
        d_u = d_u.detach()
        return Prediction(x0=d_u + self.gamma * shift, x0_uncond=d_u, classifier_shift=shift)
