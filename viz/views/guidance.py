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

import textwrap
from typing import Mapping, Optional, Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure

from models.engine.trajectory import Trajectory
from viz.views.construction import ConstructionView, Segment, step_inset, step_title
from viz.draw.drawing import ScaleBar, limits_with_outliers, mixture_for, plain_axes, point_marker, set_point
from viz.draw.geometry import (StepVectors, abar_pair, background_labels, check_finite, check_sample, class_name, data_range,
                          guided_label, image_shape, outside_range)
from viz.draw.magnifier import Magnified
from viz.draw.projection import Projection, pca_projection
from viz.draw.point_labels import PointLabels
from viz.draw.shading import ClassDensity, class_cloud
from viz.draw.sprites import Sprite, TextSprite, image_pixels
from viz.draw.style import COLORS, DPI, GAMMA_CMAP, LABELS, TEXT_PX, X0U, display_size, new_figure, text_pt

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

    A VP sampler does two things in a step: it moves along the sum, and it scales the canvas by
    ``a' / a`` (``a' = sqrt(abar_{t-1})``). The deterministic samplers' VP step is about 90 degrees off
    the sum at high noise for that reason alone. So the step's end and x_{t-1} are drawn times
    ``a / a'``, undoing that scaling: then DDPM's mean and DDIM's and Euler's steps lie exactly on the
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
                         plane_note=(CLASSIFIER_ARROWS + " Exact plane through xₜ and the first two arrows' tips; "
                                     "the noise is projected."),
                         width=width)

    def _scales(self, sv: StepVectors) -> tuple[float, float]:
        """``(a, a')``: sqrt(abar) at this step's t and at the next (1 after the last step)."""
        abar, abar_prev = abar_pair(self.traj, sv.k)
        return float(np.sqrt(abar)), float(np.sqrt(abar_prev))

    def named_points(self, sv: StepVectors) -> dict[str, np.ndarray]:
        """x_t, the tips ``a x0_uncond`` (model), ``a (x0_uncond + shift)`` (classifier, gamma = 1) and
        ``a (x0_uncond + gamma shift)`` (= ``a x0_hat``, the sum), and the step's end and x_{t-1}
        times ``a / a'`` (the canvas's scaling undone)."""
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


    @property
    def note(self) -> str:
        """What the arrows are (always), then what the projection keeps and loses."""
        return self.plane_note if self.fixed is None else f"{CLASSIFIER_ARROWS} {self.fixed.note}"


#: the figure's small print on its arrows (two lines with the plane's note; the page says the rest: ``ARROWS_IN_FULL``)
CLASSIFIER_ARROWS = "Arrows are scores × s² (steps in x-space); the step and xₜ₋₁ are drawn × a/a′."
#: what the classifier view's arrows are, in full, for the page's text
ARROWS_IN_FULL = ("The arrows are scores times $s^2$, that is, steps in $x$-space: the model's "
                  "$s^2\\nabla\\log p_t(x_t) = a\\,\\hat{x}_0^{u} - x_t$, the classifier's "
                  "$s^2\\nabla\\log p(y \\mid x_t)$, and their sum with γ, $a\\,\\hat{x}_0 - x_t$ "
                  "($a = \\sqrt{\\bar\\alpha_t}$, $s = \\sqrt{1 - \\bar\\alpha_t}$). A sampler also rescales the "
                  "canvas by $a'/a$ at each step; the figure draws the step and $x_{t-1}$ with that undone (times $a/a'$), "
                  "so the step runs along the sum.")


