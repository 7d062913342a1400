"""The lecture's slides (``viz.lecture.SLIDES``) drawn through the app's caches (``ui.cache``), so
a slide costs what the same view costs on its page."""

from __future__ import annotations

from models.pipeline import SampleSpec
from ui.cache import cached_trajectory, noising_png, overlay_png, view_frame, view_gif
from ui.runs import Settings, run_spec, with_gammas
from viz.lecture import LECTURE_GAMMA, OVERLAY_GAMMAS, Slide
from viz.projection import for_whole_paths


def slide_spec(s: Settings, slide: Slide, model: str) -> SampleSpec:
    """The run a slide shows: unguided and unconditional, or its guidance at ``LECTURE_GAMMA``
    toward the sidebar's class."""
    if slide.guidance == "none":
        return run_spec(s, "none", 1.0, label=-1, model=model)
    return run_spec(s, slide.guidance, LECTURE_GAMMA, model=model)


def slide_picture(slide: Slide, spec: SampleSpec, projection: str, play: bool = False) -> bytes:
    """PNG (or, when ``play``, GIF) bytes of ``slide`` for the run ``spec`` (for ``"overlay"``, the
    same run at each of ``OVERLAY_GAMMAS``). Whole paths are drawn in ``for_whole_paths(projection)``."""
    if slide.figure == "noising" and not play:
        return noising_png(None, spec.seed)
    if slide.figure == "overlay":  # a still: the paths of every gamma at once
        return overlay_png(with_gammas(spec, OVERLAY_GAMMAS), for_whole_paths(projection))
    if slide.figure == "trajectory":
        projection = for_whole_paths(projection)
    if play:
        return view_gif(slide.figure, spec, projection)
    steps = cached_trajectory(spec).steps
    step = steps if slide.figure == "trajectory" else steps // 2
    return view_frame(slide.figure, spec, projection, 0, step, slide.stages)
