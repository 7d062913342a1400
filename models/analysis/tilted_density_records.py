"""What the tilted-density figure draws, as plain numpy records (no torch: ``viz.figures.tradeoff`` imports
this module, ``models.analysis.tilted_density`` fills it). Timestep ``CLEAN`` (-1) is the clean data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLEAN = -1  # the timestep index of the clean data (abar = 1)

Limits = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class Blob:
    """One mixture component of the guided class at noise level t: where it sits, the share of the
    sampler's points nearest to it and the share of the tilted density's mass nearest to it."""

    centre: np.ndarray  # (2,)
    points: float
    density: float


@dataclass(frozen=True)
class TiltPanel:
    """One gamma of a ``TiltView``: the sampler's points (N, 2), the tilted density on the view's
    grid, the level of its densest 90 %, the share of points inside it, and (blobs apart) the blobs."""

    gamma: float
    points: np.ndarray
    density: np.ndarray
    level: float
    share: float
    blobs: tuple[Blob, ...]


@dataclass(frozen=True)
class TiltView:
    """What ``viz.figures.tradeoff.tilted_figure`` draws: the grid over ``limits``, the untilted density
    ``base`` on it, and one ``TiltPanel`` per gamma (ascending). ``separated``: the blobs are still
    apart at t, so their shares mean something."""

    label: int
    t: int
    limits: Limits
    xx: np.ndarray
    yy: np.ndarray
    base: np.ndarray
    separated: bool
    panels: tuple[TiltPanel, ...]


__all__ = ["Blob", "CLEAN", "Limits", "TiltPanel", "TiltView"]
