"""The density guidance aims at, exactly, on the 2-D mixture: ``p_t(x) p(y | x_t)^gamma``.

``p_t`` is the mixture's noisy marginal (``models.engine.data.mixture_density``) and ``p(y | x_t)`` the
exact class posterior (``models.engine.exact``). gamma = 0 gives ``p_t(x)``, gamma = 1 gives
``p_t(x | y)``, larger gamma sharpens the classifier's preference (Dhariwal & Nichol, arXiv
2105.05233, Sec. 4; Ho & Salimans, arXiv 2207.12598, Sec. 3). Timestep ``t = -1`` (``CLEAN``) is
the clean data (``Schedule.abar``).

Numbers only (numpy and torch): ``viz.figures.tradeoff.tilted_figure`` draws a ``TiltView``
(``models.analysis.tilted_density_records``, re-exported here, holds no torch, so the figure does not load it).
"""

from __future__ import annotations

from typing import Mapping, Optional

import numpy as np
import torch

from models.engine.data import GaussianMixture2D, make_gmm2d, mixture_density
from models.engine.exact import exact_gmm2d_denoiser
from models.engine.schedule import Schedule, make_schedule
from models.analysis.tilted_density_records import CLEAN, Blob, Limits, TiltPanel, TiltView
from models.engine.trajectory import Trajectory


def _check_tilt(label: int, gamma: float, t: int, gmm: GaussianMixture2D, schedule: Schedule) -> None:
    if not 0 <= int(label) < gmm.num_classes:
        raise ValueError(f"label must be a class in 0..{gmm.num_classes - 1}, got {label}")
    if not np.isfinite(gamma):
        raise ValueError(f"gamma must be a finite number, got {gamma}")
    if not CLEAN <= int(t) < schedule.T:
        raise ValueError(f"t must be a timestep in {CLEAN}..{schedule.T - 1} ({CLEAN}: the clean data), got {t}")


def log_tilted(points: np.ndarray, label: int, gamma: float, t: int = CLEAN, gmm: Optional[GaussianMixture2D] = None,
               schedule: Optional[Schedule] = None) -> np.ndarray:
    """``log p_t(x) + gamma log p(y | x_t)`` at ``points`` (N, 2), unnormalised (N,): the marginal
    from the mixture's closed form, the class posterior from the exact model."""
    gmm = gmm or make_gmm2d()
    schedule = schedule or make_schedule("linear")
    _check_tilt(label, gamma, t, gmm, schedule)
    p = np.asarray(points, np.float64).reshape(-1, 2)
    abar = float(schedule.abar(int(t)))
    with np.errstate(divide="ignore"):
        log_p = np.log(mixture_density(gmm, p[:, 0], p[:, 1], abar))  # (N,)
    exact = exact_gmm2d_denoiser(schedule, gmm=gmm)
    x = torch.as_tensor(p, dtype=torch.float64)
    log_post = exact.log_posterior(x, torch.full((len(p),), int(t), dtype=torch.long))[:, int(label)].numpy()  # (N,)
    return log_p + float(gamma) * log_post


def grid(limits: Limits, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """``(xx, yy)`` meshgrid of ``n`` x ``n`` points over ``limits``."""
    (x0, x1), (y0, y1) = limits
    return np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))


def cell_area(xx: np.ndarray, yy: np.ndarray) -> float:
    """The area of one cell of the grid ``(xx, yy)``."""
    return float(abs(xx[0, 1] - xx[0, 0]) * abs(yy[1, 0] - yy[0, 0]))


def tilted_density(label: int, gamma: float, xx: np.ndarray, yy: np.ndarray, t: int = CLEAN,
                   gmm: Optional[GaussianMixture2D] = None, schedule: Optional[Schedule] = None) -> np.ndarray:
    """``p_t(x) p(y | x_t)^gamma`` on the grid ``(xx, yy)``, normalised so that it sums to 1 times
    the cell area over the grid (a density on the grid's box)."""
    logw = log_tilted(np.stack([xx.ravel(), yy.ravel()], 1), label, gamma, t, gmm, schedule).reshape(xx.shape)
    finite = np.isfinite(logw)
    if not finite.any():
        raise ValueError("the tilted density is zero everywhere on this grid; widen the limits")
    w = np.where(finite, np.exp(logw - logw[finite].max()), 0.0)
    return w / (w.sum() * cell_area(xx, yy))


def densest_region_threshold(density: np.ndarray, cell: float, mass: float = 0.9) -> float:
    """The density level whose super-level set holds ``mass`` of the grid's probability (the
    densest region of that mass, its highest-density region)."""
    p = np.sort(density.ravel())[::-1] * cell
    k = int(np.searchsorted(np.cumsum(p), mass * p.sum()))
    return float(p[min(k, len(p) - 1)] / cell)


