"""Animated views rendered by updating artists over a cached background (blitting).

The static parts (data cloud, axes, key, caption) are drawn once; each frame restores that
background and redraws only the artists that move, which is what keeps GIF export fast. Frames are
drawn on one Agg renderer per figure size that every view shares (``shared_renderer``), so a view
kept in the app's cache holds its background, not a canvas of its own. The one-step construction
views (``viz.views.construction``) draw each frame whole on it instead: their texts are sprites.
"""

from __future__ import annotations

import textwrap
import threading
from contextlib import contextmanager
from typing import Iterator, Optional, Sequence

import numpy as np
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.layout_engine import PlaceHolderLayoutEngine

from models.engine.trajectory import Trajectory
from viz.draw.camera import Shot
from viz.draw.drawing import ScaleBar, far_out, freeze_layout, mixture_for, plain_axes, share_mathtext_parser
from viz.draw.geometry import background_labels, class_name, guided_label, mixture_classes
from viz.gif import encode_gif
from viz.draw.key import FrameKey
from viz.draw.projection import Projection
from viz.draw.shading import ClassDensity, class_cloud
from viz.draw.style import COLORS, COMPACT_WIDTH, DPI, TEXT_PX, class_color, display_size, new_figure, text_pt


_RENDERERS: dict = {}
_RENDER_LOCK = threading.Lock()


@contextmanager
def shared_renderer(fig: Figure):
    """The Agg renderer of the figure's size and dpi that every view shares, held for one frame.

    A view cached by the app then holds no canvas of its own (2.8 MB at 1100 x 640): frames are
    drawn one at a time (the app draws holding ``viz.cache.DRAWING``), each starting from its
    view's background or from a cleared renderer."""
    key = (int(round(fig.bbox.width)), int(round(fig.bbox.height)), fig.dpi)
    with _RENDER_LOCK:
        if key not in _RENDERERS:
            _RENDERERS[key] = RendererAgg(*key)
        renderer = _RENDERERS[key]
        share_mathtext_parser(renderer)
        yield renderer


