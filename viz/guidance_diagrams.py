"""Guidance, drawn as in Dieleman's "The geometry of diffusion guidance": one guided step as a
construction of vectors (``ClassifierGuidanceDiagram``, ``CFGDiagram``) and the paths of one
seed at several guidance scales (``gamma_overlay_figure``).

All guidance acts on the x0 prediction (``models.guidance``):

* classifier guidance (arXiv 2105.05233): ``x0' = x0_uncond + gamma * shift`` with
  ``shift = s^2 / a * grad_x log p(y | x_t)`` (forward universal guidance, arXiv 2302.07121,
  takes the gradient through the denoiser);
* classifier-free guidance (arXiv 2207.12598): ``x0' = D_u + gamma (D_c - D_u)``; the paper
  writes ``1 + w`` for our gamma.

Both are affine in their parts, so the exact plane through x_t and two of them holds the whole
construction: drawn there, its lengths and angles are true, not projected.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from models.trajectory import Trajectory
from viz.construction import ConstructionView, Segment, step_inset, step_title
from viz.drawing import (ScaleBar, add_headline, add_legend, add_note, box_aspect, diagram_grid, draw_density_contours,
                         freeze_layout, legend_handle, limits_with_outliers, mixture_for, plain_axes, point_marker,
                         set_point)
from viz.geometry import StepVectors, abar_pair, check_finite, check_sample, class_name, data_range, image_shape, outside_range
from viz.magnifier import Magnified
from viz.projection import Projection, pca_projection
from viz.style import COLORS, FONT_SIZE, GAMMA_CMAP, LABELS, X0U, new_figure

GUIDANCE_TITLES = {"cfg": "CFG", "classifier": "Classifier guidance", "universal": "Universal guidance",
                   "none": "No guidance"}
#: the key of a guidance construction: the arrows (the points are labelled where they are)
GUIDANCE_KEY = ["diff", "diff_scaled", "step", "noise"]


def _predictions_inset(region: tuple[str, ...], segments: tuple[str, ...], markers: tuple[str, ...]) -> Magnified:
    """The inset over the predictions where they crowd together (the 2-D mixture at high noise)."""
    diff = tuple(g for g in segments if g in ("cfg_diff", "shift"))
    return Magnified("the predictions", region, segments, markers, triggers=diff, color="guided", whole_region=True)


class ClassifierGuidanceDiagram(ConstructionView):
    """Classifier guidance as the post draws it, one frame per step of a run with guidance
    ``"classifier"`` or ``"universal"``: at x_t, the model's direction and gamma times the
    classifier's direction added head to tail, their sum, and the step taken along it.

    The arrows are scores times s^2, so they are displacements in x-space (VP form; ``a = sqrt(abar_t)``,
    ``s = sqrt(1 - abar_t)``):

    * the model's direction ``s^2 grad log p_t(x_t) = a x0_uncond - x_t`` (Tweedie), from x_t;
    * the classifier's direction ``s^2 grad log p(y | x_t) = a shift``, with the run's recorded
      ``classifier_shift = s^2 / a grad log p(y | x_t)`` (arXiv 2105.05233), from the tip of the
      first, and ``gamma a shift`` as a wide band under it;
    * their sum ``a x0_hat - x_t``, the guided direction; then the step and the noise.

    A VP sampler does two things in a step: it moves along the sum, and it rescales the canvas by
    ``a' / a`` (``a' = sqrt(abar_{t-1})``). The deterministic samplers' VP step is about 90 degrees off
    the sum at high noise for that reason alone. So the step's end and x_{t-1} are drawn times
    ``a / a'``, undoing the rescale: then DDPM's mean and DDIM's and Euler's steps lie exactly on the
    line from x_t along the sum (they are affine combinations of ``x_t / a`` and x0_hat in the VE
    scale, arXiv 2206.00364), Heun's and DPM-Solver++'s within a few degrees.

    Default view: the exact plane through x_t, ``a x0_uncond`` and ``a (x0_uncond + shift)``, which
    holds the three arrows of the sum at their true lengths, and the step; the noise is projected.
    ``ClassifierPredictionDiagram`` draws the same guidance in prediction space.
    """

    kind = "classifier"
    plane = ("x_t", "u_tip", "c1_tip")
    pinnable = ("c_tip", "c1_tip")
    pin_from = {"c_tip": "u_tip", "c1_tip": "u_tip"}
    image_points = ("x_t", "u_tip", "c_tip", "x_next")
    point_texts = {"x_next": r"$x_{t-1}\cdot a/a'$"}

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        _check_classifier(traj)
        name = "Universal guidance" if traj.meta.get("guidance") == "universal" else "Classifier guidance"
        segments = [Segment("model", "model_dir", "x_t", "u_tip"), Segment("cls", "diff", "u_tip", "c1_tip"),
                    Segment("cls_scaled", "diff_scaled", "u_tip", "c_tip"), Segment("sum", "guided_dir", "x_t", "c_tip"),
                    Segment("step", "step", "x_t", "mean"), Segment("noise", "noise", "mean", "x_next")]
        self.magnify = (Magnified("the classifier's part", ("u_tip", "c1_tip", "c_tip"),
                                  ("model", "cls", "cls_scaled", "sum"), ("u_tip", "c_tip"), ("cls",), "diff", True),
                        *step_inset(segments))
        super().__init__(traj, projection, sample, segments=segments, markers=["u_tip", "c_tip", "x_next", "x_t"],
                         key=["model_dir", "diff", "diff_scaled", "guided_dir", "step", "noise"],
                         key_labels={"diff": "classifier's direction", "diff_scaled": "γ × classifier's direction"},
                         suptitle=f"{name}{_toward(traj, sample)}",
                         plane_note=("Arrows are scores × s², i.e. steps in x-space: the model's s²∇log pₜ(xₜ) = "
                                     "a·x̂₀ᵘ − xₜ, the classifier's s²∇log p(y | xₜ), and their sum with γ, a·x̂₀ − xₜ "
                                     "(a = √ᾱₜ, s = √(1 − ᾱₜ)). The sampler also rescales the canvas by a'/a each step; "
                                     "the step and xₜ₋₁ are drawn with that undone (× a/a'), so the step runs along the "
                                     "sum. Exact plane through xₜ and the tips of the first two arrows; the noise is "
                                     "projected onto it."),
                         width=width)

    def _scales(self, sv: StepVectors) -> tuple[float, float]:
        """``(a, a')``: sqrt(abar) at this step's t and at the next (1 after the last step)."""
        abar, abar_prev = abar_pair(self.traj, sv.k)
        return float(np.sqrt(abar)), float(np.sqrt(abar_prev))

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """x_t, the tips ``a x0_uncond`` (model), ``a (x0_uncond + shift)`` (classifier, gamma = 1) and
        ``a (x0_uncond + gamma shift)`` (= ``a x0_hat``, the sum), and the step's end and x_{t-1}
        times ``a / a'`` (the canvas's rescale undone)."""
        a, a_prev = self._scales(sv)
        gamma = float(self.gamma or 0.0)
        back = a / a_prev
        return {"x_t": sv.x_t, "u_tip": a * sv.x0_uncond, "c1_tip": a * (sv.x0_uncond + sv.shift),
                "c_tip": a * (sv.x0_uncond + gamma * sv.shift), "mean": back * sv.mean, "x_next": back * sv.x_next}

    def image_vectors(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """Beside each point the image it stands for: x_t, the predictions (not scaled by a), x_{t-1}."""
        return {"x_t": sv.x_t, "u_tip": sv.x0_uncond, "c_tip": sv.x0_hat, "x_next": sv.x_next}

    def title_at(self, k: int) -> str:
        """Step, t, gamma, a = sqrt(abar_t) and a' (the next step's)."""
        abar, abar_prev = abar_pair(self.traj, k)
        return f"{step_title(self.traj, k, self.gamma)}  ·  a = {np.sqrt(abar):.2g}, a' = {np.sqrt(abar_prev):.2g}"


class ClassifierPredictionDiagram(ConstructionView):
    """Classifier guidance in prediction space (figure kind ``classifier_x0``): the model's own
    prediction x_t -> x0_uncond, the classifier direction added to it (x0_uncond -> x0_uncond + shift)
    and scaled by gamma (x0_uncond -> x0_uncond + gamma shift), the guided prediction x_t -> x0_hat
    they sum to, then the step and the noise.

    Default view: the exact plane through x_t, x0_uncond and x0_uncond + shift of each step.
    """

    kind = "classifier_x0"
    plane = ("x_t", "x0_uncond", "shifted")
    pinnable = ("guided", "shifted")
    pin_from = {"guided": "x0_uncond", "shifted": "x0_uncond"}

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        _check_classifier(traj)
        name = "Universal guidance" if traj.meta.get("guidance") == "universal" else "Classifier guidance"
        segments = [Segment("to_uncond", "to_uncond", "x_t", "x0_uncond"),
                    Segment("shift", "diff", "x0_uncond", "shifted"),
                    Segment("shift_scaled", "diff_scaled", "x0_uncond", "guided"),
                    Segment("to_guided", "to_guided", "x_t", "guided"),
                    Segment("step", "step", "x_t", "mean"), Segment("noise", "noise", "mean", "x_next")]
        self.magnify = (_predictions_inset(("x0_uncond", "shifted", "guided"), ("to_uncond", "shift", "shift_scaled",
                                                                                  "to_guided"), ("x0_uncond", "guided")),
                        *step_inset(segments))
        super().__init__(traj, projection, sample, segments=segments, markers=["x0_uncond", "guided", "x_next", "x_t"],
                         key=GUIDANCE_KEY, suptitle=f"{name} in prediction space{_toward(traj, sample)}",
                         plane_note=("Exact plane through xₜ, x̂₀ᵘ and x̂₀ᵘ + the classifier direction: the guidance "
                                     "construction keeps its true lengths and angles. The step and the noise are "
                                     "projected onto this plane."), width=width)

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """x_t, x0_uncond, x0_uncond + shift, the guided x0_hat (= x0_uncond + gamma shift), the step's end, x_{t-1}."""
        return {"x_t": sv.x_t, "x0_uncond": sv.x0_uncond, "shifted": sv.x0_uncond + sv.shift, "guided": sv.x0_hat,
                "mean": sv.mean, "x_next": sv.x_next}


