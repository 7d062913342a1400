"""Drawing parts shared by the diagrams: named arrows and points, the legend, the note, the scale
bar, axis limits that survive extreme guidance, and the density of the 2-D mixture.

Every named vector and point takes its look from ``viz.draw.style`` (``VECTORS``, ``POINTS``,
``COLORS``, ``LABELS``), so the same vector looks the same on every figure. Arrows are
``FancyArrowPatch`` with ``shrinkA = shrinkB = 0``: their end points are exactly the projected
points, and ``arrow_ends`` reads them back (tests use it).
"""

from __future__ import annotations

import textwrap
from typing import Iterable, Optional, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.legend_handler import HandlerPatch, HandlerTuple
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Rectangle

from models.engine.data import GaussianMixture2D, make_gmm2d, mixture_density
from models.engine.trajectory import Trajectory
from viz.draw.style import ARROW_HEAD, COLORS, FONT_SIZE, HOLLOW_POINTS, LABELS, LEGEND_SIZE, NOTE_SIZE, POINTS, VECTORS, text_pt

Limits = tuple[tuple[float, float], tuple[float, float]]


# ----------------------------------------------------------------------------- arrows and points

def _arrowstyle(head: bool, lw: float) -> tuple[str, float]:
    """Arrow style string and mutation scale: heads grow with the line width so they stay clear."""
    if not head:
        return "-", ARROW_HEAD
    return "-|>,head_length=0.55,head_width=0.28", ARROW_HEAD * max(1.0, lw / 3.0)


def vector_arrow(ax: Optional[Axes], name: str, start=(0.0, 0.0), end=(0.0, 0.0), zorder: float = 3,
                 gid: Optional[str] = None, **overrides) -> FancyArrowPatch:
    """A ``FancyArrowPatch`` in the style of vector ``name`` (see ``viz.draw.style.VECTORS``), added to
    ``ax`` unless it is None (a legend proxy). Its gid is ``gid`` (default ``name``).

    A dotted or dashed arrow gets a solid head: the arrow itself is the headless shaft, and its
    ``head`` is a second patch over the same two points, with no line width, whose only visible
    part is the filled head.
    """
    st = {**VECTORS[name], **overrides}
    style, scale = _arrowstyle(st["head"], st["lw"])
    solid = st["ls"] in ("-", "solid")
    common = dict(shrinkA=0, shrinkB=0, color=COLORS[st["color"]], alpha=st["alpha"], capstyle="butt",
                  joinstyle="round", zorder=zorder)
    arrow = FancyArrowPatch(tuple(start), tuple(end), arrowstyle=style if solid else "-", mutation_scale=scale,
                            lw=st["lw"], ls=st["ls"], gid=gid or name, **common)
    arrow.full_head = scale  # the head size it keeps while the arrow is long enough
    arrow.head = None
    if st["head"] and not solid:
        # Head only: lw 0 hides the shaft, the filled head stays. Scaled up by the missing edge.
        arrow.head = FancyArrowPatch(tuple(start), tuple(end), arrowstyle=style, lw=0, mutation_scale=scale * 1.25,
                                     gid=f"{gid or name}:head", **common)
        arrow.head.full_head = scale * 1.25
    if ax is not None:
        ax.add_patch(arrow)
        if arrow.head is not None:
            ax.add_patch(arrow.head)
    return arrow


def set_vector(arrow: FancyArrowPatch, start: np.ndarray, end: np.ndarray) -> None:
    """Move ``arrow`` (and its separate head, if any) to run from ``start`` to ``end`` (2-D);
    hidden when it has no length.

    Set the axis limits first: the head shrinks on short arrows so it never covers more than
    40 % of the arrow (the shaft stays visible and the tip still lands on ``end``).
    """
    start, end = np.asarray(start, np.float64), np.asarray(end, np.float64)
    for patch in (arrow, getattr(arrow, "head", None)):
        if patch is None:
            continue
        patch.set_positions(tuple(start), tuple(end))
        patch.set_visible(bool(np.linalg.norm(end - start) > 0))
        if patch.axes is not None and hasattr(patch, "full_head"):
            a, b = patch.axes.transData.transform(np.stack([start, end]))
            points = float(np.linalg.norm(b - a)) * 72.0 / patch.axes.get_figure().dpi
            patch.set_mutation_scale(max(min(patch.full_head, 0.4 * points / 0.55), 0.01))  # 0 divides by 0


