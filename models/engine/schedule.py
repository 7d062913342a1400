"""The noise schedule: an immutable float64 value, built once and validated.

Notation (VP form, arXiv 2006.11239): ``x_t = a_t * x0 + s_t * eps`` with
``a_t = sqrt(abar_t)``, ``s_t = sqrt(1 - abar_t)`` and ``abar_t = prod_{i<=t} (1 - beta_i)``.
The VE view (arXiv 2206.00364) uses ``sigma_t = s_t / a_t`` and ``x_ve = x_t / a_t``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SCHEDULE_KINDS = ("linear", "cosine")
#: the length T of every schedule the models use (so the most sampling steps a run can take)
TRAINING_STEPS = 1000


@dataclass(frozen=True)
class Schedule:
    """A discrete diffusion schedule of ``T`` steps; every array is float64 and read-only."""

    kind: str
    betas: np.ndarray  # (T,)
    alphas_cumprod: np.ndarray  # (T,) abar_t

    @property
    def T(self) -> int:
        """Number of training timesteps."""
        return int(self.betas.shape[0])

    def abar(self, t: np.ndarray | int) -> np.ndarray:
        """``abar_t``; the index ``-1`` means "before step 0", where abar = 1 (clean data)."""
        t = np.asarray(t)
        return np.where(t < 0, 1.0, self.alphas_cumprod[np.clip(t, 0, self.T - 1)])

    def a(self, t: np.ndarray | int) -> np.ndarray:
        """Signal scale ``a_t = sqrt(abar_t)``."""
        return np.sqrt(self.abar(t))

    def s(self, t: np.ndarray | int) -> np.ndarray:
        """Noise scale ``s_t = sqrt(1 - abar_t)``."""
        return np.sqrt(1.0 - self.abar(t))

    def sigma(self, t: np.ndarray | int) -> np.ndarray:
        """VE noise level ``sigma_t = s_t / a_t`` (0 at ``t = -1``)."""
        return self.s(t) / self.a(t)

    def timesteps(self, steps: int) -> np.ndarray:
        """``steps`` descending integer timesteps, "trailing" spacing: ``round(T - i T / steps) - 1``.

        The first step is always at ``T - 1`` (pure noise), as arXiv 2305.08891 (section 3.3)
        recommends; the step after the last one lands on clean data.
        """
        check_steps(steps, self.T)
        return (np.round(self.T - np.arange(steps) * (self.T / steps)) - 1).astype(np.int64)


def check_steps(steps, T: int) -> None:
    """``ValueError`` unless ``steps`` is an integer in 1..``T`` (a path's grid of ``steps`` levels)."""
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= T:
        raise ValueError(f"steps must be an integer in 1..{T}, got {steps!r}")


def _freeze(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def linear_betas(T: int = TRAINING_STEPS, beta_start: float = 1e-4, beta_end: float = 0.02) -> np.ndarray:
    """DDPM's linear betas (arXiv 2006.11239, section 4)."""
    return np.linspace(beta_start, beta_end, T, dtype=np.float64)


def cosine_betas(T: int = TRAINING_STEPS, s: float = 0.008, max_beta: float = 0.999) -> np.ndarray:
    """Improved-DDPM cosine schedule (arXiv 2102.09672, eq. 17), betas clipped at ``max_beta``."""
    f = lambda u: math.cos((u + s) / (1 + s) * math.pi / 2) ** 2  # noqa: E731
    return np.array([min(1 - f((i + 1) / T) / f(i / T), max_beta) for i in range(T)], dtype=np.float64)


def make_schedule(kind: str = "linear", T: int = TRAINING_STEPS) -> Schedule:
    """Build and validate a schedule; ``kind`` is one of ``SCHEDULE_KINDS``."""
    if kind == "linear":
        betas = linear_betas(T)
    elif kind == "cosine":
        betas = cosine_betas(T)
    else:
        raise ValueError(f"unknown schedule {kind!r}; valid: {', '.join(SCHEDULE_KINDS)}")
    if not (np.all(betas > 0) and np.all(betas < 1)):
        raise ValueError("betas must lie strictly between 0 and 1")
    abar = np.cumprod(1.0 - betas)
    if not np.all(np.diff(abar) < 0):
        raise ValueError("alphas_cumprod must decrease strictly")
    return Schedule(kind=kind, betas=_freeze(betas), alphas_cumprod=_freeze(abar))
