"""The guidance field on gmm2d as a figure and as an animation over the noise level.

Two panels side by side, both over the same fixed box (the camera never moves, whatever t is):

* left, the unguided field (the unconditional denoiser, gamma = 0) over ``p_t(x)``;
* right, the guided field over the tilted density ``p_t(x) p_t(y | x)^gamma`` it aims at;
* with the neural model, a third panel: the neural guided field minus the exact one, with the mean
  size of the difference in words.

Arrows show the field (``models.analysis.field``: the score by default) on a regular grid; each frame states
its arrow scale (the score grows like 1 / s^2 as the noise goes, so one fixed scale cannot serve every
level). Shading is the density, darkest at its peak. White crosses mark the sinks, where following the
field at this noise level ends; dashed lines bound their basins, and beside each sink of the guided
field is the share of the tilted density's mass that drains into it. The mixture's components sit at
``a mu_k`` at noise level t, coloured by class, the guided class ringed.

``field_figure`` draws one noise level; ``FieldAnimation`` runs from the noisiest level to the cleanest
(``frame(i)`` RGB pixels, ``gif(max_frames, fps)`` bytes, the same bytes for the same settings),
drawing frames by blitting like the views of ``viz.views.paths``. Both take the numbers of
``models.analysis.field`` (``compute_field``, ``field_series``): this module never loads torch. Text is sized for a projector: every
text at least 14 px high when the figure is shown ``DISPLAY_WIDTH`` px wide.
"""

from __future__ import annotations

import textwrap
from dataclasses import replace
from typing import Optional, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text

from models.analysis.field_records import VIEW_HALF, FieldSpec, GuidedField, describe_basins
from models.guidance import card
from viz.views.paths import Animated, frame_indices
from viz.gif import encode_gif
from viz.draw.style import display_width
from viz.draw.style import MIN_TEXT_PX, class_color, new_figure

DISPLAY_WIDTH = display_width("field")  # px: how wide the page and the README show the figure (on a 1920-px screen)
FIG_WIDTH = 11.0  # inches at 100 dpi: drawn at its display size, so points map 1 : 1.39 to px
TITLE_SIZE, TEXT_SIZE, SMALL_SIZE = 15, 13, 11  # points: 20.8, 18.1 and 15.3 px at DISPLAY_WIDTH
CLASS_COLORS = tuple(class_color(c) for c in range(3))  # one colour per class of gmm2d, as on every figure
CLASS_NAMES = ("A", "B", "C")
DENSITY_CMAP = "Purples"
SHADE_LEVELS = np.linspace(1 / 16, 1.0, 9)  # the shading's bands, as fractions of the density's peak
ARROW_COLOR = "#1a1a1a"
BOUNDARY_COLOR = "#C0392B"  # basin boundaries: red, apart from the black arrows and the purple shading
DIFF_COLOR = "#1a1a1a"
DIFF_CMAP = "Oranges"  # the difference panel's shading: |neural - exact|, darkest at one arrow scale or more
NOTE_CHARS = 135  # characters a line of the note holds at SMALL_SIZE across FIG_WIDTH
SINK_LABELS = 6  # at most this many sinks get their share written beside them
FIELD_WORDS = {"score": "the score", "x0": r"$\hat{x}_0 - x_t$"}
FIELD_SYMBOL = {"score": "score", "x0": r"$\hat{x}_0 - x_t$"}
FIELD_MEANING = {"score": "the direction in which the shaded density rises fastest",
                 "x0": "from each point to its guided prediction of the clean point"}


def method_title(spec: FieldSpec) -> str:
    """``CFG, γ = 7`` (CFG++: its λ; no guidance: the conditional model)."""
    method = card(spec.guidance)
    name = method.field_name or method.name
    if method.name == "none":
        return name
    if method.scale is not None:
        return f"{name}, {method.scale.label.split()[0]} = {spec.tilt_gamma:g}"
    return f"{name}, γ = {spec.gamma:g}"


def arrow_reference(f: GuidedField) -> float:
    """The field size drawn one grid cell long: the 75th percentile of |field| over both panels'
    grids (longer arrows are cut to one cell, shorter ones scale in proportion)."""
    sizes = np.linalg.norm(np.concatenate([f.unguided.reshape(-1, 2), f.guided.reshape(-1, 2)]), axis=1)
    sizes = sizes[np.isfinite(sizes)]
    ref = float(np.percentile(sizes, 75)) if len(sizes) else 1.0
    return ref if ref > 0 else 1.0


