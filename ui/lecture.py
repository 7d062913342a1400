"""The lecture's slides (``viz.figures.lecture.SLIDES``) drawn through the app's caches (``ui.run_cache`` and ``ui.view_cache``), so
a slide costs what the same view costs on its page.

A still shows the step where the construction reads well (``ui.run_cache.opening_step``; a whole path
its last frame). Play animates the slide's own build-up: the step slides play their parts step after
step (the prediction; then the prediction and the small step; then prediction, step and fresh noise),
the several-γ slide grows every γ's path step by step, the others play their view's GIF."""

from __future__ import annotations

import io
from typing import Optional

import streamlit as st

from models.engine.loading import resolve_device
from models.engine.pipeline import SampleSpec
from ui.run_cache import cached_trajectory, opening_step
from ui.view_cache import buildup_gif, noising_png, overlay_gif, overlay_png, view_frame, view_gif
from ui.runs import Settings, run_spec, with_gammas
from viz.figures.lecture import LECTURE_GAMMA, OVERLAY_GAMMAS, Slide
from viz.draw.projection import for_whole_paths
from viz.draw.style import display_width
from models.flow.pair import meets_flow_runs
from models.engine.data import load_dataset
from viz.views.flow import MEETS_FLOW_SIZE, MeetsFlow


def slide_spec(s: Settings, slide: Slide, model: str) -> SampleSpec:
    """The run a slide shows: unguided and unconditional, or its guidance at ``LECTURE_GAMMA``
    toward the sidebar's class."""
    if slide.guidance == "none":
        return run_spec(s, "none", 1.0, label=-1, model=model)
    return run_spec(s, slide.guidance, LECTURE_GAMMA, model=model)


@st.cache_data(max_entries=8, show_spinner="sampling the run on both paths")
def meets_flow_picture(data: str, model: str, steps: int, seed: int, batch: int, play: bool,
                       width: Optional[int] = None) -> bytes:
    """PNG (last frame) or GIF of ``viz.views.flow.MeetsFlow`` for one unguided run on both paths (a still
    ``width`` px wide, as tall, if given)."""
    vp, flow = meets_flow_runs(data, model, steps, seed, batch, resolve_device("auto"))
    size = MEETS_FLOW_SIZE if play or width is None else (int(width), MEETS_FLOW_SIZE[1])  # its key column needs the height
    view = MeetsFlow(vp, flow, size=size, background=load_dataset(data).x)
    if play:
        return view.gif()
    buf = io.BytesIO()
    view.draw(view.num_frames - 1).savefig(buf, format="png")
    return buf.getvalue()


def declared_width(slide: Slide) -> int:
    """The width a slide's picture is declared at (``viz.draw.style.display_width`` of its kind)."""
    if slide.figure == "meets_flow":
        return MEETS_FLOW_SIZE[0]
    return display_width("noising_strip" if slide.figure == "noising" else slide.figure)


def slide_picture(slide: Slide, spec: SampleSpec, projection: str, play: bool = False,
                  width: Optional[int] = None) -> bytes:
    """PNG (or, when ``play``, GIF) bytes of ``slide`` for the run ``spec`` (for ``"overlay"``, the
    same run at each of ``OVERLAY_GAMMAS``). Whole paths are drawn in ``for_whole_paths(projection)``.
    ``width``: a still drawn that many px wide (its column on a narrow window, ``ui.views.fitted_width``);
    the overlay and the two-path slide keep their size."""
    if slide.figure == "meets_flow":
        model = spec.model if spec.model != "neural_flow" else "neural"
        return meets_flow_picture(spec.data, model, spec.steps, spec.seed, spec.batch, play, width)
    if slide.figure == "noising":
        return view_gif("noising", spec, projection) if play else noising_png(None, spec.seed, width)
    if slide.figure == "overlay":
        specs = with_gammas(spec, OVERLAY_GAMMAS)
        return overlay_gif(specs, for_whole_paths(projection)) if play else overlay_png(specs, for_whole_paths(projection))
    if slide.figure == "trajectory":
        projection = for_whole_paths(projection)
        if play:
            return view_gif("trajectory", spec, projection)
        return view_frame("trajectory", spec, projection, 0, cached_trajectory(spec).steps, width=width)  # whole path
    if play:
        return buildup_gif(spec, projection, slide.stages) if slide.stages else view_gif(slide.figure, spec, projection)
    return view_frame(slide.figure, spec, projection, 0, opening_step(spec), slide.stages, width=width)
