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

from typing import Mapping, Optional

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from models.trajectory import Trajectory
from viz.construction import ConstructionView, Segment
from viz.drawing import (ScaleBar, add_headline, add_legend, add_note, box_aspect, diagram_grid, draw_density_contours,
                         freeze_layout, legend_handle, limits_with_outliers, mixture_for, plain_axes, point_marker,
                         set_point)
from viz.geometry import StepVectors, check_finite, check_sample, data_range, outside_range
from viz.projection import Projection, pca_projection
from viz.step_diagrams import _image_shape
from viz.style import COLORS, FONT_SIZE, GAMMA_CMAP, LABELS, new_figure

GUIDANCE_TITLES = {"cfg": "CFG", "classifier": "Classifier guidance", "universal": "Universal guidance",
                   "none": "No guidance"}
GUIDANCE_LEGEND = ["x_t", "to_uncond", "to_cond", "diff", "diff_scaled", "to_guided", "step", "noise", "x_next"]


class ClassifierGuidanceDiagram(ConstructionView):
    """One frame per step of a classifier-guided run (``guidance="classifier"`` or ``"universal"``):
    the model's own prediction x_t -> x0_uncond, the classifier direction added to it
    (x0_uncond -> x0_uncond + shift) and scaled by gamma (x0_uncond -> x0_uncond + gamma shift),
    the guided prediction x_t -> x0_hat they sum to, then the step and the noise.

    Default view: the exact plane through x_t, x0_uncond and x0_uncond + shift of each step.
    """

    plane = ("x_t", "x0_uncond", "shifted")
    pinnable = ("guided", "shifted")
    pin_from = {"guided": "x0_uncond", "shifted": "x0_uncond"}

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane") -> None:
        if traj.classifier_shift is None or traj.x0_uncond is None:
            raise ValueError(f"the classifier-guidance view needs a run with guidance 'classifier' or 'universal' "
                             f"(it records the classifier direction); this run used {traj.meta.get('guidance')!r}")
        name = "Universal guidance" if traj.meta.get("guidance") == "universal" else "Classifier guidance"
        segments = [Segment("to_uncond", "to_uncond", "x_t", "x0_uncond"),
                    Segment("shift", "diff", "x0_uncond", "shifted"),
                    Segment("shift_scaled", "diff_scaled", "x0_uncond", "guided"),
                    Segment("to_guided", "to_guided", "x_t", "guided"),
                    Segment("step", "step", "x_t", "mean"), Segment("noise", "noise", "mean", "x_next")]
        legend = [n for n in GUIDANCE_LEGEND if n != "to_cond"]
        labels = {"to_uncond": LABELS["x0_uncond"], "to_guided": LABELS["guided"], "diff": LABELS["diff"],
                  "diff_scaled": LABELS["diff_scaled"]}
        super().__init__(traj, projection, sample, segments=segments, markers=["x0_uncond", "guided", "x_next", "x_t"],
                         legend=legend, legend_labels=labels, suptitle=name,
                         plane_note=("Exact plane through x_t, x̂0 unconditional and x̂0 unconditional + classifier "
                                     "direction: the guidance construction keeps its true lengths and angles. The step "
                                     "and the noise are projected onto this plane."))

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """x_t, x0_uncond, x0_uncond + shift, the guided x0_hat (= x0_uncond + gamma shift), the step's end, x_{t-1}."""
        return {"x_t": sv.x_t, "x0_uncond": sv.x0_uncond, "shifted": sv.x0_uncond + sv.shift, "guided": sv.x0_hat,
                "mean": sv.mean, "x_next": sv.x_next}


class CFGDiagram(ConstructionView):
    """One frame per step of a classifier-free-guided run: both predictions D_u and D_c (dashed
    from x_t), their difference D_c - D_u (from D_u), that difference scaled by gamma (from D_u,
    reaching the implied prediction D_u + gamma (D_c - D_u)), the implied prediction, the step
    and the noise.

    Default view: the exact plane through x_t, D_u and D_c of each step.
    """

    plane = ("x_t", "x0_uncond", "x0_cond")
    pinnable = ("guided",)
    pin_from = {"guided": "x0_uncond"}

    def __init__(self, traj: Trajectory, sample: int = 0, projection: Projection | str = "plane") -> None:
        if traj.x0_cond is None or traj.x0_uncond is None:
            raise ValueError(f"the classifier-free-guidance view needs a run with guidance 'cfg' (it records both "
                             f"predictions); this run used {traj.meta.get('guidance')!r}")
        segments = [Segment("to_uncond", "to_uncond", "x_t", "x0_uncond"),
                    Segment("to_cond", "to_cond", "x_t", "x0_cond"),
                    Segment("cfg_diff", "diff", "x0_uncond", "x0_cond"),
                    Segment("cfg_diff_scaled", "diff_scaled", "x0_uncond", "guided"),
                    Segment("to_guided", "to_guided", "x_t", "guided"),
                    Segment("step", "step", "x_t", "mean"), Segment("noise", "noise", "mean", "x_next")]
        labels = {"to_uncond": LABELS["x0_uncond"], "to_cond": LABELS["x0_cond"], "to_guided": LABELS["guided"],
                  "diff": LABELS["cfg_diff"], "diff_scaled": LABELS["cfg_diff_scaled"]}
        super().__init__(traj, projection, sample, segments=segments,
                         markers=["x0_uncond", "x0_cond", "guided", "x_next", "x_t"], legend=GUIDANCE_LEGEND,
                         legend_labels=labels, suptitle="Classifier-free guidance",
                         plane_note=("Exact plane through x_t and both predictions: the guidance construction keeps "
                                     "its true lengths and angles; the step and the noise are projected onto it. "
                                     "γ = 1 + w in the notation of Ho & Salimans (arXiv 2207.12598)."))

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """x_t, D_u, D_c, the implied prediction (= x0_hat), the step's end and x_{t-1}."""
        return {"x_t": sv.x_t, "x0_uncond": sv.x0_uncond, "x0_cond": sv.x0_cond, "guided": sv.x0_hat,
                "mean": sv.mean, "x_next": sv.x_next}


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
