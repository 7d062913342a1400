"""The guidance trade-off, drawn: quality and diversity against the guidance scale, and the tilted
density that guidance aims at. The numbers come from ``models``: the rows of
``models.analysis.evaluate.evaluate``, the data's own scores (``models.analysis.tradeoff.data_reference``) and the
tilted density's view (``models.analysis.tilted_density.tilt_view``).

* ``curves_figure``: class accuracy, within-class diversity and distance to the nearest training
  point against gamma, beside what the data set itself scores.
* ``tilted_figure``: ``p_t(x) p(y | x_t)^gamma`` on the 2-D mixture under the sampler's points.
* ``exact_target_figure``: how far samplers land from that target on the clean data, ``tilted_tv``
  against gamma (``models.analysis.tilted_target_gap``), and the target's exact draws beside a sampler's samples.

Conventions as in ``models.guidance``: gamma = 0 is unconditional and gamma = 1 conditional
sampling (Ho & Salimans' ``1 + w``). Timestep ``t = -1`` is the clean data (``Schedule.abar``).
"""

from __future__ import annotations

import textwrap
from typing import Mapping, Optional, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle

from models.analysis.metrics import METRIC_NAMES
from models.engine.settings import GAMMA, Setting
from models.analysis.tilted_density_records import CLEAN, TiltView
from models.analysis.tilted_target_gap import EXACT, GapPanel, GapView
from models.analysis.tradeoff import row_scale
from viz.figures.field import CLASS_COLORS
from models.engine.data import load_dataset
from viz.draw.style import COLORS, DPI, TEXT_PX, class_color_name, new_figure, style_axes, text_pt

METRIC_TITLES = {"accuracy": "class accuracy", "diversity": "within-class diversity",
                 "nearest_train": "distance to nearest training point"}
METRIC_HELP = {
    "accuracy": "share of samples an independent classifier puts in the class asked for",
    "diversity": "mean distance between two samples of the same class",
    "nearest_train": "median distance from a sample to its closest training point",
}
METRIC_COLORS = {"accuracy": COLORS["x0_cond"], "diversity": COLORS["x0_hat"], "nearest_train": COLORS["diff"]}
TILT_CMAP = "Purples"

#: The width, in CSS px, at which the trade-off page shows its figures on a 1920x1080 screen: the main
#: column beside the open sidebar (the page's ``st.image(..., width="stretch")``, measured in Chromium:
#: 1556 px; wider with the sidebar collapsed). The curves and the tilted density are drawn that many
#: pixels wide (one figure pixel = one CSS pixel), so their type sizes are ``viz.draw.style.TEXT_PX`` in px.
TRADEOFF_DISPLAY_WIDTH = 1556
FIG_WIDTH = TRADEOFF_DISPLAY_WIDTH / DPI  # inches


def _headline(fig: Figure, text: str) -> None:
    """What the figure shows, left-aligned along the top, in the headline's px size."""
    fig.suptitle(text, fontsize=text_pt("headline"), x=0.01, ha="left")


def _note(fig: Figure, text: str) -> None:
    """Small grey print along the bottom, wrapped to the figure's width (in ``TEXT_PX["small"]`` px)."""
    chars = int(fig.get_figwidth() * fig.dpi / (0.55 * TEXT_PX["small"]))  # a character is ~0.55 em wide
    fig.supxlabel(textwrap.fill(text, chars), fontsize=text_pt("small"), color="#444444", x=0.01, ha="left")


def _readable_axes(ax) -> None:
    """``style_axes`` (light grid, no equal aspect) with tick labels in ``TEXT_PX["small"]`` px."""
    style_axes(ax, equal=False)
    ax.tick_params(labelsize=text_pt("small"))


# ----------------------------------------------------------------------------- curves against gamma

def _column(rows: Sequence[Mapping], name: str) -> np.ndarray:
    return np.array([np.nan if r.get(name) is None else float(r[name]) for r in rows], np.float64)


