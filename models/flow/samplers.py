"""Samplers on the flow path ``x_t = (1 - sigma) x0 + sigma eps``, same signature as ``models.engine.samplers``.

``sampler(denoiser, x_T, timesteps, y, *, generator) -> Trajectory`` with ``denoiser.schedule`` a
``models.flow.path.FlowSchedule`` and ``timesteps`` its descending levels ``sigma * T``
(``FlowSchedule.timesteps``); the step after the last lands on ``sigma = 0``.

The velocity of the path is ``u = eps - x0``; from an x0 prediction at ``x_t`` the model's velocity is
``u_hat = (x_t - x0_hat) / sigma`` (because ``x_t = (1 - sigma) x0_hat + sigma eps_hat`` holds for the
model's own predictions), so every sampler here needs only the denoiser contract.

* ``euler``: ``x <- x + (sigma_next - sigma) u_hat``, the update of diffusers'
  ``FlowMatchEulerDiscreteScheduler`` (deterministic; equal to DDIM with eta = 0 after the change of
  variables ``models.flow.path.match_level``);
* ``heun``: Heun's second-order method on the same ODE; Euler on the step to ``sigma = 0``;
* ``ddpm``: ancestral sampling with the flow's marginals: the exact Gaussian posterior
  ``q(x_next | x_t, x0 = x0_hat)`` of the path, sampled (re-noising, as DDPM does on the VP path).
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import torch

from models.engine.denoiser import predict
from models.engine.samplers import _one_thread_for_small_batches, _pairs, _Recorder, standard_normal
from models.engine.trajectory import Trajectory
from models.flow.path import posterior


def _tvec(t: float, x: torch.Tensor) -> torch.Tensor:
    """The level ``t = sigma * T`` for every sample, float64."""
    return torch.full((x.shape[0],), float(t), dtype=torch.float64, device=x.device)


def _sigmas(denoiser, t: float, t_next: float) -> tuple[float, float]:
    sch = denoiser.schedule
    return float(sch.s(t)), float(sch.s(t_next))


def _velocity(x: torch.Tensor, x0: torch.Tensor, sigma: float) -> torch.Tensor:
    """``u_hat = (x_t - x0_hat) / sigma``: the model's ``eps_hat - x0_hat``."""
    return (x - x0) / sigma


def _flow_euler_like(denoiser, x_T: torch.Tensor, timesteps: np.ndarray, y: Optional[torch.Tensor],
                     heun: bool) -> Trajectory:
    """Euler on the flow ODE ``dx / dsigma = u`` and, with ``heun``, Heun's correction (skipped on the
    step to ``sigma = 0``). Records the first prediction of each step."""
    x, rec = x_T, _Recorder(x_T)
    for _, t, t_next in _pairs(timesteps):
        sigma, sigma_next = _sigmas(denoiser, t, t_next)
        pred = predict(denoiser, x, _tvec(t, x), y)
        d = _velocity(x, pred.x0, sigma)
        x_next = x + (sigma_next - sigma) * d
        if heun and sigma_next > 0:
            d2 = _velocity(x_next, predict(denoiser, x_next, _tvec(t_next, x), y).x0, sigma_next)
            x_next = x + (sigma_next - sigma) * (d + d2) / 2
        x = x_next
        rec.add(pred, None, x)
    return rec.finish(denoiser, timesteps, y)


@_one_thread_for_small_batches
@torch.no_grad()
def sample_flow_euler(denoiser, x_T: torch.Tensor, timesteps: np.ndarray, y: Optional[torch.Tensor], *,
                      generator: torch.Generator, corrector=None) -> Trajectory:
    """Euler on the flow ODE ``dx / dsigma = u``: ``x <- x + (sigma_next - sigma) (x - x0_hat) / sigma``."""
    return _flow_euler_like(denoiser, x_T, timesteps, y, False)


@_one_thread_for_small_batches
@torch.no_grad()
def sample_flow_heun(denoiser, x_T: torch.Tensor, timesteps: np.ndarray, y: Optional[torch.Tensor], *,
                     generator: torch.Generator, corrector=None) -> Trajectory:
    """Heun's method on the flow ODE: the Euler step's end, its velocity, and the mean of the two
    velocities; Euler on the step to ``sigma = 0``. Records the first of the two predictions."""
    return _flow_euler_like(denoiser, x_T, timesteps, y, True)


@_one_thread_for_small_batches
@torch.no_grad()
def sample_flow_ddpm(denoiser, x_T: torch.Tensor, timesteps: np.ndarray, y: Optional[torch.Tensor], *,
                     generator: torch.Generator, corrector=None) -> Trajectory:
    """Ancestral sampling on the flow path: ``x_next ~ q(x_next | x_t, x0 = x0_hat)`` (``posterior``),
    fresh noise at every step but the last (which lands on ``x0_hat``)."""
    sch = denoiser.schedule
    x, rec = x_T, _Recorder(x_T)
    for _, t, t_next in _pairs(timesteps):
        a, s, a_next, s_next = (float(v) for v in (sch.a(t), sch.s(t), sch.a(t_next), sch.s(t_next)))
        pred = predict(denoiser, x, _tvec(t, x), y)
        c_x, c_0, std = posterior(a, s, a_next, s_next)
        mean = c_x * x + c_0 * pred.x0
        z = standard_normal(x.shape, generator, x) if t_next >= 0 else None
        x = mean if z is None else mean + std * z
        rec.add(pred, z, x)
    return rec.finish(denoiser, timesteps, y)


FLOW_SAMPLERS: dict[str, Callable[..., Trajectory]] = {
    "euler": sample_flow_euler, "heun": sample_flow_heun, "ddpm": sample_flow_ddpm,
}