def square_limits(points: np.ndarray, pad: float = 0.06, aspect: float = 4 / 3) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axis limits holding every finite point, with equal units on both axes for a box of
    width / height = ``aspect``."""
    p = points.reshape(-1, 2)
    p = p[np.isfinite(p).all(1)]
    if len(p) == 0:
        return (-1.0, 1.0), (-1.0, 1.0)
    lo, hi = p.min(0), p.max(0)
    center, span = (lo + hi) / 2, np.maximum(hi - lo, 1e-6) * (1 + 2 * pad)
    half_w = max(span[0], span[1] * aspect) / 2
    half_h = half_w / aspect
    return (center[0] - half_w, center[0] + half_w), (center[1] - half_h, center[1] + half_h)


class Animated:
    """Base of every animated view: subclasses build a Figure whose moving artists are created
    with ``animated=True`` and listed in ``self.moving``, then call ``self._cache_background()``.

    ``update(k)`` moves the artists to frame k; ``frame(k)`` blits them onto the cached static
    background and returns RGBA pixels; ``draw(k)`` returns the whole Figure for a page.

    A view whose axis limits change every frame (a zoom that follows the step, or the exact plane
    of each step) lists those axes in ``zoom_axes``: the layout is frozen after the first draw,
    the background is cached without them, and ``frame(k)`` redraws each of them whole (their
    artists are still updated in place, never rebuilt). Axes without tick labels redraw fast.
    """

    fig: Figure
    moving: list
    zoom_axes: Sequence = ()
    gif_palette = "figure"  # ``viz.gif``: the diagrams' fixed palette ("adaptive" for photographs)
    #: the camera: frame -> ``viz.draw.camera.Shot`` (its view limits), for views of data; None for a photograph
    shots: Optional[dict[int, Shot]] = None

    @property
    def num_frames(self) -> int:
        raise NotImplementedError

    def update(self, k: int) -> None:
        raise NotImplementedError

    def _cache_background(self) -> None:
        self.canvas = self.fig.canvas
        engine = self.fig.get_layout_engine()
        if engine is not None and not isinstance(engine, PlaceHolderLayoutEngine):
            freeze_layout(self.fig)  # lay out once, then keep it: axes must not move
        was = [ax.get_visible() for ax in self.zoom_axes]
        for ax in self.zoom_axes:
            ax.set_visible(False)
        with shared_renderer(self.fig) as renderer:
            renderer.clear()
            self.fig.draw(renderer)
            self.background = renderer.copy_from_bbox(self.fig.bbox)
        for ax, on in zip(self.zoom_axes, was):
            ax.set_visible(on)  # an inset hidden in the first frame stays hidden

    def frame(self, k: int) -> np.ndarray:
        """RGBA pixels (H, W, 4) of frame ``k``, drawn by blitting onto the cached background (on the
        renderer views of one size share: a view keeps its background, not a canvas of its own)."""
        self.update(k)
        with shared_renderer(self.fig) as renderer:
            renderer.restore_region(self.background)
            for ax in self.zoom_axes:
                ax.draw(renderer)
            for artist in self.moving:
                artist.draw(renderer)
            return np.asarray(renderer.buffer_rgba()).copy()

    def frames(self, indices: Optional[Sequence[int]] = None) -> Iterator[np.ndarray]:
        """Frames for ``indices`` (default: every frame)."""
        for k in (range(self.num_frames) if indices is None else indices):
            yield self.frame(k)

    def draw(self, k: int) -> Figure:
        """The whole Figure at frame ``k`` (for display on a page; the animation is done with)."""
        self.update(k)
        for artist in self.moving:
            artist.set_animated(False)
        return self.fig

    def gif(self, max_frames: int = 100, fps: float = 10.0) -> bytes:
        """GIF bytes of at most ``max_frames`` evenly spread frames."""
        return encode_gif(self.frames(frame_indices(self.num_frames, max_frames)), fps=fps, palette=self.gif_palette)

    def gif_shots(self, max_frames: int = 100) -> Optional[dict[int, Shot]]:
        """The camera of each frame a GIF of at most ``max_frames`` frames shows (None without a camera)."""
        if self.shots is None:
            return None
        return {k: self.shots[k] for k in frame_indices(self.num_frames, max_frames)}


class PathAnimation(Animated):
    """The paths of x_t for every sample, with x_t and the prediction x0_hat at the current step.

    The view holds every path and every prediction within ``max_ratio`` path-spans of their centre
    (one camera for the whole run). The data set lies under the paths, each class in its colour (the
    2-D mixture as a shaded density); on the 2-D mixture each path takes the colour of the class it
    ends in."""

    max_ratio = 1.0
    kind = "paths"

    def __init__(self, traj: Trajectory, projection: Projection, background: Optional[np.ndarray] = None,
                 title: str = "", fig: Optional[Figure] = None, width: Optional[int] = None,
                 limits: Optional[tuple[tuple[float, float], tuple[float, float]]] = None) -> None:
        """``limits`` ((xmin, xmax), (ymin, ymax)): the view, for paths drawn beside others at one
        scale (``shared_path_limits``); by default the view that holds this run's paths."""
        self.traj, self.projection = traj, projection
        self.xs = projection(traj.x)  # (S+1, B, 2)
        self.x0s = projection(traj.x0_hat)  # (S, B, 2)
        size = display_size(self.kind, width)
        self.fig = fig or new_figure(size, layout=None)
        W, H = self.fig.bbox.width, self.fig.bbox.height
        frac = lambda left, top, w, h: [left / W, 1 - (top + h) / H, w / W, h / H]  # noqa: E731
        note, bottom, main = _path_layout(W, H, projection)
        ax = self.ax = self.fig.add_axes(frac(*main))
        plain_axes(ax)
        ax.set_aspect("auto")
        ax.set_autoscale_on(False)
        xlim, ylim = limits or square_limits(_path_points(self.xs, self.x0s, self.max_ratio), aspect=main[2] / main[3])
        self.beyond = [int(n) for n in ((self.x0s[..., 0] < xlim[0]) | (self.x0s[..., 0] > xlim[1]) |
                                        (self.x0s[..., 1] < ylim[0]) | (self.x0s[..., 1] > ylim[1])).sum(1)]
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        self.shots = dict.fromkeys(range(self.num_frames), Shot(tuple(map(float, xlim)), tuple(map(float, ylim))))
        batch = self.xs.shape[1]
        colors, entries = _path_underlay(ax, traj, projection, background, (xlim, ylim), batch)
        fig = self.fig
        fig.text(12 / W, 1 - 8 / H, title, fontsize=text_pt("headline"), ha="left", va="top", weight="bold")
        fig.text(12 / W, (bottom - 6) / H, "\n".join(note), fontsize=text_pt("small"), color="#444444", ha="left",
                 va="top", linespacing=1.15)
        ScaleBar(ax).update(xlim)
        col = _key_column(W)
        entries = _fit_key_rows(entries, W, col)
        lines = sum(label.count("\n") for _, label in entries)
        self.key = FrameKey(fig, frac(W - col, 80, col - 10, FrameKey.height_px(len(entries), lines)), entries)
        self.paths = [ax.plot([], [], color=colors[b], lw=1.4, alpha=0.55, animated=True)[0] for b in range(batch)]
        self.links = ax.plot([], [], color=COLORS["x0_hat"], lw=1.0, alpha=0.6, animated=True)[0]
        self.cur = ax.scatter([], [], s=46, c=COLORS["x_t"], zorder=3, animated=True)
        self.pred = ax.scatter([], [], s=46, c=COLORS["x0_hat"], marker="D", zorder=3, animated=True)
        self.step_text = fig.text(12 / W, 1 - 44 / H, "", fontsize=text_pt("title"), ha="left", va="top",
                                  animated=True)
        self.moving = [*self.paths, self.links, self.cur, self.pred, self.step_text]
        self._cache_background()

    @property
    def num_frames(self) -> int:
        """One frame per step, plus the final sample."""
        return self.xs.shape[0]

    def update(self, k: int) -> None:
        """Move the artists to step ``k`` (0 = x_T, S = final sample)."""
        k = int(np.clip(k, 0, self.num_frames - 1))
        for b, line in enumerate(self.paths):
            line.set_data(self.xs[: k + 1, b, 0], self.xs[: k + 1, b, 1])
        self.cur.set_offsets(self.xs[k])
        if k < len(self.x0s):
            pred = self.x0s[k]
            self.pred.set_offsets(pred)
            seg = np.stack([self.xs[k], pred, np.full_like(pred, np.nan)], 1).reshape(-1, 2)
            self.links.set_data(seg[:, 0], seg[:, 1])
            beyond = self.beyond[k]
            far = f"   ·   {beyond} prediction{'s' if beyond > 1 else ''} beyond the view" if beyond else ""
            self.step_text.set_text(f"step {k + 1}/{len(self.x0s)}  ·  {self.traj.level_text(k)}{far}")
        else:
            self.pred.set_offsets(np.empty((0, 2)))
            self.links.set_data([], [])
            self.step_text.set_text(f"final samples  ·  {self.traj.level_text(self.traj.steps)}")


