"""The guidance zoo: newer guidance methods, each a geometric operation on the same few vectors.

Settings are declared and checked once, in ``models.settings``; build these through
``models.guidance.make_guidance``, which finds each by the name it registers. Every wrapper
keeps the denoiser's signature and reports its parts (``models.denoiser.Prediction``), like the
wrappers of ``models.guidance``. D_u and D_c are the unconditional and conditional
x0 predictions, gamma the guidance scale (gamma = 1 is conditional sampling).

* ``rescale``: CFG rescale (Lin et al., arXiv 2305.08891, section 3.4):
  ``x_r = x_cfg * std(D_c) / std(x_cfg)``, ``x = phi * x_r + (1 - phi) * x_cfg``.
* ``apg``: adaptive projected guidance (Sadat et al., arXiv 2410.02416): momentum, clipping,
  and the guidance difference split into parts parallel and orthogonal to D_c, the parallel
  part down-weighted by eta: ``x0' = D_c + (gamma - 1) (orth + eta par)``.
* ``interval``: guidance only for noise levels sigma in [lo, hi] (Kynkaanniemi et al., arXiv 2404.07724);
  plain D_c elsewhere.
* ``autoguidance``: guide with a weaker model of the same kind (Karras et al., arXiv 2406.02507):
  ``x0' = D_weak + gamma (D_main - D_weak)``, both conditional.
* ``cfgpp``: CFG++ (Chung et al., arXiv 2406.08070): the guided prediction with lambda in [0, 1],
  ``D_lambda = D_u + lambda (D_c - D_u)``, but the step re-noises along the *unconditional* noise
  estimate; implemented for the DDIM sampler (its ``x0_renoise`` part is D_u).
"""

from __future__ import annotations

import math
from typing import Optional

import torch

from models.denoiser import Prediction
from models.guidance_base import Guided, need_labels, register, unconditional_and_conditional


def _std(x: torch.Tensor) -> torch.Tensor:
    """Standard deviation over the non-batch dimension, (B, 1)."""
    return x.std(dim=1, keepdim=True)


@register("rescale", zoo=True)
class RescaledCFG(Guided):
    """CFG rescale (arXiv 2305.08891): CFG, then pulled back toward the conditional prediction's spread."""

    def __init__(self, denoiser, gamma: float, phi: float = 0.7) -> None:
        super().__init__(denoiser, gamma)
        self.phi = float(phi)

    def predict(self, x_t, t, y):
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, "rescale"))
        x_cfg = d_u + self.gamma * (d_c - d_u)
        x_r = x_cfg * _std(d_c) / _std(x_cfg).clamp_min(torch.finfo(x_cfg.dtype).tiny)
        return Prediction(x0=self.phi * x_r + (1 - self.phi) * x_cfg, x0_uncond=d_u, x0_cond=d_c)


@register("apg", zoo=True)
class AdaptiveProjectedGuidance(Guided):
    """APG (arXiv 2410.02416, Algorithm 1), in x0 space. With eta = 1, r = inf and beta = 0 it is CFG.

    The momentum buffer lives in the wrapper: make a new wrapper for each sampling run.
    """

    def __init__(self, denoiser, gamma: float, eta: float = 0.0, r: float = math.inf, beta: float = 0.0) -> None:
        super().__init__(denoiser, gamma)
        self.eta, self.r, self.beta = float(eta), float(r), float(beta)
        self._momentum: Optional[torch.Tensor] = None

    def predict(self, x_t, t, y):
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, "apg"))
        delta = d_c - d_u  # (B, D)
        # 1. Momentum: m <- delta + beta m.
        if self.beta != 0.0:
            self._momentum = delta if self._momentum is None else delta + self.beta * self._momentum
            delta = self._momentum
        # 2. Clip the difference to norm r.
        if math.isfinite(self.r):
            norm = delta.norm(dim=1, keepdim=True)
            delta = delta * torch.clamp(self.r / norm.clamp_min(torch.finfo(delta.dtype).tiny), max=1.0)
        # 3. Split against the unit conditional prediction (in float64, as the reference does).
        unit = torch.nn.functional.normalize(d_c.double(), dim=1)
        par = ((delta.double() * unit).sum(1, keepdim=True) * unit).to(delta.dtype)
        orth = delta - par
        x0 = d_c + (self.gamma - 1.0) * (orth + self.eta * par)
        return Prediction(x0=x0, x0_uncond=d_u, x0_cond=d_c)


@register("interval", zoo=True)
class IntervalGuidance(Guided):
    """CFG only while the noise level sigma lies in [lo, hi] (arXiv 2404.07724); D_c outside."""

    def __init__(self, denoiser, gamma: float, lo: float, hi: float) -> None:
        super().__init__(denoiser, gamma)
        self.lo, self.hi = float(lo), float(hi)

    def predict(self, x_t, t, y):
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, "interval"))
        sigma = torch.as_tensor(self.schedule.sigma(t.detach().cpu().numpy()), device=x_t.device)
        inside = ((sigma >= self.lo) & (sigma <= self.hi)).to(x_t.dtype).reshape(-1, 1)  # (B, 1)
        gamma = 1.0 + inside * (self.gamma - 1.0)
        return Prediction(x0=d_u + gamma * (d_c - d_u), x0_uncond=d_u, x0_cond=d_c)


@register("autoguidance", zoo=True)
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
        y = need_labels(y, "autoguidance")
        d_main, d_weak = self.denoiser(x_t, t, y), self.weak(x_t, t, y)
        return Prediction(x0=d_weak + self.gamma * (d_main - d_weak), x0_uncond=d_weak, x0_cond=d_main)


@register("cfgpp", zoo=True)
class CFGPlusPlus(Guided):
    """CFG++ (arXiv 2406.08070): predict ``D_lambda = D_u + lambda (D_c - D_u)``, re-noise with eps_u.

    ``lam`` is CFG++'s lambda, in [0, 1] (``models.settings``: ``cfgpp_lambda``); it replaces gamma,
    which stays None. Only the DDIM sampler uses ``x0_renoise``.
    """

    def __init__(self, denoiser, lam: float) -> None:
        super().__init__(denoiser, None)
        self.lam = float(lam)

    def predict(self, x_t, t, y):
        d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, need_labels(y, "cfgpp"))
        return Prediction(x0=d_u + self.lam * (d_c - d_u), x0_uncond=d_u, x0_cond=d_c, x0_renoise=d_u)
