"""Sampling without guidance, drawn as in Dieleman's "The geometry of diffusion guidance":
one step (``StepDiagram``, ``step_figure``) and the whole trajectory (``TrajectoryDiagram``).

One step of DDPM (arXiv 2006.11239): from the noisy canvas x_t the model predicts x0_hat; the
sampler takes a small step toward it, to ``mean = c0 x0_hat + ct x_t``, then adds fresh noise
``sigma z`` to land on x_{t-1}. Deterministic samplers (DDIM with eta = 0, arXiv 2010.02502;
Euler / Heun, arXiv 2206.00364; DPM-Solver++, arXiv 2211.01095) skip the noise.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from models.trajectory import Trajectory
from viz.animate import Animated
from viz.construction import ConstructionView, Segment, check_projection, step_inset, step_title
from viz.drawing import (ScaleBar, add_headline, add_legend, add_note, box_aspect, diagram_grid, draw_density_contours, far_out,
                         freeze_layout, limits_with_outliers, mixture_for, named_entries, path_line, pin_inside,
                         plain_axes, point_marker, ring_marker, set_point, set_vector, vector_arrow)
from viz.geometry import StepVectors, check_finite, check_sample, data_range, guidance_scale, outside_range
from viz.projection import Projection
from viz.style import COLORS, FONT_SIZE, LABELS, new_figure

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
    ``viz.projection.Projection`` or ``"plane"``: the exact plane through x_t, x0_hat and
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
    final sample. For digits, two rows of small images below: x_t and x0_hat at up to 8 evenly
    spaced steps up to the current one (noise turning into a digit, blur turning sharp). For the
    2-D mixture, the data density is drawn as contours under the path.
    """

    thumbs = 8

    def __init__(self, traj: Trajectory, projection: Projection, sample: int = 0,
                 background: Optional[np.ndarray] = None) -> None:
        check_finite(traj)
        check_projection(projection)
        if not isinstance(projection, Projection):
            raise ValueError("the trajectory view needs one fixed projection (pca, random or a fixed plane)")
        self.traj, self.projection, self.sample = traj, projection, check_sample(traj, sample)
        self.gamma = guidance_scale(traj)
        self.xs = projection(traj.x[:, self.sample])  # (S+1, 2)
        self.x0s = projection(traj.x0_hat[:, self.sample])  # (S, 2)
        self.outside = outside_range(traj.x0_hat[:, self.sample], data_range(traj))  # (S,)
        shape = _image_shape(traj)

        self.fig = fig = new_figure()
        ax, legend_ax, rows = diagram_grid(fig, rows_below=0 if shape is None else 1, below_height=0.5)
        self.strip_ax = rows[0][0] if rows else None
        self.ax = ax
        plain_axes(ax)
        gmm = mixture_for(traj, traj.x.shape[-1])
        self.path = path_line(ax, "x_t_path", animated=True)
        self.pred_path = path_line(ax, "x0_hat_path", animated=True)
        self.link = vector_arrow(ax, "prediction", gid="prediction")
        self.link.set_animated(True)
        self.start = point_marker(ax, "x_T", zorder=3)
        set_point(self.start, self.xs[0])
        self.final = point_marker(ax, "x0", zorder=3.5)
        self.cur = point_marker(ax, "x_t", animated=True, zorder=5)
        self.pred = point_marker(ax, "x0_hat", animated=True, zorder=4.5)
        self.ring = ring_marker(ax, "outside")
        self.ring.set_animated(True)
        self.pin = ring_marker(ax, "offscale")
        self.pin.set_animated(True)

        self.pinned = far_out(self.xs, self.x0s)  # predictions thrown far out by extreme guidance
        names = ["x_T", "x_t_path", "x_t", "prediction", "x0_hat_path", "x0"]
        names += ["outside"] * bool(self.outside.any()) + ["offscale"] * bool(self.pinned.any())
        entries = named_entries(names, {"prediction": LABELS["x0_hat"] + " (prediction)"})
        self.legend = add_legend(legend_ax, entries)
        add_note(fig, projection.note)
        kind = {"pca": "PCA view", "random": "random projection", "identity": "2-D data, exact"}.get(projection.kind, projection.kind)
        self.headline = f"The sampling path  ·  {kind}"
        add_headline(fig, self.headline)
        self.title = ax.set_title(step_title(traj, 0, self.gamma), fontsize=FONT_SIZE - 1, loc="left")
        if shape is not None:
            self._thumbnails(shape)
        freeze_layout(fig)
        self.aspect = box_aspect(ax)
        limits = limits_with_outliers(self.xs, self.x0s, self.aspect, max_ratio=15.0, bottom=0.1)
        self.x0s_shown, _ = pin_inside(self.x0s, limits)
        set_point(self.final, self.xs[-1])
        ax.set_xlim(*limits[0])
        ax.set_ylim(*limits[1])
        ScaleBar(ax).update(limits[0])
        if gmm is not None and projection.kind == "identity":
            draw_density_contours(ax, gmm, limits)
        elif background is not None:
            bg = projection(background)
            ax.scatter(bg[:, 0], bg[:, 1], s=4, c=COLORS["data"], lw=0, zorder=0)
        self.title.set_animated(True)
        self.final.set_animated(True)
        # Blitting draws in list order: the current x_t over its prediction, the final sample on top.
        self.moving = [self.path, self.pred_path, self.link, self.pred, self.ring, self.pin, self.cur, self.final,
                       self.title]
        if shape is not None:
            self.moving += [self.strip, *self.strip_frames, *self.strip_titles]
        self.update(0)
        self._cache_background()

    def _thumbnails(self, shape: tuple[int, int]) -> None:
        """Two rows of small images (x_t above, x0_hat below) laid out in ONE image (a strip
        with transparent gaps), so a frame redraws one picture instead of sixteen."""
        self.shape = shape
        h, w = shape
        gap = self.gap = 2
        ax = self.strip_ax
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        cmap = colormaps["gray_r"].with_extremes(bad=(0, 0, 0, 0))
        self.strip = ax.imshow(np.full((2 * h + gap, self.thumbs * (w + gap) - gap), np.nan), cmap=cmap, vmin=-1,
                               vmax=1, interpolation="nearest", animated=True)
        self.strip_frames, self.strip_titles = [], []
        for c in range(self.thumbs):
            x0 = c * (w + gap) - 0.5
            frame = Rectangle((x0, h + gap - 0.5), w, h, fill=False, ec=COLORS["outside"], lw=2.5, animated=True,
                              visible=False)
            ax.add_patch(frame)
            self.strip_frames.append(frame)
            self.strip_titles.append(ax.text(x0 + w / 2, -1.0, "", ha="center", va="bottom", fontsize=FONT_SIZE - 4,
                                             animated=True))
        ax.set_ylim(2 * h + gap - 0.5, -3.5)  # room above the images for their t labels
        for r, name in enumerate(("x_t", "x0_hat")):
            ax.text(-1.5, r * (h + gap) + h / 2 - 0.5, LABELS[name], ha="right", va="center", fontsize=FONT_SIZE - 1)

    def strip_at(self, k: int) -> tuple[list[int], np.ndarray]:
        """The steps shown below frame ``k`` and the strip image: x_t of each (row 0) and its
        prediction x0_hat (row 1; the final sample's own for the final frame); NaN gaps."""
        h, w = self.shape
        gap = self.gap
        steps = self.shown_steps(k)
        strip = np.full((2 * h + gap, self.thumbs * (w + gap) - gap), np.nan)
        for c, i in enumerate(steps):
            x = slice(c * (w + gap), c * (w + gap) + w)
            strip[:h, x] = self.traj.x[i, self.sample].reshape(self.shape)
            strip[h + gap:, x] = self.traj.x0_hat[min(i, self.traj.steps - 1), self.sample].reshape(self.shape)
        return steps, strip

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
        if self.strip_ax is not None:
            steps, strip = self.strip_at(k)
            self.strip.set_data(strip)
            for c in range(self.thumbs):
                have = c < len(steps)
                self.strip_titles[c].set_text(self._t_label(steps[c]) if have else "")
                p = min(steps[c], S - 1) if have else 0
                self.strip_frames[c].set_visible(have and bool(self.outside[p]))

    def _t_label(self, i: int) -> str:
        """The timestep of x[i] (``t = 0`` for the final sample)."""
        return f"t={int(self.traj.timesteps[i])}" if i < self.traj.steps else "t=0"


def _image_shape(traj: Trajectory) -> Optional[tuple[int, int]]:
    """(8, 8) for the digits, None for 2-D points."""
    from models.data import DATA_NAMES, load_dataset

    name = traj.meta.get("data")
    if name in DATA_NAMES:
        return load_dataset(name).image_shape
    side = int(round(np.sqrt(traj.x.shape[-1])))
    return (side, side) if side * side == traj.x.shape[-1] and side > 2 else None
