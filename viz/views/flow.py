"""The flow path's own picture of a step (figure kind ``flow``), and one run drawn on both paths.

On the flow path ``x_t = (1 - σ) x0 + σ ε`` (rectified flow, arXiv 2209.03003, 2210.02747) the model's
two predictions and the canvas are on one line: with ``ε̂ = (x_t - (1 - σ) x̂0) / σ`` (the noise the
model's x̂0 implies), ``x_t = (1 - σ) x̂0 + σ ε̂`` holds exactly, so ``x_t`` sits on the segment from x̂0
to ε̂, a share σ of the way. The velocity ``u = ε̂ - x̂0`` runs along it, and an Euler step
``x_{t-1} = x_t + (σ' - σ) u`` slides ``x_t`` along the segment to the share σ'. With classifier-free
guidance (arXiv 2207.12598) the unconditional and conditional predictions give two segments through
``x_t``; the guided one extrapolates both ends by γ, ``x̂0 = x̂0ᵘ + γ (x̂0ᶜ - x̂0ᵘ)`` and
``ε̂ = ε̂ᵘ + γ (ε̂ᶜ - ε̂ᵘ)``: a lever turning about ``x_t``.

``MeetsFlow`` draws one sampling run twice, DDIM on the VP path and Euler on the flow path from the same
noise: every VP point scaled by ``1 / (a + s)`` lands on the flow run's point at ``σ = s / (a + s)``
(``models.flow.path.match_level``), so the two paths coincide; the unscaled VP path is drawn faint.
"""

from __future__ import annotations

import textwrap
from dataclasses import replace
from typing import Optional

import numpy as np

from models.engine.conversions import x0_to_eps
from models.engine.trajectory import Trajectory
from viz.draw.drawing import framed_axes
from viz.draw.geometry import StepVectors, background_labels, check_finite, check_sample, image_shape, scales
from viz.draw.drawing import mixture_for
from viz.draw.shading import ClassDensity, class_cloud
from viz.draw.projection import Projection, identity_projection, pca_projection
from viz.draw.sprites import Sprite, TextSprite, image_pixels
from viz.draw.style import COLORS, DPI, LABELS, TEXT_PX, new_figure, text_pt
from viz.views.construction import ConstructionView, Segment, step_inset
from viz.views.paths import Animated

FLOW_PLANE_NOTE = ("Exact plane through xₜ and the two ends of the segment (with CFG: both predictions); "
                   "the final x₀ and any fresh noise are projected.")
FLOW_LABELS = {
    "velocity": r"velocity $u = \hat{\epsilon} - \hat{x}_0$",
    "seg_uncond": r"segment $\hat{x}_0^{u}$ – $\hat{\epsilon}^{u}$",
    "seg_cond": r"segment $\hat{x}_0^{c}$ – $\hat{\epsilon}^{c}$",
    "ends_scaled": "γ × the difference, both ends",
    "step": "step along the segment",
}
SAMPLER_TEXT = {"euler": "Euler", "heun": "Heun", "ddpm": "DDPM"}
FLOW_POINT_TEXTS = {"eps_hat": r"$\hat{\epsilon}$", "eps_uncond": r"$\hat{\epsilon}^{u}$",
                    "eps_cond": r"$\hat{\epsilon}^{c}$", "x0_hat": r"$\hat{x}_0$", "guided": r"guided $\hat{x}_0$",
                    "eps_guided": r"guided $\hat{\epsilon}$"}


def implied_noise(x_t: np.ndarray, x0: np.ndarray, a: float, s: float) -> np.ndarray:
    """``ε̂ = (x_t - a x̂0) / s``: the noise a prediction ``x0`` implies at ``x_t`` (``x_t = a x̂0 + s ε̂``),
    ``models.engine.conversions.x0_to_eps`` in float64."""
    return x0_to_eps(np.asarray(x_t, np.float64), np.asarray(x0, np.float64), a, s)