def arrow_ends(arrow: FancyArrowPatch) -> tuple[np.ndarray, np.ndarray]:
    """``(start, end)`` of an arrow made by ``vector_arrow``, in data coordinates."""
    a, b = arrow._posA_posB  # noqa: SLF001 (matplotlib keeps the end points here)
    return np.asarray(a, np.float64), np.asarray(b, np.float64)


def point_marker(ax: Optional[Axes], name: str, zorder: float = 4, **overrides) -> Line2D:
    """A one-point ``Line2D`` with the marker of point ``name`` (``viz.draw.style.POINTS``); its gid is ``name``.
    A point of ``HOLLOW_POINTS`` (where something would have been) is an outline in its colour."""
    marker, size, color = POINTS[name]
    kw = dict(ls="", marker=marker, ms=size, color=COLORS[color], mec="white", mew=1.2, zorder=zorder, gid=name)
    if name in HOLLOW_POINTS:
        kw.update(mfc="white", mec=COLORS[color], mew=2.0)
    kw.update(overrides)
    line = Line2D([], [], **kw)
    if ax is not None:
        ax.add_line(line)
    return line


def set_point(line: Line2D, p: Optional[np.ndarray]) -> None:
    """Put a point marker at ``p`` (2-D), or hide it when ``p`` is None."""
    if p is None:
        line.set_data([], [])
    else:
        line.set_data([float(p[0])], [float(p[1])])


# Lines through the points of a run: the path of x_t and the line of its predictions.
PATHS = {
    "x_t_path": dict(color=COLORS["x_t"], lw=1.4, alpha=0.8, marker="o", ms=2.5),
    "x0_hat_path": dict(color=COLORS["x0_hat"], lw=1.3, alpha=0.5, marker="D", ms=2.5),
}


def path_line(ax: Axes, name: str, **overrides) -> Line2D:
    """An empty line in the style of path ``name`` (``PATHS``), filled later with ``set_data``."""
    return ax.plot([], [], **{**PATHS[name], **overrides})[0]


def ring_marker(ax: Axes, name: str, size: float = 20, zorder: float = 5) -> Line2D:
    """A hollow ring (``outside`` data range) or open triangle (``offscale``) marking points (set_data)."""
    if name == "outside":
        kw = dict(marker="o", ms=size, mfc="none", mec=COLORS["outside"], mew=2.2)
    else:
        kw = dict(marker="^", ms=size * 0.6, mfc="white", mec="#000000", mew=1.8)
    line = Line2D([], [], ls="", zorder=zorder, gid=name, **kw)
    ax.add_line(line)
    return line


# ----------------------------------------------------------------------------- legend and note

class _ArrowLegendHandler(HandlerPatch):
    """Draws an arrow proxy (and its separate head, if any) in the legend as a short arrow."""

    def create_artists(self, legend, orig_handle, xdescent, ydescent, width, height, fontsize, trans):
        y = height / 2 - ydescent
        out = []
        for patch in (orig_handle, getattr(orig_handle, "head", None)):
            if patch is None:
                continue
            arrow = FancyArrowPatch((-xdescent, y), (-xdescent + width, y), arrowstyle=patch.get_arrowstyle(),
                                    mutation_scale=min(patch.get_mutation_scale(), 1.8 * fontsize),
                                    shrinkA=0, shrinkB=0, color=patch.get_edgecolor(), lw=patch.get_linewidth(),
                                    ls=patch.get_linestyle(), capstyle="butt", joinstyle="round")
            arrow.set_facecolor(patch.get_facecolor())
            arrow.set_transform(trans)
            out.append(arrow)
        return out


def legend_handle(name: str):
    """The legend proxy of a named vector or point (a prediction's dashed line carries its diamond)."""
    if name in VECTORS and VECTORS[name]["head"]:
        return vector_arrow(None, name)
    point_of = {"prediction": "x0_hat", "to_uncond": "x0_uncond", "to_cond": "x0_cond", "to_guided": "guided",
                "ray": "origin"}
    if name in point_of:
        st = VECTORS[name]
        dash = Line2D([], [], color=COLORS[st["color"]], ls=st["ls"], lw=st["lw"])
        return (dash, point_marker(None, point_of[name]))
    if name in POINTS:
        return point_marker(None, name)
    if name in PATHS:
        return Line2D([], [], **PATHS[name])
    if name in ("outside", "offscale"):
        line = Line2D([], [], ls="")
        if name == "outside":
            line.update(dict(marker="o", ms=14, mfc="none", mec=COLORS["outside"], mew=2.2))
        else:
            line.update(dict(marker="^", ms=11, mfc="white", mec="#000000", mew=1.8))
        return line
    raise ValueError(f"no legend handle for {name!r}")


