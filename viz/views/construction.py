"""One sampling step drawn as a construction: named points joined by named arrows, one frame per
step, in a fixed projection or in the exact plane of each step, filmed by a steady camera.

Subclasses (``StepDiagram``, ``ClassifierGuidanceDiagram``, ``CFGDiagram`` and the zoo's views) only
say which points a step has (``named_points``), which arrows join them (``Segment``), which markers
to draw, which arrows the key explains and which three points span the exact plane. Everything
else is shared here, laid out for a projector (``viz.draw.style.DISPLAY_WIDTH``):

* the main view, its scale chosen over the whole run and changing smoothly (``viz.draw.camera``), with a
  scale bar below it saying the truth about it;
* every point labelled where it is, on digits with its 8x8 image beside it (``viz.draw.point_labels``);
* insets beside the main view that magnify what is too small to read there: the step and the
  noise wherever they are shorter than ``MIN_ARROW_PX`` (``viz.draw.magnifier``);
* a key listing only the arrows the frame shows (``viz.draw.key``, at most six rows);
* points thrown far out by extreme guidance pinned to the edge (labelled "off-scale"), predictions
  outside the data's range ringed and labelled;
* the density of the 2-D mixture under the construction, coloured by class;
* a line saying, with the numbers, where the projection flattens the step or the noise;
* the title (step, t, gamma) and a note saying what the projection keeps and loses.
"""

from __future__ import annotations

import textwrap
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Optional, Sequence

import numpy as np
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.lines import Line2D

from models.engine.trajectory import Trajectory
from viz.views.paths import Animated, frame_indices, shared_renderer
from viz.draw.camera import MAX_RATIO, Shot, max_gap, plan_shots, shared_shots
from viz.draw.drawing import (far_out, framed_axes, mixture_for, pin_inside, point_marker, ring_marker, set_point, set_vector,
                          share_mathtext_parser, vector_arrow)
from viz.gif import encode_gif
from viz.draw.geometry import (StepVectors, check_finite, check_sample, data_range, guidance_scale, image_shape,
                          noise_scales, outside_range, step_vectors)
from viz.draw.key import HANDLE_PX, FrameKey, wrap_label
from viz.draw.magnifier import Magnified, Magnifier, is_rounding
from viz.draw.placement import segment_samples
from viz.draw.point_labels import PointLabels
from viz.draw.projection import Projection, aligned, identity_projection, plane_projection
from viz.draw.shading import ClassDensity
from viz.draw.sprites import TextSprite
from viz.draw.style import COLORS, COMPACT_WIDTH, DPI, LABELS, POINT_LABELS, POINTS, TEXT_PX, UNDERLAYS, display_size, new_figure, text_pt

PREDICTIONS = ("x0_hat", "x0_uncond", "x0_cond", "guided", "x0")  # points that should look like data
#: points that get their 8x8 image beside them on digits (the post's "images at the points")
IMAGE_POINTS = ("x_t", "x0_hat", "x0_uncond", "x0_cond", "guided", "x_next")
INSET_ROOM = 190  # px under the key for two insets with their titles (a compact panel grows to give them this)
GIF_FRAMES = 100  # the GIF's default number of frames (the camera keeps its steps smooth at that spacing)


@dataclass(frozen=True)
class Segment:
    """An arrow from point ``start`` to point ``end``, drawn in the style ``style`` (a key of
    ``viz.draw.style.VECTORS``); ``gid`` names the arrow (tests and the key look it up by it)."""

    gid: str
    style: str
    start: str
    end: str


def check_projection(projection: Projection | str) -> None:
    """A view's projection is a ``Projection`` or the string ``"plane"``; anything else is refused."""
    if not (isinstance(projection, Projection) or projection == "plane"):
        raise ValueError(f"projection must be a viz.draw.projection.Projection or 'plane', got {projection!r}")


def density_level(traj: Trajectory, k: int) -> tuple:
    """The arguments of ``ClassDensity.update`` after the limits for step ``k``: ``(abar,)`` on VP, the
    squared signal scale and the path's ``(a, s)`` on flow."""
    if traj.path == "flow":
        a, s = float(traj.alpha[k]), float(traj.sigma[k])
        return a * a, (a, s)
    return (float(traj.alphas_cumprod[int(traj.timesteps[k])]),)


def step_title(traj: Trajectory, k: int, gamma: Optional[float]) -> str:
    """``step 12/50 · t = 779 · γ = 3`` (gamma left out for unguided runs)."""
    parts = [f"step {k + 1}/{traj.steps}", traj.level_text(k)]
    if gamma is not None:
        parts.append(f"γ = {gamma:g}")
    return "  ·  ".join(parts)


def round_length(target: float) -> float:
    """The largest 1, 2 or 5 x 10^n not above ``target`` (> 0): a scale bar's length."""
    base = 10 ** np.floor(np.log10(target))
    return float(base * max(m for m in (1, 2, 5) if m * base <= target * (1 + 1e-12)))


def _fmt_len(v: float) -> str:
    return f"{v:.3g}"


# ----------------------------------------------------------------------------- the frame's layout

