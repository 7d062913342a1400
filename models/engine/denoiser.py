"""The denoiser contract shared by exact and neural models, and the record of one prediction.

A denoiser is called as ``denoiser(x_t, t, y)`` with ``x_t`` (B, D), ``t`` (B,) integer
timesteps of the shared schedule and ``y`` (B,) class labels or ``None`` (unconditional);
it returns the x0 prediction (B, D). Guidance wrappers keep that signature and also
``predict(x_t, t, y)``, which returns a ``Prediction`` with the parts they combined.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Protocol

from models.engine.schedule import Schedule

if TYPE_CHECKING:  # torch is imported where a prediction is computed, so the guidance cards stay cheap
    import torch


class Denoiser(Protocol):
    """Anything that maps ``(x_t, t, y)`` to an x0 prediction on a known schedule."""

    schedule: Schedule
    num_classes: int

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor, y: Optional[torch.Tensor]) -> torch.Tensor: ...


@dataclass
class Prediction:
    """One x0 prediction and, where the guidance has them, the parts it was built from.

    ``x0 = x0_uncond + gamma * (x0_cond - x0_uncond)`` for CFG, and
    ``x0 = x0_uncond + gamma * classifier_shift`` for classifier and universal guidance,
    where ``classifier_shift = s**2 / a * grad log p(y | x_t)`` is the x0-space shift at gamma = 1.
    """

    x0: torch.Tensor  # (B, D)
    x0_uncond: Optional[torch.Tensor] = None  # (B, D)
    x0_cond: Optional[torch.Tensor] = None  # (B, D)
    classifier_shift: Optional[torch.Tensor] = None  # (B, D)
    x0_renoise: Optional[torch.Tensor] = None  # (B, D): DDIM re-noises along this prediction's noise (CFG++)


def predict(denoiser, x_t: torch.Tensor, t: torch.Tensor, y: Optional[torch.Tensor]) -> Prediction:
    """Call a denoiser or guidance wrapper and return a ``Prediction`` (parts where it has them)."""
    if hasattr(denoiser, "predict"):
        return denoiser.predict(x_t, t, y)
    return Prediction(x0=denoiser(x_t, t, y))


def scales(schedule: Schedule, t: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(a_t, s_t)`` as (B, 1) tensors with the dtype and device of ``like``."""
    import torch

    t_np = t.detach().cpu().numpy()
    a = torch.as_tensor(schedule.a(t_np), dtype=like.dtype, device=like.device).reshape(-1, 1)
    s = torch.as_tensor(schedule.s(t_np), dtype=like.dtype, device=like.device).reshape(-1, 1)
    return a, s
