"""Streamlit caches of pictures: each view's figure built once per run (shared, behind a lock, because
a figure is mutable), each frame's PNG and each GIF cached on the run's spec and the view's settings.
The runs come from ``ui.run_cache``; the projection a view is drawn in, the views of the side-by-side
columns and their one camera are chosen in ``viz.views.basis``.
"""

from __future__ import annotations

import io
import threading
from contextlib import nullcontext
from typing import Optional

import numpy as np
import streamlit as st
from PIL import Image

import ui.run_cache as run_cache  # looked up at call time: a test may stand in for a cached run
from models.analysis.highdim import measurements
from models.analysis.tilted_density import points_at, tilt_view
from models.analysis.tilted_target_gap import GapSampler
from models.analysis.tradeoff import data_reference, row_scale
from models.engine.data import load_dataset, load_digits_dataset
from models.engine.pipeline import SampleSpec
from models.engine.schedule import make_schedule
from models.engine.settings import FPS, FRAMES
from ui.runs import Sweep
from viz.draw.geometry import data_range, outside_range
from viz.draw.projection import Projection, for_whole_paths
from viz.draw.style import HALF_SIZE
from viz.figures.highdim import highdim_figure
from viz.figures.mosaic import digit_rows, png
from viz.figures.path_gap import GAP_DISPLAY_HEIGHT, GAP_DISPLAY_WIDTH, path_gap_figure
from viz.figures.tradeoff import curves_figure, exact_target_figure, tilted_figure
from viz.gif import encode_gif
from viz.views.basis import Limits, view_in
from viz.views.construction import shared_camera
from viz.views.kinds import (gamma_overlay_figure, image_from_upload, load_photo, make_animation, noising_figure,
                             run_projection, shared_pca)
from viz.views.paths import frame_indices, shared_path_limits


GIF_FRAMES, GIF_FPS = FRAMES.default, FPS.default  # the export command line's defaults: same settings, same bytes


BUILDUP_FPS = 4.0  # the lecture's build-up GIFs: each part of a step stays a quarter of a second


OVERLAY_GIF_FRAMES = 13  # the several-γ GIF: its paths grow over at most this many frames (each a whole


#                         figure, ~0.5 s on a busy 2-core machine: 25 frames took 12 s)
OVERLAY_FPS = 3.0


# Matplotlib is not thread-safe: its mathtext parser (pyparsing) fails at random when two sessions'
# threads lay out or draw text at once (found by tests/robustness/test_load.py). Every figure is
# built and drawn holding this lock; never hold it while calling another cached function (a thread
# computing that value could be waiting for the lock).
DRAWING = threading.RLock()




def _basis(spec: SampleSpec, projection: str, sample: int, basis: Optional[tuple]) -> Projection:
    """The projection a paired view is drawn in: the shared basis, or the run's own fixed one (the
    data set's PCA, the seeded random projection: the same for both panels)."""
    return run_cache.basis_of(basis, projection) if basis else run_projection(projection, run_cache.cached_trajectory(spec), spec.seed,
                                                                   sample)


def _build_view(kind: str, spec: SampleSpec, projection: str, sample: int, stages: Optional[tuple[str, ...]],
                basis: Optional[tuple] = None, limits: Optional[Limits] = None, size: Optional[tuple[int, int]] = None,
                width: Optional[int] = None):
    traj = run_cache.cached_trajectory(spec)
    background = load_dataset(spec.data).x
    proj = _basis(spec, projection, sample, basis) if basis or limits or size else None
    with DRAWING:
        if proj is not None:
            return view_in(kind, traj, proj, sample, background, limits, size)
        return make_animation(kind, traj, projection, sample=sample, seed=spec.seed, background=background,
                              stages=stages, width=width)