def densest_region_share(points: np.ndarray, label: int, gamma: float, t: int = CLEAN, mass: float = 0.9,
                         n: int = 200, limits: Optional[Limits] = None, gmm: Optional[GaussianMixture2D] = None,
                         schedule: Optional[Schedule] = None) -> float:
    """Share of ``points`` (N, 2) inside the densest region holding ``mass`` of the tilted density:
    about ``mass`` when the points are samples of it, less when they miss it."""
    gmm = gmm or make_gmm2d()
    schedule = schedule or make_schedule("linear")
    limits = limits or tilt_limits(t, gmm, schedule)
    xx, yy = grid(limits, n)
    logw = log_tilted(np.stack([xx.ravel(), yy.ravel()], 1), label, gamma, t, gmm, schedule)
    peak = logw[np.isfinite(logw)].max()
    w = np.exp(logw - peak).reshape(xx.shape)
    cell = cell_area(xx, yy)
    norm = w.sum() * cell
    level = densest_region_threshold(w / norm, cell, mass)
    p = np.asarray(points, np.float64).reshape(-1, 2)
    p = p[np.isfinite(p).all(1)]
    if len(p) == 0:
        return 0.0
    at_points = np.exp(log_tilted(p, label, gamma, t, gmm, schedule) - peak) / norm
    return float(np.mean(at_points >= level))


def tilt_limits(t: int = CLEAN, gmm: Optional[GaussianMixture2D] = None, schedule: Optional[Schedule] = None,
                reach: float = 3.2) -> Limits:
    """A square box holding every component of ``p_t`` out to ``reach`` of its standard deviations."""
    gmm = gmm or make_gmm2d()
    schedule = schedule or make_schedule("linear")
    abar = float(schedule.abar(int(t)))
    std = np.sqrt(abar * gmm.stds**2 + 1.0 - abar)  # (K,)
    half = float(np.max(np.linalg.norm(np.sqrt(abar) * gmm.means, axis=1) + reach * std))
    return (-half, half), (-half, half)


def points_at(traj: Trajectory, t: int) -> tuple[np.ndarray, int]:
    """The canvases of every sample at the step nearest to timestep ``t`` ((B, 2), that step's
    timestep); ``t = -1`` gives the final samples."""
    if int(t) == CLEAN:
        return traj.x[-1], CLEAN
    i = int(np.argmin(np.abs(traj.timesteps - int(t))))
    return traj.x[i], int(traj.timesteps[i])


def blob_shares(points: np.ndarray, label: int, gamma: float, t: int = CLEAN, n: int = 200,
                gmm: Optional[GaussianMixture2D] = None, schedule: Optional[Schedule] = None) -> list[Blob]:
    """For each component of class ``label``: the share of ``points`` (N, 2) and of the tilted
    density's mass that lie nearer to it than to any other component (of any class). A sampler of
    the tilted density gets the two shares equal, up to sampling noise."""
    gmm = gmm or make_gmm2d()
    schedule = schedule or make_schedule("linear")
    centres = np.sqrt(float(schedule.abar(int(t)))) * gmm.means  # (K, 2)
    xx, yy = grid(tilt_limits(t, gmm, schedule), n)
    dens = tilted_density(label, gamma, xx, yy, t, gmm, schedule).ravel()
    cells = np.stack([xx.ravel(), yy.ravel()], 1)

    def nearest(p: np.ndarray) -> np.ndarray:
        return np.linalg.norm(p[:, None, :] - centres[None], axis=2).argmin(1)  # (N,)

    p = np.asarray(points, np.float64).reshape(-1, 2)
    p = p[np.isfinite(p).all(1)]
    mass = np.bincount(nearest(cells), weights=dens, minlength=len(centres)) / dens.sum()
    counts = np.bincount(nearest(p), minlength=len(centres)) / max(len(p), 1)
    return [Blob(centres[k], float(counts[k]), float(mass[k])) for k in np.flatnonzero(gmm.comp_class == int(label))]


# ----------------------------------------------------------------------------- one view's numbers

def tilt_view(points: Mapping[float, np.ndarray], label: int, t: int = CLEAN, gmm: Optional[GaussianMixture2D] = None,
              schedule: Optional[Schedule] = None, mass: float = 0.9, n: int = 220) -> TiltView:
    """The numbers of the tilted-density figure for the sampler's ``points`` (N, 2) at each gamma:
    an ``n`` x ``n`` grid (with room for the blobs' labels when they are apart), the densities, the
    densest-``mass`` levels and shares, and the blobs' shares on the clean data."""
    if not points:
        raise ValueError("give the samples of at least one gamma")
    gmm = gmm or make_gmm2d()
    schedule = schedule or make_schedule("linear")
    by_gamma = {float(g): np.asarray(p, np.float64).reshape(-1, 2) for g, p in points.items()}
    abar = float(schedule.abar(int(t)))
    separated = abar >= 0.95
    limits = tilt_limits(t, gmm, schedule, reach=4.6 if separated else 3.2)
    xx, yy = grid(limits, n)
    cell = cell_area(xx, yy)
    panels = []
    for g in sorted(by_gamma):
        p = by_gamma[g]
        dens = tilted_density(label, g, xx, yy, t, gmm, schedule)
        share = densest_region_share(p, label, g, t, mass, gmm=gmm, schedule=schedule, limits=limits)
        blobs = tuple(blob_shares(p, label, g, t, gmm=gmm, schedule=schedule)) if separated else ()
        panels.append(TiltPanel(g, p, dens, densest_region_threshold(dens, cell, mass), share, blobs))
    return TiltView(int(label), int(t), limits, xx, yy, mixture_density(gmm, xx, yy, abar), separated, tuple(panels))


__all__ = ["Blob", "CLEAN", "TiltPanel", "TiltView", "blob_shares", "cell_area", "densest_region_share",
           "densest_region_threshold", "grid", "log_tilted", "points_at", "tilt_limits", "tilt_view", "tilted_density"]