def arrow_vectors(v: np.ndarray, ref: float, cell: float) -> np.ndarray:
    """Field vectors (n, n, 2) as drawn arrows in data units: length ``0.9 cell * min(|v| / ref, 1)``."""
    v = np.nan_to_num(np.asarray(v, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    size = np.linalg.norm(v, axis=-1, keepdims=True)
    length = 0.9 * cell * np.minimum(size / ref, 1.0)
    return np.where(size > 0, v / np.maximum(size, 1e-300) * length, 0.0)


def tilted_symbol(gamma: float, name: str) -> str:
    """``p_t(x) p_t(B | x)^7`` as mathtext; ``p_t(x)`` at gamma 0 and ``p_t(x | B)`` at gamma 1 (the same density)."""
    if gamma == 0:
        return "$p_t(x)$"
    if gamma == 1:
        return f"$p_t(x \\mid {name})$"
    return f"$p_t(x)\\,p_t({name} \\mid x)^{{{gamma:g}}}$"


def sigma_text(sigma: float) -> str:
    """The noise level as the figures write it: ``157``, ``0.52``, ``0.01``."""
    return f"{sigma:.0f}" if sigma >= 10 else f"{sigma:.2g}"


def _fmt(x: float) -> str:
    return f"{x:.2g}" if abs(x) < 100 else f"{x:,.0f}"


class _Panel:
    """One square panel: density shading, arrows, component centres, sinks and basin boundaries."""

    def __init__(self, ax: Axes, n: int, arrow_color: str, label_sinks: bool) -> None:
        self.ax = ax
        self.label_sinks = label_sinks
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlim(-VIEW_HALF, VIEW_HALF)
        ax.set_ylim(-VIEW_HALF, VIEW_HALF)
        ax.set_aspect("equal")
        for spine in ax.spines.values():
            spine.set_color("#bbbbbb")
        self.cmap = DENSITY_CMAP
        self.shading = None
        axis = np.linspace(-VIEW_HALF, VIEW_HALF, n)
        xx, yy = np.meshgrid(axis, axis)
        self.cell = float(axis[1] - axis[0])
        self.quiver = ax.quiver(xx, yy, np.zeros_like(xx), np.zeros_like(yy), color=arrow_color, angles="xy",
                                scale_units="xy", scale=1.0, width=0.0045, headwidth=3.6, headlength=4.0,
                                headaxislength=3.6, minlength=0.0, zorder=3)
        self.centres = [ax.plot([], [], ls="", marker="o", ms=9, mfc=c, mec="white", mew=1.3, zorder=4)[0]
                        for c in CLASS_COLORS]
        self.ring = ax.plot([], [], ls="", marker="o", ms=15, mfc="none", mec="black", mew=1.8, zorder=4)[0]
        self.sinks = ax.plot([], [], ls="", marker="X", ms=17, mfc="white", mec="black", mew=1.6, zorder=3.5)[0]
        self.labels = [ax.text(0, 0, "", fontsize=TEXT_SIZE, ha="center", va="center", zorder=7, visible=False,
                               bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="#333333", lw=0.8, alpha=0.92))
                       for _ in range(SINK_LABELS)]
        self.boundaries: list = []

    def update(self, density: Optional[np.ndarray], vectors: np.ndarray, ref: float, f: GuidedField,
               basins, label: int) -> None:
        """Redraw the panel for field ``f``: shading ``density`` (or none), arrows ``vectors`` at scale ``ref``."""
        if self.shading is not None:
            self.shading.remove()
            self.shading = None
        if density is not None:  # in bands: flat colours read as contours and keep GIFs small
            gx, gy = (f.dx, f.dy) if density.shape == f.dx.shape else (f.xx, f.yy)
            self.shading = self.ax.contourf(gx, gy, np.clip(density, 0.0, 1.0), levels=SHADE_LEVELS, cmap=self.cmap,
                                            vmin=0.0, vmax=1.25, zorder=0)
        u = arrow_vectors(vectors, ref, self.cell)
        self.quiver.set_UVC(u[..., 0], u[..., 1])
        for c, line in enumerate(self.centres):
            pts = f.centres[f.comp_class == c]
            line.set_data(pts[:, 0], pts[:, 1])
        guided = f.centres[f.comp_class == label]
        self.ring.set_data(guided[:, 0], guided[:, 1])
        for contour in self.boundaries:
            contour.remove()
        self.boundaries = []
        for text in self.labels:
            text.set_visible(False)
        if basins is None:
            self.sinks.set_data([], [])
            return
        main = basins.main(0.01)
        pts = np.clip(basins.sinks[main], -0.96 * VIEW_HALF, 0.96 * VIEW_HALF)  # a sink beyond the view: at its edge
        self.sinks.set_data(pts[:, 0], pts[:, 1])
        labels = basins.main_labels(0.01)  # the main basins, the tiny ones between them absorbed
        if len(main) > 1:  # each basin's outline; a boundary is drawn twice, on the same line
            self.boundaries = [self.ax.contour(basins.xx, basins.yy, _smooth(labels == k), levels=[0.5],
                                               colors=BOUNDARY_COLOR, linewidths=1.6, zorder=2) for k in main]
        if self.label_sinks and len(main) <= SINK_LABELS:
            for text, k, p in zip(self.labels, main, pts):
                side = -1.0 if p[0] > 0.55 * VIEW_HALF else 1.0  # to the right, unless that leaves the box
                where = p + np.array([side * 0.36, 0.0])
                text.set_position(where)
                text.set_text(f"{100 * basins.share[k]:.0f} %")
                text.set_visible(True)


def _smooth(mask: np.ndarray, passes: int = 1) -> np.ndarray:
    """A 0/1 mask (m, m) averaged over 3 x 3 neighbourhoods ``passes`` times: its 0.5 contour follows
    the mask's edge without the grid's staircase."""
    a = mask.astype(np.float64)
    for _ in range(passes):
        p = np.pad(a, 1, mode="edge")
        a = sum(p[1 + i: p.shape[0] - 1 + i, 1 + j: p.shape[1] - 1 + j] for i in (-1, 0, 1) for j in (-1, 0, 1)) / 9.0
    return a


class FieldFigure:
    """The figure's artists, built once; ``update(f)`` redraws them for a ``models.analysis.field.GuidedField``.

    ``animated``: the per-frame texts outside the panels are animated artists (for blitting)."""

    def __init__(self, spec: FieldSpec, fig: Optional[Figure] = None, animated: bool = False) -> None:
        self.spec = spec
        neural = spec.model != "exact"
        columns = 3 if neural else 2
        self.fig = fig or new_figure((FIG_WIDTH, 7.4 if not neural else 6.0))
        grid = self.fig.add_gridspec(2, columns, height_ratios=[1.0, 0.145 if not neural else 0.27])
        axes = [self.fig.add_subplot(grid[0, c]) for c in range(columns)]
        self.bottom = self.fig.add_subplot(grid[1, :])
        self.bottom.set_axis_off()
        self.fig.get_layout_engine().set(h_pad=0.05)  # room between the headline and the panels' titles
        name = CLASS_NAMES[spec.label] if spec.label < len(CLASS_NAMES) else str(spec.label)
        self.class_name = name
        self.left = _Panel(axes[0], spec.n, ARROW_COLOR, label_sinks=True)
        self.right = _Panel(axes[1], spec.n, ARROW_COLOR, label_sinks=True)
        self.diff = _Panel(axes[2], spec.n, DIFF_COLOR, label_sinks=False) if neural else None
        axes[0].set_title("unguided (γ = 0)\nshading: $p_t(x)$", fontsize=TEXT_SIZE, loc="left")
        axes[1].set_title(f"{method_title(spec)}\nshading: {tilted_symbol(spec.tilt_gamma, name)}", fontsize=TEXT_SIZE,
                          loc="left")
        if self.diff is not None:
            axes[2].set_title(f"{spec.model} − exact (guided)\nshading: size of the difference", fontsize=TEXT_SIZE,
                              loc="left")
            self.diff.cmap = DIFF_CMAP
        self.headline = self.fig.suptitle(" ", fontsize=TITLE_SIZE, x=0.01, ha="left", animated=animated)
        self.note = self.bottom.text(0.0, 0.62, " ", fontsize=SMALL_SIZE, color="#333333", ha="left", va="top",
                                     transform=self.bottom.transAxes, animated=animated)
        self.note.set_in_layout(False)  # wrapped to fit (NOTE_CHARS); as part of the layout it would squeeze the panels
        legend = self.bottom.legend(*zip(*self._legend_entries()), loc="upper center", bbox_to_anchor=(0.5, 1.04), ncols=5,
                           fontsize=SMALL_SIZE, frameon=False, handletextpad=0.3, columnspacing=1.4,
                           borderaxespad=0.0)
        legend.set_in_layout(False)
        self.texts = [self.headline, self.note]

    def _legend_entries(self) -> list[tuple[Line2D, str]]:
        """At most six: the three classes' centres (the guided one ringed), the sink, the basin boundary."""
        entries = []
        for c, color in enumerate(CLASS_COLORS):
            ring = c == self.spec.label
            entries.append((Line2D([], [], ls="", marker="o", ms=9, mfc=color, mec="black" if ring else "white",
                                   mew=1.8 if ring else 1.3),
                            f"class {CLASS_NAMES[c]} blob" + (" (guided)" if ring else "")))
        entries.append((Line2D([], [], ls="", marker="X", ms=14, mfc="white", mec="black", mew=1.6),
                        "sink: where the flow ends (its share)"))
        entries.append((Line2D([], [], color=BOUNDARY_COLOR, lw=1.6), "basin boundary"))
        return entries

    def update(self, f: GuidedField) -> None:
        """Draw field ``f`` (its spec must match this figure's but for t)."""
        ref = arrow_reference(f)
        self.left.update(f.base, f.unguided, ref, f, f.base_basins, self.spec.label)
        self.right.update(f.density, f.guided, ref, f, f.basins, self.spec.label)
        difference = ""
        if self.diff is not None:
            size = np.linalg.norm(f.difference, axis=-1)
            self.diff.update(np.minimum(size / ref, 1.0), f.difference, ref, f, None, self.spec.label)
            d = f.difference_summary()
            difference = (f" Right: the {self.spec.model} model's guided field minus the exact one, on the same arrow "
                          f"scale; mean |Δ| = {_fmt(d['mean_abs'])}, {100 * d['relative']:.0f} % of the exact field's "
                          f"mean size ({_fmt(d['weighted'])} where the tilted density lies).")
        what, symbol = FIELD_WORDS[self.spec.quantity], FIELD_SYMBOL[self.spec.quantity]
        self.headline.set_text(f"Where guidance pushes at t = {int(f.spec.t)} (σ = {sigma_text(f.sigma)}): "
                               f"{method_title(self.spec)}, class {self.class_name}")
        sentence = describe_basins(f, self.class_name) if f.basins is not None else ""
        shading = ("the density each field climbs" if self.spec.quantity == "score" else
                   "p_t (left) and the tilted density guidance aims at (right)")
        self.note.set_text(textwrap.fill(f"Arrows: {what} ({FIELD_MEANING[self.spec.quantity]}); an arrow one grid "
                                         f"cell long means |{symbol}| ≥ {_fmt(ref)}, shorter ones in proportion. "
                                         f"Shading: {shading}, darkest at its peak. {sentence}{difference}",
                                         NOTE_CHARS))


def field_figure(field: GuidedField) -> Figure:
    """The field picture of ``field`` (``models.analysis.field.compute_field``) as a Figure."""
    view = FieldFigure(field.spec)
    view.update(field)
    return view.fig


class FieldAnimation(Animated):
    """The field over the noise level, one frame per ``GuidedField`` of ``fields`` (``models.analysis.field.field_series``:
    from the noisiest level to the cleanest; all with the same settings but t). The box, the grid and
    the legend stay put; arrows, shading, sinks, basins and the texts change."""

    def __init__(self, fields: Sequence[GuidedField]) -> None:
        if not fields:
            raise ValueError("give at least one field")
        spec = fields[0].spec
        if any(replace(f.spec, t=spec.t) != spec for f in fields):
            raise ValueError("every frame's field must have the same settings but for t")
        self.fields = list(fields)
        self.timesteps = np.array([f.spec.t for f in self.fields], np.int64)
        self.view = FieldFigure(spec, animated=True)
        self.fig = self.view.fig
        panels = [self.view.left, self.view.right] + ([self.view.diff] if self.view.diff is not None else [])
        self.zoom_axes = [p.ax for p in panels]  # redrawn whole each frame (their contents all change)
        self.moving = list(self.view.texts)
        self.view.update(self.fields[0])
        self._cache_background()

    @property
    def num_frames(self) -> int:
        """One frame per field."""
        return len(self.fields)

    def update(self, k: int) -> None:
        """Draw frame ``k``."""
        self.view.update(self.fields[int(np.clip(k, 0, self.num_frames - 1))])

    def frame(self, k: int) -> np.ndarray:
        """RGB pixels (H, W, 3) of frame ``k``."""
        return super().frame(k)[..., :3]

    def gif(self, max_frames: int = 100, fps: float = 4.0) -> bytes:
        """GIF bytes of at most ``max_frames`` evenly spread frames (deterministic), the last held 2 s."""
        return encode_gif(self.frames(frame_indices(self.num_frames, max_frames)), fps=fps, last_hold=2.0)


def text_heights(fig: Figure, display_width: float = DISPLAY_WIDTH) -> list[tuple[str, float]]:
    """``(text, font height in px)`` of every visible, non-empty text of ``fig`` when the figure is
    shown ``display_width`` px wide."""
    scale = display_width / (fig.get_figwidth() * fig.dpi)
    out = []
    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text().strip() and (text.axes is None or text.axes.get_visible()):
            out.append((text.get_text(), text.get_fontsize() * fig.dpi / 72.0 * scale))
    return out


def legend_entry_count(fig: Figure) -> int:
    """Entries over every legend of ``fig``."""
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return sum(len(leg.get_texts()) for leg in legends)


__all__ = ("FieldAnimation", "FieldFigure", "field_figure", "legend_entry_count", "text_heights")
