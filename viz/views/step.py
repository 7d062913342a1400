"""Sampling without guidance, drawn as in Dieleman's "The geometry of diffusion guidance":
one step (``StepDiagram``, ``step_figure``) and the whole trajectory (``TrajectoryDiagram``).

One step of DDPM (arXiv 2006.11239): from the noisy canvas x_t the model predicts x0_hat; the
sampler takes a small step toward it, to ``mean = c0 x0_hat + ct x_t``, then adds fresh noise
``sigma z`` to land on x_{t-1}. Deterministic samplers (DDIM with eta = 0, arXiv 2010.02502;
Euler / Heun, arXiv 2206.00364; DPM-Solver++, arXiv 2211.01095) skip the noise.
"""

from __future__ import annotations

import textwrap
from typing import Optional, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from models.engine.trajectory import Trajectory
from viz.views.paths import Animated
from viz.views.construction import ConstructionView, Segment, check_projection, step_inset, step_title
from viz.draw.camera import Shot
from viz.draw.drawing import (ScaleBar, far_out, limits_with_outliers, mixture_for, path_line, pin_inside, plain_axes,
                         point_marker, ring_marker, set_point, set_vector, vector_arrow)
from viz.draw.geometry import (StepVectors, background_labels, check_finite, check_sample, class_name, data_range,
                          guidance_scale, guided_label, image_shape, mixture_classes, outside_range)
from viz.draw.key import FrameKey
from viz.draw.point_labels import PointLabels
from viz.draw.projection import Projection
from viz.draw.shading import ClassDensity, class_cloud
from viz.draw.sprites import Sprite, TextSprite, image_pixels
from viz.draw.style import COLORS, DPI, LABELS, POINT_LABELS, POINTS, TEXT_PX, class_color, display_size, new_figure, text_pt

STAGES = ("prediction", "step", "noise")
STEP_PLANE_NOTE = ("Exact plane through xₜ, x̂₀ and xₜ₋₁ of each step: distances and angles between these three are "
                   "true. Where the step ends before the noise, and the final x₀, are projected onto it.")


def check_stages(stages: Sequence[str]) -> tuple[str, ...]:
    """``stages`` as a tuple, or ``ValueError`` listing the valid ones."""
    stages = tuple(stages)
    bad = [s for s in stages if s not in STAGES]
    if bad or not stages:
        raise ValueError(f"stages must be a non-empty selection of {', '.join(STAGES)}; got {stages!r}")
    return stages


class StepDiagram(ConstructionView):
    """One frame per sampling step: x_t, the final x_0, the prediction x0_hat (dashed line
    x_t -> x0_hat), the small step x_t -> mean (solid arrow), the fresh noise mean -> x_{t-1}
    (dotted arrow) and x_{t-1}; on digits each point's 8x8 image beside it.

    ``stages`` builds the picture up as the post does: ``("prediction",)``, then ``+ "step"``,
    then ``+ "noise"`` (left out by itself for deterministic samplers). ``projection`` is a
    ``viz.draw.projection.Projection`` or ``"plane"``: the exact plane through x_t, x0_hat and
    x_{t-1} of each step. ``width`` is the CSS width the figure is shown at (default ``DISPLAY_WIDTH``).
    """

    kind = "step"
    plane = ("x_t", "x0_hat", "x_next")

    def __init__(self, traj: Trajectory, projection: Projection | str, sample: int = 0,
                 stages: Sequence[str] = STAGES, width: Optional[int] = None) -> None:
        self.stages = check_stages(stages)
        # A stochastic run drawn without its noise: the step ends before x_{t-1}, which is not shown.
        hides_noise = "step" in self.stages and "noise" not in self.stages and bool(np.any(traj.noise))
        segments, markers, key = [], ["x0", "x_t"], []
        if "prediction" in self.stages:
            segments.append(Segment("prediction", "prediction", "x_t", "x0_hat"))
            markers.append("x0_hat")
            key.append("prediction")
        if "step" in self.stages:
            segments.append(Segment("step", "step", "x_t", "mean"))
            key.append("step")
            if "noise" in self.stages:
                segments.append(Segment("noise", "noise", "mean", "x_next"))
                key.append("noise")
            if not hides_noise:
                markers.append("x_next")
        labels = {"prediction": r"$x_t \to \hat{x}_0$: the prediction"}
        if hides_noise:
            labels["step"] = LABELS["step_to_mean"]
        self.magnify = step_inset(segments)
        sampler = str(traj.meta.get("sampler", "")).upper()
        super().__init__(traj, projection, sample, segments=segments, markers=markers, key=key,
                         key_labels=labels, suptitle=f"One {sampler} step".replace("  ", " "),
                         plane_note=STEP_PLANE_NOTE, width=width)

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """x_t, x0_hat, the step's end before noise, x_{t-1} and the final x_0."""
        return {"x_t": sv.x_t, "x0_hat": sv.x0_hat, "mean": sv.mean, "x_next": sv.x_next, "x0": sv.x0}