def curves_figure(rows: Sequence[Mapping], reference: Optional[Mapping[str, float]] = None, title: str = "",
                  scale: Optional[Setting] = None, width: Optional[int] = None) -> Figure:
    """One panel per metric (``models.analysis.metrics.METRIC_NAMES``), each with one line (gid = the
    metric's name) of the metric against gamma; the data set's own score (``reference``) as a
    dashed line and gamma = 1 (plain conditional sampling) as a dotted one. ``scale`` is the swept
    setting (``models.analysis.tradeoff.swept``; by default the one the rows hold, ``row_scale``): the rows
    are read by its name, the x axis is labelled with it, and for a setting other than gamma (CFG++'s
    λ) the gamma = 1 line is left out. ``width``: CSS px wide (default ``TRADEOFF_DISPLAY_WIDTH``), as tall."""
    if not rows:
        raise ValueError("give at least one row of models.analysis.evaluate.evaluate")
    scale = scale or row_scale(rows)
    by_gamma = scale.name == GAMMA.name
    order = np.argsort(_column(rows, scale.name))
    rows = [rows[i] for i in order]
    gammas = _column(rows, scale.name)
    if not np.isfinite(gammas).all():
        raise ValueError(f"every {scale.words} must be finite, got {gammas.tolist()}")
    fig = new_figure((FIG_WIDTH if width is None else width / DPI, 5.2))
    axes = fig.subplots(1, len(METRIC_NAMES))
    for ax, name in zip(axes, METRIC_NAMES):
        _readable_axes(ax)
        if by_gamma:
            ax.axvline(1.0, color="#888888", ls=":", lw=1.4, zorder=1)
        if reference is not None and name in reference:
            ax.axhline(reference[name], color="#555555", ls="--", lw=1.4, zorder=1)
        ax.plot(gammas, _column(rows, name), color=METRIC_COLORS[name], lw=2.6, marker="o", ms=7, zorder=3, gid=name)
        ax.set_title(METRIC_TITLES[name], fontsize=text_pt("title"), loc="left")
        ax.set_xlabel("guidance scale γ" if by_gamma else f"{scale.label}", fontsize=text_pt("label"))
        if name == "accuracy":
            ax.set_ylim(-0.03, 1.05)
        else:
            ax.set_ylim(bottom=0)
    handles = [Line2D([], [], color="#555555", ls="--", lw=1.4), Line2D([], [], color="#888888", ls=":", lw=1.4)]
    labels = ["the training data itself", "γ = 1: plain conditional sampling"]
    keep = 2 if by_gamma else 1
    fig.legend(handles[:keep], labels[:keep], loc="outside lower center", ncols=2, fontsize=text_pt("key"),
               frameon=False)
    if title:
        _headline(fig, title)
    return fig


# ----------------------------------------------------------------------------- the tilted density

def tilted_figure(view: TiltView, class_name: Optional[str] = None, what: str = "") -> Figure:
    """One panel per gamma of ``view`` (``models.analysis.tilted_density.tilt_view``): the tilted density
    ``p_t(x) p(y | x_t)^gamma`` shaded (darker = more likely) with the line around its densest 90 %,
    ``p_t(x)`` itself as grey dashed contours, and the sampler's points at that gamma on top. Below
    each panel, the share of points inside that line; on the clean data, beside each blob of the
    class, the share of points on it against the share of the tilted density's mass."""
    limits, xx, yy, t, separated = view.limits, view.xx, view.yy, view.t, view.separated
    name = class_name if class_name is not None else str(view.label)
    sub = "" if int(t) == CLEAN else "_t"

    n = len(view.panels)  # square panels across the page's width, under the headline, above the note
    fig = new_figure((FIG_WIDTH, min(FIG_WIDTH / n + 1.6, 9.0)))
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
                            ha="center", va="center", fontsize=text_pt("small"), color="#222222", zorder=5,
                            bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.8))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal")
        ax.set_xlim(*limits[0])
        ax.set_ylim(*limits[1])
        meaning = {0.0: f"  ·  $p{sub}(x)$", 1.0: f"  ·  $p{sub}(x \\mid {name})$"}.get(g, "")
        ax.set_title(f"γ = {g:g}{meaning}", fontsize=text_pt("title"), loc="left")
        ax.set_xlabel(f"{100 * share:.0f} % of dots inside the purple line", fontsize=text_pt("key"), color=COLORS["guided"])
    when = "on the clean data" if int(t) == CLEAN else f"at noise level t = {int(t)}"
    _headline(fig, f"What guidance aims at: $p{sub}(x)\\,p({name} \\mid x{sub})^{{\\gamma}}$, {when}")
    _note(fig, "Shading: the tilted density, computed exactly from the mixture and normalised on this box; "
                  "purple line: the smallest region holding 90 % of it; grey dashes: the density without guidance; "
                  "dots: the sampler's points" + (f" ({what})" if what else "") +
                  (". Beside each blob of the class: its share of the dots and of the tilted density." if separated else "."))
    return fig


