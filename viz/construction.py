"""One sampling step drawn as a construction: named points joined by named arrows, one frame per
step, in a fixed projection or in the exact plane of each step, with a zoom that follows the step.

Subclasses (``StepDiagram``, ``ClassifierGuidanceDiagram``, ``CFGDiagram``) only say which points
a step has (``named_points``), which arrows join them (``Segment``), which markers to draw and
which three points span the exact plane. Everything else is shared here: the per-frame zoom,
pinning of points thrown far out by extreme guidance (marked "off-scale"), rings on predictions
outside the data range, the density of the 2-D mixture under the construction, the legend,
the scale bar, the title (step, t, gamma) and the note saying what the projection loses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional, Sequence

import numpy as np

from models.trajectory import Trajectory
from viz.animate import Animated
from viz.drawing import (DensityShading, ScaleBar, add_headline, add_legend, add_note, box_aspect, diagram_grid, far_out,
                         fit_limits, freeze_layout, mixture_for, named_entries, pin_inside, plain_axes,
                         point_marker, ring_marker, set_point, set_vector, vector_arrow)
from viz.geometry import (StepVectors, check_finite, check_sample, data_range, guidance_scale, noise_scales,
                          outside_range, step_vectors)
from viz.projection import Projection, identity_projection, plane_projection
from viz.style import FONT_SIZE, UNDERLAYS, new_figure

PREDICTIONS = ("x0_hat", "x0_uncond", "x0_cond", "guided", "x0")  # points that should look like data


@dataclass(frozen=True)
class Segment:
    """An arrow from point ``start`` to point ``end``, drawn in the style ``style`` (a key of
    ``viz.style.VECTORS``); ``gid`` names the arrow (tests and legends look it up by it)."""

    gid: str
    style: str
    start: str
    end: str


def check_projection(projection: Projection | str) -> None:
    """A view's projection is a ``Projection`` or the string ``"plane"``; anything else is refused."""
    if not (isinstance(projection, Projection) or projection == "plane"):
        raise ValueError(f"projection must be a viz.projection.Projection or 'plane', got {projection!r}")


def step_title(traj: Trajectory, k: int, gamma: Optional[float]) -> str:
    """``step 12/50 · t = 779 · γ = 3`` (gamma left out for unguided runs)."""
    parts = [f"step {k + 1}/{traj.steps}", f"t = {int(traj.timesteps[k])}"]
    if gamma is not None:
        parts.append(f"γ = {gamma:g}")
    return "  ·  ".join(parts)


