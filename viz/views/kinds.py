"""The diagrams of Guidance Lab, after Dieleman's "The geometry of diffusion guidance": one entry
point for the app and for ``python -m viz.export --figure KIND``.

Figure kinds (each in a small module of its own):

* ``noising``    forward noising of a photograph (``viz.figures.noising``);
* ``step``       one sampling step: prediction, step, noise (``viz.views.step``);
* ``trajectory`` the whole path with its predictions and, for digits, the images (``viz.views.step``);
* ``classifier`` one step of classifier guidance (``viz.views.guidance``);
* ``classifier_x0`` the same step drawn in prediction space (``viz.views.guidance``);
* ``cfg``        one step of classifier-free guidance (``viz.views.guidance``);
* ``rescale``, ``apg``, ``interval``, ``autoguidance``, ``cfgpp``: one step of each method of the
  guidance zoo, drawn as its own construction (``viz.methods.zoo_views``);
* ``cfgzero``, ``tcfg``, ``mambo``, ``apgmix``, ``fdg``: one step of each of diffusers' guiders, drawn in the
  plane of the space it acts in (``viz.methods.guider_views``);
* ``paths``      the paths of every sample of a run (``viz.views.paths.PathAnimation``);
* the still ``gamma_overlay_figure``: one seed at several guidance scales.

``make_animation(kind, traj, ...)`` builds any animated kind; ``.gif(max_frames, fps)`` on the
result gives the same bytes wherever it is called, so the page's download equals the CLI's file.
"""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from models.engine.data import DATA_NAMES, load_dataset
from models.engine.trajectory import Trajectory
from viz.views.paths import Animated, PathAnimation
from viz.draw.geometry import check_finite, check_sample
from viz.views.guidance import (CFGDiagram, ClassifierGuidanceDiagram, ClassifierPredictionDiagram, gamma_overlay_figure,
                                   shared_pca)
from viz.figures.noising import NoisingAnimation, image_from_upload, load_photo, noising_figure
from viz.draw.projection import PROJECTION_NAMES, Projection, pca_projection, plane_projection, random_projection
from viz.views.step import StepDiagram, TrajectoryDiagram, step_figure
from viz.methods.guider_views import GUIDER_VIEWS
from viz.methods.zoo_views import (APGDiagram, AutoguidanceDiagram, CFGPlusPlusDiagram, IntervalDiagram, RescaleDiagram,
                              ZOO_VIEWS)

EACH_STEP = "plane"  # what the one-step views take for the exact plane of each step (``viz.views.construction``)