def _check_classifier(traj: Trajectory) -> None:
    if traj.classifier_shift is None or traj.x0_uncond is None:
        raise ValueError(f"the classifier-guidance view needs a run with guidance 'classifier' or 'universal' "
                         f"(it records the classifier direction); this run used {traj.meta.get('guidance')!r}")


def _toward(traj: Trajectory, sample: int) -> str:
    """" toward class 7" (the data set's class name) for a guided sample, else ""."""
    labels = traj.labels
    if labels is None or not len(labels) or not 0 <= sample < len(labels) or int(labels[sample]) < 0:
        return ""
    return f" toward class {class_name(traj, int(labels[sample]))}"


class CFGDiagram(ConstructionView):
    """One frame per step of a classifier-free-guided run: both predictions x0_uncond and x0_cond
    (dashed from x_t), their difference x0_cond - x0_uncond (from x0_uncond), that difference scaled
    by gamma (from x0_uncond, reaching the implied prediction x0_uncond + gamma (x0_cond - x0_uncond)),
    the implied prediction, the step and the noise.

    Default view: the exact plane through x_t, x0_uncond and x0_cond of each step.
    """

    kind = "cfg"
    plane = ("x_t", "x0_uncond", "x0_cond")
    pinnable = ("guided",)
    pin_from = {"guided": "x0_uncond"}

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane",
                 width: Optional[int] = None) -> None:
        if traj.x0_cond is None or traj.x0_uncond is None:
            raise ValueError(f"the classifier-free-guidance view needs a run with guidance 'cfg' (it records both "
                             f"predictions); this run used {traj.meta.get('guidance')!r}")
        segments = cfg_segments()
        self.magnify = (_predictions_inset(CFG_INSET_POINTS, CFG_INSET, CFG_INSET_POINTS), *step_inset(segments))
        super().__init__(traj, projection, sample, segments=segments,
                         markers=["x0_uncond", "x0_cond", "guided", "x_next", "x_t"], key=GUIDANCE_KEY,
                         key_labels=CFG_KEY_LABELS, suptitle=f"Classifier-free guidance{_toward(traj, sample)}",
                         plane_note=("Exact plane through xₜ and both predictions: the guidance construction keeps its "
                                     "true lengths and angles; the step and the noise are projected onto it. "
                                     "γ = 1 + w in the notation of Ho & Salimans (arXiv 2207.12598)."), width=width)

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """x_t, x0_uncond, x0_cond, the implied prediction (= x0_hat), the step's end and x_{t-1}."""
        return {"x_t": sv.x_t, "x0_uncond": sv.x0_uncond, "x0_cond": sv.x0_cond, "guided": sv.x0_hat,
                "mean": sv.mean, "x_next": sv.x_next}