@dataclass(frozen=True)
class FrameLayout:
    """Where things sit on a construction view's figure, in px from its top left: the main view,
    the info line under it (scale bar, flattened lengths), the note, and the right-hand column (key
    on top, insets below)."""

    width: int
    height: int
    note_lines: int
    insets: int
    top: int = 80
    column: int = 340
    info: int = 30
    line: int = 20  # the note's line height
    key_lines: int = 0  # second lines of the key's two-line labels

    @classmethod
    def for_size(cls, width: int, height: int, note_lines: int, insets: int) -> "FrameLayout":
        """The layout of a W x H px figure: under ``COMPACT_WIDTH`` (a side-by-side panel) a narrower
        column for the key and insets, and the info line runs under the whole figure."""
        if width < COMPACT_WIDTH:
            return cls(width, height, note_lines, insets, column=270)
        return cls(width, height, note_lines, insets)

    @property
    def compact(self) -> bool:
        return self.width < COMPACT_WIDTH

    @property
    def bottom(self) -> int:
        """px from the bottom kept for the info line and the note."""
        return self.info + self.note_lines * self.line + 12

    def frac(self, left: float, top: float, w: float, h: float) -> list[float]:
        """A rect in figure fractions from px (left, top edge from the figure's top, width, height)."""
        return [left / self.width, 1 - (top + h) / self.height, w / self.width, h / self.height]

    @property
    def main(self) -> tuple[float, float, float, float]:
        """The main view: left, top, width, height (px)."""
        w = self.width - self.column - 34
        return 12.0, float(self.top), float(w), float(self.height - self.top - self.bottom - 4)

    @property
    def info_rect(self) -> tuple[float, float, float, float]:
        left, top, w, h = self.main
        return left, top + h + 2, (self.width - 2 * left if self.compact else w), float(self.info)

    @property
    def column_left(self) -> float:
        return float(self.width - self.column - 10)

    def key_rect(self, rows: int) -> tuple[float, float, float, float]:
        return self.column_left, float(self.top), float(self.column), float(FrameKey.height_px(rows, self.key_lines))

    def inset_room(self, rows: int) -> float:
        """The px the column has under a key of ``rows`` rows for insets (their titles included)."""
        _, top, _, h = self.main
        return (top + h) - (self.top + FrameKey.height_px(rows, self.key_lines) + 8)

    def inset_rects(self, rows: int, count: int) -> list[tuple[float, float, float, float]]:
        """Rects for ``count`` insets shown at once below the key, each with room for its title above it."""
        _, top, _, h = self.main
        start = self.top + FrameKey.height_px(rows, self.key_lines) + 8
        room = (top + h) - start
        each = room / max(count, 1)
        title = 28
        return [(self.column_left + 2, start + i * each + title, self.column - 4, each - title - 6)
                for i in range(count)]