def _path_underlay(ax, traj: Trajectory, projection: Projection, background: Optional[np.ndarray],
                   limits: tuple[tuple[float, float], tuple[float, float]], batch: int) -> tuple[list, list]:
    """Draw what lies under the path view's paths (the 2-D mixture's density, shaded by class, or
    the data set ``background`` in its classes' colours) on ``ax`` within ``limits``; the colour of
    each of the ``batch`` paths (the class it ends in on the 2-D mixture) and the key's rows."""
    highlight = guided_label(traj) if traj.labels is not None and len(traj.labels) and \
        len(set(int(y) for y in traj.labels)) == 1 else None
    gmm = mixture_for(traj, traj.x.shape[-1])
    colors = [COLORS["x_t"]] * batch
    entries = [("x_t", r"$x_t$ now"), ("x0_hat", r"its prediction $\hat{x}_0$")]
    if gmm is not None and projection.kind == "identity":
        ClassDensity(ax, gmm, highlight).update(limits, 1.0)
        ends = mixture_classes(traj.x[-1], gmm)
        colors = [class_color(int(c)) for c in ends]
        entries.append((_path_handle(colors), "a path, coloured by\nthe class it ends in"))
    elif background is not None:
        labels = background_labels(traj, background)
        class_cloud(ax, projection(background), labels, highlight)
        if labels is not None and highlight is not None:
            entries.append((_dot_handle(class_color(highlight), 8), f"data of class {class_name(traj, highlight)}\n"
                                                                     "(guided toward)"))
            entries.append((_dot_handle("#999999", 5), "data of the other classes"))
        elif labels is not None:
            entries.append((_dot_handle("#999999", 6), "data, in the colours of its classes"))
    return colors, entries


