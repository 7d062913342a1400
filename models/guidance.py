"""Guidance as wrappers that keep the denoiser's signature and report the parts they combined.

All guidance here acts in x0 (denoiser) space, with ``gamma`` the guidance scale:
gamma = 0 is unconditional sampling and gamma = 1 conditional sampling.

* ``cfg``: classifier-free guidance (Ho & Salimans, arXiv 2207.12598),
  ``x0' = D_u + gamma * (D_c - D_u)``. The paper writes ``(1 + w)``: our gamma is ``1 + w``.
* ``classifier``: classifier guidance (Dhariwal & Nichol, arXiv 2105.05233),
  ``x0' = D_u + gamma * s^2 / a * grad_x log p(y | x_t)``, i.e. ``eps' = eps - gamma * s * grad``.
* ``universal``: forward universal guidance (Bansal et al., arXiv 2302.07121): as ``classifier``,
  with ``p(y | x_t)`` replaced by a clean classifier applied to ``D_u(x_t)``, the gradient
  taken through the denoiser.
* ``none``: the denoiser itself, conditional on ``y`` (or unconditional when ``y`` is None).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import torch

from models.denoiser import Prediction, scales

BASIC_GUIDANCE = ("none", "cfg", "classifier", "universal")
ZOO_GUIDANCE = ("rescale", "apg", "interval", "autoguidance", "cfgpp")  # models.zoo
GUIDANCE_NAMES = BASIC_GUIDANCE + ZOO_GUIDANCE


@dataclass(frozen=True)
class GuidanceOptions:
    """Settings of the zoo methods (``models.zoo``); each method reads its own."""

    rescale_phi: float = 0.7  # rescale: 0 = plain CFG, 1 = fully rescaled
    apg_eta: float = 0.0  # apg: weight of the part parallel to D_c (1 = keep it, as CFG does)
    apg_r: float = math.inf  # apg: clip the guidance difference to this norm (inf = no clipping)
    apg_beta: float = 0.0  # apg: momentum of the difference across steps (0 = none)
    interval: tuple[float, float] = (0.3, 5.0)  # interval: guide only for sigma in [lo, hi]
    cfgpp_lambda: float = 0.6  # cfgpp: lambda in [0, 1] (replaces gamma)

    def __post_init__(self) -> None:
        lo, hi = self.interval
        checks = (
            (math.isfinite(self.rescale_phi) and 0.0 <= self.rescale_phi <= 1.0, f"rescale phi must be in [0, 1], got {self.rescale_phi}"),
            (math.isfinite(self.apg_eta), f"apg eta must be a finite number, got {self.apg_eta}"),
            (not math.isnan(self.apg_r) and self.apg_r > 0, f"apg r must be a positive number or inf, got {self.apg_r}"),
            (math.isfinite(self.apg_beta) and -1.0 < self.apg_beta < 1.0, f"apg beta (momentum) must be in (-1, 1), got {self.apg_beta}"),
            (math.isfinite(lo) and not math.isnan(hi) and 0.0 <= lo <= hi, f"interval must be 0 <= lo <= hi (sigma), got {lo}, {hi}"),
            (math.isfinite(self.cfgpp_lambda) and 0.0 <= self.cfgpp_lambda <= 1.0, f"cfgpp lambda must be in [0, 1], got {self.cfgpp_lambda}"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

LogProbFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # (x_t, t) -> (B, C) log p(y | x_t)
CleanLogProbFn = Callable[[torch.Tensor], torch.Tensor]  # x0 -> (B, C) log p(y | x0)


class _Guided:
    """Base: ``__call__`` returns ``predict(...).x0`` so samplers treat it as a plain denoiser."""

    def __init__(self, denoiser, gamma: float) -> None:
        gamma = float(gamma)
        if not torch.isfinite(torch.tensor(gamma)):
            raise ValueError(f"gamma must be a finite number, got {gamma}")
        self.denoiser = denoiser
        self.gamma = gamma
        self.schedule = denoiser.schedule
        self.num_classes = denoiser.num_classes

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor, y: Optional[torch.Tensor]) -> torch.Tensor:
        return self.predict(x_t, t, y).x0

    def predict(self, x_t: torch.Tensor, t: torch.Tensor, y: Optional[torch.Tensor]) -> Prediction:
        raise NotImplementedError


def _need_labels(y: Optional[torch.Tensor], name: str) -> torch.Tensor:
    if y is None:
        raise ValueError(f"{name} guidance needs class labels y, got None")
    return y


class NoGuidance(_Guided):
    """The denoiser as it is: conditional on ``y``, or unconditional when ``y`` is None."""

    def __init__(self, denoiser) -> None:
        super().__init__(denoiser, 1.0)

    def predict(self, x_t, t, y):
        return Prediction(x0=self.denoiser(x_t, t, y))


def unconditional_and_conditional(denoiser, x_t, t, y) -> tuple[torch.Tensor, torch.Tensor]:
    """``(D_u, D_c)``, in one batched call where the denoiser offers ``predict_pair``."""
    if hasattr(denoiser, "predict_pair"):
        return denoiser.predict_pair(x_t, t, y)
    return denoiser(x_t, t, None), denoiser(x_t, t, y)


class ClassifierFreeGuidance(_Guided):
    """``x0' = D_u + gamma * (D_c - D_u)`` (arXiv 2207.12598, with gamma = 1 + w)."""

    def predict(self, x_t, t, y):
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, _need_labels(y, "cfg"))
        return Prediction(x0=d_u + self.gamma * (d_c - d_u), x0_uncond=d_u, x0_cond=d_c)