CFG_KEY_LABELS = {"diff": LABELS["cfg_diff"], "diff_scaled": LABELS["cfg_diff_scaled"]}
CFG_INSET = ("to_uncond", "to_cond", "cfg_diff", "cfg_diff_scaled", "to_guided")
CFG_INSET_POINTS = ("x0_uncond", "x0_cond", "guided")


def cfg_segments(extra: Sequence[Segment] = ()) -> list[Segment]:
    """The arrows of the CFG construction: both predictions, their difference, gamma times it, the
    guided prediction, the step and the noise (and ``extra`` ones)."""
    return [Segment("to_uncond", "to_uncond", "x_t", "x0_uncond"), Segment("to_cond", "to_cond", "x_t", "x0_cond"),
            Segment("cfg_diff", "diff", "x0_uncond", "x0_cond"),
            Segment("cfg_diff_scaled", "diff_scaled", "x0_uncond", "guided"),
            Segment("to_guided", "to_guided", "x_t", "guided"),
            Segment("step", "step", "x_t", "mean"), Segment("noise", "noise", "mean", "x_next"), *extra]


# ----------------------------------------------------------------------------- several gammas

def _check_trajs(trajs: Mapping[float, Trajectory]) -> list[float]:
    """Sorted gammas of a non-empty mapping of finite trajectories of one shape."""
    if not trajs:
        raise ValueError("give at least one trajectory (a mapping from gamma to Trajectory)")
    shapes = {t.x.shape for t in trajs.values()}
    if len(shapes) != 1:
        raise ValueError(f"every trajectory must have the same steps, batch and dimension; got shapes {sorted(shapes)}")
    for traj in trajs.values():
        check_finite(traj)
    gammas = sorted(float(g) for g in trajs)
    if not all(np.isfinite(gammas)):
        raise ValueError(f"every gamma must be finite, got {gammas}")
    return gammas


