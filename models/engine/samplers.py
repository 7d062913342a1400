"""Samplers: one pure function each, one shared signature, every step recorded.

``sampler(denoiser, x_T, timesteps, y, *, generator, corrector=None, **options) -> Trajectory``

``denoiser`` is a plain denoiser or a guidance wrapper (see ``models.engine.denoiser``);
``timesteps`` is a descending integer array (``Schedule.timesteps``), the step after the
last one lands on clean data (abar = 1). Fresh noise is drawn in float32 on the CPU from
``generator`` (same seed, same trajectory on every device) and only where a step adds it.

``corrector`` (``models.engine.corrector.Corrector``, or any ``(denoiser, x, t, y, generator) -> x``) runs
after each step that lands on a noise level ``t >= 0`` (not on the clean data), before the step is
recorded: ``x[i + 1]`` is the corrected state the next step starts from; ``noise[i]`` stays the
sampler's own draw. ``None`` (the default) changes nothing.

Symbols: ``abar`` = alphas_cumprod at the current t, ``abar_prev`` at the next (less noisy)
timestep, ``a = sqrt(abar)``, ``s = sqrt(1 - abar)``, ``sigma = s / a`` (VE noise level).

A small batch on the CPU (at most ``SINGLE_THREAD_BATCH`` samples, e.g. the app's 8) is sampled
with one intra-op thread: its operations are too small to gain from a second thread, and on a
busy 2-core machine torch's OpenMP threads waiting on each other made a 25-step run take seconds
instead of tens of milliseconds (see benchmarks/RESULTS.md).
"""

from __future__ import annotations

import functools
import math
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Callable, Iterator, Optional

import numpy as np
import torch

from models.engine.conversions import x0_to_eps
from models.engine.denoiser import Prediction, predict
from models.engine.names import SAMPLER_NAMES, STOCHASTIC_SAMPLERS
from models.engine.settings import ETA
from models.engine.trajectory import PART_NAMES, Trajectory


SINGLE_THREAD_BATCH = 64
_ON_STEP: ContextVar[Optional[Callable[[], None]]] = ContextVar("on_step", default=None)


@contextmanager
def on_step(callback: Callable[[], None]) -> Iterator[None]:
    """Call ``callback()`` after every step a sampler records inside the ``with`` block (the command
    lines' progress bars). A context variable: another thread (an app session) is not affected."""
    token = _ON_STEP.set(callback)
    try:
        yield
    finally:
        _ON_STEP.reset(token)


def _one_thread_for_small_batches(sampler: Callable[..., Trajectory]) -> Callable[..., Trajectory]:
    """Run ``sampler`` with one torch intra-op thread when ``x_T`` is a CPU batch of at most
    ``SINGLE_THREAD_BATCH`` samples; the thread count is put back afterwards. With torch's OpenMP
    backend the count belongs to the calling thread: another app session's script thread keeps its
    own (one that starts its first torch operation meanwhile may begin with one thread, harmlessly)."""

    @functools.wraps(sampler)
    def wrapper(denoiser, x_T: torch.Tensor, *args, **kwargs) -> Trajectory:
        before = torch.get_num_threads()
        if x_T.device.type != "cpu" or x_T.shape[0] > SINGLE_THREAD_BATCH or before == 1:
            return sampler(denoiser, x_T, *args, **kwargs)
        torch.set_num_threads(1)
        try:
            return sampler(denoiser, x_T, *args, **kwargs)
        finally:
            torch.set_num_threads(before)

    return wrapper