def add_legend(where: Figure | Axes, entries: Sequence[tuple[object, str]], labelspacing: float = 0.7) -> Legend:
    """The legend from ``(handle, label)`` pairs, outside the action: in its own axes cell (made
    by ``diagram_grid``) at the top left, or outside the right edge of a figure. A long legend may
    pass a smaller ``labelspacing`` (in font sizes) to keep clear of the note below it."""
    handles, labels = zip(*entries)
    kw = dict(fontsize=LEGEND_SIZE, frameon=False, handlelength=2.6, handleheight=1.2, labelspacing=labelspacing,
              handler_map={FancyArrowPatch: _ArrowLegendHandler(), tuple: HandlerTuple(ndivide=1)})
    if isinstance(where, Axes):
        where.set_axis_off()
        return where.legend(handles, labels, loc="upper left", bbox_to_anchor=(0.0, 1.0), borderaxespad=0.0, **kw)
    return where.legend(handles, labels, loc="outside right upper", borderaxespad=0.2, **kw)


def diagram_grid(fig: Figure, rows_below: int = 0, columns_below: int = 1, legend_width: float = 2.05,
                 below_height: float = 0.22):
    """Axes for a diagram: the main axes top left, a legend cell top right (``legend_width``
    inches) and ``rows_below`` rows of ``columns_below`` small axes across the whole width
    (each ``below_height`` of the main axes' height). Returns (main, legend, rows of small axes)."""
    width = fig.get_figwidth()
    grid = fig.add_gridspec(1 + rows_below, 2, width_ratios=[width - legend_width, legend_width],
                            height_ratios=[1] + [below_height] * rows_below)
    ax, legend = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    rows = []
    for r in range(rows_below):
        sub = grid[1 + r, :].subgridspec(1, columns_below, wspace=0.05)
        rows.append([fig.add_subplot(sub[0, c]) for c in range(columns_below)])
    return ax, legend, rows


def named_entries(names: Iterable[str], labels: Optional[dict[str, str]] = None) -> list[tuple[object, str]]:
    """Legend entries for named vectors/points, labelled from ``viz.draw.style.LABELS`` unless overridden."""
    labels = labels or {}
    return [(legend_handle(n), labels.get(n, LABELS.get(n, n))) for n in names]


def add_note(fig: Figure, text: str) -> None:
    """What the view loses, in small grey type along the bottom of the figure (wrapped to fit)."""
    chars = max(40, int(fig.get_figwidth() * 72 / (0.58 * NOTE_SIZE)))
    fig.supxlabel(textwrap.fill(text, chars), fontsize=NOTE_SIZE, color="#444444", x=0.01, ha="left")


def add_headline(fig: Figure, text: str) -> None:
    """What the figure shows and how it is projected, left-aligned along the top (static)."""
    fig.suptitle(text, fontsize=FONT_SIZE, x=0.01, ha="left")