# ----------------------------------------------------------------------------- the exact target

#: how wide the trade-off page shows the exact-target figure on a 1920x1080 screen (the main column
#: beside the open sidebar, measured in Chromium: 1556 px). Drawn 1400 px wide (14 in at 100 dpi),
#: so a point is 1556 / 1400 * 100 / 72 = 1.54 px there
GAP_DISPLAY_WIDTH = TRADEOFF_DISPLAY_WIDTH
GAP_FIG_SIZE = (14.0, 5.6)
GAP_TITLE, GAP_TEXT, GAP_SMALL = 15, 13, 11  # points: 23.2, 20.1 and 17.0 px at GAP_DISPLAY_WIDTH
GAP_STYLES = (  # DDPM, DDIM, DDPM + corrector, flow Euler: colours apart from the classes' (viz.figures.field.CLASS_COLORS)
    dict(color="#000000", marker="o", ls="-"), dict(color="#CC79A7", marker="s", ls="--"),
    dict(color="#D55E00", marker="^", ls="-"), dict(color="#8C510A", marker="v", ls="-.", mfc="none", mew=1.8),
)
EXACT_STYLE = dict(color="#777777", marker="D", ls=":")  # the exact draws' curve, wherever it comes
BAND_COLOR = "#DDDDDD"
LEGEND_ROOM = 1.6  # the curves' axis reaches this times their highest point (error bar included): room for the legend
GAP_NOTE_CHARS = 150  # characters a line of the note holds at GAP_SMALL across GAP_FIG_SIZE[0]


def _gap_curves(ax, view: GapView) -> None:
    """tilted_tv against gamma, each curve with error bars of one Monte Carlo error, over the band
    where exact draws of the same size land."""
    gammas = np.asarray(view.curves[0].gammas, np.float64)
    style_axes(ax, equal=False)
    ax.tick_params(labelsize=GAP_SMALL)
    ax.fill_between(gammas, 0.0, view.band, color=BAND_COLOR, lw=0, zorder=1,
                    label="floor: 95 % of exact draws score below")
    samplers = iter(GAP_STYLES)
    for curve in view.curves:
        style = EXACT_STYLE if curve.name == EXACT.name else next(samplers)
        ax.errorbar(gammas, np.asarray(curve.tv, np.float64), yerr=np.asarray(curve.se, np.float64), lw=2.2, ms=6.5, capsize=3, zorder=3, label=curve.name, gid=curve.name,
                    **style)
    ax.axvline(view.gamma, color="#999999", lw=1.0, zorder=0)
    ax.set_xlabel("guidance scale γ", fontsize=GAP_TEXT)
    ax.set_ylabel("tilted_tv (total variation to the target's shares)", fontsize=GAP_SMALL)
    highest = max([float(np.nanmax(np.asarray(c.tv) + np.asarray(c.se))) for c in view.curves] + [max(view.band)])
    ax.set_ylim(0, LEGEND_ROOM * highest)  # the legend's six rows above the curves, not over them
    ax.set_title(f"Distance to the exact target, class {view.class_name}", fontsize=GAP_TEXT, loc="left")
    ax.legend(loc="upper left", fontsize=GAP_SMALL, frameon=True, framealpha=0.9)


