"""Guidance as wrappers that keep the denoiser's signature and report the parts they combined.

All guidance here acts in x0 (denoiser) space, with ``gamma`` the guidance scale:
gamma = 0 is unconditional sampling and gamma = 1 conditional sampling. (Of the zoo's methods,
cfgzero and mambo act on the velocity prediction and tcfg on the noise prediction, as their papers
define them: ``GUIDANCE_SPACES``.)

* ``cfg``: classifier-free guidance (Ho & Salimans, arXiv 2207.12598),
  ``x0' = D_u + gamma * (D_c - D_u)``. The paper writes ``(1 + w)``: our gamma is ``1 + w``.
* ``classifier``: classifier guidance (Dhariwal & Nichol, arXiv 2105.05233),
  ``x0' = D_u + gamma * s^2 / a * grad_x log p(y | x_t)``, i.e. ``eps' = eps - gamma * s * grad``.
* ``universal``: forward universal guidance (Bansal et al., arXiv 2302.07121): as ``classifier``,
  with ``p(y | x_t)`` replaced by a clean classifier applied to ``D_u(x_t)``, the gradient
  taken through the denoiser.
* ``none``: the denoiser itself, conditional on ``y`` (or unconditional when ``y`` is None).

The newer methods live in ``models.guidance.zoo``; every method registers its class by name
(``models.guidance.base.register``) and ``make_guidance`` builds one by name.
"""

from __future__ import annotations

from typing import Mapping, Optional

import torch

from models.guidance import zoo  # registers the zoo methods (rescale, apg, interval, autoguidance, cfgpp, cfgzero, tcfg, ...)
from models.engine.denoiser import Prediction, scales
from models.guidance.base import (REGISTRY, SPACES, CleanLogProbFn, Guided, LogProbFn, need_labels, register,
                                  unconditional_and_conditional)
from models.engine.settings import check_values, defaults, settings_for


@register("none")
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


@register("cfg")
class ClassifierFreeGuidance(Guided):
    """``x0' = D_u + gamma * (D_c - D_u)`` (arXiv 2207.12598, with gamma = 1 + w)."""

    def predict(self, x_t, t, y):
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, "cfg"))
        return Prediction(x0=d_u + self.gamma * (d_c - d_u), x0_uncond=d_u, x0_cond=d_c)


def _label_log_prob(logp: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return logp.gather(1, y.to(logp.device).long()[:, None]).sum()


@register("classifier")
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
        y = need_labels(y, "classifier")
        with torch.no_grad():
            d_u = self.denoiser(x_t, t, None)
        with torch.enable_grad():
            x = x_t.detach().requires_grad_(True)
            grad, = torch.autograd.grad(_label_log_prob(self.log_prob(x, t), y), x)
        a, s = scales(self.schedule, t, x_t)
        shift = s**2 / a * grad
        return Prediction(x0=d_u + self.gamma * shift, x0_uncond=d_u, classifier_shift=shift)


@register("universal")
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
        y = need_labels(y, "universal")
        with torch.enable_grad():
            x = x_t.detach().requires_grad_(True)
            d_u = self.denoiser(x, t, None)
            grad, = torch.autograd.grad(_label_log_prob(self.clean_log_prob(d_u), y), x)
        a, s = scales(self.schedule, t, x_t)
        shift = s**2 / a * grad
        d_u = d_u.detach()
        return Prediction(x0=d_u + self.gamma * shift, x0_uncond=d_u, classifier_shift=shift)


#: every guidance method: the basic ones first, then the zoo's, each in registration order
GUIDANCE_NAMES = tuple(sorted(REGISTRY, key=lambda name: REGISTRY[name].zoo))
BASIC_GUIDANCE = tuple(name for name in GUIDANCE_NAMES if not REGISTRY[name].zoo)
ZOO_GUIDANCE = tuple(name for name in GUIDANCE_NAMES if REGISTRY[name].zoo)
#: the settings a zoo method records beside the general meta names (models.engine.trajectory.meta_names)
ZOO_META_NAMES = {name: tuple(s.name for s in settings_for(name)) for name in ZOO_GUIDANCE}
#: guidance name -> the prediction space its combination acts in (``guidance_base.SPACES``)
GUIDANCE_SPACES = {name: REGISTRY[name].space for name in GUIDANCE_NAMES}


def _guidance_help() -> str:
    """The command lines' ``--guidance`` help: which methods act on which prediction."""
    others = {}
    for name, space in GUIDANCE_SPACES.items():
        if space != "x0":
            others.setdefault(space, []).append(name)
    spaces = "; ".join(f"{' and '.join(names)} on {SPACES[space]}" for space, names in others.items())
    return (f"guidance method. Each acts on the x0 prediction but {spaces}, the spaces their papers define; "
            "rescale rescales x0 where its paper rescales the network's own output (eps or v) "
            "(default: cfg)")


#: the ``--guidance`` help of the command lines
GUIDANCE_HELP = _guidance_help()


def make_guidance(name: str, denoiser, gamma: float = 1.0, *, log_prob: Optional[LogProbFn] = None,
                  clean_log_prob: Optional[CleanLogProbFn] = None, weak=None,
                  settings: Optional[Mapping[str, float]] = None) -> Guided:
    """Wrap ``denoiser`` with the guidance called ``name`` (one of ``GUIDANCE_NAMES``).

    ``settings`` holds settings of ``models.engine.settings`` by name (each checked; a method reads its own,
    the rest keep their defaults); ``log_prob`` / ``clean_log_prob`` are the classifiers of
    classifier and universal guidance, ``weak`` autoguidance's weaker model.
    """
    if name not in REGISTRY:
        raise ValueError(f"unknown guidance {name!r}; valid: {', '.join(GUIDANCE_NAMES)}")
    values = {**defaults(), **check_values(settings or {})}
    return REGISTRY[name].build(denoiser, gamma, values, log_prob=log_prob, clean_log_prob=clean_log_prob, weak=weak)


__all__ = ["BASIC_GUIDANCE", "ClassifierFreeGuidance", "ClassifierGuidance", "GUIDANCE_HELP", "GUIDANCE_NAMES",
           "GUIDANCE_SPACES", "Guided", "NoGuidance",
           "UniversalGuidance", "ZOO_GUIDANCE", "ZOO_META_NAMES", "make_guidance", "unconditional_and_conditional", "zoo"]
