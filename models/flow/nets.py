"""The flow path's networks: a natively trained velocity network, and any denoiser moved to another path.

* ``VelocityNet``: predicts the flow velocity ``u = eps - x0`` from ``(x_t, t = sigma * T, y)`` on the
  flow path (conditional flow matching, arXiv 2210.02747; rectified flow, arXiv 2209.03003), label
  ``num_classes`` being the null label (label dropout, arXiv 2207.12598); it returns the x0 prediction
  ``x0 = (x_t - s u) / (a + s)`` (``x_t - sigma u`` on the flow path).
* ``OnPath``: a denoiser (or classifier) of one path evaluated on another through
  ``models.flow.path.match_level``: scale ``x_t`` and take the level with the same signal-to-noise ratio.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from models.engine.nets import NeuralDenoiser, batched_pair
from models.flow.path import FlowSchedule, match_level, path_of


class VelocityNet(NeuralDenoiser):
    """Class-conditional flow-matching MLP: the network of ``NeuralDenoiser`` (same layers, null label and
    embedding of the level ``t = sigma * T``) whose raw output is the velocity ``u = eps - x0`` on the flow
    path; it follows the denoiser contract (returns x0)."""

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        self.schedule = FlowSchedule()  # its path (a shift moves only where a run's levels lie)

    def u(self, x_t: torch.Tensor, t: torch.Tensor, y: Optional[torch.Tensor]) -> torch.Tensor:
        """Raw network output: the velocity ``eps - x0`` (B, D) at levels ``t = sigma * T``."""
        return self.v(x_t, t, y)

    def x0_at(self, x_t: torch.Tensor, t: torch.Tensor, a: torch.Tensor, s: torch.Tensor,
              y: Optional[torch.Tensor]) -> torch.Tensor:
        """x0 prediction at level ``t`` of scales ``a``, ``s`` (B, 1): ``(x_t - s u) / (a + s)``."""
        return (x_t - s * self.u(x_t, t, y)) / (a + s)


def _matched(levels, inner_schedule, t: torch.Tensor, like: torch.Tensor):
    """``(k, t', a', s')`` as tensors: ``match_level`` from ``levels`` at ``t`` to ``inner_schedule``."""
    t_np = t.detach().cpu().numpy()  # VP levels are integer steps (an index); flow levels are floats
    if path_of(levels) == "flow":
        t_np = t_np.astype(np.float64)
    k, t2, a2, s2 = match_level(levels.a(t_np), levels.s(t_np), inner_schedule)
    col = lambda v: torch.as_tensor(v, dtype=like.dtype, device=like.device).reshape(-1, 1)  # noqa: E731
    return col(k), torch.as_tensor(t2, dtype=torch.float64, device=like.device), col(a2), col(s2)


class OnPath:
    """A network denoiser (with ``x0_at``) of its own path, evaluated on the path of ``levels``.

    At a level ``t`` of ``levels`` with scales ``(a, s)`` the input is scaled to ``k x_t`` and the
    network is asked at the level ``t'`` of its own path with the same signal-to-noise ratio
    (``models.flow.path.match_level``); its x0 prediction is the answer, unchanged."""

    is_exact = False

    def __init__(self, inner, levels) -> None:
        self.inner, self.schedule = inner, levels
        self.num_classes = inner.num_classes

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor, y: Optional[torch.Tensor]) -> torch.Tensor:
        k, t2, a2, s2 = _matched(self.schedule, self.inner.schedule, t, x_t)
        return self.inner.x0_at(k * x_t, t2, a2, s2, y)

    def predict_pair(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor):
        """``(D_u, D_c)`` in one batched call."""
        return batched_pair(self, x_t, t, y, self.num_classes)


class ClassifierOnPath:
    """A noise-aware classifier ``(x_t, t) -> log p(y | x_t)`` of its own path, on the path of ``levels``."""

    def __init__(self, inner, levels) -> None:
        self.inner, self.schedule = inner, levels

    def __call__(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        k, t2, _, _ = _matched(self.schedule, self.inner.schedule, t, x_t)
        return self.inner(k * x_t, t2)

    def x0_shift(self, x_t: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Classifier guidance's x0-space shift at gamma 1, ``s'^2 / a' * grad' log p(y | x')``, taken in the
        classifier's own path at ``x' = k x_t``: the same number as ``s^2 / a * grad log p(y | x_t)`` wherever
        the levels match, and finite at the flow path's ``sigma = 1`` (``a = 0``), which maps to the
        classifier's noisiest level (``a' > 0``)."""
        k, t2, a2, s2 = _matched(self.schedule, self.inner.schedule, t, x_t)
        with torch.enable_grad():
            x = (k * x_t).detach().requires_grad_(True)
            logp = self.inner(x, t2)
            grad, = torch.autograd.grad(logp.gather(1, y.to(logp.device).long()[:, None]).sum(), x)
        return s2**2 / a2 * grad
