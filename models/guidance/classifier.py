"""Classifier guidance (Dhariwal & Nichol, arXiv 2105.05233), in x0 form:
``x0' = D_u + gamma * s^2 / a * grad_x log p(y | x_t)``, i.e. ``eps' = eps - gamma * s * grad``."""

from __future__ import annotations

from models.engine.denoiser import Prediction, scales
from models.guidance.base import Card, Guided, LogProbFn, need_labels, register

CARD = Card(name="classifier", label="Classifier guidance",
            about="Add γ times the gradient of a noise-aware classifier's log-probability of the class.",
            paper="arXiv 2105.05233", needs=("classifier",), order=3, field_name="classifier guidance", tilted=True)


def label_log_prob(logp, y):
    """The summed log-probability of each sample's label ``y`` under ``logp`` (B, C)."""
    return logp.gather(1, y.to(logp.device).long()[:, None]).sum()


@register(CARD)
class ClassifierGuidance(Guided):
    """``x0' = D_u + gamma * s^2 / a * grad_x log p(y | x_t)`` (arXiv 2105.05233, in x0 form).

    ``log_prob`` is a noise-aware classifier ``(x_t, t) -> log p(y | x_t)`` (B, C); for the exact
    models it is the exact posterior, and then this equals CFG at the same gamma.
    """

    def __init__(self, denoiser, log_prob: LogProbFn, gamma: float) -> None:
        super().__init__(denoiser, gamma)
        self.log_prob = log_prob

    @classmethod
    def build(cls, denoiser, gamma, settings, *, log_prob=None, **resources):
        """Needs the noise-aware classifier ``log_prob``."""
        if log_prob is None:
            raise ValueError("classifier guidance needs a noise-aware classifier (log_prob)")
        return cls(denoiser, log_prob, gamma)

    def predict(self, x_t, t, y):
        import torch

        y = need_labels(y, "classifier")
        with torch.no_grad():
            d_u = self.denoiser(x_t, t, None)
        with torch.enable_grad():
            x = x_t.detach().requires_grad_(True)
            grad, = torch.autograd.grad(label_log_prob(self.log_prob(x, t), y), x)
        a, s = scales(self.schedule, t, x_t)
        shift = s**2 / a * grad
        return Prediction(x0=d_u + self.gamma * shift, x0_uncond=d_u, classifier_shift=shift)