def shared_pca(trajs: Mapping[float, Trajectory]) -> Projection:
    """PCA fitted on every x_t and x0_hat of all the runs together: one view they all share."""
    _check_trajs(trajs)
    dim = next(iter(trajs.values())).x.shape[-1]
    points = np.concatenate([np.concatenate([t.x.reshape(-1, dim), t.x0_hat.reshape(-1, dim)])
                             for t in trajs.values()])
    return pca_projection(points)


def gamma_colors(gammas: list[float]) -> dict[float, tuple]:
    """One colour per gamma from ``GAMMA_CMAP`` (viridis, stopping short of its pale yellow end),
    spread by rank so that close values stay distinguishable."""
    cmap = colormaps[GAMMA_CMAP]
    spots = np.linspace(0.0, 0.85, len(gammas)) if len(gammas) > 1 else [0.35]
    return {g: cmap(float(v)) for g, v in zip(gammas, spots)}


def gamma_overlay_figure(trajs: Mapping[float, Trajectory], projection: Optional[Projection] = None, sample: int = 0,
                         background: Optional[np.ndarray] = None, step: Optional[int] = None) -> Figure:
    """The paths of one seed at several guidance scales in ONE shared projection, coloured by
    gamma, final samples marked; for digits a row of the final images per gamma below.

    ``trajs`` maps gamma to a run (same seed, same settings otherwise); ``projection`` defaults
    to ``shared_pca(trajs)``; ``step`` (0..S) draws the paths up to that step only.
    """
    gammas = _check_trajs(trajs)
    by_gamma = {float(g): t for g, t in trajs.items()}
    first = by_gamma[gammas[0]]
    sample = check_sample(first, sample)
    proj = shared_pca(trajs) if projection is None else projection
    if not isinstance(proj, Projection):
        raise ValueError(f"projection must be a viz.projection.Projection (or None for the shared PCA), got {proj!r}")
    S = first.steps
    upto = S if step is None else int(np.clip(step, 0, S))
    colors = gamma_colors(gammas)
    paths = {g: proj(by_gamma[g].x[: upto + 1, sample]) for g in gammas}  # (k+1, 2) each
    rng = data_range(first)
    shape = _image_shape(first)

    fig = new_figure()
    ax, legend_ax, rows = diagram_grid(fig, rows_below=0 if shape is None else 1, columns_below=len(gammas),
                                       below_height=0.3)
    plain_axes(ax)
    entries = [(legend_handle("x_T"), LABELS["x_T"])]
    start = point_marker(ax, "x_T", zorder=5)
    set_point(start, paths[gammas[0]][0])
    outside_any = False
    for g in gammas:
        p = paths[g]
        ax.plot(p[:, 0], p[:, 1], color=colors[g], lw=1.7, alpha=0.85, zorder=2)
        end = point_marker(ax, "x0" if upto == S else "x_t", color=colors[g], ms=15 if upto == S else 9,
                           mec="black", mew=0.8, zorder=4)
        set_point(end, p[-1])
        if upto == S and outside_range(by_gamma[g].x[-1, sample], rng):
            outside_any = True
            ax.plot(*p[-1], ls="", marker="o", ms=22, mfc="none", mec=COLORS["outside"], mew=2.2, zorder=4)
        entries.append((Line2D([], [], color=colors[g], lw=2.0, marker="*" if upto == S else "o",
                               ms=13 if upto == S else 8, mec="black", mew=0.8), f"γ = {g:g}"))
    if outside_any:
        entries.append((legend_handle("outside"), LABELS["outside"]))
    add_legend(legend_ax, entries)
    guidance = GUIDANCE_TITLES.get(str(first.meta.get("guidance", "")), str(first.meta.get("guidance", "")))
    label = int(first.labels[sample]) if first.labels is not None and len(first.labels) else -1
    what = f"{guidance} toward class {label}" if label >= 0 else guidance
    when = "final samples" if upto == S else f"up to step {upto}/{S}"
    kind = {"pca": "shared PCA", "random": "random projection", "identity": "2-D data, exact"}.get(proj.kind, proj.kind)
    add_headline(fig, f"One seed, several γ  ·  {kind}")
    ax.set_title(f"{what}  ·  {when}", fontsize=FONT_SIZE - 1, loc="left")
    add_note(fig, proj.note)
    if shape is not None:
        for g, cell in zip(gammas, rows[0]):
            cell.imshow(by_gamma[g].x[-1, sample].reshape(shape), cmap="gray_r", vmin=-1, vmax=1,
                        interpolation="nearest")
            cell.set_xticks([])
            cell.set_yticks([])
            bad = outside_range(by_gamma[g].x[-1, sample], rng)
            for spine in cell.spines.values():
                spine.set_color(COLORS["outside"] if bad else colors[g])
                spine.set_linewidth(3)
            cell.set_title(f"γ = {g:g}", fontsize=FONT_SIZE - 3, pad=3)
    freeze_layout(fig)
    everything = np.concatenate(list(paths.values()))
    limits = limits_with_outliers(everything, everything, box_aspect(ax))
    ax.set_xlim(*limits[0])
    ax.set_ylim(*limits[1])
    ScaleBar(ax).update(limits[0])
    gmm = mixture_for(first, first.x.shape[-1])
    if gmm is not None and proj.kind == "identity":
        draw_density_contours(ax, gmm, limits)
    elif background is not None:
        bg = proj(background)
        ax.scatter(bg[:, 0], bg[:, 1], s=4, c=COLORS["data"], lw=0, zorder=0)
    return fig
