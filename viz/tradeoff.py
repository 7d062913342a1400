"""The guidance trade-off, drawn: quality and diversity against the guidance scale, and the tilted
density that guidance aims at. The numbers come from ``models``: the rows of
``models.evaluate.evaluate``, the data's own scores (``models.tradeoff.data_reference``) and the
tilted density's view (``models.tilt.tilt_view``).

* ``curves_figure``: class accuracy, within-class diversity and distance to the nearest training
  point against gamma, beside what the data set itself scores.
* ``tilted_figure``: ``p_t(x) p(y | x_t)^gamma`` on the 2-D mixture under the sampler's points.

Conventions as in ``models.guidance``: gamma = 0 is unconditional and gamma = 1 conditional
sampling (Ho & Salimans' ``1 + w``). Timestep ``t = -1`` is the clean data (``Schedule.abar``).
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from models.metrics import METRIC_NAMES
from models.tilt_view import CLEAN, TiltView
from viz.drawing import add_headline, add_note
from viz.style import COLORS, FONT_SIZE, LEGEND_SIZE, new_figure, style_axes

METRIC_TITLES = {"accuracy": "class accuracy", "diversity": "within-class diversity",
                 "nearest_train": "distance to nearest training point"}
METRIC_HELP = {
    "accuracy": "share of samples an independent classifier puts in the class asked for",
    "diversity": "mean distance between two samples of the same class",
    "nearest_train": "median distance from a sample to its closest training point",
}
METRIC_COLORS = {"accuracy": COLORS["x0_cond"], "diversity": COLORS["x0_hat"], "nearest_train": COLORS["diff"]}
TILT_CMAP = "Purples"


# ----------------------------------------------------------------------------- curves against gamma

def _column(rows: Sequence[Mapping], name: str) -> np.ndarray:
    return np.array([np.nan if r.get(name) is None else float(r[name]) for r in rows], np.float64)


def curves_figure(rows: Sequence[Mapping], reference: Optional[Mapping[str, float]] = None, title: str = "") -> Figure:
    """One panel per metric (``models.metrics.METRIC_NAMES``), each with one line (gid = the
    metric's name) of the metric against gamma; the data set's own score (``reference``) as a
    dashed line and gamma = 1 (plain conditional sampling) as a dotted one."""
    if not rows:
        raise ValueError("give at least one row of models.evaluate.evaluate")
    order = np.argsort(_column(rows, "gamma"))
    rows = [rows[i] for i in order]
    gammas = _column(rows, "gamma")
    if not np.isfinite(gammas).all():
        raise ValueError(f"every gamma must be finite, got {gammas.tolist()}")
    fig = new_figure((13.0, 4.3))
    axes = fig.subplots(1, len(METRIC_NAMES))
    for ax, name in zip(axes, METRIC_NAMES):
        style_axes(ax, equal=False)
        ax.axvline(1.0, color="#888888", ls=":", lw=1.4, zorder=1)
        if reference is not None and name in reference:
            ax.axhline(reference[name], color="#555555", ls="--", lw=1.4, zorder=1)
        ax.plot(gammas, _column(rows, name), color=METRIC_COLORS[name], lw=2.6, marker="o", ms=7, zorder=3, gid=name)
        ax.set_title(METRIC_TITLES[name], fontsize=FONT_SIZE, loc="left")
        ax.set_xlabel("guidance scale γ", fontsize=FONT_SIZE - 2)
        if name == "accuracy":
            ax.set_ylim(-0.03, 1.05)
        else:
            ax.set_ylim(bottom=0)
    handles = [Line2D([], [], color="#555555", ls="--", lw=1.4), Line2D([], [], color="#888888", ls=":", lw=1.4)]
    labels = ["the training data itself", "γ = 1: plain conditional sampling"]
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=LEGEND_SIZE, frameon=False)
    if title:
        add_headline(fig, title)
    return fig


# ----------------------------------------------------------------------------- the tilted density

def tilted_figure(view: TiltView, class_name: Optional[str] = None, what: str = "") -> Figure:
    """One panel per gamma of ``view`` (``models.tilt.tilt_view``): the tilted density
    ``p_t(x) p(y | x_t)^gamma`` shaded (darker = more likely) with the line around its densest 90 %,
    ``p_t(x)`` itself as grey dashed contours, and the sampler's points at that gamma on top. Below
    each panel, the share of points inside that line; on the clean data, beside each blob of the
    class, the share of points on it against the share of the tilted density's mass."""
    limits, xx, yy, t, separated = view.limits, view.xx, view.yy, view.t, view.separated
    name = class_name if class_name is not None else str(view.label)
    sub = "" if int(t) == CLEAN else "_t"

    fig = new_figure((3.5 * len(view.panels) + 0.3, 5.0))
    axes = np.atleast_1d(fig.subplots(1, len(view.panels)))
    for ax, panel in zip(axes, view.panels):
        g, dens, p = panel.gamma, panel.density, panel.points
        ax.imshow(dens / dens.max(), origin="lower", extent=(*limits[0], *limits[1]), cmap=TILT_CMAP, vmin=0, vmax=1.15,
                  interpolation="bilinear", zorder=0)
        ax.contour(xx, yy, dens, levels=[panel.level], colors=[COLORS["guided"]], linewidths=1.6, zorder=1)
        ax.contour(xx, yy, view.base, levels=view.base.max() * np.array([0.05, 0.3]), colors=COLORS["density"], linewidths=0.8,
                   linestyles="--", zorder=1)
        ax.scatter(p[:, 0], p[:, 1], s=7, c=COLORS["x0"], edgecolors="black", linewidths=0.25, zorder=3)
        share = panel.share
        if separated:
            for blob in panel.blobs:
                out = blob.centre / max(np.linalg.norm(blob.centre), 1e-9)
                ax.annotate(f"{100 * blob.points:.0f} % dots\n{100 * blob.density:.0f} % aim", blob.centre + 0.33 * out,
                            ha="center", va="center", fontsize=FONT_SIZE - 4, color="#222222", zorder=5,
                            bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.8))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal")
        ax.set_xlim(*limits[0])
        ax.set_ylim(*limits[1])
        meaning = {0.0: f"  ·  $p{sub}(x)$", 1.0: f"  ·  $p{sub}(x \\mid {name})$"}.get(g, "")
        ax.set_title(f"γ = {g:g}{meaning}", fontsize=FONT_SIZE, loc="left")
        ax.set_xlabel(f"{100 * share:.0f} % of dots inside the purple line", fontsize=FONT_SIZE - 2, color=COLORS["guided"])
    when = "on the clean data" if int(t) == CLEAN else f"at noise level t = {int(t)}"
    add_headline(fig, f"What guidance aims at: $p{sub}(x)\\,p({name} \\mid x{sub})^{{\\gamma}}$, {when}")
    add_note(fig, "Shading: the tilted density, computed exactly from the mixture and normalised on this box; "
                  "purple line: the smallest region holding 90 % of it; grey dashes: the density without guidance; "
                  "dots: the sampler's points" + (f" ({what})" if what else "") +
                  (". Beside each blob of the class: its share of the dots and of the tilted density." if separated else "."))
    return fig