def drawn_lengths(traj: Trajectory, k: int, sample: int = 0, gamma: Optional[float] = None) -> dict[str, float]:
    """The lengths of the classifier view's arrows at step ``k`` as drawn (scores times s², in x units):
    ``model`` |a x̂₀ᵘ − xₜ|, ``classifier`` |γ a shift| (the γ-scaled band) and ``sum`` |a x̂₀ − xₜ|."""
    gamma = float(traj.meta.get("gamma", 1.0) if gamma is None else gamma)
    a = np.sqrt(abar_pair(traj, k)[0])
    x_t = np.asarray(traj.x[k, sample], np.float64)
    d_u = np.asarray(traj.x0_uncond[k, sample], np.float64)
    shift = np.asarray(traj.classifier_shift[k, sample], np.float64)
    return {"model": float(np.linalg.norm(a * d_u - x_t)), "classifier": float(np.linalg.norm(gamma * a * shift)),
            "sum": float(np.linalg.norm(a * (d_u + gamma * shift) - x_t))}


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
                         background: Optional[np.ndarray] = None, step: Optional[int] = None,
                         width: Optional[int] = None) -> Figure:
    """The paths of one seed at several guidance scales in ONE shared projection, coloured by
    gamma, each final sample labelled with its gamma where it lies; for digits a row of the final
    images per gamma below. Drawn ``width`` CSS px wide (default ``DISPLAY_WIDTH["overlay"]``).

    ``trajs`` maps gamma to a run (same seed, same settings otherwise); ``projection`` defaults
    to ``shared_pca(trajs)``; ``step`` (0..S) draws the paths up to that step only.
    """
    gammas = _check_trajs(trajs)
    by_gamma = {float(g): t for g, t in trajs.items()}
    first = by_gamma[gammas[0]]
    sample = check_sample(first, sample)
    proj = shared_pca(trajs) if projection is None else projection
    if not isinstance(proj, Projection):
        raise ValueError(f"projection must be a viz.draw.projection.Projection (or None for the shared PCA), got {proj!r}")
    S = first.steps
    upto = S if step is None else int(np.clip(step, 0, S))
    colors = gamma_colors(gammas)
    paths = {g: proj(by_gamma[g].x[: upto + 1, sample]) for g in gammas}  # (k+1, 2) each
    rng = data_range(first)
    shape = image_shape(first)

    size = display_size("overlay", width)
    fig = new_figure(size, layout=None)
    W, H = int(round(size[0] * DPI)), int(round(size[1] * DPI))
    frac = lambda left, top, w, h: [left / W, 1 - (top + h) / H, w / W, h / H]  # noqa: E731
    note = textwrap.wrap(proj.note, max(40, int((W - 24) / (0.56 * TEXT_PX["small"]))))
    bottom = 12 + 20 * len(note)
    cell = 8 * 7 + 6  # a final image, framed
    row = 0 if shape is None else cell + 34
    main = (12, 80, W - 24, H - 80 - bottom - row - 8)
    ax = fig.add_axes(frac(*main))
    plain_axes(ax)
    ax.set_aspect("auto")
    ax.set_autoscale_on(False)
    _overlay_texts(fig, (W, H), proj, first, sample, "final samples" if upto == S else f"up to step {upto}/{S}",
                   note, bottom)
    everything = np.concatenate(list(paths.values()))
    limits = limits_with_outliers(everything, everything, main[2] / main[3], bottom=0.0, pad=0.16)
    ax.set_xlim(*limits[0])
    ax.set_ylim(*limits[1])
    ScaleBar(ax).update(limits[0])
    _overlay_underlay(ax, limits, first, sample, proj, background)
    finals = {g: by_gamma[g].x[-1, sample] for g in gammas}
    _overlay_paths(ax, paths, colors, {g: upto == S and bool(outside_range(finals[g], rng)) for g in gammas},
                   upto == S)
    if shape is not None:
        _overlay_finals(fig, (W, H), H - bottom - row - 2, finals, colors, rng, shape)
    return fig


def _overlay_texts(fig: Figure, size_px: tuple[int, int], proj: Projection, first: Trajectory, sample: int,
                   when: str, note: list[str], bottom: int) -> None:
    """The gamma overlay's headline (the projection's kind), its title (the guidance, the class it
    guides toward and ``when``: final samples or up to which step) and the projection's note at the
    bottom (its lines ``note``, ``bottom`` px high), on ``fig`` of ``size_px`` (W, H) px."""
    W, H = size_px
    kind = {"pca": "shared PCA", "pca_data": "PCA of the data set", "random": "random projection",
            "identity": "2-D data, exact"}.get(proj.kind, proj.kind)
    guidance = GUIDANCE_TITLES.get(str(first.meta.get("guidance", "")), str(first.meta.get("guidance", "")))
    fig.text(12 / W, 1 - 8 / H, f"One seed, several γ  ·  {kind}", fontsize=text_pt("headline"), ha="left",
             va="top", weight="bold")
    fig.text(12 / W, 1 - 44 / H, f"{guidance}{_toward(first, sample)}  ·  {when}", fontsize=text_pt("title"),
             ha="left", va="top")
    fig.text(12 / W, (bottom - 6) / H, "\n".join(note), fontsize=text_pt("small"), color="#444444", ha="left",
             va="top", linespacing=1.15)