def standard_normal(shape: tuple[int, ...], generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    """A float32 CPU draw from ``generator``, moved to the dtype and device of ``like``."""
    return torch.randn(shape, generator=generator, dtype=torch.float32).to(like)


class _Recorder:
    """Collects x_t, the prediction, its parts and the noise of every step."""

    def __init__(self, x_T: torch.Tensor) -> None:
        self.x = [x_T]
        self.preds: list[Prediction] = []
        self.noise: list[torch.Tensor] = []
        self.on_step = _ON_STEP.get()

    def add(self, pred: Prediction, noise: Optional[torch.Tensor], x_next: torch.Tensor) -> None:
        self.preds.append(pred)
        self.noise.append(torch.zeros_like(x_next) if noise is None else noise)
        self.x.append(x_next)
        if self.on_step is not None:
            self.on_step()

    def finish(self, denoiser, timesteps: np.ndarray, y: Optional[torch.Tensor]) -> Trajectory:
        np_ = lambda ts: torch.stack([v.detach() for v in ts]).cpu().numpy()  # noqa: E731
        batch = self.x[0].shape[0]
        parts = {}
        for name in PART_NAMES:
            values = [getattr(p, name) for p in self.preds]
            if all(v is not None for v in values):
                parts[name] = np_(values)
        labels = np.full(batch, -1, np.int64) if y is None else y.detach().cpu().numpy().astype(np.int64)
        sch = denoiser.schedule
        flow = getattr(sch, "kind", None) == "flow"
        levels = np.append(np.asarray(timesteps, np.float64 if flow else np.int64), -1)  # then the clean data
        return Trajectory(timesteps=np.asarray(timesteps, np.float64 if flow else np.int64),
                          alphas_cumprod=None if flow else np.array(sch.alphas_cumprod),
                          x=np_(self.x), x0_hat=np_([p.x0 for p in self.preds]), noise=np_(self.noise),
                          labels=labels, **parts, alpha=np.asarray(sch.a(levels), np.float64),
                          sigma=np.asarray(sch.s(levels), np.float64), meta={"path": "flow" if flow else "vp"})


def _pairs(timesteps: np.ndarray):
    """``(i, t, t_prev)`` with ``t_prev = -1`` (clean data) after the last step; the levels as Python
    numbers of their own kind (integer VP steps, the flow path's float levels ``sigma * T``)."""
    ts = np.asarray(timesteps).tolist()
    return [(i, t, ts[i + 1] if i + 1 < len(ts) else -1) for i, t in enumerate(ts)]


#: a corrector: ``(denoiser, x, t, y, generator) -> x`` at timestep ``t >= 0`` (``models.engine.corrector``)
Corrector = Callable[..., torch.Tensor]


def _correct(corrector: Optional[Corrector], denoiser, x: torch.Tensor, t_prev: int, y, generator) -> torch.Tensor:
    """``x`` after the corrector at the level the step landed on; unchanged without a corrector or
    on the clean data (``t_prev < 0``), where no score exists."""
    if corrector is None or t_prev < 0:
        return x
    return corrector(denoiser, x, t_prev, y, generator)


def _tvec(t: int, x: torch.Tensor) -> torch.Tensor:
    return torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)


@_one_thread_for_small_batches
@torch.no_grad()
def sample_ddpm(denoiser, x_T: torch.Tensor, timesteps: np.ndarray, y: Optional[torch.Tensor], *,
                generator: torch.Generator, corrector: Optional[Corrector] = None) -> Trajectory:
    """Ancestral DDPM sampling (Ho et al., arXiv 2006.11239, eq. 6-7), "fixed small" variance.

    With ``beta' = 1 - abar / abar_prev``, the posterior q(x_prev | x_t, x0) has
    mean ``sqrt(abar_prev) beta' / (1 - abar) x0 + sqrt(abar / abar_prev) (1 - abar_prev) / (1 - abar) x_t``
    and variance ``(1 - abar_prev) / (1 - abar) beta'``; the last step adds no noise.
    """
    sch = denoiser.schedule
    x, rec = x_T, _Recorder(x_T)
    for _, t, t_prev in _pairs(timesteps):
        abar, abar_prev = float(sch.abar(t)), float(sch.abar(t_prev))
        beta = 1.0 - abar / abar_prev
        pred = predict(denoiser, x, _tvec(t, x), y)
        # 1. Posterior mean: a step from x_t toward the prediction.
        mean = (math.sqrt(abar_prev) * beta / (1 - abar)) * pred.x0 \
            + (math.sqrt(abar / abar_prev) * (1 - abar_prev) / (1 - abar)) * x
        # 2. Fresh noise, except on the step that lands on clean data.
        z = standard_normal(x.shape, generator, x) if t_prev >= 0 else None
        x = mean if z is None else mean + math.sqrt((1 - abar_prev) / (1 - abar) * beta) * z
        x = _correct(corrector, denoiser, x, t_prev, y, generator)
        rec.add(pred, z, x)
    return rec.finish(denoiser, timesteps, y)