def plain_axes(ax: Axes) -> None:
    """Geometry axes without ticks (coordinates of a projection mean nothing): equal units on both
    axes, light frame; the scale bar gives lengths."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal", adjustable="datalim")
    for spine in ax.spines.values():
        spine.set_color("#cccccc")


def framed_axes(ax: Axes, color: str = "#cccccc", lw: float = 1.0) -> Rectangle:
    """Geometry axes drawn without their axis machinery: no ticks, no spines, a plain rectangle as the
    frame. A frame's axes then cost only their artists (matplotlib re-lays out the ticks of an axes
    with its axis on at every draw, even when there are none: ~0.25 ms an axes)."""
    ax.set_axis_off()
    frame = Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, ec=color, lw=lw, zorder=10, clip_on=False)
    ax.add_patch(frame)
    return frame


def box_aspect(ax: Axes) -> float:
    """Width / height of the axes box on the figure (after the layout has run)."""
    pos = ax.get_position()
    fig = ax.get_figure()
    return float(pos.width * fig.get_figwidth() / max(pos.height * fig.get_figheight(), 1e-9))


_MATHTEXT_PARSERS: dict = {}  # one mathtext parser per output type, shared by every figure's renderer


def share_mathtext_parser(renderer) -> None:
    """Give ``renderer`` the process's shared mathtext parser.

    Matplotlib's Agg renderer makes its own parser, whose cache dies with it: every new view parsed
    the formulas of its legend again (5 per guidance view, ~3 ms each; a page rerun builds a view).
    The parse of a formula depends only on its text, font, size, dpi and flags, so the shared cache
    gives the same pixels. Sharing it across threads is safe only because figures are laid out and
    drawn one at a time (``ui.view_cache.DRAWING`` in the app): matplotlib's text code is not
    thread-safe in any case."""
    parser = getattr(renderer, "mathtext_parser", None)
    if parser is not None:
        renderer.mathtext_parser = _MATHTEXT_PARSERS.setdefault((type(parser), getattr(parser, "_output_type", None)),
                                                                parser)


def run_layout(fig: Figure) -> None:
    """Lay ``fig`` out as its next draw would, without drawing it: each axes' aspect is applied, then
    the layout engine runs. This is the layout step of ``Figure.draw`` (matplotlib 3.11) alone;
    ``fig.draw_without_rendering()`` also walked every artist through a disabled renderer after it,
    which moved nothing and cost as much again. The renderer gets the shared mathtext parser."""
    renderer = fig.canvas.get_renderer()
    share_mathtext_parser(renderer)
    for ax in fig.axes:
        for a in (ax, *(c for c in ax.get_children() if hasattr(c, "apply_aspect"))):
            locator = a.get_axes_locator()
            a.apply_aspect(locator(a, renderer) if locator else None)
    engine = fig.get_layout_engine()
    if fig.axes and engine is not None:
        try:
            engine.execute(fig)
        except ValueError:  # as Figure.draw: a layout that cannot be solved leaves the axes where they are
            pass


def freeze_layout(fig: Figure) -> None:
    """Run the layout once and keep it: axes stay put from frame to frame (no pixels are drawn).

    The figure is left with no layout engine at all (not matplotlib's "none" placeholder, which
    makes ``savefig`` lay out again in a disabled draw before the real one): a frozen figure
    saves with a single draw, to the same pixels."""
    run_layout(fig)
    if mpl.rcParams["figure.autolayout"] or mpl.rcParams["figure.constrained_layout.use"]:
        fig.set_layout_engine("none")  # None would mean "the rcParams' engine" here
    else:
        fig.set_layout_engine(None)


class ScaleBar:
    """A bar of a round length (1, 2 or 5 x 10^n data units) at the bottom right of the axes,
    about a fifth of their width, with its length written beside it."""

    def __init__(self, ax: Axes) -> None:
        self.ax = ax
        kw = dict(transform=ax.transAxes, zorder=6)
        self.line = ax.plot([], [], color="#333333", lw=4, solid_capstyle="butt", **kw)[0]
        self.text = ax.text(0, 0, "", ha="right", va="center", fontsize=text_pt("small"), color="#333333", **kw)

    def update(self, xlim: tuple[float, float]) -> float:
        """Fit the bar to the current x limits; returns its length in data units."""
        width = xlim[1] - xlim[0]
        target = 0.2 * width
        base = 10 ** np.floor(np.log10(target))
        length = base * max(m for m in (1, 2, 5) if m * base <= target)
        frac = length / width
        x1, y = 0.97, 0.05
        self.line.set_data([x1 - frac, x1], [y, y])
        self.text.set_position((x1 - frac - 0.015, y))
        self.text.set_text(f"{length:g}")
        return float(length)


# ----------------------------------------------------------------------------- limits

def fit_limits(points: np.ndarray, aspect: float, pad: float = 0.1, bottom: float = 0.12) -> Limits:
    """Limits holding every finite point (N, 2) with equal units on both axes, for a box of
    width / height ``aspect``; ``pad`` is added on each side and ``bottom`` (a fraction of the
    height) is kept free below for the scale bar."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    p = p[np.isfinite(p).all(1)]
    if len(p) == 0:
        return (-1.0, 1.0), (-1.0, 1.0)
    lo, hi = p.min(0), p.max(0)
    span = np.maximum(hi - lo, 1e-9 * max(1.0, float(np.abs(p).max())))
    w, h = span * (1 + 2 * pad)
    h = h / (1 - bottom)
    w, h = max(w, h * aspect), max(h, w / aspect)
    cx, cy = (lo + hi) / 2
    top = cy + (1 - bottom) * h / 2  # the points sit centred in the upper (1 - bottom) of the box
    return (cx - w / 2, cx + w / 2), (top - h, top)