# A view is about 4 MB (25 steps). Twelve were too few for a class: with twenty students, each
# on their own seed, a step move found its view evicted and rebuilt it (test_load.py measured step
# moves 4x slower than alone). An idle view goes after half an hour.
@st.cache_resource(max_entries=64, ttl=1800, show_spinner="Drawing…")
def _shared_view(kind: str, spec: SampleSpec, projection: str, sample: int, stages: Optional[tuple[str, ...]],
                 basis: Optional[tuple] = None, limits: Optional[Limits] = None, size: Optional[tuple[int, int]] = None,
                 width: Optional[int] = None):
    """One view object per run, shared by the sessions looking at it (drawn holding ``DRAWING``);
    ``basis``: drawn in the basis of that ``shared_basis`` key (``basis_of``) instead of its own;
    ``limits``: the paths' view (``pair_limits``); ``size``: (width, height) CSS px (``HALF_SIZE``);
    ``width``: drawn that many CSS px wide (the column the browser reports, ``ui.views.column_width``)."""
    return _build_view(kind, spec, projection, sample, stages, basis, limits, size, width)


#: the views of the side-by-side page's columns: ((kind, spec), ...), one per column
Panels = tuple[tuple[str, SampleSpec], ...]


@st.cache_resource(max_entries=32, show_spinner=False)
def pair_limits(pair: Panels, projection: str, sample: int, basis: Optional[tuple],
                size: tuple[int, int] = HALF_SIZE) -> Limits:
    """One view that holds the paths of every run in ``pair`` (``viz.views.paths.shared_path_limits``)."""
    trajs = [run_cache.cached_trajectory(spec) for _, spec in pair]
    return shared_path_limits(trajs, _basis(pair[0][1], projection, sample, basis), width=size)


@st.cache_resource(max_entries=32, show_spinner=False)
def pair_camera(pair: Panels, projection: str, sample: int, basis: Optional[tuple], gif: bool = False,
                size: tuple[int, int] = HALF_SIZE) -> list[dict]:
    """One camera for the one-step views of ``pair`` (``viz.views.construction.shared_camera``; the views
    may be of different methods), over every step, or over the GIF's frames (``gif``). Each view
    stays cached on its own run: a γ move in one column redraws the other's frame at the new scale
    without rebuilding its view."""
    views = [_shared_view(kind, spec, projection, sample, None, basis, size=size) for kind, spec in pair]
    indices = frame_indices(views[0].num_frames, GIF_FRAMES) if gif else None
    return shared_camera(views, indices)


def scaled_size(declared: tuple[int, int], width: Optional[int] = None) -> tuple[int, int]:
    """A figure's size in px: ``declared`` (width, height), or ``width`` px wide in its proportions."""
    return declared if width is None else (int(width), int(round(width * declared[1] / declared[0])))


def pair_size(width: Optional[int] = None) -> tuple[int, int]:
    """A side-by-side column's figure size: ``HALF_SIZE``, or ``width`` px wide in its proportions."""
    return scaled_size(HALF_SIZE, width)


def _paired(kind: str, spec: SampleSpec, projection: str, sample: int, basis: Optional[tuple],
            pair: Optional[Panels], gif: bool, size: tuple[int, int] = HALF_SIZE):
    """``(view, shots)``: the view to draw, at the ``size`` of a side-by-side column, and the camera it
    shares with the other columns of ``pair`` (``(kind, spec)`` among them, drawn at the same size);
    ``(None, None)`` when there is no ``pair``: the view is drawn as every other page draws it."""
    if pair is None:
        return None, None
    if kind == "paths":
        limits = pair_limits(pair, projection, sample, basis, size)
        return _shared_view(kind, spec, projection, sample, None, basis, limits, size), None
    return (_shared_view(kind, spec, projection, sample, None, basis, size=size),
            pair_camera(pair, projection, sample, basis, gif, size)[pair.index((kind, spec))])