def _label_log_prob(logp: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return logp.gather(1, y.to(logp.device).long()[:, None]).sum()


class ClassifierGuidance(_Guided):
    """``x0' = D_u + gamma * s^2 / a * grad_x log p(y | x_t)`` (arXiv 2105.05233, in x0 form).

    ``log_prob`` is a noise-aware classifier ``(x_t, t) -> log p(y | x_t)`` (B, C); for the exact
    models it is the exact posterior, and then this equals CFG at the same gamma.
    """

    def __init__(self, denoiser, log_prob: LogProbFn, gamma: float) -> None:
        super().__init__(denoiser, gamma)
        self.log_prob = log_prob

    def predict(self, x_t, t, y):
        y = _need_labels(y, "classifier")
        with torch.no_grad():
            d_u = self.denoiser(x_t, t, None)
        with torch.enable_grad():
            x = x_t.detach().requires_grad_(True)
            grad, = torch.autograd.grad(_label_log_prob(self.log_prob(x, t), y), x)
        a, s = scales(self.schedule, t, x_t)
        shift = s**2 / a * grad
        return Prediction(x0=d_u + self.gamma * shift, x0_uncond=d_u, classifier_shift=shift)


class UniversalGuidance(_Guided):
    """Forward universal guidance (arXiv 2302.07121): a clean classifier on ``D_u(x_t)``,
    differentiated through the denoiser, scaled like classifier guidance."""

    def __init__(self, denoiser, clean_log_prob: CleanLogProbFn, gamma: float) -> None:
        super().__init__(denoiser, gamma)
        self.clean_log_prob = clean_log_prob

    def predict(self, x_t, t, y):
        y = _need_labels(y, "universal")
        with torch.enable_grad():
            x = x_t.detach().requires_grad_(True)
            d_u = self.denoiser(x, t, None)
            grad, = torch.autograd.grad(_label_log_prob(self.clean_log_prob(d_u), y), x)
        a, s = scales(self.schedule, t, x_t)
        shift = s**2 / a * grad
        d_u = d_u.detach()
        return Prediction(x0=d_u + self.gamma * shift, x0_uncond=d_u, classifier_shift=shift)


def make_guidance(name: str, denoiser, gamma: float = 1.0, *, log_prob: Optional[LogProbFn] = None,
                  clean_log_prob: Optional[CleanLogProbFn] = None, weak=None,
                  options: GuidanceOptions = GuidanceOptions()) -> _Guided:
    """Wrap ``denoiser`` with the guidance called ``name`` (one of ``GUIDANCE_NAMES``); ``weak`` is
    autoguidance's weaker model and ``options`` the settings of the other zoo methods."""
    if name == "none":
        return NoGuidance(denoiser)
    if name == "cfg":
        return ClassifierFreeGuidance(denoiser, gamma)
    if name == "classifier":
        if log_prob is None:
            raise ValueError("classifier guidance needs a noise-aware classifier (log_prob)")
        return ClassifierGuidance(denoiser, log_prob, gamma)
    if name == "universal":
        if clean_log_prob is None:
            raise ValueError("universal guidance needs a clean classifier (clean_log_prob)")
        return UniversalGuidance(denoiser, clean_log_prob, gamma)
    if name in ZOO_GUIDANCE:
        from models import zoo

        if name == "rescale":
            return zoo.RescaledCFG(denoiser, gamma, options.rescale_phi)
        if name == "apg":
            return zoo.AdaptiveProjectedGuidance(denoiser, gamma, options.apg_eta, options.apg_r, options.apg_beta)
        if name == "interval":
            return zoo.IntervalGuidance(denoiser, gamma, *options.interval)
        if name == "autoguidance":
            return zoo.AutoGuidance(denoiser, weak, gamma)
        return zoo.CFGPlusPlus(denoiser, options.cfgpp_lambda)
    raise ValueError(f"unknown guidance {name!r}; valid: {', '.join(GUIDANCE_NAMES)}")