def run_projection(kind: str, traj: Trajectory, seed: int = 0, sample: int = 0) -> Projection:
    """The fixed projection called ``kind`` for a whole run: ``"pca"`` fitted on its x and x0_hat,
    ``"pca_data"`` fitted on its data set, ``"random"`` (seeded; its note quotes the distance
    distortion), or ``"plane"``: the fixed plane through the sample's x_T, its final x_0 and its
    mid-way prediction. Raises ``ValueError`` for an unknown kind or a run without its data set."""
    dim = traj.x.shape[-1]
    points = np.concatenate([traj.x.reshape(-1, dim), traj.x0_hat.reshape(-1, dim)])
    if kind == "pca":
        return pca_projection(points)
    if kind == "pca_data":
        if traj.meta.get("data") not in DATA_NAMES:
            raise ValueError("the data-set PCA needs a run that records its data set (meta['data'])")
        return pca_projection(load_dataset(str(traj.meta["data"])).x)
    if kind == "random":
        return random_projection(dim, seed, reference=points)
    if kind == "plane":
        return plane_projection(traj.x[0, sample], traj.x[-1, sample], traj.x0_hat[traj.steps // 2, sample])
    raise ValueError(f"unknown projection {kind!r}; valid: {', '.join(PROJECTION_NAMES)}")


def _one_step(kind: str, traj: Trajectory, seed: int, sample: int) -> Projection | str:
    """What a one-step view is drawn in: for ``"plane"`` the exact plane of each step (the views
    take the name ``EACH_STEP`` for it), else the run's fixed ``run_projection``."""
    return EACH_STEP if kind == "plane" else run_projection(kind, traj, seed, sample)


def _paths(traj, projection, sample, seed, background):
    title = f"{traj.meta.get('data', '')} · {str(traj.meta.get('sampler', '')).upper()} · paths of every sample"
    return PathAnimation(traj, run_projection(projection, traj, seed, sample), background, title)


def _noising(traj, projection, sample, seed, background):
    return NoisingAnimation(load_photo("china"), traj.alphas_cumprod, seed)


def _step(traj, projection, sample, seed, background):
    return StepDiagram(traj, _one_step(projection, traj, seed, sample), sample)


def _trajectory(traj, projection, sample, seed, background):
    return TrajectoryDiagram(traj, run_projection(projection, traj, seed, sample), sample, background)


def _classifier(traj, projection, sample, seed, background):
    return ClassifierGuidanceDiagram(traj, sample, _one_step(projection, traj, seed, sample))


def _classifier_x0(traj, projection, sample, seed, background):
    return ClassifierPredictionDiagram(traj, sample, _one_step(projection, traj, seed, sample))


def _cfg(traj, projection, sample, seed, background):
    return CFGDiagram(traj, sample, _one_step(projection, traj, seed, sample))


#: zoo method -> its construction view (``viz.methods.zoo_views``, and ``viz.methods.guider_views`` for diffusers' guiders)
METHOD_VIEWS = {**ZOO_VIEWS, **GUIDER_VIEWS}


def _zoo(method: str):
    """The builder of the construction view of zoo method ``method`` (``METHOD_VIEWS``)."""
    def build(traj, projection, sample, seed, background):
        return METHOD_VIEWS[method](traj, sample, _one_step(projection, traj, seed, sample))
    return build


Builder = Callable[[Trajectory, str, int, int, Optional[np.ndarray]], Animated]

#: kind -> builder ``(traj, projection name, sample, seed, background) -> Animated``
ANIMATIONS: dict[str, Builder] = {
    "paths": _paths, "noising": _noising, "step": _step, "trajectory": _trajectory,
    "classifier": _classifier, "classifier_x0": _classifier_x0, "cfg": _cfg, **{method: _zoo(method) for method in METHOD_VIEWS},
}
#: kind -> one line for a menu
ANIMATION_DESCRIPTIONS: dict[str, str] = {
    "paths": "the paths of every sample, with each step's prediction",
    "noising": "a photograph noised step by step (the forward process)",
    "step": "one sampling step: prediction, small step, fresh noise",
    "trajectory": "one sample's whole path, its predictions and (digits) its images",
    "classifier": "one step of classifier guidance (needs guidance classifier or universal)",
    "classifier_x0": "one step of classifier guidance drawn in prediction space: the classifier direction added "
                     "to the model's prediction (needs guidance classifier or universal)",
    "cfg": "one step of classifier-free guidance (needs guidance cfg)",
    "rescale": "one step of CFG rescale: the CFG point scaled toward the origin (needs guidance rescale)",
    "apg": "one step of APG: the guidance split along and across the conditional prediction (needs guidance apg)",
    "interval": "one step of guidance in an interval of σ: on or off at this step (needs guidance interval)",
    "autoguidance": "one step of autoguidance: from the weak model past the main one (needs guidance autoguidance)",
    "cfgpp": "one step of CFG++: interpolate by λ, re-noise with the unconditional noise (needs guidance cfgpp)",
    "cfgzero": "one step of CFG-Zero*, in v: the unconditional velocity scaled by s*, zero at the first steps "
               "(needs guidance cfgzero)",
    "tcfg": "one step of tangential CFG, in ε: the unconditional prediction projected on the leading singular "
            "direction (needs guidance tcfg)",
    "mambo": "one step of MAMBO-G: CFG with γ damped by the ratio ‖v_c − v_u‖ / ‖v_u‖ (needs guidance mambo)",
    "apgmix": "one step of APG inside a σ window, CFG outside it (needs guidance apgmix)",
    "fdg": "one step of frequency-decoupled guidance: the low and the high band of the guidance, each with its own "
           "scale, on the digits' 8×8 images (needs guidance fdg)",
}


def make_animation(kind: str, traj: Trajectory, projection: str = "pca", sample: int = 0, seed: int = 0,
                   background: Optional[np.ndarray] = None, stages: Optional[tuple[str, ...]] = None) -> Animated:
    """The animated view ``kind`` (a key of ``ANIMATIONS``) of ``traj``.

    ``projection`` is ``"pca"``, ``"random"`` (seeded with ``seed``) or ``"plane"`` (the exact
    plane of each step for the one-step views); ``background`` is data drawn under paths;
    ``stages`` builds the ``step`` view up part by part (``viz.views.step.STAGES``; all by default).
    Raises ``ValueError`` listing the kinds for an unknown one, for stages of another view, and for
    non-finite data.
    """
    if kind not in ANIMATIONS:
        raise ValueError(f"unknown figure kind {kind!r}; valid: {', '.join(ANIMATIONS)}")
    if stages is not None and kind != "step":
        raise ValueError(f"only the step view is built up in stages, not {kind!r}")
    if projection not in PROJECTION_NAMES:
        raise ValueError(f"unknown projection {projection!r}; valid: {', '.join(PROJECTION_NAMES)}")
    check_finite(traj)
    sample = check_sample(traj, sample)
    if background is not None and not np.isfinite(np.asarray(background, np.float64)).all():
        raise ValueError("the background points have non-finite values (NaN or inf)")
    if stages is not None:
        return StepDiagram(traj, _one_step(projection, traj, int(seed), sample), sample, stages)
    return ANIMATIONS[kind](traj, projection, sample, int(seed), background)


__all__ = ["ANIMATIONS", "ANIMATION_DESCRIPTIONS", "EACH_STEP", "APGDiagram", "AutoguidanceDiagram", "CFGDiagram", "CFGPlusPlusDiagram",
           "ClassifierGuidanceDiagram", "ClassifierPredictionDiagram", "IntervalDiagram", "NoisingAnimation", "RescaleDiagram", "StepDiagram",
           "TrajectoryDiagram", "gamma_overlay_figure", "image_from_upload", "load_photo", "make_animation",
           "noising_figure", "run_projection", "shared_pca", "step_figure"]
