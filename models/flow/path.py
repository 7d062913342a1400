"""The flow path's noise levels and the change of variables between Gaussian paths.

A Gaussian path is a pair of scales ``(a_t, s_t)`` with ``x_t = a_t x0 + s_t eps``. The VP path of
``models.engine.schedule`` has ``a^2 + s^2 = 1``; the flow (rectified-flow) path has ``a = 1 - sigma``,
``s = sigma``, ``sigma`` in [0, 1] (arXiv 2209.03003, 2210.02747; Stable Diffusion 3, arXiv 2403.03206).

A flow level is named, as diffusers names it, by ``t = sigma * T`` (a float, ``T = 1000``); ``t < 0``
means the clean data (``sigma = 0``), as on the VP path. ``FlowSchedule.timesteps`` gives the levels of
diffusers' ``FlowMatchEulerDiscreteScheduler.set_timesteps(steps)`` at the same shift: ``steps`` values
evenly spaced from ``1`` to the training grid's smallest ``sigma`` (``1 / T``, shifted), each then shifted
by ``shift sigma / (1 + (shift - 1) sigma)`` (SD3's timestep shift; the smallest level is thus shifted
twice, as there). The step after the last lands on ``sigma = 0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.engine.schedule import TRAINING_STEPS, Schedule, check_steps


def shifted(sigma, shift: float):
    """SD3's timestep shift (arXiv 2403.03206, eq. 23): ``shift sigma / (1 + (shift - 1) sigma)``."""
    return shift * sigma / (1 + (shift - 1) * sigma)


@dataclass(frozen=True)
class FlowSchedule:
    """The flow path ``x_t = (1 - sigma) x0 + sigma eps`` at a timestep shift; levels ``t = sigma * T``."""

    shift: float = 1.0
    T: int = TRAINING_STEPS
    kind: str = "flow"

    def flow_sigma(self, t) -> np.ndarray:
        """``sigma = t / T`` (0 at ``t < 0``: the clean data), float64."""
        t = np.asarray(t, np.float64)
        return np.where(t < 0, 0.0, t / self.T)

    def a(self, t) -> np.ndarray:
        """Signal scale ``1 - sigma``."""
        return 1.0 - self.flow_sigma(t)

    def s(self, t) -> np.ndarray:
        """Noise scale ``sigma``."""
        return self.flow_sigma(t)

    def sigma(self, t) -> np.ndarray:
        """VE noise level ``s / a`` (inf at ``sigma = 1``, 0 on the clean data): the level's name shared by every path."""
        with np.errstate(divide="ignore"):
            return self.s(t) / self.a(t)

    def timesteps(self, steps: int) -> np.ndarray:
        """``steps`` descending levels ``t = sigma * T`` (float64), diffusers' default grid at ``shift``."""
        check_steps(steps, self.T)
        sigma_min = float(shifted(1.0 / self.T, self.shift))  # the training grid's smallest level
        sigmas = shifted(np.linspace(1.0, sigma_min, steps), self.shift)
        return sigmas * self.T


def posterior(a: float, s: float, a_next: float, s_next: float) -> tuple[float, float, float]:
    """The Gaussian posterior ``q(x_next | x_t, x0)`` of a path from scales ``(a, s)`` to the less noisy
    ``(a_next, s_next)``: ``(c_x, c_0, std)`` with mean ``c_x x_t + c_0 x0`` (arXiv 2107.00630, eq. 32-33).

    With ``r = a / a_next`` and ``v = s^2 - r^2 s_next^2`` (the variance added between the levels):
    ``c_x = r s_next^2 / s^2``, ``c_0 = a_next v / s^2``, ``std^2 = v s_next^2 / s^2``. On the VP path
    this is DDPM's posterior (arXiv 2006.11239, eq. 7)."""
    r = a / a_next
    v = max(s * s - r * r * s_next * s_next, 0.0)
    return r * s_next**2 / s**2, a_next * v / s**2, math.sqrt(v * s_next**2) / s


#: a path's levels: the VP ``Schedule`` or the ``FlowSchedule``
Levels = Schedule | FlowSchedule


def path_of(schedule) -> str:
    """``"flow"`` for a ``FlowSchedule``, else ``"vp"``."""
    return "flow" if getattr(schedule, "kind", None) == "flow" else "vp"


def make_levels(path: str, shift: float = 1.0, vp: Schedule | None = None) -> Levels:
    """The levels of ``path``: ``vp`` (the given VP schedule, else the linear one) or ``flow`` at ``shift``."""
    from models.engine.names import PATH_NAMES
    from models.engine.schedule import make_schedule

    if path == "vp":
        return vp if vp is not None else make_schedule("linear")
    if path == "flow":
        return FlowSchedule(shift=float(shift))
    raise ValueError(f"unknown path {path!r}; valid: {', '.join(PATH_NAMES)}")


def _vp_t_of_logsnr(schedule: Schedule, logsnr: np.ndarray) -> np.ndarray:
    """The (fractional) VP timestep whose log-SNR ``log(abar / (1 - abar))`` is ``logsnr``, by linear
    interpolation between the schedule's integer steps; clipped to ``[0, T - 1]``."""
    abar = np.asarray(schedule.alphas_cumprod, np.float64)
    grid = np.log(abar) - np.log1p(-abar)  # decreasing in t
    t = np.arange(schedule.T, dtype=np.float64)
    return np.interp(-np.asarray(logsnr, np.float64), -grid, t)


def match_level(a, s, target: Levels) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The change of variables between Gaussian paths, stated once.

    A point ``x = a x0 + s eps`` of one path (scales ``a``, ``s``, arrays) is the point ``k x`` of
    ``target`` at the level with the same signal-to-noise ratio ``a / s``; returns ``(k, t, a', s')``:
    the factor ``k``, the target's level ``t`` and its scales ``a' = k a``, ``s' = k s``. A denoiser's x0
    prediction at ``x`` equals the target's at ``k x``, since both see the same ``x0`` and ``eps``.

    * flow target: ``sigma' = s / (a + s)``, ``k = 1 / (a + s)``, ``t = sigma' T``;
    * VP target: ``k = 1 / sqrt(a^2 + s^2)``; ``t`` interpolates the schedule's log-SNR (a fraction
      of a step), clipped to its ends, where ``a'`` and ``s'`` are the schedule's own scales at that end and
      ``k`` matches the signal (at the least-noise end) or the noise (at the most-noise end).
    """
    a, s = np.asarray(a, np.float64), np.asarray(s, np.float64)
    if path_of(target) == "flow":
        k = 1.0 / (a + s)
        return k, s * k * target.T, a * k, s * k
    k = 1.0 / np.sqrt(a**2 + s**2)
    with np.errstate(divide="ignore"):
        logsnr = 2 * (np.log(a) - np.log(s))
    t = _vp_t_of_logsnr(target, logsnr)
    lo, hi = 0.0, float(target.T - 1)
    a_end = np.where(t <= lo, float(target.a(0)), float(target.a(target.T - 1)))
    s_end = np.where(t <= lo, float(target.s(0)), float(target.s(target.T - 1)))
    inside = (t > lo) & (t < hi)
    a2, s2 = np.where(inside, a * k, a_end), np.where(inside, s * k, s_end)
    # Beyond the schedule's ends the SNR cannot be matched: below its least noise, match the signal
    # (the network sees a nearly clean point); above its most, match the noise.
    safe_a, safe_s = np.where(a > 0, a, 1.0), np.where(s > 0, s, 1.0)
    k = np.where(inside, k, np.where(t <= lo, a_end / safe_a, s_end / safe_s))
    return k, t, a2, s2