class ConstructionView(Animated):
    """Base of the one-step views (one frame per sampling step)."""

    #: the three points spanning the exact plane of each step (origin, first axis, second axis)
    plane: tuple[str, str, str] = ("x_t", "x0_hat", "x_next")
    #: points that may be pinned to the edge when thrown far out of the data (the rest always fit in view)
    pinnable: tuple[str, ...] = ()
    #: a pinned point slides back toward this other point (so the arrow between them keeps its direction)
    pin_from: dict[str, str] = {}
    max_ratio = 15.0  # ... farther than this many spans of the other points from their centre
    #: the share of the axes' height kept free of points at the bottom (the scale bar, or an inset)
    bottom_free = 0.12

    def __init__(self, traj: Trajectory, projection: Projection | str, sample: int, *, segments: Sequence[Segment],
                 markers: Sequence[str], legend: Sequence[str], legend_labels: Optional[dict[str, str]] = None,
                 suptitle: str, plane_note: str) -> None:
        check_finite(traj)
        check_projection(projection)
        self.traj, self.sample = traj, check_sample(traj, sample)
        self.sigmas = noise_scales(traj)
        self.gamma = guidance_scale(traj)
        self.range = data_range(traj)
        self.segments, self.markers = tuple(segments), tuple(markers)
        dim = traj.x.shape[-1]
        fixed = projection if isinstance(projection, Projection) else None
        if fixed is None and dim == 2:
            fixed = identity_projection()  # 2-D data: every view is the identity, exact
        self.fixed = fixed
        self.plane_note = plane_note
        self._positions = [self._frame_positions(k) for k in range(traj.steps)]

        self.fig = fig = new_figure()
        ax, legend_ax, _ = diagram_grid(fig)
        self.ax = ax
        plain_axes(ax)
        self.headline = f"{suptitle}  ·  {self.view_name}"
        gmm = mixture_for(traj, dim)
        self.density = DensityShading(ax, gmm) if gmm is not None and fixed is not None and fixed.kind == "identity" else None
        self.arrows = {s.gid: vector_arrow(ax, s.style, gid=s.gid, zorder=UNDERLAYS.get(s.style, 3))
                       for s in self.segments}
        self.points = {name: point_marker(ax, name, zorder=4.5 if name == "x_t" else 4) for name in self.markers}
        self.rings, self.pins = ring_marker(ax, "outside"), ring_marker(ax, "offscale")
        self.scalebar = ScaleBar(ax)
        add_headline(fig, self.headline)
        ax.set_title(self.title_at(0), fontsize=FONT_SIZE - 1, loc="left")
        names = [n for n in legend if n != "noise" or self.sigmas.any()]
        if any(p[2].any() for p in self._positions):
            names.append("outside")
        if any(p[3].any() for p in self._positions):
            names.append("offscale")
        # More than 12 entries (the zoo's longest legends with both rings) are set closer together.
        self.legend = add_legend(legend_ax, named_entries(names, legend_labels), 0.7 if len(names) <= 12 else 0.4)
        add_note(fig, self.note)
        freeze_layout(fig)
        self.aspect = box_aspect(ax)
        self.zoom_axes, self.moving = (ax,), []
        self.limits = None
        self.add_extras()
        self.update(0)
        self._cache_background()

    # -- what a subclass provides --------------------------------------------------------------

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """Every point of the construction at one step, by name, in data space (D,)."""
        raise NotImplementedError

    def add_extras(self) -> None:
        """Subclass hook: add artists (e.g. an inset in ``self.ax``) once the layout is frozen,
        before the first frame is drawn; ``update`` moves them."""

    # -- geometry ------------------------------------------------------------------------------

    @property
    def view_name(self) -> str:
        """How the picture was made: 'exact plane', 'PCA', 'random projection' or '2-D, exact'."""
        if self.fixed is None:
            return "exact plane"
        return {"identity": "2-D data, exact", "pca": "PCA view", "random": "random projection",
                "plane": "fixed plane"}.get(self.fixed.kind, self.fixed.kind)

    @property
    def note(self) -> str:
        """What this view keeps and loses."""
        return self.plane_note if self.fixed is None else self.fixed.note

    def projection_at(self, k: int) -> Projection:
        """The projection of frame ``k``: the fixed one, or the exact plane of step ``k``."""
        if self.fixed is not None:
            return self.fixed
        named = self.named_points(self.vectors(k))
        return replace(plane_projection(*(named[n] for n in self.plane)), note=self.plane_note)

    def vectors(self, k: int) -> StepVectors:
        """The data-space vectors of step ``k`` of this view's sample."""
        return step_vectors(self.traj, k, self.sample, self.sigmas)

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

    def positions(self, k: int) -> dict[str, np.ndarray]:
        """Projected 2-D position of every named point at step ``k`` (before any pinning)."""
        names, pts, _, _ = self._positions[k]
        return dict(zip(names, pts))

    @property
    def num_frames(self) -> int:
        """One frame per sampling step."""
        return self.traj.steps

    def update(self, k: int) -> None:
        """Move every arrow and point to step ``k`` and zoom onto it."""
        k = int(np.clip(k, 0, self.num_frames - 1))
        names, pts, outside, far = self._positions[k]
        limits = fit_limits(pts[~far], self.aspect, bottom=self.bottom_free)
        shown, pinned = pts.copy(), far
        if far.any():  # slide each far point back toward its anchor, onto the edge of the view
            anchors = np.stack([pts[names.index(self.pin_from.get(n, "x_t"))] for n in np.array(names)[far]])
            shown[far] = pin_inside(pts[far], limits, anchors=anchors)[0]
        pos = dict(zip(names, shown))
        self.ax.set_xlim(*limits[0])
        self.ax.set_ylim(*limits[1])
        for seg in self.segments:
            set_vector(self.arrows[seg.gid], pos[seg.start], pos[seg.end])
        for name, line in self.points.items():
            set_point(line, pos.get(name))
        drawn = np.array([n in self.points for n in names])
        self.rings.set_data(shown[outside & drawn, 0], shown[outside & drawn, 1])
        self.pins.set_data(shown[pinned & drawn, 0], shown[pinned & drawn, 1])
        self.limits = limits
        self.scalebar.update(limits[0])
        if self.density is not None:
            self.density.update(limits, float(self.traj.alphas_cumprod[int(self.traj.timesteps[k])]))
        self.ax.set_title(self.title_at(k), fontsize=FONT_SIZE - 1, loc="left")
        self.step = k

    def title_at(self, k: int) -> str:
        """The title of frame ``k``: its step, t and gamma (the headline above says what is drawn)."""
        return step_title(self.traj, k, self.gamma)
