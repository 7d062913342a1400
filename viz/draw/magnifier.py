"""Insets that magnify the part of a construction that is too small to read in the main view: the
step and the noise where they are short (every step view), the predictions where they crowd
together (the 2-D mixture at high noise). Each inset sits beside the main view, titled with what it
shows and its magnification ("×12"); a box of the same colour marks the magnified region in the
main view, drawn under the construction (it hides no arrow, point or label). Same projection as the main view, its own zoom.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
from matplotlib.patches import FancyArrowPatch, Rectangle

from viz.draw.drawing import fit_limits, framed_axes, point_marker, set_point, set_vector, vector_arrow
from viz.draw.sprites import TextSprite
from viz.draw.style import COLORS, MIN_ARROW_PX, UNDERLAYS, text_pt

Limits = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class Magnified:
    """What an inset magnifies: ``what`` (its title), the ``region`` it frames (point names), the
    view's segments it repeats (gids; lines running out of it are cut at its edge), its markers, and
    when it shows: where one of the ``triggers`` (segment gids) is drawn shorter than
    ``MIN_ARROW_PX`` in the main view (it then frames just the short ones, or the whole region with
    ``whole_region``), or where it magnifies the region at least ``Magnifier.min_magnification`` times."""

    what: str
    region: tuple[str, ...]
    segments: tuple[str, ...]
    markers: tuple[str, ...]
    triggers: tuple[str, ...] = ()
    color: str = "step"
    whole_region: bool = False  # a triggered inset frames the whole region, not just the short segments


def clip_segment(a: np.ndarray, b: np.ndarray, limits: Limits, margin: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """The part of the segment a -> b (2-D) inside ``limits`` widened by ``margin`` of their size on
    each side (Liang-Barsky); ``(a, a)`` (nothing to draw) where it misses them."""
    (x0, x1), (y0, y1) = limits
    mx, my = margin * (x1 - x0), margin * (y1 - y0)
    lo, hi = np.array([x0 - mx, y0 - my]), np.array([x1 + mx, y1 + my])
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d = b - a
    t0, t1 = 0.0, 1.0
    for i in range(2):
        if d[i] == 0:
            if not lo[i] <= a[i] <= hi[i]:
                return a, a
            continue
        ta, tb = sorted(((lo[i] - a[i]) / d[i], (hi[i] - a[i]) / d[i]))
        t0, t1 = max(t0, ta), min(t1, tb)
    if t0 >= t1:
        return a, a
    return a + t0 * d, a + t1 * d


#: the z-order of the frame marking an inset's region on the main view: over the density and the data
#: (0), under the arrows (2.2 and up), the points, the images and the labels
FRAME_ZORDER = 2.0
# A step shorter than MIN_ARROW_PX is magnified until it is at least this many px long in the inset.
INSET_MIN_PX = 2 * MIN_ARROW_PX
# A step shorter than this share of the points' size is float rounding, not a step: nothing to magnify.
FLOAT_FLOOR = 1e-5


class Magnifier:
    """One inset of a construction view at ``rect`` (figure fractions), for ``spec``."""

    min_magnification = 2.5  # a region inset (no triggers) shows only when it magnifies at least this much
    max_magnification = 50.0  # ... and frames a region smaller still at this magnification (no float noise blown up)
    max_step_magnification = 1e6  # a triggered inset never magnifies more

    def __init__(self, view, spec: Magnified, rect: Sequence[float]) -> None:
        self.view, self.spec = view, spec
        self._ax = None  # built when first drawn (``ax``): an Axes costs ~15 ms, and many frames need no inset
        self._pending = None  # (plan, points) shown but not yet applied to axes that do not exist yet
        by_gid = {s.gid: s for s in view.segments}
        self.segments = [by_gid[g] for g in spec.segments if g in by_gid]
        # under every arrow, point, image and label (issue 17): it marks a region, and must hide no part of it
        self.box = Rectangle((0, 0), 0, 0, fill=False, ec=COLORS[spec.color], lw=1.8, zorder=FRAME_ZORDER, visible=False)
        view.ax.add_patch(self.box)
        self.set_rect(rect)
        self.short: tuple[str, ...] = ()  # the triggers the last plan found short in the main view
        self.magnification: Optional[float] = None
        self.limits: Optional[Limits] = None
        self.framed: tuple[str, ...] = ()

    @property
    def built(self) -> bool:
        """Whether the inset has axes to draw, or a frame to show on them (a view draws only those:
        an inset never shown has none)."""
        return self._ax is not None or self._pending is not None

    @property
    def ax(self):
        """The inset's axes, with its arrows, points and title, built the first time they are needed
        (and showing the frame last given to ``show``)."""
        if self._ax is None:
            spec, view = self.spec, self.view
            self._ax = ax = view.fig.add_axes(self.rect)
            framed_axes(ax, COLORS[spec.color], 2.0)
            self.arrows = {s.gid: vector_arrow(ax, s.style, gid=f"inset_{s.gid}", zorder=UNDERLAYS.get(s.style, 3))
                           for s in self.segments}
            self.points = {n: point_marker(ax, n, zorder=4.5 if n == "x_t" else 4, gid=f"inset_{n}")
                           for n in spec.markers if n in view.points}
            self.title = ax.add_artist(TextSprite(text_pt("small"), color="#222222", gid="inset_title"))
            ax.set_visible(False)
        if self._pending is not None:
            self._apply(*self._pending)
        return self._ax

    def set_rect(self, rect: Sequence[float]) -> None:
        """Move the inset to ``rect`` (figure fractions): a view gives one inset the whole column when
        it is the only one a frame shows, half when two are."""
        fig = self.view.fig
        self.rect = tuple(rect)
        if self._ax is not None:
            self._ax.set_position(rect)
        W, H = fig.get_figwidth() * fig.dpi, fig.get_figheight() * fig.dpi
        self.size_px = (rect[2] * W, rect[3] * H)
        self.aspect = self.size_px[0] / self.size_px[1]
        self.title_xy = (rect[0] * W, (rect[1] + rect[3]) * H + 4)

    # -- planning ---------------------------------------------------------------------------------

    def _fit(self, pts: np.ndarray, main_px: float) -> tuple[Limits, float]:
        """Limits framing ``pts`` (N, 2) and their magnification against ``main_px`` px per data unit."""
        inner = fit_limits(pts, self.aspect, pad=0.22, bottom=0.0)
        return inner, self.size_px[0] / (inner[0][1] - inner[0][0]) / main_px

    def plan(self, pos: dict[str, np.ndarray], main_px: float,
             only: Optional[tuple[str, ...]] = None) -> Optional[tuple[Limits, float, tuple[str, ...]]]:
        """``(limits, magnification, segments framed)`` of the inset for a frame whose points are at
        ``pos`` (2-D) in a main view of ``main_px`` px per data unit, or None where it is not needed.
        ``only``: frame just these segments (a second inset taking what the first could not show)."""
        spec = self.spec
        by_gid = {s.gid: s for s in self.view.segments}
        if only is not None:
            ends = np.stack([pos[n] for g in only for n in (by_gid[g].start, by_gid[g].end)])
            inner, mag = self._fit(ends, main_px)
            return (inner, mag, tuple(only)) if mag <= self.max_step_magnification else None
        if spec.triggers and not spec.whole_region:
            floor = FLOAT_FLOOR * max(1.0, max(float(np.abs(p).max()) for p in pos.values())) * main_px
            length = {g: float(np.linalg.norm(pos[by_gid[g].end] - pos[by_gid[g].start])) * main_px
                      for g in spec.triggers if g in by_gid}
            short = [g for g, n in length.items() if floor < n < MIN_ARROW_PX + 5]
            self.short = tuple(short)
            if not short:
                return None
            # All the short ones, well magnified; else all of them, just long enough; else the shortest alone.
            for framed, least in ((short, INSET_MIN_PX), (short, MIN_ARROW_PX + 2), ([min(short, key=length.get)], 0)):
                ends = np.stack([pos[n] for g in framed for n in (by_gid[g].start, by_gid[g].end)])
                inner, mag = self._fit(ends, main_px)
                if mag > self.max_step_magnification:
                    return None
                if all(length[g] * mag >= least for g in framed):
                    return inner, mag, tuple(framed)
            return inner, mag, tuple(framed)
        region = np.stack([pos[n] for n in spec.region])
        inner, mag = self._fit(region, main_px)
        short = any(0 < float(np.linalg.norm(pos[by_gid[g].end] - pos[by_gid[g].start])) * main_px < MIN_ARROW_PX + 5
                    for g in spec.triggers if g in by_gid)
        if mag < self.min_magnification and not (short and mag > 1.2):
            return None
        if mag > self.max_magnification:
            (x0, x1), (y0, y1) = inner
            c = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
            half = self.size_px[0] / (self.max_magnification * main_px) / 2
            inner = ((c[0] - half, c[0] + half), (c[1] - half / self.aspect, c[1] + half / self.aspect))
            mag = self.max_magnification
        return inner, mag, ()

    # -- drawing ----------------------------------------------------------------------------------

    def show(self, plan: Optional[tuple[Limits, float, tuple[str, ...]]], pos: dict[str, np.ndarray]) -> None:
        """Draw the inset for ``plan`` (``plan``'s output) with the frame's points ``pos``, or hide it."""
        self.box.set_visible(plan is not None)
        self._pending = None
        if plan is None:
            if self._ax is not None:
                self._ax.set_visible(False)
            self.magnification, self.limits, self.framed = None, None, ()
            return
        inner, mag, framed = plan
        self.magnification, self.limits, self.framed = mag, inner, framed
        (x0, x1), (y0, y1) = inner
        self.box.set_bounds(x0, y0, x1 - x0, y1 - y0)
        if self._ax is None:  # applied when the inset is first drawn (``ax``)
            self._pending = (plan, pos)
            return
        self._apply(plan, pos)

    def _apply(self, plan: tuple[Limits, float, tuple[str, ...]], pos: dict[str, np.ndarray]) -> None:
        """Show ``plan`` with the frame's points ``pos`` on the inset's axes."""
        self._pending = None
        inner, mag, framed = plan
        self._ax.set_visible(True)
        self._ax.set_xlim(*inner[0])
        self._ax.set_ylim(*inner[1])
        for seg in self.segments:
            _set_clipped(self.arrows[seg.gid], pos[seg.start], pos[seg.end], inner)
        for name, line in self.points.items():
            set_point(line, pos[name])
        what = self.spec.what
        if framed and set(framed) <= {"step", "noise"}:
            what = {("step",): "the step", ("noise",): "the noise"}.get(tuple(sorted(framed)), "step and noise")
        self.title.set_text(f"{what}  ×{_round(mag)}")
        self.title.place(*self.title_xy, ha="left", va="bottom")


def _round(mag: float) -> str:
    """A magnification to two significant figures, as an integer from 10 up (×3.5, ×12, ×340)."""
    return f"{mag:.2g}" if mag < 10 else f"{int(float(f'{mag:.2g}'))}"


def _set_clipped(arrow: FancyArrowPatch, a: np.ndarray, b: np.ndarray, limits: Limits) -> None:
    """Draw ``arrow`` from a to b cut to ``limits``: a line running out of the inset ends at its edge,
    without a head (its head is beyond the edge); an arrow inside keeps its head."""
    (x0, x1), (y0, y1) = limits
    inside = x0 <= b[0] <= x1 and y0 <= b[1] <= y1
    ca, cb = clip_segment(a, b, limits)
    solid = arrow.get_linestyle() in ("-", "solid")
    if solid and getattr(arrow, "full_style", None) is None:
        arrow.full_style = arrow.get_arrowstyle()
    if solid:
        arrow.set_arrowstyle(arrow.full_style if inside else "-")
    set_vector(arrow, ca, cb)
    if getattr(arrow, "head", None) is not None:
        arrow.head.set_visible(bool(inside and np.linalg.norm(cb - ca) > 0))


def is_rounding(length: float, pos: dict[str, np.ndarray]) -> bool:
    """Whether a segment ``length`` long (data units) among points ``pos`` is float rounding, not a step."""
    return length <= FLOAT_FLOOR * max(1.0, max(float(np.abs(p).max()) for p in pos.values()))


__all__ = ["FLOAT_FLOOR", "FRAME_ZORDER", "INSET_MIN_PX", "Magnified", "Magnifier", "clip_segment", "is_rounding"]
