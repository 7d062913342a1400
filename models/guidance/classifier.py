"""Classifier guidance (Dhariwal & Nichol, arXiv 2105.05233), in x0 form:
``x0' = D_u + gamma * s^2 / a * grad_x log p(y | x_t)``, i.e. ``eps' = eps - gamma * s * grad``.

Where the signal scale ``a`` is 0 (the flow path's first level, ``sigma = 1``) ``x_t`` is pure noise and
carries no information about ``x0`` or ``y``: ``p(y | x_t) = p(y)``, whose gradient is 0, and ``s^2 / a *
grad`` is 0 / 0. The rule there (``classifier_shift``) is to take the classifier at its word: the shift is
0 and the prediction is ``D_u``. (The limit as ``a -> 0`` of the exact shift is ``E[x0 | y] - E[x0]``, which
a classifier evaluated at ``a = 0`` cannot tell; so at that one level classifier guidance differs from
CFG, which uses the two predictions, even with the exact posterior.)"""

from __future__ import annotations

from models.engine.denoiser import Prediction, scales
from models.guidance.base import Card, Guided, LogProbFn, need_labels, register

CARD = Card(name="classifier", label="Classifier guidance",
            about="Add γ times the gradient of a noise-aware classifier's log-probability of the class.",
            paper="arXiv 2105.05233", needs=("classifier",), order=3, field_name="classifier guidance", tilted=True)


def classifier_shift(grad, a, s):
    """The x0-space shift ``s^2 / a * grad`` (gamma 1); 0 where ``a = 0`` (module docstring: there
    ``x_t`` says nothing about ``y``, and whatever the gradient, it is not used)."""
    import torch

    signal = a > 0
    shift = s**2 / torch.where(signal, a, torch.ones_like(a)) * grad
    return torch.where(signal, shift, torch.zeros_like(shift))


def label_log_prob(logp, y):
    """The summed log-probability of each sample's label ``y`` under ``logp`` (B, C)."""
    return logp.gather(1, y.to(logp.device).long()[:, None]).sum()


@register(CARD)
class ClassifierGuidance(Guided):
    """``x0' = D_u + gamma * s^2 / a * grad_x log p(y | x_t)`` (arXiv 2105.05233, in x0 form); ``D_u``
    where ``a = 0`` (``classifier_shift``).

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
        shift = classifier_shift(grad, a, s)
        return Prediction(x0=d_u + self.gamma * shift, x0_uncond=d_u, classifier_shift=shift)