class ConstructionView(Animated):
    """Base of the one-step views (one frame per sampling step)."""

    #: the figure kind (``viz.draw.style.DISPLAY_WIDTH``): the width the app shows it at
    kind = "step"
    #: the three points spanning the exact plane of each step (origin, first axis, second axis)
    plane: tuple[str, str, str] = ("x_t", "x0_hat", "x_next")
    #: points that may be pinned to the edge when thrown far out of the data (the rest always fit in view)
    pinnable: tuple[str, ...] = ()
    #: a pinned point slides back toward this other point (so the arrow between them keeps its direction)
    pin_from: dict[str, str] = {}
    max_ratio = 15.0  # ... farther than this many spans of the other points from their centre
    #: insets of this view (set by a subclass; the step inset is added by ``step_inset``)
    magnify: tuple[Magnified, ...] = ()
    #: a point's label on the plot, where it differs from ``viz.draw.style.POINT_LABELS``
    point_texts: dict[str, str] = {}
    #: the points that get their 8x8 image beside them on digits (``image_vectors`` gives the pixels)
    image_points: tuple[str, ...] = IMAGE_POINTS

    def __init__(self, traj: Trajectory, projection: Projection | str, sample: int, *, segments: Sequence[Segment],
                 markers: Sequence[str], key: Sequence[str], key_labels: Optional[dict[str, str]] = None,
                 suptitle: str, plane_note: str, width: Optional[int] = None) -> None:
        check_finite(traj)
        check_projection(projection)
        self.traj, self.sample = traj, check_sample(traj, sample)
        self.sigmas = noise_scales(traj)
        self.gamma = guidance_scale(traj)
        self.range = data_range(traj)
        self.segments, self.markers = tuple(segments), tuple(markers)
        dim = traj.x.shape[-1]
        self.dim = dim
        fixed = projection if isinstance(projection, Projection) else None
        if fixed is None and dim == 2:
            fixed = identity_projection()  # 2-D data: every view is the identity, exact
        self.fixed = fixed
        self.plane_note = plane_note
        self._planes: Optional[list[Projection]] = None  # each step's exact plane, lined up (``projection_at``)
        self._positions = [self._frame_positions(k) for k in range(traj.steps)]

        # -- the figure ------------------------------------------------------------------------
        size, note_lines, rows = self._plan_layout(key, key_labels, width)
        self.fig = fig = new_figure(size, layout=None)
        self.fig_rows = len(rows)
        self._add_main_axes()
        self._add_texts(suptitle, note_lines)
        self._add_construction()
        layout = self.layout
        self.key = FrameKey(fig, layout.frac(*layout.key_rect(len(rows))), rows)
        self._add_insets(len(rows))
        self._add_point_labels()
        self._add_info_line()
        self.shots = self.plan_camera(range(traj.steps))
        self._imposed = False  # a camera given by ``camera`` (shared with other views) is in use
        self.moving = [self.title]
        self._key_pixels: dict = {}  # the key's drawn pixels for each set of rows shown
        self.limits = None
        self.update(0)
        self.canvas = fig.canvas  # only ``draw(k)`` (a whole Figure for a page) ever draws on it

    def _plan_layout(self, key: Sequence[str], key_labels: Optional[dict[str, str]],
                     width: Optional[int]) -> tuple[tuple[float, float], list[str], list[tuple[str, str]]]:
        """Lay the frame out (``layout``) for a figure shown ``width`` CSS px wide: ``(size, note_lines,
        rows)``, the figure's size in inches (a compact panel grows to fit its insets under a long
        key), the note's lines and the key's rows (name, label) of the arrows ``key`` names."""
        size = display_size(self.kind, width)
        W, H = int(round(size[0] * DPI)), int(round(size[1] * DPI))
        wrap = max(60, int((W - 24) / (0.56 * TEXT_PX["small"])))
        note_lines = textwrap.wrap(self.note, wrap)
        layout = FrameLayout.for_size(W, H, len(note_lines), len(tuple(self.magnify)))
        rows = self._key_rows(key, key_labels or {})
        if layout.compact:  # long labels take two lines in the narrower column
            rows, layout, size = _fit_compact_key(rows, layout, size)
        self.layout = layout
        return size, note_lines, rows

    def _key_rows(self, key: Sequence[str], key_labels: dict[str, str]) -> list[tuple[str, str]]:
        """The key's rows (name, label) for the entries of ``key`` some frame draws (the noise only
        for runs that add noise), labelled from ``key_labels``, else ``viz.draw.style.LABELS``."""
        entries = [n for n in key if n != "noise" or self.sigmas.any()]
        entries = [n for n in entries if self._ever_shown(n)]
        return [(n, key_labels.get(n, LABELS.get(n, n))) for n in entries]

    def _add_main_axes(self) -> None:
        """The main view (``ax``, framed, its limits set by the camera) and its size in px (``main_px``)."""
        layout = self.layout
        ax = self.ax = self.fig.add_axes(layout.frac(*layout.main))
        framed_axes(ax)
        ax.set_autoscale_on(False)
        self.main_px = layout.main[2:]

    def _add_texts(self, suptitle: str, note_lines: list[str]) -> None:
        """The headline (``suptitle`` and the view's name), the title (``title``, set each frame, at
        ``title_xy``) and the note (``note_lines``); the headline and the note are ``static``."""
        fig, layout = self.fig, self.layout
        W, H = layout.width, layout.height
        # a side-by-side panel leaves the view's name to its note (both panels are drawn in one view)
        self.headline = suptitle if layout.compact else f"{suptitle}  ·  {self.view_name}"
        # Texts are sprites (viz.draw.sprites): rasterized once, blitted each frame.
        headline = fig.add_artist(TextSprite(text_pt("headline"), weight="bold", gid="headline"))
        headline.set_text(self.headline)
        if headline.size[0] > W - 24:  # a long method name in a narrow panel: the title's size, still bold
            headline = fig.add_artist(TextSprite(text_pt("title"), weight="bold", gid="headline"))
            headline.set_text(self.headline)
        headline.place(12, H - 8, ha="left", va="top")
        self.title = fig.add_artist(TextSprite(text_pt("title"), gid="title"))
        self.title.set_animated(True)
        self.title_xy = (12.0, H - 42.0)
        note = fig.add_artist(TextSprite(text_pt("small"), color="#444444", gid="note"))
        note.set_text("\n".join(note_lines))
        note.place(12, layout.bottom - layout.info - 8, ha="left", va="top")
        self.static = [headline, note]

    def _add_construction(self) -> None:
        """What the main view draws: the 2-D mixture's density (in the identity view), the arrows of
        ``segments``, the ``markers`` and the rings of points off the data and off-scale."""
        ax = self.ax
        gmm = mixture_for(self.traj, self.dim)
        identity = self.fixed is not None and self.fixed.kind == "identity"
        self.density = ClassDensity(ax, gmm, self._label()) if gmm is not None and identity else None
        self.arrows = {s.gid: vector_arrow(ax, s.style, gid=s.gid, zorder=UNDERLAYS.get(s.style, 3))
                       for s in self.segments}
        self.points = {name: point_marker(ax, name, zorder=4.5 if name == "x_t" else 4) for name in self.markers}
        self.rings, self.pins = ring_marker(ax, "outside"), ring_marker(ax, "offscale")

    def _add_insets(self, rows: int) -> None:
        """The insets' slots under a key of ``rows`` rows (``inset_slots``: one inset, or two sharing the
        column) and their magnifiers: one per ``magnify``, and where the step has one, a ``spare``."""
        layout = self.layout
        self.inset_slots = {n: [layout.frac(*r) for r in layout.inset_rects(rows, n)] for n in (1, 2)}
        self.magnifiers = [Magnifier(self, spec, self.inset_slots[1][0]) for spec in tuple(self.magnify)]
        # the step's inset, and a spare one for what it cannot show at once (a noise 20 times shorter than the step)
        self.step_magnifier = next((m for m in self.magnifiers if {"step", "noise"} & set(m.spec.triggers)), None)
        self.spare = None
        if self.step_magnifier is not None:
            self.spare = Magnifier(self, self.step_magnifier.spec, self.inset_slots[2][1])
            self.magnifiers.append(self.spare)

    def _add_point_labels(self) -> None:
        """The markers' labels (``labels``), with their 8x8 images on digits (``with_images``)."""
        shape = image_shape(self.traj)
        colors = {n: COLORS[POINTS[n][2]] for n in self.markers}
        self.labels = PointLabels(self.ax, [n for n in _label_order(self.markers)], colors, shape,
                                  [n for n in self.markers if n in self.image_points])
        self.with_images = shape is not None

    def _add_info_line(self) -> None:
        """The info line under the main view (``info``): the scale bar (``bar``, ``bar_text``) and
        the lengths the projection flattens (``facts``)."""
        layout = self.layout
        self.info = self.fig.add_axes(layout.frac(*layout.info_rect))
        self.info.set_axis_off()
        iw, ih = layout.info_rect[2:]
        self.info.set_xlim(0, iw)
        self.info.set_ylim(0, ih)
        self.bar = self.info.add_line(Line2D([], [], color="#333333", lw=4, solid_capstyle="butt"))
        self.bar_text = self.info.add_artist(TextSprite(text_pt("small"), color="#333333", gid="scale"))
        self.facts = self.info.add_artist(TextSprite(text_pt("small"), color="#7A3B00", gid="facts"))

    @property
    def zoom_axes(self) -> tuple:
        """The axes each frame draws whole: the main view, the facts below it, the key and the insets
        built so far (``Magnifier.ax``: one not built yet has never been shown)."""
        return (self.ax, self.info, self.key.ax, *(m.ax for m in self.magnifiers if m.built))

    # -- what a subclass provides --------------------------------------------------------------

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """Every point of the construction at one step, by name, in data space (D,)."""
        raise NotImplementedError

    def image_vectors(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """The pixels (D,) of the image shown beside each point (by default the point itself)."""
        return self.named_points(sv)

    # -- geometry ------------------------------------------------------------------------------

    @property
    def view_name(self) -> str:
        """How the picture was made: 'exact plane', 'PCA', 'random projection' or '2-D, exact'."""
        if self.fixed is None:
            return "exact plane"
        return {"identity": "2-D data, exact", "pca": "PCA view", "pca_data": "PCA of the data set",
                "random": "random projection", "plane": "fixed plane"}.get(self.fixed.kind, self.fixed.kind)

    @property
    def note(self) -> str:
        """What this view keeps and loses."""
        return self.plane_note if self.fixed is None else self.fixed.note

    def plane_at(self, k: int) -> Projection:
        """The exact plane of step ``k`` through the three points ``plane`` (its first axis from the
        first toward the second), before ``projection_at`` lines it up with the step before."""
        named = self.named_points(self.vectors(k))
        return replace(plane_projection(*(named[n] for n in self.plane)), note=self.plane_note)

    def projection_at(self, k: int) -> Projection:
        """The projection of frame ``k``: the fixed one, or the exact plane of step ``k`` (``plane_at``)
        turned or reflected within itself so that the construction's points land as near as they can to
        where frame ``k - 1`` drew them (``viz.draw.projection.aligned``, a Procrustes fit): the plane
        of each step is another plane, and the picture turns only as far as the construction does."""
        if self.fixed is not None:
            return self.fixed
        if self._planes is None:
            planes: list[Projection] = []
            drawn = None  # the construction's points as the frame before drew them
            for step in range(self.traj.steps):
                plane = self.plane_at(step)
                points = np.stack(list(self.named_points(self.vectors(step)).values()))
                plane = aligned(plane, points, drawn) if drawn is not None else plane
                planes.append(plane)
                drawn = plane(points)
            self._planes = planes
        return self._planes[int(k)]

    def vectors(self, k: int) -> StepVectors:
        """The data-space vectors of step ``k`` of this view's sample."""
        return step_vectors(self.traj, k, self.sample, self.sigmas)

    def _label(self) -> Optional[int]:
        """The class this sample is guided toward (None for unguided runs)."""
        labels = self.traj.labels
        if labels is None or not len(labels) or self.gamma is None:
            return None
        y = int(labels[self.sample])
        return y if y >= 0 else None

    def _frame_positions(self, k: int):
        """(names, 2-D points (N, 2), outside-data mask (N,), far-out mask (N,)) of step ``k``."""
        named = self.named_points(self.vectors(k))
        proj = self.projection_at(k)
        names = list(named)
        data = np.stack([named[n] for n in names])  # (N, D)
        pts = proj(data)  # (N, 2)
        outside = np.array([n in PREDICTIONS for n in names]) & outside_range(data, self.range)
        core = np.array([n not in self.pinnable for n in names])
        # Pinned: thrown far out (by an extreme gamma) AND outside the data, never a mere noisy step.
        far = ~core & far_out(pts[core], pts, self.max_ratio) & outside_range(data, self.range)
        return names, pts, outside, far

    def _ever_shown(self, key_name: str) -> bool:
        """Whether some frame draws the key entry ``key_name`` (a segment style or a marker)."""
        for seg in self.segments:
            if seg.style == key_name:
                for names, pts, _, _ in self._positions:
                    if np.any(pts[names.index(seg.start)] != pts[names.index(seg.end)]):
                        return True
        return key_name in self.markers

    def positions(self, k: int) -> dict[str, np.ndarray]:
        """Projected 2-D position of every named point at step ``k`` (before any pinning)."""
        names, pts, _, _ = self._positions[k]
        return dict(zip(names, pts))

    @property
    def num_frames(self) -> int:
        """One frame per sampling step."""
        return self.traj.steps

    # -- the camera ----------------------------------------------------------------------------

    def margins(self) -> tuple[float, float]:
        """The share of the main view's width and height kept free around the points (for their images and labels)."""
        w, h = self.main_px
        mx, my = (88, 52) if self.with_images else (50, 34)
        return min(mx / w, 0.3), min(my / h, 0.3)

    def plan_camera(self, indices: Sequence[int], ratio: Optional[float] = None) -> dict[int, Shot]:
        """The view of each frame in ``indices`` (a steady camera over them, ``viz.draw.camera``): consecutive
        ones' scales within ``ratio``, by default ``MAX_RATIO`` per frame of the GIF's default spacing
        (so the page's steps and the GIF's frames both change smoothly)."""
        idx = list(indices)
        w, h = self.main_px
        return dict(zip(idx, plan_shots(self.camera_boxes(idx), w / h, self.margins(), ratio or self.frame_ratio)))

    @property
    def frame_ratio(self) -> float:
        """The camera's bound on consecutive frames' scales: ``MAX_RATIO`` per frame of the GIF's
        default spacing (so the page's steps and the GIF's frames both change smoothly)."""
        return MAX_RATIO ** (1.0 / max_gap(frame_indices(self.num_frames, GIF_FRAMES)))

    def sparser_than_gif(self, indices: Sequence[int]) -> bool:
        """Whether frames ``indices`` lie farther apart than the default GIF's: a camera over just
        them then bounds each jump between them by ``MAX_RATIO``, not ``frame_ratio``."""
        return max_gap(indices) > max_gap(frame_indices(self.num_frames, GIF_FRAMES))

    def camera_boxes(self, indices: Sequence[int]) -> np.ndarray:
        """(N, 2, 2): the box each frame in ``indices`` must show (its points, far-out ones left out)."""
        boxes = []
        for k in indices:
            _, pts, _, far = self._positions[k]
            core = pts[~far] if (~far).any() else pts
            boxes.append([core.min(0), core.max(0)])
        return np.array(boxes)

    @contextmanager
    def camera(self, shots: dict[int, Shot]):
        """Film with ``shots`` (frame -> ``Shot``, e.g. ``shared_camera``'s) instead of the run's own
        camera inside the ``with`` block; the view is as it was after. Not thread-safe: hold the lock
        that guards the view's drawing (``ui.view_cache.DRAWING``)."""
        saved, imposed = self.shots, self._imposed
        self.shots, self._imposed = {**saved, **shots}, True
        try:
            yield self
        finally:
            self.shots, self._imposed = saved, imposed

    def frame(self, k: int) -> np.ndarray:
        """RGBA pixels (H, W, 4) of frame ``k``, drawn whole: every text is a sprite (a blit) and the
        axes have no ticks, so a full frame costs about what blitting over a cached background did.
        It is drawn on a renderer that all views of one size share (frames are drawn one at a time), so
        a view cached by the app holds no canvas of its own: about 3 MB instead of 9 at 1100 x 640."""
        self.update(k)
        with shared_renderer(self.fig) as renderer:
            return self._draw_on(renderer).copy()

    def frames(self, indices: Optional[Sequence[int]] = None):
        """The frames of ``indices`` (default: all) for a GIF, drawn in turn on two renderers of this
        view's own: each frame is the renderer's buffer itself, not a copy (1.3 ms a frame at 1100 x
        640), and stays intact until two frames later (``viz.gif.encode_gif`` reads it before then)."""
        W, H = int(round(self.fig.bbox.width)), int(round(self.fig.bbox.height))
        pair = [RendererAgg(W, H, self.fig.dpi) for _ in range(2)]
        for renderer in pair:
            share_mathtext_parser(renderer)
        for i, k in enumerate(range(self.num_frames) if indices is None else indices):
            self.update(k)
            yield self._draw_on(pair[i % 2])

    def _draw_on(self, renderer) -> np.ndarray:
        """Draw the frame the artists show (``update``) on ``renderer``; its RGBA buffer (H, W, 4)."""
        renderer.clear()
        self.fig.patch.draw(renderer)
        for artist in self.static:
            artist.draw(renderer)
        key = self.key.ax
        box = key.bbox
        state = tuple(self.key.visible)  # a region is a copy of pixels: it restores onto any renderer of this size
        for ax in self.zoom_axes:
            if ax is key and state in self._key_pixels:
                renderer.restore_region(self._key_pixels[state])  # the key as drawn before (it changes rarely)
                continue
            ax.draw(renderer)
            if ax is key:
                self._key_pixels[state] = renderer.copy_from_bbox(box)
        for artist in self.moving:
            artist.draw(renderer)
        return np.asarray(renderer.buffer_rgba())

    def gif(self, max_frames: int = GIF_FRAMES, fps: float = 10.0) -> bytes:
        """GIF bytes of at most ``max_frames`` evenly spread frames. Fewer frames than the default
        (farther apart) get a camera planned over just them, so their scale still changes smoothly."""
        indices = frame_indices(self.num_frames, max_frames)
        shots = self.shots
        self.shots = {**shots, **self.gif_shots(max_frames)}
        try:
            return encode_gif(self.frames(indices), fps=fps, palette=self.gif_palette)
        finally:
            self.shots = shots

    def gif_shots(self, max_frames: int = GIF_FRAMES) -> dict[int, Shot]:
        """The camera of each frame a GIF of at most ``max_frames`` frames shows (``gif``): the page's
        camera at those steps, or one planned over just them where they lie farther apart than the
        default GIF's frames (so their scale still changes smoothly)."""
        indices = frame_indices(self.num_frames, max_frames)
        if not self._imposed and self.sparser_than_gif(indices):
            return self.plan_camera(indices, MAX_RATIO)
        return {k: self.shots[k] for k in indices}

    # -- one frame -----------------------------------------------------------------------------

    def frame_geometry(self, k: int):
        """``(limits, pos, main_px)`` of frame ``k``: the camera's limits, every named point's shown 2-D
        position (far ones pinned to the edge) and the main view's px per data unit."""
        k = int(np.clip(k, 0, self.num_frames - 1))
        names, pts, outside, far = self._positions[k]
        shot = self.shots[k]
        limits = (shot.xlim, shot.ylim)
        shown = pts.copy()
        if far.any():  # slide each far point back toward its anchor, onto the edge of the view
            anchors = np.stack([pts[names.index(self.pin_from.get(n, "x_t"))] for n in np.array(names)[far]])
            shown[far] = pin_inside(pts[far], limits, anchors=anchors)[0]
        return limits, dict(zip(names, shown)), self.main_px[0] / shot.width

    def plan_insets(self, pos: dict, main_px: float) -> list:
        """Each inset's plan for a frame (``Magnifier.plan``; None where it is not needed). One shown
        inset gets the whole column, two share it. The step and the noise come first: where the step's
        inset cannot show every short arrow at a readable length (a step 20 times the noise), it frames
        the shortest and a second inset (``spare``) the rest; where sharing the column would cost it an
        arrow, it takes the column alone."""
        for m in self.magnifiers:
            m.set_rect(self.inset_slots[1][0])
        plans = [None if m is self.spare else m.plan(pos, main_px) for m in self.magnifiers]
        step = next((i for i, m in enumerate(self.magnifiers) if m is self.step_magnifier), None)
        if step is not None and plans[step] is not None:
            m = self.magnifiers[step]
            short, framed = m.short, plans[step][2]
            if set(framed) != set(short):  # a second inset for what the first could not show
                rest = tuple(g for g in short if g not in framed)
                plans = [None] * len(plans)
                m.set_rect(self.inset_slots[2][0])
                self.spare.set_rect(self.inset_slots[2][1])
                plans[step] = m.plan(pos, main_px, only=framed)
                plans[self.magnifiers.index(self.spare)] = self.spare.plan(pos, main_px, only=rest)
                return plans
        shown = [i for i, p in enumerate(plans) if p is not None]
        if len(shown) < 2:
            return plans
        alone = list(plans)
        for slot, i in enumerate(shown[:2]):
            self.magnifiers[i].set_rect(self.inset_slots[2][slot])
            plans[i] = self.magnifiers[i].plan(pos, main_px)
        for i in shown[2:]:
            plans[i] = None
        kept = [i for i in shown[:2] if plans[i] is not None]
        if step in shown[:2] and step not in kept:
            kept = [step]  # the step's inset never gives way
        kept = kept or shown[:1]
        if len(kept) < 2:  # one is not needed at half the column (a region magnified less there): the other takes it all
            plans = [None] * len(plans)
            for i in kept:
                self.magnifiers[i].set_rect(self.inset_slots[1][0])
                plans[i] = alone[i]
                self.magnifiers[i].plan(pos, main_px)  # leave its short list for this rect
            return plans
        if step in shown[:2]:
            m = self.magnifiers[step]
            if plans[step] is None or set(plans[step][2]) != set(m.short):  # it lost an arrow: it takes the column
                plans = [None] * len(plans)
                m.set_rect(self.inset_slots[1][0])
                plans[step] = alone[step]
                m.plan(pos, main_px)  # leave its short list for this rect
        return plans

    def visibility(self, k: int) -> dict[str, tuple[float, Optional[float]]]:
        """For each arrow of frame ``k`` with a length: ``(px long in the main view, px long in the
        inset that shows it, or None)``, in CSS px at the figure's display width (no drawing). An
        arrow of float rounding (``viz.draw.magnifier.is_rounding``) has no length."""
        _, pos, main_px = self.frame_geometry(k)
        plans = list(zip(self.magnifiers, self.plan_insets(pos, main_px)))
        out = {}
        for seg in self.segments:
            n = float(np.linalg.norm(pos[seg.end] - pos[seg.start]))
            if n == 0 or is_rounding(n, pos):
                continue
            inset = None
            for m, plan in plans:
                if plan is not None and seg.gid in {s.gid for s in m.segments}:
                    (x0, x1), (y0, y1) = plan[0]
                    inside = all(x0 <= p[0] <= x1 and y0 <= p[1] <= y1 for p in (pos[seg.start], pos[seg.end]))
                    if inside:
                        inset = max(inset or 0.0, n * main_px * plan[1])
            out[seg.gid] = (n * main_px, inset)
        return out

    def update(self, k: int) -> None:
        """Move every arrow, point, image and label to step ``k`` and film it with the run's camera."""
        k = int(np.clip(k, 0, self.num_frames - 1))
        names, pts, outside, far = self._positions[k]
        limits, pos, main_px = self.frame_geometry(k)
        shown = np.stack([pos[n] for n in names])
        ax = self.ax
        ax.set_xlim(*limits[0])
        ax.set_ylim(*limits[1])
        for seg in self.segments:
            set_vector(self.arrows[seg.gid], pos[seg.start], pos[seg.end])
        for name, line in self.points.items():
            set_point(line, pos.get(name))
        drawn = np.array([n in self.points for n in names])
        self.rings.set_data(shown[outside & drawn, 0], shown[outside & drawn, 1])
        self.pins.set_data(shown[far & drawn, 0], shown[far & drawn, 1])
        self.limits = limits
        if self.density is not None:
            self.density.update(limits, *density_level(self.traj, k))
        for m, plan in zip(self.magnifiers, self.plan_insets(pos, main_px)):
            m.show(plan, pos)
        self._label_points(k, names, pos, outside, far)
        self._show_key()
        self.title.set_text(self.title_at(k))
        self.title.place(*self.title_xy, ha="left", va="top")
        self._info(k, pos, main_px)
        self.step = k

    def _label_points(self, k: int, names: list[str], pos: dict, outside: np.ndarray, far: np.ndarray) -> None:
        """Labels (and images) beside the markers of frame ``k``."""
        flags = {n: (bool(o), bool(f)) for n, o, f in zip(names, outside, far)}
        texts = {}
        for n in self.labels.names:
            text = self.point_texts.get(n, POINT_LABELS.get(n, n))
            o, f = flags.get(n, (False, False))
            if f:
                text += "  (off-scale)"
            elif o:
                text += "  (off the data)"
            texts[n] = text
        images = {}
        if self.with_images:
            named = self.image_vectors(self.vectors(k))
            images = {n: named[n] for n in self.labels.images if n in named}
        visible = {n: pos[n] for n in self.labels.names if n in pos}
        to_px = self.ax.transData.transform
        segs = [(pos[s.start], pos[s.end]) for s in self.segments if self.arrows[s.gid].get_visible()]
        obstacles = segment_samples(to_px(np.array(segs).reshape(-1, 2)).reshape(-1, 2, 2)) if segs else np.empty((0, 2))
        others = [pos[n] for n in pos if n not in visible and n in self.points]
        self.labels.update(visible, texts, images, obstacles, to_px(np.array(others)) if others else np.empty((0, 2)))

    def _show_key(self) -> None:
        """Key rows for what this frame draws (in the main view or an inset)."""
        on = set()
        for seg in self.segments:
            if self.arrows[seg.gid].get_visible():
                on.add(seg.style)
        for name, line in self.points.items():
            if len(line.get_xdata()):
                on.add(name)
        self.key.show(n for n in self.key.names() if n in on)

    def _info(self, k: int, pos: dict, main_px: float) -> None:
        """The scale bar (a round length, about a sixth of the view) and, where the projection
        flattens the step or the noise, their true and drawn lengths."""
        length = round_length(self.shots[k].width / 6)
        px = length * main_px
        ih = self.layout.info
        self.bar.set_data([4, 4 + px], [ih / 2, ih / 2])
        self.bar_text.set_text(f"= {length:g}")
        self.bar_text.place(*self.info.transData.transform((12 + px, ih / 2)), ha="left", va="center")
        self.facts.set_text(self.flattened_text(k, pos))
        room = self.layout.info_rect[2] - (12 + px) - self.bar_text.size[0] - 16  # px right of the scale bar's label
        if self.facts.size[0] > room:  # a narrow figure: the same facts in fewer words
            self.facts.set_text(self.flattened_text(k, pos, short=True))
        self.facts.place(*self.info.transData.transform((self.layout.info_rect[2], ih / 2)), ha="right", va="center")

    def flattened_text(self, k: int, pos: dict, short: bool = False) -> str:
        """Where this view draws the step or the noise much shorter than it is in D dimensions
        (a projection flattens it): both lengths, e.g. "lengths in 64-D: step 4.9, noise 6.3 · in this
        view: 0.3, 1.2" (``short``: "64-D: step 4.9, noise 6.3 · drawn 0.3, 1.2")."""
        if self.dim == 2 or "mean" not in pos:
            return ""
        named = self.named_points(self.vectors(k))
        pairs = [("step", named["mean"] - named["x_t"], pos["mean"] - pos["x_t"])]
        if self.sigmas[k] > 0 and "x_next" in pos:
            pairs.append(("noise", named["x_next"] - named["mean"], pos["x_next"] - pos["mean"]))
        true = [(n, float(np.linalg.norm(v)), float(np.linalg.norm(d))) for n, v, d in pairs]
        if not any(t > 0 and d < 0.8 * t for _, t, d in true):
            return ""
        lengths = ", ".join(f"{n} {_fmt_len(t)}" for n, t, _ in true)
        drawn = ", ".join(_fmt_len(d) for _, _, d in true)
        if short:
            return f"{self.dim}-D: {lengths} · drawn {drawn}"
        return f"lengths in {self.dim}-D: {lengths}  ·  in this view: {drawn}"

    def title_at(self, k: int) -> str:
        """The title of frame ``k``: its step, t and gamma (the headline above says what is drawn)."""
        return step_title(self.traj, k, self.gamma)


#: the widths a compact panel's key column may take, narrowest first: a long key widens its column (and
#: narrows the main view) before the figure grows taller
COMPACT_COLUMNS = (270, 310, 350, 390)


def _fit_compact_key(rows: list[tuple[str, str]], layout: FrameLayout,
                     size: tuple[float, float]) -> tuple[list[tuple[str, str]], FrameLayout, tuple[float, float]]:
    """A compact panel's key ``rows`` with long labels on two lines in its narrower column, its
    ``layout`` counting those lines, and the figure's ``size`` (inches). Where the key leaves too little
    room under it for two insets (``INSET_ROOM``), the column widens (``COMPACT_COLUMNS``: fewer labels
    wrap) and, only where even the widest leaves too little, the figure grows to give them that."""
    options = []
    for column in COMPACT_COLUMNS:
        wrapped = [(n, wrap_label(label, column - HANDLE_PX - 24)) for n, label in rows]
        fitted = replace(layout, column=column, key_lines=sum(label.count("\n") for _, label in wrapped))
        options.append((max(0, int(np.ceil(INSET_ROOM - fitted.inset_room(len(wrapped))))), column, wrapped, fitted))
    short, _, wrapped, fitted = min(options, key=lambda o: o[:2])  # the least growth, then the narrowest column
    if short == 0:
        return wrapped, fitted, size
    H = fitted.height + short  # a long key in a narrow panel: the figure grows so two insets fit under it
    return wrapped, replace(fitted, height=H), (size[0], H / DPI)


def _label_order(markers: Sequence[str]) -> list[str]:
    """Markers in the order their labels are placed (first choice first): x_t, predictions, the rest."""
    first = [n for n in ("x_t", "guided", "x0_hat", "x0_cond", "x0_uncond", "x_next") if n in markers]
    return first + [n for n in markers if n not in first]


def step_inset(segments: Sequence[Segment]) -> tuple[Magnified, ...]:
    """The inset that shows the step and the noise where they are short (for views that draw them)."""
    gids = {s.gid for s in segments}
    triggers = tuple(g for g in ("step", "noise") if g in gids)
    if not triggers:
        return ()
    lines = tuple(s.gid for s in segments if s.start == "x_t")  # lines leaving x_t show where the step heads
    extra = tuple(g for g in ("renoise",) if g in gids)
    return (Magnified("step and noise" if "noise" in gids else "the step", ("x_t", "mean", "x_next"),
                      (*lines, *triggers, *extra), ("x_t", "x_next", "x_ddim"), triggers, "step"),)


def shared_camera(views: Sequence[ConstructionView], indices: Optional[Sequence[int]] = None) -> list[dict[int, Shot]]:
    """One camera for one-step views of runs with the same number of steps (the side-by-side page's
    panels): at every frame in ``indices`` (all by default) each view gets the same scale and centre,
    planned over all their points, so equal lengths are equally long side by side. Give each view its
    ``dict`` through ``view.camera(...)``. Raises ``ValueError`` for views of different lengths."""
    if not views:
        raise ValueError("no views to share a camera")
    if len({v.num_frames for v in views}) != 1:
        raise ValueError("views with different numbers of steps cannot share a camera")
    idx = list(range(views[0].num_frames) if indices is None else indices)
    first = views[0]
    ratio = MAX_RATIO if first.sparser_than_gif(idx) else first.frame_ratio  # the page's steps, or a GIF's frames
    margin = tuple(max(m) for m in zip(*(v.margins() for v in views)))
    plans = shared_shots([v.camera_boxes(idx) for v in views], [v.main_px for v in views], margin, ratio)
    return [dict(zip(idx, plan)) for plan in plans]
