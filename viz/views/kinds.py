"""The diagrams of Guidance Lab, after Dieleman's "The geometry of diffusion guidance": one entry
point for the app and for ``python -m viz.export --figure KIND``.

Figure kinds (``viz.views.catalog`` names and describes them without drawing anything):

* ``noising``    forward noising of a photograph (``viz.figures.noising``);
* ``step``       one sampling step: prediction, step, noise (``viz.views.step``);
* ``trajectory`` the whole path with its predictions and, for digits, the images (``viz.views.step``);
* ``classifier`` one step of classifier guidance (``viz.views.guidance``);
* ``classifier_x0`` the same step drawn in prediction space (``viz.views.guidance``);
* ``cfg``        one step of classifier-free guidance (``viz.views.guidance``);
* one kind per newer guidance method, named after it: one step drawn as its own construction
  (its view registers itself in ``viz.methods``);
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
from models.flow.path import FlowSchedule
from viz.views.paths import Animated, PathAnimation
from viz.draw.geometry import check_finite, check_sample
from viz.views.guidance import (CFGDiagram, ClassifierGuidanceDiagram, ClassifierPredictionDiagram, gamma_overlay_figure,
                                   shared_pca)
from viz.figures.noising import NoisingAnimation, image_from_upload, load_photo, noising_figure
from viz.draw.projection import PROJECTION_NAMES, Projection, pca_projection, plane_projection, random_projection
from viz.views.flow import FlowStepDiagram
from viz.views.step import StepDiagram, TrajectoryDiagram, step_figure
from models.guidance import names
from viz.methods import views

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


def _paths(traj, projection, sample, seed, background, width=None):
    title = f"{traj.meta.get('data', '')} · {str(traj.meta.get('sampler', '')).upper()} · paths of every sample"
    return PathAnimation(traj, run_projection(projection, traj, seed, sample), background, title, width=width)


def _noising(traj, projection, sample, seed, background, width=None):
    levels = FlowSchedule(shift=float(traj.meta.get("shift", 1.0))) if traj.path == "flow" else traj.alphas_cumprod
    return NoisingAnimation(load_photo("china"), levels, seed)


def _step(traj, projection, sample, seed, background, width=None):
    return StepDiagram(traj, _one_step(projection, traj, seed, sample), sample, width=width)


def _trajectory(traj, projection, sample, seed, background, width=None):
    return TrajectoryDiagram(traj, run_projection(projection, traj, seed, sample), sample, background, width=width)


def _classifier(traj, projection, sample, seed, background, width=None):
    return ClassifierGuidanceDiagram(traj, sample, _one_step(projection, traj, seed, sample), width=width)


def _classifier_x0(traj, projection, sample, seed, background, width=None):
    return ClassifierPredictionDiagram(traj, sample, _one_step(projection, traj, seed, sample), width=width)


def _cfg(traj, projection, sample, seed, background, width=None):
    return CFGDiagram(traj, sample, _one_step(projection, traj, seed, sample), width=width)


def _flow(traj, projection, sample, seed, background, width=None):
    return FlowStepDiagram(traj, sample, _one_step(projection, traj, seed, sample), width=width)


def _method(method: str):
    """The builder of the construction view of method ``method`` (``viz.methods.views``)."""
    def build(traj, projection, sample, seed, background, width=None):
        return views()[method](traj, sample, _one_step(projection, traj, seed, sample), width=width)
    return build


Builder = Callable[..., Animated]  # (traj, projection name, sample, seed, background, width=None)

#: the kinds drawn by a view of this package: kind -> builder ``(traj, projection name, sample, seed, background,
#: width=None)``
RUN_VIEWS: dict[str, Builder] = {
    "paths": _paths, "noising": _noising, "step": _step, "trajectory": _trajectory,
    "classifier": _classifier, "classifier_x0": _classifier_x0, "cfg": _cfg, "flow": _flow,
}


def animations() -> dict[str, Builder]:
    """Every animated kind: the run views, then each method view (``viz.methods``), read at call time."""
    drawn = views()
    return {**RUN_VIEWS, **{method: _method(method) for method in names() if method in drawn}}


#: every animated kind, as at import (``animations()`` also finds a view registered later)
ANIMATIONS = animations()


def make_animation(kind: str, traj: Trajectory, projection: str = "pca", sample: int = 0, seed: int = 0,
                   background: Optional[np.ndarray] = None, stages: Optional[tuple[str, ...]] = None,
                   width: Optional[int] = None) -> Animated:
    """The animated view ``kind`` (a key of ``ANIMATIONS``) of ``traj``.

    ``projection`` is ``"pca"``, ``"random"`` (seeded with ``seed``) or ``"plane"`` (the exact
    plane of each step for the one-step views); ``background`` is data drawn under paths;
    ``stages`` builds the ``step`` view up part by part (``viz.views.step.STAGES``; all by default);
    ``width`` draws it that many CSS px wide (default: its ``viz.draw.style.DISPLAY_WIDTH``; the noising
    view keeps its own size).
    Raises ``ValueError`` listing the kinds for an unknown one, for stages of another view, and for
    non-finite data.
    """
    kinds = animations()
    if kind not in kinds:
        raise ValueError(f"unknown figure kind {kind!r}; valid: {', '.join(kinds)}")
    if stages is not None and kind != "step":
        raise ValueError(f"only the step view is built up in stages, not {kind!r}")
    if projection not in PROJECTION_NAMES:
        raise ValueError(f"unknown projection {projection!r}; valid: {', '.join(PROJECTION_NAMES)}")
    check_finite(traj)
    sample = check_sample(traj, sample)
    if background is not None and not np.isfinite(np.asarray(background, np.float64)).all():
        raise ValueError("the background points have non-finite values (NaN or inf)")
    if stages is not None:
        return StepDiagram(traj, _one_step(projection, traj, int(seed), sample), sample, stages, width=width)
    return kinds[kind](traj, projection, sample, int(seed), background, width=width)


__all__ = ["ANIMATIONS", "EACH_STEP", "RUN_VIEWS", "CFGDiagram", "ClassifierGuidanceDiagram", "ClassifierPredictionDiagram",
           "NoisingAnimation", "StepDiagram", "TrajectoryDiagram", "animations", "gamma_overlay_figure", "image_from_upload",
           "load_photo", "make_animation", "noising_figure", "run_projection", "shared_pca", "step_figure"]