@_one_thread_for_small_batches
@torch.no_grad()
def sample_ddim(denoiser, x_T: torch.Tensor, timesteps: np.ndarray, y: Optional[torch.Tensor], *,
                generator: torch.Generator, eta: float = 0.0, corrector: Optional[Corrector] = None) -> Trajectory:
    """DDIM (Song et al., arXiv 2010.02502, eq. 12); ``eta = 0`` is deterministic, ``eta = 1`` DDPM-like.

    ``sigma = eta sqrt((1 - abar_prev) / (1 - abar)) sqrt(1 - abar / abar_prev)`` and
    ``x_prev = sqrt(abar_prev) x0 + sqrt(1 - abar_prev - sigma^2) eps_hat + sigma z``.
    """
    ETA.check(eta)
    sch = denoiser.schedule
    x, rec = x_T, _Recorder(x_T)
    for _, t, t_prev in _pairs(timesteps):
        abar, abar_prev = float(sch.abar(t)), float(sch.abar(t_prev))
        pred = predict(denoiser, x, _tvec(t, x), y)
        # CFG++ (arXiv 2406.08070) re-noises along another prediction's noise estimate.
        renoise = pred.x0 if pred.x0_renoise is None else pred.x0_renoise
        eps_hat = x0_to_eps(x, renoise, math.sqrt(abar), math.sqrt(1 - abar))
        sigma = eta * math.sqrt((1 - abar_prev) / (1 - abar)) * math.sqrt(1 - abar / abar_prev)
        # 1. Deterministic part: predicted x0 re-noised to the next level along eps_hat.
        x_next = math.sqrt(abar_prev) * pred.x0 + math.sqrt(max(1 - abar_prev - sigma**2, 0.0)) * eps_hat
        # 2. Fresh noise when eta > 0.
        z = standard_normal(x.shape, generator, x) if sigma > 0 else None
        x = x_next if z is None else x_next + sigma * z
        x = _correct(corrector, denoiser, x, t_prev, y, generator)
        rec.add(pred, z, x)
    return rec.finish(denoiser, timesteps, y)


def _euler_like(denoiser, x_T, timesteps, y, heun: bool, generator, corrector) -> Trajectory:
    """Probability-flow ODE in VE space (Karras et al., arXiv 2206.00364, Algorithm 1)."""
    sch = denoiser.schedule
    x, rec = x_T, _Recorder(x_T)
    for _, t, t_prev in _pairs(timesteps):
        a, sigma = float(sch.a(t)), float(sch.sigma(t))
        a_next, sigma_next = float(sch.a(t_prev)), float(sch.sigma(t_prev))
        x_ve = x / a
        pred = predict(denoiser, x, _tvec(t, x), y)
        # Euler step.
        d = x0_to_eps(x_ve, pred.x0, 1.0, sigma)  # the VE noise estimate (a = 1, s = sigma)
        # At sigma_next = 0 the step lands exactly on the prediction; computing it as a
        # difference of two numbers of size sigma_T * |x_T| would lose float32 precision.
        x_ve_next = pred.x0 if sigma_next == 0 else x_ve + (sigma_next - sigma) * d
        # 2nd order correction (Heun), skipped on the step to sigma = 0.
        if heun and sigma_next > 0:
            d2 = x0_to_eps(x_ve_next, predict(denoiser, a_next * x_ve_next, _tvec(t_prev, x), y).x0, 1.0, sigma_next)
            x_ve_next = x_ve + (sigma_next - sigma) * (d + d2) / 2
        x = _correct(corrector, denoiser, a_next * x_ve_next, t_prev, y, generator)
        rec.add(pred, None, x)
    return rec.finish(denoiser, timesteps, y)