def _fit_key_rows(entries: list, W: float, col: int) -> list:
    """The path view's key rows, their long labels wrapped to fit the narrower key column ``col`` px
    wide of a side-by-side panel (a W px wide figure under ``COMPACT_WIDTH``); as they are otherwise."""
    if W < COMPACT_WIDTH:
        chars = int((col - 60) / (0.55 * TEXT_PX["key"]))
        entries = [(handle, label if "$" in label or "\n" in label else textwrap.fill(label, chars))
                   for handle, label in entries]
    return entries


def _path_layout(W: float, H: float, projection: Projection) -> tuple[list[str], int, tuple[float, float, float, float]]:
    """The path view's note lines, the px they take at the bottom, and its main area (left, top,
    width, height) in a W x H px figure."""
    note = textwrap.wrap(projection.note, max(60, int((W - 24) / (0.56 * TEXT_PX["small"]))))
    bottom = 12 + 20 * len(note)
    return note, bottom, (12, 80, W - _key_column(W) - 20, H - 80 - bottom - 6)


def _key_column(W: float) -> int:
    """The width of the path view's key column (narrower in a side-by-side panel)."""
    return 360 if W >= COMPACT_WIDTH else 260


def _path_points(xs: np.ndarray, x0s: np.ndarray, max_ratio: float) -> np.ndarray:
    """The 2-D points the path view must hold. The paths decide the view; a prediction thrown far out
    (classifier guidance at high noise can put one 20 path-spans away) would shrink every path to a
    dot, so those stay off-view: their links run to the edge in their true direction, and the frame
    counts them."""
    core, preds = xs.reshape(-1, 2), x0s.reshape(-1, 2)
    near = preds[~far_out(core, preds, max_ratio)] if len(preds) else preds
    return np.concatenate([core, near])


def shared_path_limits(trajs: Sequence[Trajectory], projection: Projection, width: Optional[int] = None):
    """One view ((xmin, xmax), (ymin, ymax)) that holds the paths of every run in ``trajs`` drawn in
    ``projection``: give it to each ``PathAnimation(..., limits=)`` to draw them at one scale."""
    if not trajs:
        raise ValueError("no runs to hold")
    W, H = (v * DPI for v in display_size(PathAnimation.kind, width))  # as the figure's bbox
    *_, main = _path_layout(W, H, projection)
    points = np.concatenate([_path_points(projection(t.x), projection(t.x0_hat), PathAnimation.max_ratio)
                             for t in trajs])
    return square_limits(points, aspect=main[2] / main[3])


def _path_handle(colors: list[str]):
    """A key handle: short lines in the paths' colours."""
    def make(ax) -> list:
        out = []
        uniq = list(dict.fromkeys(colors))[:3]
        for i, c in enumerate(uniq):
            line = Line2D([], [], color=c, lw=2.2)
            ax.add_line(line)
            out.append(line)
        return out
    return make


def _dot_handle(color: str, size: float):
    """A key handle: a dot of the data cloud."""
    def make(ax) -> list:
        line = Line2D([], [], ls="", marker="o", ms=size, color=color, mec="none")
        ax.add_line(line)
        return [line]
    return make


def frame_indices(num_frames: int, max_frames: int) -> list[int]:
    """At most ``max_frames`` evenly spread indices, always including the first and last."""
    if num_frames <= max_frames:
        return list(range(num_frames))
    return sorted(set(np.round(np.linspace(0, num_frames - 1, max_frames)).astype(int).tolist()))


def path_gif(traj: Trajectory, projection: Projection, background: Optional[np.ndarray] = None,
             title: str = "", max_frames: int = 100, fps: float = 10.0) -> bytes:
    """GIF bytes of the path animation, at most ``max_frames`` frames."""
    return PathAnimation(traj, projection, background, title).gif(max_frames, fps)
