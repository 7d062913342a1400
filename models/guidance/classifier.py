"""Classifier guidance (Dhariwal & Nichol, arXiv 2105.05233), in x0 form:
``x0' = D_u + gamma * s^2 / a * grad_x log p(y | x_t)``, i.e. ``eps' = eps - gamma * s * grad``.

Where the signal scale ``a`` is 0 (the flow path's first level, ``sigma = 1``) ``x_t`` is pure noise:
``p(y | x_t) = p(y)`` has gradient 0 and ``s^2 / a * grad`` is 0 / 0, while the shift's limit as ``a -> 0``
is ``E[x0 | y] - E[x0]``, not 0. The rule there (``classifier_shift``): a classifier that can state its
shift in its own terms (``x0_shift(x_t, t, y)``) is asked for it: the exact posterior gives
``E[x0 | x_t, y] - E[x0 | x_t]`` in closed form (so exact classifier guidance equals CFG at every level),
a network of the VP path (``models.flow.nets.ClassifierOnPath``) its shift at its own noisiest level,
where ``a > 0``. A classifier that cannot is taken at its word: shift 0, prediction ``D_u``."""

from __future__ import annotations

from models.engine.denoiser import Prediction, scales
from models.guidance.base import Card, Guided, LogProbFn, need_labels, register

CARD = Card(name="classifier", label="Classifier guidance",
            about="Add γ times the gradient of a noise-aware classifier's log-probability of the class.",
            paper="arXiv 2105.05233", needs=("classifier",), order=3, field_name="classifier guidance", tilted=True)


def classifier_shift(grad, a, s, at_zero=None):
    """The x0-space shift ``s^2 / a * grad`` (gamma 1); where ``a = 0``, ``at_zero()`` (the classifier's
    own statement of its shift, module docstring) if given, else 0."""
    import torch

    signal = a > 0
    shift = s**2 / torch.where(signal, a, torch.ones_like(a)) * grad
    if bool(signal.all()):
        return shift
    limit = torch.zeros_like(shift) if at_zero is None else at_zero().to(shift)
    return torch.where(signal, shift, limit)


def own_shift(log_prob):
    """The ``x0_shift(x_t, t, y)`` of a classifier, or of the exact denoiser whose bound
    ``log_posterior`` it is; None where it has none."""
    found = getattr(log_prob, "x0_shift", None)
    return found if found is not None else getattr(getattr(log_prob, "__self__", None), "x0_shift", None)


def label_log_prob(logp, y):
    """The summed log-probability of each sample's label ``y`` under ``logp`` (B, C)."""
    return logp.gather(1, y.to(logp.device).long()[:, None]).sum()


@register(CARD)
class ClassifierGuidance(Guided):
    """``x0' = D_u + gamma * s^2 / a * grad_x log p(y | x_t)`` (arXiv 2105.05233, in x0 form); where
    ``a = 0``, the classifier's own shift (``classifier_shift``).

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
        stated = own_shift(self.log_prob)
        shift = classifier_shift(grad, a, s, None if stated is None else lambda: stated(x_t, t, y))
        return Prediction(x0=d_u + self.gamma * shift, x0_uncond=d_u, classifier_shift=shift)