def _overlay_underlay(ax, limits, first: Trajectory, sample: int, proj: Projection,
                      background: Optional[np.ndarray]) -> None:
    """What lies under the gamma overlay's paths within ``limits``: the 2-D mixture's density shaded
    by class (in the identity view), or the data set ``background`` in its classes' colours, the
    class ``sample`` of run ``first`` is guided toward highlighted."""
    gmm = mixture_for(first, first.x.shape[-1])
    highlight = guided_label(first, sample)
    if gmm is not None and proj.kind == "identity":
        ClassDensity(ax, gmm, highlight).update(limits, 1.0)
    elif background is not None:
        class_cloud(ax, proj(background), background_labels(first, background), highlight)


def _overlay_paths(ax, paths: Mapping[float, np.ndarray], colors: Mapping[float, tuple], off: Mapping[float, bool],
                   final: bool) -> None:
    """The gamma overlay's paths (``paths``: gamma -> its 2-D points, in the order drawn), each in
    its gamma's colour, from their shared start x_T to their end (the final sample where ``final``,
    else x_t now), ringed where ``off`` the data, and every end labelled with its gamma."""
    gammas = list(paths)
    start = point_marker(ax, "x_T", zorder=5)
    set_point(start, paths[gammas[0]][0])
    names, points, texts, label_colors = ["x_T"], {"x_T": paths[gammas[0]][0]}, {"x_T": r"$x_T$ (start)"}, {"x_T": "#000000"}
    for i, g in enumerate(gammas):
        p = paths[g]
        ax.plot(p[:, 0], p[:, 1], color=colors[g], lw=2.0, alpha=0.9, zorder=2)
        end = point_marker(ax, "x0" if final else "x_t", color=colors[g], ms=17 if final else 10,
                           mec="black", mew=0.8, zorder=4)
        set_point(end, p[-1])
        if off[g]:
            ax.plot(*p[-1], ls="", marker="o", ms=24, mfc="none", mec=COLORS["outside"], mew=2.2, zorder=4)
        name = f"gamma{i}"
        names.append(name)
        points[name], texts[name], label_colors[name] = p[-1], f"γ = {g:g}" + ("  (off the data)" if off[g] else ""), colors[g]
    labels = PointLabels(ax, names, label_colors)
    obstacles = ax.transData.transform(np.concatenate(list(paths.values())))
    labels.update(points, texts, obstacles=obstacles)


def _overlay_finals(fig: Figure, size_px: tuple[int, int], top: float, finals: Mapping[float, np.ndarray],
                    colors: Mapping[float, tuple], rng: Optional[tuple[float, float]], shape) -> None:
    """The gamma overlay's row of final images (``finals``: gamma -> the final sample's pixels), each
    framed in its gamma's colour (in the off-the-data colour where it leaves ``rng``) and captioned
    with its gamma, ``top`` px from the top of ``fig`` of ``size_px`` (W, H) px."""
    W, H = size_px
    step_x = min(110.0, (W - 24) / len(finals))
    for i, (g, x) in enumerate(finals.items()):
        bad = outside_range(x, rng)
        pic = fig.add_artist(Sprite(image_pixels(x, shape, 7, COLORS["outside"] if bad else _hex(colors[g]), 3)))
        cx = 12 + step_x * (i + 0.5)
        pic.place(cx, H - (top + 28), ha="center", va="top")
        caption = fig.add_artist(TextSprite(text_pt("label")))
        caption.set_text(f"γ = {g:g}")
        caption.place(cx, H - (top + 26), ha="center", va="bottom")


def _hex(rgba) -> str:
    """A matplotlib colour as ``#rrggbb``."""
    r, g, b = (int(round(255 * c)) for c in rgba[:3])
    return f"#{r:02x}{g:02x}{b:02x}"