def _gap_points(ax, view: GapView, p: GapPanel, tv: Optional[tuple[float, float]]) -> None:
    """One panel of samples coloured by the class of the component each belongs to, the mixture's
    components as rings, and beside each blob of the class its share of the samples against the target's."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal")
    lim = 1.25
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ok = p.component >= 0
    colors = np.array(CLASS_COLORS)[view.comp_class[p.component[ok]]]
    ax.scatter(p.points[ok, 0], p.points[ok, 1], s=5, c=colors, alpha=0.55, linewidths=0, zorder=2)
    for k, centre in enumerate(view.means):
        ax.add_patch(Circle(centre, 2 * 0.09, fill=False, ec=CLASS_COLORS[int(view.comp_class[k])], lw=1.2, zorder=1))
    for k in view.blobs:
        centre = view.means[k]
        out = centre / max(float(np.linalg.norm(centre)), 1e-9)
        ax.annotate(f"{100 * p.shares[k]:.0f} %\naim {100 * view.target[k]:.0f} %", centre + 0.36 * out, ha="center",
                    va="center", fontsize=GAP_SMALL, color="#111111", zorder=5,
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85))
    ax.set_title(f"{p.name}, γ = {view.gamma:g}", fontsize=GAP_TEXT, loc="left")
    if tv is not None:
        ax.set_xlabel(f"tilted_tv {tv[0]:.3f} ± {tv[1]:.3f}", fontsize=GAP_TEXT)


def class_key(data: str = "gmm2d") -> str:
    """``blue A, orange B, green C``: each class of ``data`` with the colour its dots are drawn in
    (``viz.draw.style.class_color``)."""
    return ", ".join(f"{class_color_name(c)} {name}" for c, name in enumerate(load_dataset(data).class_names))


def exact_target_figure(view: GapView) -> Figure:
    """``tilted_tv`` against gamma for each sampler of ``view`` (``models.analysis.tilted_target_gap.gap_view``) with
    error bars of one Monte Carlo error and the exact-draw floor as a band, then at ``view.gamma`` the
    target's exact draws beside one sampler's samples, each point coloured by the class of the
    mixture component it belongs to, each blob of the guided class labelled with its share of the
    samples and of the target. At most six legend entries (the band, four samplers, the exact draws); text
    sized for ``GAP_DISPLAY_WIDTH``."""
    fig = new_figure(GAP_FIG_SIZE)
    grid = fig.add_gridspec(1, 3, width_ratios=(1.35, 1, 1))
    curves = fig.add_subplot(grid[0])
    _gap_curves(curves, view)
    i = view.curves[0].gammas.index(view.gamma)
    tv = {c.name: (c.tv[i], c.se[i]) for c in view.curves}
    for cell, p in zip((grid[1], grid[2]), (view.exact, view.sampled)):
        _gap_points(fig.add_subplot(cell), view, p, tv.get(p.name))
    fig.suptitle(f"Does guided sampling reach $p_0(x)\\,p_0({view.class_name} \\mid x)^{{\\gamma}}$?  "
                 f"{view.n} samples per sampler and γ",
                 fontsize=GAP_TITLE, x=0.01, ha="left")
    note = ("Error bars: one Monte Carlo error. Dots: coloured by the class of the mixture component each lies in "
            f"({class_key()}); rings: the components. Beside each blob of the class: its share of the dots "
            "and of the exact target (aim)." + (f" {view.what}." if view.what else ""))
    fig.supxlabel(textwrap.fill(note, GAP_NOTE_CHARS), fontsize=GAP_SMALL, color="#444444", x=0.01, ha="left")
    return fig