@_one_thread_for_small_batches
@torch.no_grad()
def sample_euler(denoiser, x_T: torch.Tensor, timesteps: np.ndarray, y: Optional[torch.Tensor], *,
                 generator: torch.Generator, corrector: Optional[Corrector] = None) -> Trajectory:
    """Euler on the probability-flow ODE: ``d = (x - D) / sigma``, ``x <- x + (sigma_next - sigma) d``
    (arXiv 2206.00364). Deterministic; ``generator`` feeds only a corrector's noise."""
    return _euler_like(denoiser, x_T, timesteps, y, False, generator, corrector)


@_one_thread_for_small_batches
@torch.no_grad()
def sample_heun(denoiser, x_T: torch.Tensor, timesteps: np.ndarray, y: Optional[torch.Tensor], *,
                generator: torch.Generator, corrector: Optional[Corrector] = None) -> Trajectory:
    """Heun's 2nd-order method on the probability-flow ODE (arXiv 2206.00364, Algorithm 1);
    Euler on the last step. Records the first of the two predictions of each step."""
    return _euler_like(denoiser, x_T, timesteps, y, True, generator, corrector)


@_one_thread_for_small_batches
@torch.no_grad()
def sample_dpmpp2m(denoiser, x_T: torch.Tensor, timesteps: np.ndarray, y: Optional[torch.Tensor], *,
                   generator: torch.Generator, corrector: Optional[Corrector] = None) -> Trajectory:
    """DPM-Solver++(2M) (Lu et al., arXiv 2211.01095, Algorithm 2), data-prediction form.

    ``lambda = log(a / s)``, ``h = lambda_next - lambda``, ``r0 = h_prev / h``,
    ``D = m0 + (m0 - m1) / (2 r0)`` and ``x_next = (s_next / s) x - a_next (exp(-h) - 1) D``.
    The first step and the step to sigma = 0 are first order (DDIM with eta = 0). With a corrector,
    the next step starts from the corrected state and keeps the predictions taken before it.
    """
    sch = denoiser.schedule
    lam = lambda t: math.log(float(sch.a(t)) / float(sch.s(t)))  # noqa: E731
    x, rec = x_T, _Recorder(x_T)
    m_prev, h_prev = None, None
    for _, t, t_prev in _pairs(timesteps):
        s, s_next, a_next = float(sch.s(t)), float(sch.s(t_prev)), float(sch.a(t_prev))
        pred = predict(denoiser, x, _tvec(t, x), y)
        m0 = pred.x0
        if t_prev < 0:
            # Last step: straight to the prediction (first order, exp(-h) = 0).
            x = a_next * m0
        else:
            h = lam(t_prev) - lam(t)
            d = m0 if m_prev is None else m0 + (m0 - m_prev) * (h / h_prev) / 2
            x = _correct(corrector, denoiser, (s_next / s) * x - a_next * math.expm1(-h) * d, t_prev, y, generator)
            h_prev = h
        m_prev = m0
        rec.add(pred, None, x)
    return rec.finish(denoiser, timesteps, y)


SAMPLERS: dict[str, Callable[..., Trajectory]] = {
    "ddpm": sample_ddpm, "ddim": sample_ddim, "euler": sample_euler,
    "heun": sample_heun, "dpmpp2m": sample_dpmpp2m,
}


def get_sampler(name: str) -> Callable[..., Trajectory]:
    """The sampler function called ``name``; raises ``ValueError`` listing the valid names."""
    try:
        return SAMPLERS[name]
    except KeyError:
        raise ValueError(f"unknown sampler {name!r}; valid: {', '.join(SAMPLER_NAMES)}") from None
