"""Langevin corrector steps on the guided score: predictor-corrector sampling.

After each sampler step (the predictor) lands on noise level t, ``K`` steps of Langevin dynamics on
the guided score move the samples toward the density that score belongs to (Song et al., arXiv
2011.13456, Sec. 4.2 and Algorithm 5, "PC sampling"). For CFG the guided score at level t,
``(1 - gamma) grad log p_t(x) + gamma grad log p_t(x | y)``, is the score of
``p_t(x) p_t(y | x)^gamma``. Bradley & Nakkiran (arXiv 2408.09000) read CFG itself as a
predictor-corrector whose corrector is Langevin on that density; explicit corrector steps push
further the same way. Were Langevin to mix completely at every level, the last level (t -> 0) would
give the tilted target ``p0(x) p0(y | x)^gamma``; between well-separated blobs it cannot mix at low
noise, so how the mass splits between blobs is settled at the levels where the blobs separate
(measured on gmm2d, class B, gamma = 7, 100 DDPM steps, 4000 samples: the target puts 33 % on each
of the class's three blobs; plain CFG puts 62 % on one, 65 % with K = 1, 69 % with K = 5).

One corrector step at level t, with ``g`` the guided score and ``z ~ N(0, I)``:

    g = (a_t x0_hat - x_t) / s_t^2        (Tweedie, from the guided x0 prediction at t)
    x <- x + eps g + sqrt(2 eps) z

and the step size ``eps`` set by one of two documented rules:

* ``snr`` (default, Song et al.'s Algorithm 5): ``eps = 2 alpha_t (snr |z| / |g|)^2`` with
  ``alpha_t = 1 - beta_t`` and ``snr = 0.16`` (the paper's value for its CIFAR-10 VP models).
  ``alpha_t`` is the 1000-step schedule's at the step's timestep, also when the predictor strides over
  several schedule steps at once (Song et al. write the rule for a sampler that takes every step; the
  stride's own ``abar_t / abar_prev`` would be smaller, down to about 0.5 for the noisiest strides of a
  25-step run, and the step size with it). ``alpha_t`` lies in [0.98, 1): the step size is set by
  ``snr`` and the two norms. Here
  ``|z|`` and ``|g|`` are per-sample Euclidean norms averaged over the finite samples of the batch,
  as in the authors' released code: the step is one number per step and batch, so a sample's path
  depends on its batch mates (still the same path for the same seed and batch). Near a Gaussian
  blob of variance v this gives ``eps ~ 2 snr^2 v``: a step of a few percent of the blob's variance.
* ``fixed``: ``eps = fraction * s_t^2``, the same for every sample (no batch dependence). The
  Jacobian of the unguided score is ``-(I - a^2 Cov[x0 | x_t] / s_t^2) / s_t^2``, so its stiffest
  direction has curvature at most ``1 / s_t^2`` and ``fraction < 2`` keeps unguided Langevin stable;
  the guided score at gamma weighs the conditional score by gamma, so keep ``fraction`` well below
  ``2 / gamma`` there.

Langevin with a finite step is unadjusted (no Metropolis test): on a Gaussian of variance v it is
stationary at ``v / (1 - eps / (2 v))``, a bias of ``eps / (2 v)`` (2.6 % at the default snr on a
2-D blob; tests/models/engine/test_corrector.py checks it). No correction is made on x_T (already exact
noise) or on the clean data, where the score is undefined (s = 0).

Noise is drawn in float32 on the CPU from the sampler's ``generator`` (``models.engine.samplers.
standard_normal``), after the predictor's draw of the same step: same seed, same trajectory;
``steps = 0`` draws nothing and changes nothing, bit for bit.

The samplers take it as ``corrector=`` (``models.engine.samplers``): after each step that lands on a noise
level t >= 0, ``x = corrector(denoiser, x, t, y, generator)``; ``with_corrector`` binds one to a
sampler. ``SampleSpec.corrector_steps`` / ``corrector_snr`` (declared in ``models.engine.settings``, the
flags ``--corrector-steps`` and ``--corrector-snr``) reach it through ``models.engine.pipeline.run``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import torch

from models.engine.conversions import x0_to_score
from models.engine.denoiser import predict, scales
from models.engine.samplers import _tvec, standard_normal
from models.engine.settings import CORRECTOR_SNR, CORRECTOR_STEPS
from models.engine.trajectory import Trajectory

STEP_RULES = ("snr", "fixed")
DEFAULT_SNR = CORRECTOR_SNR.default  # Song et al. (arXiv 2011.13456): snr = 0.16 for their VP models
DEFAULT_FRACTION = 0.05


@dataclass(frozen=True)
class Corrector:
    """``steps`` Langevin steps on the guided score after each sampler step (module docstring).

    ``rule`` picks the step size: ``snr`` (``eps = 2 alpha_t (snr |z| / |g|)^2``) or ``fixed``
    (``eps = fraction * s_t^2``). ``steps = 0`` is no corrector at all."""

    steps: int = CORRECTOR_STEPS.default
    snr: float = DEFAULT_SNR
    rule: str = "snr"
    fraction: float = DEFAULT_FRACTION

    def __post_init__(self) -> None:
        # The declared ranges (models.engine.settings) check steps and snr; one sentence each.
        if isinstance(self.steps, bool) or not isinstance(self.steps, (int, np.integer)):
            raise ValueError(f"corrector steps must be an integer in {CORRECTOR_STEPS.range_text()}, got {self.steps!r}")
        CORRECTOR_STEPS.check(self.steps)
        CORRECTOR_SNR.check(self.snr)
        if self.rule not in STEP_RULES:
            raise ValueError(f"unknown corrector step rule {self.rule!r}; valid: {', '.join(STEP_RULES)}")
        if isinstance(self.fraction, bool) or not (isinstance(self.fraction, (int, float))
                                                   and math.isfinite(self.fraction) and self.fraction > 0):
            raise ValueError(f"corrector fraction must be a finite number > 0, got {self.fraction!r}")

    def step_size(self, score: torch.Tensor, z: torch.Tensor, t: int, schedule) -> float:
        """The Langevin step ``eps`` at timestep ``t`` for the guided ``score`` and noise ``z`` (B, D)."""
        if self.rule == "fixed":
            return self.fraction * float(1.0 - schedule.abar(int(t)))
        return snr_step_size(score, z, self.snr, float(1.0 - schedule.betas[int(t)]))

    def __call__(self, denoiser, x: torch.Tensor, t: int, y: Optional[torch.Tensor],
                 generator: torch.Generator) -> torch.Tensor:
        """``steps`` corrector steps at timestep ``t >= 0`` on the guided score of ``denoiser``
        (a plain denoiser or a guidance wrapper); returns the new ``x`` (B, D)."""
        t = int(t)
        if t < 0:
            raise ValueError("the corrector needs a noise level t >= 0 (the score of the clean data is undefined)")
        for _ in range(self.steps):
            g = guided_score(denoiser, x, t, y)
            z = standard_normal(x.shape, generator, x)
            eps = self.step_size(g, z, t, denoiser.schedule)
            x = x + eps * g + math.sqrt(2.0 * eps) * z
        return x


def guided_score(denoiser, x: torch.Tensor, t: int, y: Optional[torch.Tensor]) -> torch.Tensor:
    """``(a_t x0_hat - x_t) / s_t^2``: the score the (guided) x0 prediction at ``t`` implies (B, D)."""
    tvec = _tvec(int(t), x)
    a, s = scales(denoiser.schedule, tvec, x)
    return x0_to_score(x, predict(denoiser, x, tvec, y).x0, a, s)


def snr_step_size(score: torch.Tensor, z: torch.Tensor, snr: float, alpha: float) -> float:
    """``2 alpha (snr mean|z| / mean|g|)^2`` over the samples whose score is finite (Song et al.,
    arXiv 2011.13456, Algorithm 5); 0 where no score is finite or every score is zero."""
    finite = torch.isfinite(score).all(dim=1)
    if not bool(finite.any()):
        return 0.0
    g_norm = float(torch.linalg.vector_norm(score[finite].double(), dim=1).mean())
    z_norm = float(torch.linalg.vector_norm(z[finite].double(), dim=1).mean())
    if not (math.isfinite(g_norm) and g_norm > 0):
        return 0.0
    return 2.0 * alpha * (snr * z_norm / g_norm) ** 2


def with_corrector(sampler: Callable[..., Trajectory], corrector: Optional[Corrector]) -> Callable[..., Trajectory]:
    """``sampler`` (one of ``models.engine.samplers.SAMPLERS``) with ``corrector`` after each of its steps;
    the sampler itself when ``corrector`` is None or takes no steps."""
    if corrector is None or corrector.steps == 0:
        return sampler
    return functools.partial(sampler, corrector=corrector)