def _filmed(view, shots: Optional[dict]):
    """``view`` filmed by the shared camera ``shots`` inside a ``with`` block (none: its own)."""
    return nullcontext() if shots is None else view.camera(shots)


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels[..., :3]).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def figure_png(fig) -> bytes:
    """PNG bytes of a Figure (call holding ``DRAWING``); the figure is dropped after."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})  # fast: noise barely compresses anyway
    return buf.getvalue()


@st.cache_data(max_entries=512, show_spinner=False)
def view_frame(kind: str, spec: SampleSpec, projection: str, sample: int, step: int,
               stages: Optional[tuple[str, ...]] = None, basis: Optional[tuple] = None,
               pair: Optional[Panels] = None, width: Optional[int] = None) -> bytes:
    """PNG bytes of frame ``step`` (0-based, clamped to the view's frames) of view ``kind`` of the run
    ``spec`` (in the basis of the ``shared_basis`` key ``basis``, if given; at the size and the one
    scale of the side-by-side columns ``pair``, if given; ``width`` CSS px wide, if given: a page's own
    view without ``basis``, or each column of ``pair`` in its proportions)."""
    view, shots = _paired(kind, spec, projection, sample, basis, pair, gif=False, size=pair_size(width))
    if view is None:
        view = _shared_view(kind, spec, projection, sample, stages, basis, width=None if basis else width)
    with DRAWING, _filmed(view, shots):
        return _png(view.frame(int(np.clip(step, 0, view.num_frames - 1))))


@st.cache_data(max_entries=32, show_spinner="Rendering the animation…")
def view_gif(kind: str, spec: SampleSpec, projection: str, sample: int = 0,
             basis: Optional[tuple] = None, pair: Optional[Panels] = None) -> bytes:
    """The GIF of a whole view, byte for byte what ``python -m viz.export --figure kind`` writes
    (in the basis of the ``shared_basis`` key ``basis`` and at the scale of ``pair``, if given: no
    command line draws those)."""
    view, shots = _paired(kind, spec, projection, sample, basis, pair, gif=True)
    if view is None:
        view = _build_view(kind, spec, projection, sample, None, basis)
    with DRAWING, _filmed(view, shots):
        return view.gif(GIF_FRAMES, GIF_FPS)


@st.cache_data(max_entries=32, show_spinner="Rendering the animation…")
def buildup_gif(spec: SampleSpec, projection: str, stages: tuple[str, ...], sample: int = 0) -> bytes:
    """The step view built up part by part, step after step: at each step shown, one frame for each
    first part of ``stages`` (for ``("prediction", "step", "noise")``: the prediction, then the small
    step, then the fresh noise), from the views ``make_animation(..., stages=...)`` draws; at most
    ``GIF_FRAMES`` frames in all."""
    parts = [tuple(stages[: i + 1]) for i in range(len(stages))]
    views = [_shared_view("step", spec, projection, sample, part) for part in parts]
    steps = frame_indices(views[0].num_frames, max(1, GIF_FRAMES // len(parts)))
    with DRAWING:
        frames = [view.frame(k) for k in steps for view in views]
    return encode_gif(frames, fps=BUILDUP_FPS)


def _pixels(fig) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba()).copy()


def _overlay_inputs(specs: tuple[SampleSpec, ...], projection: str):
    trajs = {spec.gamma: run_cache.cached_trajectory(spec) for spec in specs}
    projection = for_whole_paths(projection)
    first = specs[0]
    proj = shared_pca(trajs) if projection == "pca" else run_projection(projection, trajs[first.gamma], first.seed)
    return trajs, proj, load_dataset(first.data).x


@st.cache_data(max_entries=32, show_spinner="Drawing every γ…")
def overlay_png(specs: tuple[SampleSpec, ...], projection: str = "pca", sample: int = 0,
                width: Optional[int] = None) -> bytes:
    """PNG of the paths of one seed at several gammas (one spec each, ``ui.runs.with_gammas``) in ONE
    shared view: PCA of all their points (also for ``plane``: ``viz.draw.projection.for_whole_paths``),
    PCA of the data set, or random; ``width`` px wide, if given."""
    trajs, proj, background = _overlay_inputs(specs, projection)
    with DRAWING:
        return figure_png(gamma_overlay_figure(trajs, proj, sample=sample, background=background, width=width))


@st.cache_data(max_entries=16, show_spinner="Drawing every γ, step by step…")
def overlay_gif(specs: tuple[SampleSpec, ...], projection: str = "pca", sample: int = 0) -> bytes:
    """GIF of ``overlay_png``'s figure with the paths of every gamma growing step by step (at most
    ``OVERLAY_GIF_FRAMES`` frames, the last one the whole picture)."""
    trajs, proj, background = _overlay_inputs(specs, projection)
    steps = next(iter(trajs.values())).steps
    upto = [j for j in frame_indices(steps + 1, OVERLAY_GIF_FRAMES) if j > 0]  # step 0 is x_T alone
    with DRAWING:
        frames = [_pixels(gamma_overlay_figure(trajs, proj, sample=sample, background=background, step=j)) for j in upto]
    return encode_gif(frames, fps=OVERLAY_FPS)


@st.cache_data(max_entries=8, show_spinner="Drawing…")
def path_gap_png(data: str, width: Optional[int] = None) -> bytes:
    """PNG of ``viz.figures.path_gap.path_gap_figure`` of ``run_cache.path_gap_view(data)`` (which has curves)."""
    view = run_cache.path_gap_view(data)
    with DRAWING:
        return figure_png(path_gap_figure(view.curves, view.ylabel, view.title,
                                          scaled_size((GAP_DISPLAY_WIDTH, GAP_DISPLAY_HEIGHT), width)))


@st.cache_data(max_entries=16, show_spinner="Drawing…")
def highdim_png(seed: int, width: Optional[int] = None) -> bytes:
    """PNG of ``viz.figures.highdim.highdim_figure`` of the digits for one seed (``width`` px wide, if
    given); the figure is dropped after."""
    x = load_digits_dataset().x
    with DRAWING:
        return figure_png(highdim_figure(measurements(x, int(seed)), width))


@st.cache_data(max_entries=16, show_spinner=False)
def noising_png(upload: Optional[bytes], seed: int, width: Optional[int] = None) -> bytes:
    """PNG of the forward-noising figure of the bundled photograph or an uploaded image (``width`` px
    wide, if given)."""
    image = load_photo("china") if upload is None else image_from_upload(upload)
    with DRAWING:
        return figure_png(noising_figure(image, make_schedule("linear"), seed=seed, width=width))


@st.cache_data(max_entries=32, show_spinner=False)
def curves_png(sweep: Sweep, gammas: tuple[float, ...], width: Optional[int] = None) -> bytes:
    """PNG of the trade-off curves (``viz.figures.tradeoff.curves_figure``) of ``evaluation_row`` at each of ``gammas``."""
    rows = [run_cache.evaluation_row(sweep, g) for g in gammas]
    title = (f"{sweep.model} model · {sweep.data} · {sweep.guidance} guidance · {sweep.sampler}, {sweep.steps} steps · "
             f"{sweep.samples} samples per γ · seed {sweep.seed}")
    with DRAWING:
        return figure_png(curves_figure(rows, data_reference(sweep.data), title, row_scale(rows), width))


@st.cache_data(max_entries=32, show_spinner="Drawing the tilted density…")
def tilted_png(specs: tuple[SampleSpec, ...], t: int) -> bytes:
    """PNG of ``viz.figures.tradeoff.tilted_figure`` on gmm2d: the tilted density at timestep ``t`` (-1: the
    clean data) under the points of one run per gamma (``specs``: one gmm2d run per gamma, same class)."""
    points, shown_t = {}, t
    for spec in specs:
        points[spec.gamma], shown_t = points_at(run_cache.cached_trajectory(spec), t)
    first = specs[0]
    names = load_dataset("gmm2d").class_names
    what = (f"{first.batch} samples of class {names[first.label]}, {first.model} model, {first.guidance} guidance, "
            f"{first.sampler}, {first.steps} steps")
    with DRAWING:
        return figure_png(tilted_figure(tilt_view(points, first.label, shown_t), names[first.label], what))


@st.cache_data(max_entries=32, show_spinner="Drawing…")
def exact_target_png(runs: tuple[tuple[GapSampler, tuple[SampleSpec, ...]], ...], gamma: float, shown: str) -> bytes:
    """PNG of ``viz.figures.tradeoff.exact_target_figure`` of ``run_cache.gap_view_of(runs, gamma, shown)``."""
    view = run_cache.gap_view_of(runs, gamma, shown)
    with DRAWING:
        return figure_png(exact_target_figure(view))


# ----------------------------------------------------------------------------- the zoo page

@st.cache_data(max_entries=64, show_spinner=False)
def final_digits_png(spec: SampleSpec, per_row: int = 4) -> bytes:
    """PNG of the final samples of a digits run, ``per_row`` to a row (``viz.figures.mosaic``), those
    that left the data's range framed: numpy only, a few milliseconds."""
    traj = run_cache.cached_trajectory(spec)
    x, out = traj.samples, outside_range(traj.samples, data_range(traj))
    rows = range(0, len(x), per_row)
    return png(digit_rows([x[i: i + per_row] for i in rows], outside=[out[i: i + per_row] for i in rows]))