class FlowStepDiagram(ConstructionView):
    """One frame per step of a run on the flow path: the segment x̂0 – ε̂ through x_t (the velocity u
    along it) and the Euler step sliding x_t to x_{t-1}; for a CFG run both predictions' segments and
    the guided one, its two ends extrapolated by γ. Fresh noise (flow DDPM) is drawn dotted."""

    kind = "flow"
    pinnable = ("eps_guided", "eps_cond", "eps_uncond", "guided", "eps_hat")
    point_texts = FLOW_POINT_TEXTS
    image_points = ("x_t", "x0_hat", "eps_hat", "guided", "eps_guided", "x0_uncond", "x0_cond", "x_next")

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        check_finite(traj)
        if traj.path != "flow":
            raise ValueError("the flow view draws a run on the flow path (x_t = (1 - σ) x0 + σ ε): sample it with "
                             "--path flow (on VP, DDIM is the same Euler step after scaling by 1 / (a + s))")
        self.cfg = traj.x0_uncond is not None and traj.x0_cond is not None
        if self.cfg:
            segments = [Segment("seg_uncond", "to_uncond", "x0_uncond", "eps_uncond"),
                        Segment("seg_cond", "to_cond", "x0_cond", "eps_cond"),
                        Segment("x0_scaled", "diff_scaled", "x0_uncond", "guided"),
                        Segment("eps_scaled", "diff_scaled", "eps_uncond", "eps_guided"),
                        Segment("velocity", "velocity", "guided", "eps_guided")]
            markers = ["x0_uncond", "x0_cond", "guided", "eps_uncond", "eps_cond", "eps_guided"]
            key = ["seg_uncond", "seg_cond", "ends_scaled", "velocity", "step", "noise"]
            self.plane = ("x_t", "x0_uncond", "x0_cond")
        else:
            segments = [Segment("velocity", "velocity", "x0_hat", "eps_hat")]
            markers = ["x0_hat", "eps_hat"]
            key = ["velocity", "step", "noise"]
            self.plane = ("x_t", "x0_hat", "x0")
        segments += [Segment("step", "step", "x_t", "mean"), Segment("noise", "noise", "mean", "x_next")]
        markers += ["x0", "x_next", "x_t"]
        self.magnify = tuple(replace(m, segments=("velocity", *m.segments)) for m in step_inset(segments))
        labels = dict(FLOW_LABELS)
        sampler = SAMPLER_TEXT.get(str(traj.meta.get("sampler", "")), str(traj.meta.get("sampler", "")))
        super().__init__(traj, projection, sample, segments=segments, markers=markers, key=key,
                         key_labels=labels, suptitle=f"One flow {sampler} step: xₜ on the segment from x̂₀ to ε̂",
                         plane_note=FLOW_PLANE_NOTE, width=width)

    def _key_rows(self, key, key_labels):
        """The key by entry name (the segments' styles are shared, so rows are named after the entries)."""
        rows = []
        for n in key:
            if n == "noise" and not self.sigmas.any():
                continue
            rows.append((_KEY_STYLE.get(n, n), key_labels.get(n, LABELS.get(n, n))))
        return rows

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """x_t, the segment's ends (x̂0 and the implied ε̂; with CFG both runs' and the guided ones), the
        step's end, x_{t-1} and the final x_0."""
        a, s = scales(self.traj, sv.k)
        points = {"x_t": sv.x_t}
        if self.cfg:
            points.update(x0_uncond=sv.x0_uncond, x0_cond=sv.x0_cond, guided=sv.x0_hat,
                          eps_uncond=implied_noise(sv.x_t, sv.x0_uncond, a, s),
                          eps_cond=implied_noise(sv.x_t, sv.x0_cond, a, s),
                          eps_guided=implied_noise(sv.x_t, sv.x0_hat, a, s))
        else:
            points.update(x0_hat=sv.x0_hat, eps_hat=implied_noise(sv.x_t, sv.x0_hat, a, s))
        points.update(mean=sv.mean, x_next=sv.x_next, x0=sv.x0)
        return points

    def image_vectors(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """Beside each point the image it stands for."""
        named = self.named_points(sv)
        return {n: v for n, v in named.items() if n in self.image_points}


#: the key's rows name a style (``viz.draw.style.VECTORS``) where an entry is drawn in one
_KEY_STYLE = {"seg_uncond": "to_uncond", "seg_cond": "to_cond", "ends_scaled": "diff_scaled"}


# ----------------------------------------------------------------------------- one run on both paths

SIDE_PX = 290  # the column right of the picture: the key, and on digits the two images


#: the two-path slide's size in px (width, height)
MEETS_FLOW_SIZE = (1100, 640)


class MeetsFlow(Animated):
    """A VP run (DDIM, eta 0) and a flow run (Euler) from the same noise at matched levels, in one
    projection: the flow path, the VP path scaled by ``1 / (a + s)`` on top of it (they coincide), and
    the unscaled VP path faint; on 2-D data (an exact picture) the run's other samples' flow paths thin
    beneath and the mixture's density (or the data set ``background``) under everything. One frame per
    step; on digits (a PCA of the sample's two paths) the images of both current points."""

    kind = "meets_flow"

    def __init__(self, vp: Trajectory, flow: Trajectory, sample: int = 0, size: tuple[int, int] = MEETS_FLOW_SIZE,
                 background: Optional[np.ndarray] = None) -> None:
        for traj in (vp, flow):
            check_finite(traj)
        if vp.path != "vp" or flow.path != "flow" or vp.x.shape != flow.x.shape:
            raise ValueError("give a VP run and a flow run of the same shape (steps, batch, dimension)")
        self.sample = check_sample(vp, sample)
        self.vp, self.flow = vp, flow
        a, s = np.array([scales(vp, i) for i in range(vp.steps + 1)]).T
        self.k = 1.0 / (a + s)  # (S+1,) the change of variables at each recorded point
        x_vp = np.asarray(vp.x[:, self.sample], np.float64)
        x_fl = np.asarray(flow.x[:, self.sample], np.float64)
        dim = x_vp.shape[-1]
        self.projection = identity_projection() if dim == 2 else pca_projection(np.concatenate([x_fl, x_vp]))
        self.p_vp = self.projection(x_vp)  # (S+1, 2) the VP path as sampled
        self.p_scaled = self.projection(self.k[:, None] * x_vp)  # the VP path times 1 / (a + s)
        self.p_flow = self.projection(x_fl)
        # the other samples and the data only where the picture is exact (2-D data): a projection fitted to
        # one sample's two paths would throw the others, and the data, to where they do not lie
        self.p_others = [self.projection(np.asarray(flow.x[:, b], np.float64))
                         for b in range(flow.x.shape[1]) if b != self.sample] if dim == 2 else []
        self.shape = image_shape(vp)
        self._lay_out(size, background)
        self.update(0)
        self._cache_background()

    @property
    def num_frames(self) -> int:
        """One frame per recorded point, x_T to the final sample."""
        return self.vp.steps + 1

    def gap(self) -> float:
        """The largest distance (drawn coordinates) between the scaled VP path and the flow path."""
        return float(np.abs(self.p_scaled - self.p_flow).max())

    def _lay_out(self, size: tuple[int, int], background: Optional[np.ndarray]) -> None:
        W, H = size
        self.fig = fig = new_figure((W / DPI, H / DPI), layout=None)
        side = SIDE_PX
        note_h = 2 * (TEXT_PX["small"] + 6)
        main = (12, 78, W - 36 - side, H - 78 - note_h - 16)
        dim = self.vp.x.shape[-1]
        ax = self.ax = fig.add_axes([main[0] / W, 1 - (main[1] + main[3]) / H, main[2] / W, main[3] / H])
        framed_axes(ax)
        ax.set_autoscale_on(False)
        pts = np.concatenate([self.p_vp, self.p_flow, *self.p_others])
        lo, hi = pts.min(0), pts.max(0)
        centre, half = (lo + hi) / 2, (hi - lo) / 2 * 1.1 + 1e-9
        per_px = max(half[0] / main[2], half[1] / main[3])  # one scale on both axes (equal lengths look equal)
        limits = ((centre[0] - per_px * main[2], centre[0] + per_px * main[2]),
                  (centre[1] - per_px * main[3], centre[1] + per_px * main[3]))
        ax.set_xlim(*limits[0])
        ax.set_ylim(*limits[1])
        if dim == 2:
            self._underlay(ax, limits, background)
        for i, p in enumerate(self.p_others):
            ax.plot(p[:, 0], p[:, 1], color=COLORS["x0_hat"], lw=1.0, alpha=0.3, gid=f"other_{i}")
        for end, text, dy in ((0, "$x_T$, the shared noise", -1), (-1, "the sample (σ = 0)", 1)):
            # the text runs from its point toward the middle of the panel, so it stays inside the frame
            inward = "left" if self.p_flow[end][0] < centre[0] else "right"
            ax.annotate(text, self.p_flow[end], xytext=(0, 14 * dy), textcoords="offset points", ha=inward,
                        va="bottom" if dy > 0 else "top", fontsize=text_pt("label"), gid=f"end_{end}", zorder=6,
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85))
        ax.plot(self.p_vp[:, 0], self.p_vp[:, 1], color=COLORS["x_t"], lw=1.5, alpha=0.25, gid="vp_raw")
        ax.plot(self.p_flow[:, 0], self.p_flow[:, 1], color=COLORS["x0_hat"], lw=5, alpha=0.45, gid="flow_path",
                solid_capstyle="round")
        ax.plot(self.p_scaled[:, 0], self.p_scaled[:, 1], color=COLORS["step"], lw=1.8, ls="--", gid="vp_scaled")
        self.cur_raw = ax.plot([], [], "o", ms=8, mfc="white", mec=COLORS["x_t"], alpha=0.6, animated=True)[0]
        self.cur_flow = ax.plot([], [], "o", ms=15, color=COLORS["x0_hat"], alpha=0.6, animated=True)[0]
        self.cur_scaled = ax.plot([], [], "o", ms=7, color=COLORS["step"], animated=True)[0]
        head = fig.add_artist(TextSprite(text_pt("headline"), weight="bold", gid="headline"))
        head.set_text("One run on both paths: DDIM on VP = Euler on flow")
        head.place(12, H - 8, ha="left", va="top")
        self.title = fig.add_artist(TextSprite(text_pt("title"), gid="title"))
        self.title.set_animated(True)
        self._key(W, H, side)
        note = fig.add_artist(TextSprite(text_pt("small"), color="#444444", gid="note"))
        wrap = int((W - 24) / (0.56 * TEXT_PX["small"]))
        first = f"Same noise and model: VP's x × 1/(a + s) is flow's point at σ = s/(a + s) (largest gap {self.gap():.0e})."
        note.set_text("\n".join([textwrap.shorten(first, wrap), textwrap.shorten(self.projection.note, wrap)]))
        note.place(12, 12 + note_h, ha="left", va="top")
        self.images = {}
        if self.shape is not None:
            for i, name in enumerate(("flow", "vp")):
                sp = fig.add_artist(Sprite(zorder=5, gid=f"image_{name}"))
                sp.set_animated(True)
                cap = fig.add_artist(TextSprite(text_pt("label"), gid=f"image_{name}_text"))
                cap.set_text("flow xₜ" if name == "flow" else "VP xₜ (as sampled)")
                top = 200 + 190 * i  # px from the top, under the key
                cap.place(W - side, H - top, ha="left", va="bottom")
                self.images[name] = (sp, (W - side, H - top - 6 - 8 * 16))
        self.moving = [self.title, self.cur_raw, self.cur_flow, self.cur_scaled, *(sp for sp, _ in self.images.values())]

    def _underlay(self, ax, limits, background: Optional[np.ndarray]) -> None:
        """The data under the paths: gmm2d's density shaded by class on the exact 2-D picture, else the
        data set ``background`` (projected) in its classes' colours."""
        gmm = mixture_for(self.flow, self.flow.x.shape[-1])
        if gmm is not None and self.projection.kind == "identity":
            ClassDensity(ax, gmm, None).update(limits, 1.0)
        elif background is not None:
            class_cloud(ax, self.projection(np.asarray(background, np.float64)), background_labels(self.flow, background))

    def _key(self, W: int, H: int, side: int) -> None:
        rows = [("flow_path", COLORS["x0_hat"], "flow path, Euler (σ)"),
                ("vp_scaled", COLORS["step"], "VP path × 1/(a + s), DDIM"),
                ("vp_raw", COLORS["x_t"], "VP path as sampled (faint)")]
        for i, (gid, color, text) in enumerate(rows):
            t = self.fig.add_artist(TextSprite(text_pt("key"), color=color, gid=f"key_{gid}"))
            t.set_text(("━ " if gid != "vp_scaled" else "╌ ") + text)
            t.place(W - side, H - 84 - 30 * i, ha="left", va="top")

    def update(self, k: int) -> None:
        """Frame ``k``: the points x[k] of both runs (0 = the shared noise, S = the samples)."""
        k = int(np.clip(k, 0, self.num_frames - 1))
        for line, p in ((self.cur_raw, self.p_vp), (self.cur_flow, self.p_flow), (self.cur_scaled, self.p_scaled)):
            line.set_data([p[k, 0]], [p[k, 1]])
        H = self.fig.bbox.height
        self.title.set_text(f"step {min(k + 1, self.vp.steps)}/{self.vp.steps}  ·  VP {self.vp.level_text(k)}  ·  "
                            f"flow {self.flow.level_text(k)}  ·  1/(a + s) = {self.k[k]:.3f}")
        self.title.place(12, H - 42, ha="left", va="top")
        for name, (sp, xy) in self.images.items():
            x = (self.flow if name == "flow" else self.vp).x[k, self.sample]
            sp.set_pixels(image_pixels(np.asarray(x), self.shape, 16))
            sp.place(*xy)


__all__ = ["FLOW_LABELS", "MEETS_FLOW_SIZE", "FlowStepDiagram", "MeetsFlow", "implied_noise"]
