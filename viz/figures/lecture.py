"""Classroom mode: the post's sequence of figures as slides, and which views a run can draw.

``SLIDES`` follows Dieleman's "The geometry of diffusion guidance": forward noising, the model's
prediction, the small step, the fresh noise, the whole trajectory, classifier guidance,
classifier-free guidance and several guidance scales. Each slide names the view of
``viz.views.kinds`` it shows and the guidance its run uses; ``ui.lecture.slide_picture`` draws it
through the app's caches. ``construction_kind`` and ``view_applies`` say which views a run can draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from models.guidance import settings_for
from models.engine.trajectory import Trajectory
from viz.views.step import STAGES
from viz.methods import views

LECTURE_GAMMA = 3.0  # the guidance scale of the one-step guidance slides
OVERLAY_GAMMAS = (0.0, 1.0, 3.0, 7.0)


@dataclass(frozen=True)
class Slide:
    """One screen: a title, one or two sentences (markdown), the view it shows (a kind of
    ``viz.views.kinds.ANIMATIONS``, or ``"overlay"`` for the several-gamma figure), the step
    diagram's stages where it builds up, and the guidance of its run."""

    key: str
    title: str
    text: str
    figure: str
    stages: Optional[tuple[str, ...]] = None
    guidance: str = "none"


SLIDES: tuple[Slide, ...] = (
    Slide("noising", "Noise wipes out a picture, one step at a time",
          "Mix an image with a little Gaussian noise, then a little more, until nothing but noise is left. "
          "A diffusion model learns to walk this road backwards.", "noising"),
    Slide("prediction", "The model guesses the clean result",
          "From the noisy canvas $x_t$ the model predicts where the path will end: $\\hat{x}_0$, its best guess "
          "of the clean sample. Early on this guess is a blurry average of everything that is still possible.",
          "step", ("prediction",)),
    Slide("step", "It moves only a little toward its guess",
          "The sampler does not jump to $\\hat{x}_0$: it takes a small step from $x_t$ in its direction.",
          "step", ("prediction", "step")),
    Slide("noise", "Then it adds a little fresh noise",
          "DDPM adds some new noise, less than it removed, and lands on $x_{t-1}$. "
          "Deterministic samplers (DDIM, Euler, Heun) leave this out.", "step", STAGES),
    Slide("trajectory", "Step after step, noise becomes a sample",
          "Repeat a few dozen times: the canvas travels from pure noise to a sample, and the guesses sharpen "
          "from blurry averages to one clear picture.", "trajectory"),
    Slide("classifier", "Classifier guidance: follow a classifier's gradient",
          "A classifier $p(y \\mid x_t)$ says which way makes the class more likely. Classifier guidance adds that "
          f"direction, scaled by γ (here {LECTURE_GAMMA:g}), to the model's guess, and the step follows the new guess.",
          "classifier", guidance="classifier"),
    Slide("cfg", "Classifier-free guidance: extrapolate",
          "No classifier needed: the same model guesses once without the label and once with it. Guidance starts "
          f"at the first guess and goes γ = {LECTURE_GAMMA:g} times their difference, past the conditional guess.",
          "cfg", guidance="cfg"),
    Slide("gammas", "A larger γ bends the whole path",
          "Same starting noise, same model, only γ differs. Each changed guess moves the next canvas, so the "
          "paths fan out, and the samples become more typical of their class.", "overlay", guidance="cfg"),
    Slide("meets_flow", "Diffusion meets flow",
          "Flow matching mixes data and noise on a straight line, $x_t = (1 - \\sigma) x_0 + \\sigma \\varepsilon$. "
          "Shrink every diffusion point by $1/(a + s)$ and it lands on that line: one run of DDIM, drawn both ways, "
          "is exactly one run of the flow's Euler sampler.", "meets_flow"),
)


def construction_kind(traj: Trajectory) -> str:
    """The view that draws how ``traj``'s guidance built its prediction: ``classifier`` where the run
    recorded a classifier direction; where it recorded both predictions, the zoo method's own view
    (each newer method's, ``viz.methods.views``) for a run of that method that records its settings
    (``models.guidance.settings_for``), else ``cfg``; else ``step``."""
    if traj.classifier_shift is not None and traj.x0_uncond is not None:
        return "classifier"
    if traj.x0_cond is not None and traj.x0_uncond is not None:
        method = traj.meta.get("guidance")
        if method in views() and all(setting.name in traj.meta
                                                                   for setting in settings_for(str(method))):
            return str(method)
        return "cfg"
    return "step"


def view_applies(kind: str, traj: Trajectory) -> bool:
    """Whether the view ``kind`` of ``viz.views.kinds.ANIMATIONS`` can draw ``traj``: each guidance
    view (classifier, cfg and the zoo's) draws the runs whose construction it is
    (``construction_kind``), and ``classifier_x0`` (classifier guidance in prediction space) the
    same runs as ``classifier``; ``flow`` the runs on the flow path; every other view draws any run."""
    if kind == "flow":
        return traj.path == "flow"
    if kind == "classifier_x0":
        return construction_kind(traj) == "classifier"
    if kind in ("classifier", "cfg") or kind in views():
        return construction_kind(traj) == kind
    return True
