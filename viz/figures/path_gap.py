"""How far the network trained natively on the flow path is from the VP network mapped onto that path,
per flow level σ: the chart of the "Diffusion meets flow" page and the sentence read off its numbers.

The numbers come from ``models.analysis.path_gap`` (one record per level); this module draws plain
arrays (``GapCurve``), so it needs neither torch nor the analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
from matplotlib.figure import Figure

from viz.draw.style import CLASS_COLORS, COLORS, DPI, new_figure, style_axes, text_pt

#: the chart's size in CSS px: drawn at the width the page shows it (its picture column at 1920x1080 with
#: the sidebar open), so that its type is ``viz.draw.style.TEXT_PX`` in px
GAP_DISPLAY_WIDTH, GAP_DISPLAY_HEIGHT = 900, 520
TITLE, LABEL, KEY, TICKS = text_pt("title"), text_pt("label"), text_pt("key"), text_pt("small")
MAX_CURVES = 6  # at most six entries in a key (docs/STYLE.md)
CURVE_COLORS = (COLORS["x0_hat"], COLORS["diff"], *CLASS_COLORS[2:])[:MAX_CURVES]  # blue, orange, green, ...


@dataclass(frozen=True)
class GapCurve:
    """One curve: its ``name`` (the key's words), the flow levels ``sigma`` (L,) in [0, 1], the distance
    ``gap`` (L,) at each and, where measured, its ± ``spread`` (L,) (a band around the curve)."""

    name: str
    sigma: np.ndarray
    gap: np.ndarray
    spread: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        sigma, gap = np.asarray(self.sigma, np.float64), np.asarray(self.gap, np.float64)
        if sigma.ndim != 1 or sigma.shape != gap.shape or len(sigma) < 2:
            raise ValueError(f"a gap curve needs at least two levels and one distance per level, got "
                             f"{sigma.shape} levels and {gap.shape} distances")
        if not (np.isfinite(sigma).all() and np.isfinite(gap).all()):
            raise ValueError("a gap curve's levels and distances must be finite numbers")
        if self.spread is not None and np.shape(self.spread) != gap.shape:
            raise ValueError(f"the spread needs one value per level ({gap.shape}), got {np.shape(self.spread)}")


def extremes(curve: GapCurve) -> tuple[tuple[float, float], tuple[float, float]]:
    """``((σ, gap) where the gap is smallest, (σ, gap) where it is largest)`` (the first of ties)."""
    sigma, gap = np.asarray(curve.sigma, np.float64), np.asarray(curve.gap, np.float64)
    lo, hi = int(np.argmin(gap)), int(np.argmax(gap))
    return (float(sigma[lo]), float(gap[lo])), (float(sigma[hi]), float(gap[hi]))


def gap_sentence(curve: GapCurve, unit: str = "") -> str:
    """One sentence read off ``curve``: where the two networks agree most and where they differ most, and
    whether the gap is larger near the noise (σ near 1) or near the data (σ near 0)."""
    (s_lo, g_lo), (s_hi, g_hi) = extremes(curve)
    unit = f" {unit}" if unit else ""
    if np.isclose(g_lo, g_hi, rtol=1e-3, atol=1e-12):
        return f"The two networks are about equally far apart at every level ({g_hi:.3g}{unit})."
    where = "near the noise (large σ)" if s_hi > s_lo else "near the data (small σ)"
    return (f"They differ most at σ = {s_hi:.2f} ({g_hi:.3g}{unit}) and agree best at σ = {s_lo:.2f} "
            f"({g_lo:.3g}{unit}): the gap is larger {where}.")


def path_gap_figure(curves: Sequence[GapCurve], ylabel: str, title: str,
                    size: tuple[int, int] = (GAP_DISPLAY_WIDTH, GAP_DISPLAY_HEIGHT)) -> Figure:
    """The distance per flow level σ of each of ``curves`` (at most six), σ from 1 (noise) on the left to 0
    (data) on the right, as sampling runs; the largest gap of the first curve marked and labelled where
    it is; the key (more than one curve) above the axes. ``size``: (width, height) in CSS px."""
    if not 1 <= len(curves) <= MAX_CURVES:
        raise ValueError(f"the chart draws 1 to {MAX_CURVES} curves, got {len(curves)}")
    fig = new_figure((size[0] / DPI, size[1] / DPI))
    ax = fig.subplots()
    style_axes(ax, equal=False)
    ax.tick_params(labelsize=TICKS)
    for curve, color in zip(curves, CURVE_COLORS):
        sigma, gap = np.asarray(curve.sigma, np.float64), np.asarray(curve.gap, np.float64)
        order = np.argsort(sigma)
        ax.plot(sigma[order], gap[order], color=color, lw=2.5, marker="o", ms=4, label=curve.name)
        if curve.spread is not None:
            spread = np.asarray(curve.spread, np.float64)[order]
            ax.fill_between(sigma[order], gap[order] - spread, gap[order] + spread, color=color, alpha=0.18, lw=0)
    (_, _), (s_hi, g_hi) = extremes(curves[0])
    ax.scatter([s_hi], [g_hi], s=90, color=CURVE_COLORS[0], edgecolor="black", zorder=4)
    # the σ axis runs from 1 (left) to 0 (right): a label near an end opens toward the middle
    ax.annotate(f"largest: {g_hi:.3g} at σ = {s_hi:.2f}", (s_hi, g_hi), xytext=(0, 12), textcoords="offset points",
                ha="center" if 0.15 < s_hi < 0.85 else ("left" if s_hi >= 0.85 else "right"), va="bottom",
                fontsize=KEY)
    ax.set_xlim(1.02, -0.02)  # noise on the left, data on the right: the way a sampler walks
    top = max(float(np.max(np.asarray(c.gap, np.float64) + (0 if c.spread is None else np.asarray(c.spread))))
              for c in curves)
    ax.set_ylim(0, top * 1.2 if top > 0 else 1)
    ax.set_xlabel("flow level σ  (1 = pure noise, 0 = data)", fontsize=LABEL)
    ax.set_ylabel(ylabel, fontsize=LABEL)
    fig.suptitle(title, fontsize=TITLE)
    if len(curves) > 1:  # the key above the axes, where no curve runs
        ax.legend(fontsize=KEY, loc="lower left", bbox_to_anchor=(0.0, 1.0), frameon=False, borderaxespad=0.2)
    return fig


__all__ = ["GAP_DISPLAY_HEIGHT", "GAP_DISPLAY_WIDTH", "MAX_CURVES", "GapCurve", "extremes", "gap_sentence", "path_gap_figure"]