def step_figure(traj: Trajectory, projection: Projection | str, step: int, sample: int = 0,
                stages: Sequence[str] = STAGES) -> Figure:
    """The Figure of one sampling step (``StepDiagram(...).draw(step)``)."""
    return StepDiagram(traj, projection, sample, stages).draw(step)


class TrajectoryDiagram(Animated):
    """The whole path of x_t for one sample, with the prediction x0_hat of every step so far
    (a faint line of predictions converging on the final sample), one frame per step plus the
    final sample. On digits the current x_t and x0_hat show their 8x8 images beside them, and two
    rows of small images below show x_t and x0_hat at up to 8 evenly spaced steps up to the current
    one (noise turning into a digit, blur turning sharp); the data set is drawn under the path, each
    class in its colour. On the 2-D mixture the density is shaded by class, and the path takes the
    colour of the class it ends in. One camera for the whole run.
    """

    thumbs = 8
    kind = "trajectory"

    def __init__(self, traj: Trajectory, projection: Projection, sample: int = 0,
                 background: Optional[np.ndarray] = None, width: Optional[int] = None) -> None:
        check_finite(traj)
        check_projection(projection)
        if not isinstance(projection, Projection):
            raise ValueError("the trajectory view needs one fixed projection (pca, random or a fixed plane)")
        self.traj, self.projection, self.sample = traj, projection, check_sample(traj, sample)
        self.gamma = guidance_scale(traj)
        self.xs = projection(traj.x[:, self.sample])  # (S+1, 2)
        self.x0s = projection(traj.x0_hat[:, self.sample])  # (S, 2)
        self.outside = outside_range(traj.x0_hat[:, self.sample], data_range(traj))  # (S,)
        self.shape = image_shape(traj)
        self.pinned = far_out(self.xs, self.x0s)  # predictions thrown far out by extreme guidance

        frac, main, bottom, strip_h = self._lay_out(width)
        self._fix_camera(main)
        end_color = self._draw_underlay(background)
        self._add_path_artists(end_color)
        entries = self._key_entries(end_color)
        self.key = FrameKey(self.fig, frac(self.W - 360, 80, 350, FrameKey.height_px(len(entries))), entries)
        ScaleBar(self.ax).update(self.limits[0])
        self.moving = [self.path, self.pred_path, self.link, self.pred, self.ring, self.pin, self.cur, self.final,
                       *self.labels.leaders.values(), *self.labels.images.values(), *self.labels.texts.values(),
                       self.title]
        if self.shape is not None:
            self._thumbnails(frac(12, self.H - bottom - strip_h - 4, self.W - 24, strip_h))
        self.update(0)
        self._cache_background()

    def _lay_out(self, width: Optional[int]):
        """The figure (``fig``, ``W`` x ``H`` px, shown ``width`` CSS px wide) and its main view
        (``ax``) with the texts above and below it; ``(frac, main, bottom, strip_h)``: the function
        turning a px rect (left, top, width, height) into figure fractions, the main view's px rect,
        the px the note takes at the bottom and those the rows of small images take above it."""
        size = display_size(self.kind, width)
        self.fig = fig = new_figure(size, layout=None)
        W, H = int(round(size[0] * DPI)), int(round(size[1] * DPI))
        self.W, self.H = W, H
        frac = lambda left, top, w, h: [left / W, 1 - (top + h) / H, w / W, h / H]  # noqa: E731
        note = textwrap.wrap(self.projection.note, max(60, int((W - 24) / (0.56 * TEXT_PX["small"]))))
        strip_h = 0 if self.shape is None else 2 * (8 * STRIP_SCALE + 12) + 30
        bottom = 12 + 20 * len(note)
        main = (12, 80, W - 380, H - 80 - bottom - strip_h - 10)
        ax = self.ax = fig.add_axes(frac(*main))
        plain_axes(ax)
        ax.set_aspect("auto")
        ax.set_autoscale_on(False)
        self._write_texts(note, bottom)
        return frac, main, bottom, strip_h

    def _write_texts(self, note: list[str], bottom: int) -> None:
        """The headline (where the path heads, in which projection), the title (``title``, animated:
        the step, t and gamma) and the projection's note (its lines ``note``, ``bottom`` px high)."""
        fig, W, H = self.fig, self.W, self.H
        kind = {"pca": "PCA view", "pca_data": "PCA of the data set", "random": "random projection",
                "identity": "2-D data, exact"}.get(self.projection.kind, self.projection.kind)
        self.headline = f"The sampling path{_toward_text(self.traj, self.sample)}  ·  {kind}"
        fig.text(12 / W, 1 - 8 / H, self.headline, fontsize=text_pt("headline"), ha="left", va="top", weight="bold")
        self.title = fig.text(12 / W, 1 - 44 / H, step_title(self.traj, 0, self.gamma), fontsize=text_pt("title"),
                              ha="left", va="top", animated=True)
        fig.text(12 / W, (bottom - 6) / H, "\n".join(note), fontsize=text_pt("small"), color="#444444", ha="left",
                 va="top", linespacing=1.15)

    def _fix_camera(self, main: tuple) -> None:
        """The camera, fixed for the whole run: it holds the path and its predictions (those thrown far
        out pinned to the edge, ``x0s_shown``) in the main view of px rect ``main``."""
        aspect = main[2] / main[3]
        limits = limits_with_outliers(self.xs, self.x0s, aspect, max_ratio=15.0, bottom=0.0, pad=0.12)
        self.limits = limits
        self.shots = dict.fromkeys(range(self.num_frames), Shot(tuple(map(float, limits[0])), tuple(map(float, limits[1]))))
        self.x0s_shown, _ = pin_inside(self.x0s, limits)
        self.ax.set_xlim(*limits[0])
        self.ax.set_ylim(*limits[1])

    def _draw_underlay(self, background: Optional[np.ndarray]) -> str:
        """The 2-D mixture's density shaded by class (in the identity view) or the data set
        ``background`` in its classes' colours under the path; the path's colour (that of the class
        it ends in on the mixture, else x_t's)."""
        traj = self.traj
        gmm = mixture_for(traj, traj.x.shape[-1])
        highlight = guided_label(traj, self.sample)
        end_color = COLORS["x_t"]
        if gmm is not None and self.projection.kind == "identity":
            ClassDensity(self.ax, gmm, highlight).update(self.limits, 1.0)
            end_color = class_color(int(mixture_classes(traj.x[-1, self.sample][None], gmm)[0]))
        elif background is not None:
            class_cloud(self.ax, self.projection(background), background_labels(traj, background), highlight)
        return end_color

    def _add_path_artists(self, end_color: str) -> None:
        """The path (in ``end_color``) and the predictions' path, the prediction's link, the markers
        (x_T, the final sample, x_t, x0_hat), the rings (off the data, off-scale) and the points' labels."""
        ax = self.ax
        self.path = path_line(ax, "x_t_path", animated=True, color=end_color)
        self.pred_path = path_line(ax, "x0_hat_path", animated=True)
        self.link = vector_arrow(ax, "prediction", gid="prediction")
        self.link.set_animated(True)
        self.start = point_marker(ax, "x_T", zorder=3)
        set_point(self.start, self.xs[0])
        self.final = point_marker(ax, "x0", zorder=3.5)
        set_point(self.final, self.xs[-1])
        self.cur = point_marker(ax, "x_t", animated=True, zorder=5)
        self.pred = point_marker(ax, "x0_hat", animated=True, zorder=4.5)
        self.ring = ring_marker(ax, "outside")
        self.ring.set_animated(True)
        self.pin = ring_marker(ax, "offscale")
        self.pin.set_animated(True)
        self.labels = PointLabels(ax, ["x_t", "x0_hat", "x_T", "x0"], {n: COLORS[POINTS[n][2]] for n in
                                                                       ("x_t", "x0_hat", "x_T", "x0")},
                                  self.shape, ("x_t", "x0_hat"))
        for artist in (*self.labels.texts.values(), *self.labels.images.values(), *self.labels.leaders.values()):
            artist.set_animated(True)

    def _key_entries(self, end_color: str) -> list:
        """The key's rows: the path (in ``end_color``), the prediction, the predictions' path, and where
        the run has them, predictions off the data and off-scale."""
        names = ["x_t_path", "prediction", "x0_hat_path"]
        names += ["outside"] * bool(self.outside.any())
        entries = [(n, LABELS[n]) for n in names]
        entries[0] = (_line_handle(end_color), LABELS["x_t_path"] + ("" if end_color == COLORS["x_t"] else
                                                                     ", in the colour of its class"))
        entries[1] = ("prediction", r"$x_t \to \hat{x}_0$: the prediction")
        if self.pinned.any():
            entries.append((_offscale_handle, "off-scale (pinned to edge)"))
        return entries

    def _thumbnails(self, rect) -> None:
        """Two rows of small images (x_t above, x0_hat below) at up to ``thumbs`` steps, each a
        sprite (an enlarged copy of its pixels), with its t above the top row."""
        ax = self.strip_ax = self.fig.add_axes(rect)
        ax.set_axis_off()
        x0, y0, x1, y1 = ax.bbox.extents
        cell = 8 * STRIP_SCALE + 12
        self.strip_left = x0 + 80
        step = (x1 - self.strip_left) / self.thumbs
        self.strip_xy = [[(self.strip_left + c * step, y1 - 28 - r * cell) for c in range(self.thumbs)] for r in range(2)]
        self.strip_sprites = [[ax.add_artist(Sprite(zorder=5)) for _ in range(self.thumbs)] for _ in range(2)]
        self.strip_titles = [ax.add_artist(TextSprite(text_pt("small"), zorder=5)) for _ in range(self.thumbs)]
        for r, name in enumerate(("x_t", "x0_hat")):
            label = ax.add_artist(TextSprite(text_pt("label")))
            label.set_text(LABELS[name])
            label.place(x0 + 8, y1 - 28 - r * cell - cell / 2, ha="left", va="center")
        for artist in (*self.strip_sprites[0], *self.strip_sprites[1], *self.strip_titles):
            artist.set_animated(True)
            self.moving.append(artist)

    def strip_at(self, k: int) -> tuple[list[int], np.ndarray]:
        """The steps shown below frame ``k`` and their images (2, n, D): x_t of each (row 0) and its
        prediction x0_hat (row 1; the final sample's own for the final frame)."""
        steps = self.shown_steps(k)
        xs = np.stack([self.traj.x[i, self.sample] for i in steps])
        preds = np.stack([self.traj.x0_hat[min(i, self.traj.steps - 1), self.sample] for i in steps])
        return steps, np.stack([xs, preds])

    @property
    def num_frames(self) -> int:
        """One frame per step, plus the final sample."""
        return self.traj.steps + 1

    def shown_steps(self, k: int) -> list[int]:
        """Up to ``thumbs`` evenly spaced step indices from 0 to ``k`` (the thumbnails of frame ``k``)."""
        return sorted(set(np.round(np.linspace(0, k, min(self.thumbs, k + 1))).astype(int).tolist()))

    def update(self, k: int) -> None:
        """Move the artists to frame ``k`` (0 = x_T, S = the final sample)."""
        k = int(np.clip(k, 0, self.num_frames - 1))
        S = self.traj.steps
        self.path.set_data(self.xs[: k + 1, 0], self.xs[: k + 1, 1])
        j = min(k, S - 1)  # predictions so far (all of them on the final frame)
        self.pred_path.set_data(self.x0s_shown[: j + 1, 0], self.x0s_shown[: j + 1, 1])
        set_point(self.cur, self.xs[k])
        now = k < S  # the final frame has no prediction of its own
        set_point(self.pred, self.x0s_shown[j] if now else None)
        set_vector(self.link, self.xs[k], self.x0s_shown[j] if now else self.xs[k])
        self.ring.set_data(*(self.x0s_shown[[j]].T if now and self.outside[j] else ([], [])))
        self.pin.set_data(*(self.x0s_shown[[j]].T if now and self.pinned[j] else ([], [])))
        if k < S:
            self.title.set_text(step_title(self.traj, k, self.gamma))
        else:
            guided = "" if self.gamma is None else f"  ·  γ = {self.gamma:g}"
            self.title.set_text(f"final sample  ·  t = 0{guided}")
        points = {"x_t": self.xs[k], "x_T": self.xs[0], "x0": self.xs[-1]}
        texts = {"x_t": POINT_LABELS["x_t"] if now else "final sample", "x0_hat": POINT_LABELS["x0_hat"],
                 "x_T": r"$x_T$ (start)", "x0": POINT_LABELS["x0"]}
        images = {"x_t": self.traj.x[k, self.sample]}
        if now:
            points["x0_hat"] = self.x0s_shown[j]
            images["x0_hat"] = self.traj.x0_hat[j, self.sample]
            if self.outside[j]:
                texts["x0_hat"] += "  (off the data)"
        if k in (0, S):
            points.pop("x_T" if k == 0 else "x0")  # the marker under the current one: one label
        to_px = self.ax.transData.transform
        obstacles = to_px(np.concatenate([self.xs[: k + 1], self.x0s_shown[: j + 1]]))
        self.labels.update(points, texts, images if self.shape is not None else None, obstacles)
        if self.shape is not None:
            steps, pics = self.strip_at(k)
            for c in range(self.thumbs):
                have = c < len(steps)
                for r in range(2):
                    sprite = self.strip_sprites[r][c]
                    sprite.set_visible(have)
                    if have:
                        p = min(steps[c], S - 1)
                        bad = r == 1 and bool(self.outside[p])
                        sprite.set_pixels(image_pixels(pics[r, c], self.shape, STRIP_SCALE,
                                                       COLORS["outside"] if bad else "#999999", 3))
                        sprite.place(*self.strip_xy[r][c], ha="left", va="top")
                title = self.strip_titles[c]
                title.set_visible(have)
                if have:
                    title.set_text(self._t_label(steps[c]))
                    x, y = self.strip_xy[0][c]
                    title.place(x + 4 * STRIP_SCALE + 3, y + 4, ha="center", va="bottom")

    def _t_label(self, i: int) -> str:
        """The level of x[i] (``t = 0`` or ``σ = 0`` for the final sample)."""
        return self.traj.level_text(i)


STRIP_SCALE = 6  # px per image pixel in the rows of small images


def _line_handle(color: str):
    """A key handle: the path's line in its colour."""
    def make(ax) -> list:
        line = Line2D([], [], color=color, lw=1.6, marker="o", ms=3)
        ax.add_line(line)
        return [line]
    return make


def _offscale_handle(ax) -> list:
    """The key's handle of a prediction pinned to the edge (an open triangle)."""
    line = Line2D([], [], ls="", marker="^", ms=12, mfc="white", mec="#000000", mew=1.8)
    ax.add_line(line)
    return [line]


def _toward_text(traj: Trajectory, sample: int) -> str:
    y = guided_label(traj, sample)
    return "" if y is None else f" toward class {class_name(traj, y)}"