def limits_with_outliers(core: np.ndarray, extra: np.ndarray, aspect: float, max_ratio: float = 15.0,
                         **kw) -> Limits:
    """Limits around ``core`` points that also hold the ``extra`` ones unless those lie more than
    ``max_ratio`` core spans from the core's centre (e.g. a prediction thrown far out by
    gamma = 100): those are left out and should be pinned with ``pin_inside``."""
    extra = np.asarray(extra, np.float64).reshape(-1, 2)
    near = extra[~far_out(core, extra, max_ratio)]
    return fit_limits(np.concatenate([np.asarray(core, np.float64).reshape(-1, 2), near]), aspect, **kw)


def far_out(core: np.ndarray, extra: np.ndarray, max_ratio: float = 15.0) -> np.ndarray:
    """Mask of ``extra`` points (N, 2) lying more than ``max_ratio`` spans of the ``core`` points
    from the core's centre: the ones ``limits_with_outliers`` leaves out of view."""
    core = np.asarray(core, np.float64).reshape(-1, 2)
    extra = np.asarray(extra, np.float64).reshape(-1, 2)
    centre = (core.min(0) + core.max(0)) / 2
    span = max(float(np.ptp(core, axis=0).max()), 1e-12)
    return np.linalg.norm(extra - centre, axis=1) > max_ratio * span


def pin_inside(points: np.ndarray, limits: Limits, inset: float = 0.07,
               anchors: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
    """Points (N, 2) outside ``limits`` (shrunk by ``inset``) moved back onto the box edge along
    the ray from their anchor (N, 2; default the box centre), so an arrow from the anchor keeps
    its true direction. Returns the shown points and the boolean mask of those that were moved."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    (x0, x1), (y0, y1) = limits
    c = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    half = np.array([(x1 - x0) / 2, (y1 - y0) / 2]) * (1 - inset)
    lo, hi = c - half, c + half
    a = np.broadcast_to(c, p.shape) if anchors is None else np.clip(np.asarray(anchors, np.float64), lo, hi)
    d = p - a
    with np.errstate(divide="ignore", invalid="ignore"):
        reach = np.where(d > 0, (hi - a) / d, np.where(d < 0, (lo - a) / d, np.inf))  # (N, 2)
    s = np.clip(reach.min(axis=1), 0.0, None)
    moved = s < 1
    out = p.copy()
    out[moved] = a[moved] + s[moved, None] * d[moved]
    return out, moved


# ----------------------------------------------------------------------------- the 2-D mixture

def mixture_for(traj: Trajectory, dim: int) -> Optional[GaussianMixture2D]:
    """The analytic mixture behind a gmm2d run (its density can be drawn), else None."""
    return make_gmm2d() if traj.meta.get("data") == "gmm2d" and dim == 2 else None


def draw_density_contours(ax: Axes, gmm: GaussianMixture2D, limits: Limits, abar: float = 1.0, n: int = 160) -> None:
    """Light contour lines of the mixture's density under the paths (static)."""
    (x0, x1), (y0, y1) = limits
    xx, yy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    dens = mixture_density(gmm, xx, yy, abar)
    levels = dens.max() * np.array([0.02, 0.1, 0.3, 0.6])
    ax.contour(xx, yy, dens, levels=levels, colors=COLORS["density"], linewidths=0.9, zorder=0)


class DensityShading:
    """Grey shading of the noisy marginal ``p_t`` under a zooming view (one image, updated),
    darkest where ``p_t`` peaks."""

    def __init__(self, ax: Axes, gmm: GaussianMixture2D, n: int = 128) -> None:
        self.ax, self.gmm, self.n = ax, gmm, n
        self.image = ax.imshow(np.zeros((n, n)), origin="lower", cmap="Greys", vmin=0, vmax=1, alpha=0.22,
                               interpolation="nearest", zorder=0, extent=(0, 1, 0, 1))

    def update(self, limits: Limits, abar: float) -> None:
        """Shade ``p_t`` over ``limits`` at noise level ``abar``."""
        (x0, x1), (y0, y1) = limits
        xx, yy = np.meshgrid(np.linspace(x0, x1, self.n), np.linspace(y0, y1, self.n))
        peak = mixture_density(self.gmm, self.gmm.means[:, 0] * np.sqrt(abar), self.gmm.means[:, 1] * np.sqrt(abar), abar).max()
        self.image.set_data(mixture_density(self.gmm, xx, yy, abar) / peak)
        self.image.set_extent((x0, x1, y0, y1))
