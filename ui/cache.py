"""Streamlit caches: models shared read-only across sessions, runs and pictures keyed on a named spec.

Every run is a ``models.engine.pipeline.SampleSpec`` (frozen; Streamlit hashes a dataclass by its field
names and values, so two specs that differ in any setting, a zoo method's own included, are two
entries). Moving the step scrubber never re-samples: trajectories are cached on their spec, each
view's figure is built once per run (shared, behind a lock, because a figure is mutable) and each
frame's PNG is cached too.
"""

from __future__ import annotations

import io
import threading
import time
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Optional

import numpy as np
import streamlit as st

from models.engine.settings import FPS, FRAMES
from PIL import Image

import models.analysis.evaluate as evaluation  # looked up at call time: a test may stand in for ``evaluate``
from models.engine.data import load_dataset, load_digits_dataset
from models.analysis.highdim import measure, measurements
from models.engine.pipeline import SampleSpec, run
from models.engine.loading import ModelBundle, WeightsError, assets_dir, load_bundle, resolve_device
from models.guidance import resources
from models.engine.schedule import make_schedule
from models.analysis.tilted_density import points_at, tilt_view
from models.analysis.tilted_target import tilted_tv_report
from models.analysis.tilted_target_gap import EXACT, GapRun, GapSampler, GapView, gap_curves, gap_view
from models.analysis.tradeoff import data_reference, row_scale
from models.engine.trajectory import Trajectory
from ui.runs import Sweep, readable_step
from viz.views.paths import PathAnimation, frame_indices, shared_path_limits
from viz.views.construction import shared_camera
from viz.methods import views as method_views
from viz.views.kinds import (CFGDiagram, ClassifierGuidanceDiagram, StepDiagram, gamma_overlay_figure,
                          image_from_upload, load_photo, make_animation, noising_figure, run_projection, shared_pca)
from viz.draw.geometry import data_range, outside_range
from viz.gif import encode_gif
from viz.figures.highdim import highdim_figure
from viz.figures.mosaic import digit_rows, png
from viz.draw.projection import Projection, for_whole_paths, identity_projection, pca_projection
from viz.draw.style import HALF_SIZE
from viz.figures.tradeoff import curves_figure, exact_target_figure, tilted_figure

GIF_FRAMES, GIF_FPS = FRAMES.default, FPS.default  # the export command line's defaults: same settings, same bytes
BUILDUP_FPS = 4.0  # the lecture's build-up GIFs: each part of a step stays a quarter of a second
OVERLAY_GIF_FRAMES = 13  # the several-γ GIF: its paths grow over at most this many frames (each a whole
#                         figure, ~0.5 s on a busy 2-core machine: 25 frames took 12 s)
OVERLAY_FPS = 3.0


@st.cache_resource(show_spinner="Loading the model…")
def cached_bundle(data: str, model: str, needs: tuple[str, ...] = (), assets: str = "") -> ModelBundle:
    """One shared, read-only model per (data, model, needs, weights folder)."""
    return load_bundle(data, model, resolve_device("auto"), needs=needs, assets=Path(assets) if assets else None)


def bundle_or_fallback(data: str, model: str, needs: tuple[str, ...] = ()) -> tuple[ModelBundle, Optional[str]]:
    """The model asked for, or the exact model with a message saying which file is wrong."""
    folder = str(assets_dir())
    try:
        return cached_bundle(data, model, needs, folder), None
    except WeightsError as e:
        if model == "exact":
            raise
        return cached_bundle(data, "exact", needs, folder), f"{e}. Showing the exact model instead."


def usable_model(data: str, model: str, guidance: str) -> tuple[str, Optional[str]]:
    """The model name the page can use, and a warning if it had to fall back to the exact one."""
    _, warning = bundle_or_fallback(data, model, resources(guidance))
    return ("exact" if warning else model), warning


@st.cache_data(max_entries=64, show_spinner="Sampling…")
def cached_trajectory(spec: SampleSpec) -> Trajectory:
    """The trajectory of ``spec`` (``ui.runs.run_spec``): moving the step scrubber never re-samples."""
    bundle, _ = bundle_or_fallback(spec.data, spec.model, resources(spec.guidance))
    return run(spec, bundle)


# Matplotlib is not thread-safe: its mathtext parser (pyparsing) fails at random when two sessions'
# threads lay out or draw text at once (found by tests/robustness/test_load.py). Every figure is
# built and drawn holding this lock; never hold it while calling another cached function (a thread
# computing that value could be waiting for the lock).
DRAWING = threading.RLock()


@st.cache_data(max_entries=256, show_spinner=False)
def opening_step(spec: SampleSpec) -> int:
    """The step (0-based) a page opens on for the run ``spec`` until the teacher picks one
    (``ui.runs.readable_step``): computed once per run, never on a step move."""
    return readable_step(cached_trajectory(spec))


IDENTITY = ("identity",)  # the basis key of 2-D data: the plane itself


def reference_runs(spec: SampleSpec) -> tuple[SampleSpec, SampleSpec]:
    """The two runs a shared basis is fitted to: from the same noise (seed), model, sampler and steps
    as ``spec``, without guidance (CFG at γ = 0) and conditional (γ = 1). Neither depends on the
    panels' methods or scales, so moving a γ slider moves the points, not the axes."""
    base = SampleSpec(data=spec.data, model=spec.model, sampler=spec.sampler, guidance="cfg", label=spec.label,
                      steps=spec.steps, seed=spec.seed, batch=spec.batch, eta=spec.eta)
    return replace(base, gamma=0.0), replace(base, gamma=1.0)


def shared_basis(specs: tuple[SampleSpec, ...], projection: str) -> Optional[tuple]:
    """What ONE 2-D basis for the runs ``specs`` (the side-by-side page's two columns) depends on, as a
    cache key: ``None`` where each run's own ``projection`` is already that basis (the data set's PCA,
    the seeded random projection); ``IDENTITY`` on 2-D data; else (``pca``, and ``plane``, whose
    exact plane differs from run to run) the ``reference_runs`` of the first, whose PCA
    (``basis_of``) is the same whatever method and γ each column picks."""
    if load_dataset(specs[0].data).x.shape[-1] == 2:
        return IDENTITY if projection in ("pca", "plane") else None
    return reference_runs(specs[0]) if projection in ("pca", "plane") else None


@st.cache_resource(max_entries=32, show_spinner=False)
def basis_of(key: tuple, projection: str) -> Projection:
    """The basis a ``shared_basis`` key names: the plane itself for ``IDENTITY``, else the PCA of all
    the points (x_t and x̂0 of every step) of the runs it holds."""
    if key == IDENTITY:
        return identity_projection()
    trajs = [cached_trajectory(spec) for spec in key]
    dim = trajs[0].x.shape[-1]
    return replace(pca_projection(np.concatenate([np.concatenate([t.x.reshape(-1, dim), t.x0_hat.reshape(-1, dim)])
                                                  for t in trajs])),
                   note="PCA of the runs without guidance and at γ = 1 from the same noise (one basis for both "
                        "panels, whatever their γ); what lies off this plane is flattened")


Limits = tuple[tuple[float, float], tuple[float, float]]


def _view_in(kind: str, traj: Trajectory, proj: Projection, sample: int, background: np.ndarray,
             limits: Optional[Limits] = None, size: Optional[tuple[int, int]] = None):
    """View ``kind`` of ``traj`` drawn in the basis ``proj`` (``viz.views.kinds.make_animation`` takes a
    projection's name and fits it to its own run; a basis shared by two runs is passed in here), the
    paths inside ``limits`` if given, ``size`` CSS px (width, height) if given."""
    if kind == "paths":
        title = f"{traj.meta.get('data', '')} · {str(traj.meta.get('sampler', '')).upper()} · paths of every sample"
        return PathAnimation(traj, proj, background, title, limits=limits, width=size)
    if kind == "step":
        return StepDiagram(traj, proj, sample, width=size)
    views = {"classifier": ClassifierGuidanceDiagram, "cfg": CFGDiagram, **method_views()}
    if kind not in views:
        raise ValueError(f"the view {kind!r} cannot be drawn in a shared basis")
    return views[kind](traj, sample, proj, width=size)


def _basis(spec: SampleSpec, projection: str, sample: int, basis: Optional[tuple]) -> Projection:
    """The projection a paired view is drawn in: the shared basis, or the run's own fixed one (the
    data set's PCA, the seeded random projection: the same for both panels)."""
    return basis_of(basis, projection) if basis else run_projection(projection, cached_trajectory(spec), spec.seed,
                                                                   sample)


def _build_view(kind: str, spec: SampleSpec, projection: str, sample: int, stages: Optional[tuple[str, ...]],
                basis: Optional[tuple] = None, limits: Optional[Limits] = None, size: Optional[tuple[int, int]] = None):
    traj = cached_trajectory(spec)
    background = load_dataset(spec.data).x
    proj = _basis(spec, projection, sample, basis) if basis or limits or size else None
    with DRAWING:
        if proj is not None:
            return _view_in(kind, traj, proj, sample, background, limits, size)
        return make_animation(kind, traj, projection, sample=sample, seed=spec.seed, background=background,
                              stages=stages)


# A view is about 4 MB (25 steps). Twelve were too few for a class: with twenty students, each
# on their own seed, a step move found its view evicted and rebuilt it (test_load.py measured step
# moves 4x slower than alone). An idle view goes after half an hour.
@st.cache_resource(max_entries=64, ttl=1800, show_spinner="Drawing…")
def _shared_view(kind: str, spec: SampleSpec, projection: str, sample: int, stages: Optional[tuple[str, ...]],
                 basis: Optional[tuple] = None, limits: Optional[Limits] = None, size: Optional[tuple[int, int]] = None):
    """One view object per run, shared by the sessions looking at it (drawn holding ``DRAWING``);
    ``basis``: drawn in the basis of that ``shared_basis`` key (``basis_of``) instead of its own;
    ``limits``: the paths' view (``pair_limits``); ``size``: (width, height) CSS px (``HALF_SIZE``)."""
    return _build_view(kind, spec, projection, sample, stages, basis, limits, size)


#: the views of the side-by-side page's columns: ((kind, spec), ...), one per column
Panels = tuple[tuple[str, SampleSpec], ...]


@st.cache_resource(max_entries=32, show_spinner=False)
def pair_limits(pair: Panels, projection: str, sample: int, basis: Optional[tuple]) -> Limits:
    """One view that holds the paths of every run in ``pair`` (``viz.views.paths.shared_path_limits``)."""
    trajs = [cached_trajectory(spec) for _, spec in pair]
    return shared_path_limits(trajs, _basis(pair[0][1], projection, sample, basis), width=HALF_SIZE)


@st.cache_resource(max_entries=32, show_spinner=False)
def pair_camera(pair: Panels, projection: str, sample: int, basis: Optional[tuple], gif: bool = False) -> list[dict]:
    """One camera for the one-step views of ``pair`` (``viz.views.construction.shared_camera``; the views
    may be of different methods), over every step, or over the GIF's frames (``gif``). Each view
    stays cached on its own run: a γ move in one column redraws the other's frame at the new scale
    without rebuilding its view."""
    views = [_shared_view(kind, spec, projection, sample, None, basis, size=HALF_SIZE) for kind, spec in pair]
    indices = frame_indices(views[0].num_frames, GIF_FRAMES) if gif else None
    return shared_camera(views, indices)


def _paired(kind: str, spec: SampleSpec, projection: str, sample: int, basis: Optional[tuple],
            pair: Optional[Panels], gif: bool):
    """``(view, shots)``: the view to draw, at the size of a side-by-side column, and the camera it
    shares with the other columns of ``pair`` (``(kind, spec)`` among them); ``(None, None)`` when
    there is no ``pair``: the view is drawn as every other page draws it."""
    if pair is None:
        return None, None
    if kind == "paths":
        limits = pair_limits(pair, projection, sample, basis)
        return _shared_view(kind, spec, projection, sample, None, basis, limits, HALF_SIZE), None
    return (_shared_view(kind, spec, projection, sample, None, basis, size=HALF_SIZE),
            pair_camera(pair, projection, sample, basis, gif)[pair.index((kind, spec))])


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
               pair: Optional[Panels] = None) -> bytes:
    """PNG bytes of frame ``step`` (0-based, clamped to the view's frames) of view ``kind`` of the run
    ``spec`` (in the basis of the ``shared_basis`` key ``basis``, if given; at the size and the one
    scale of the side-by-side columns ``pair``, if given)."""
    view, shots = _paired(kind, spec, projection, sample, basis, pair, gif=False)
    if view is None:
        view = _shared_view(kind, spec, projection, sample, stages, basis)
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
    trajs = {spec.gamma: cached_trajectory(spec) for spec in specs}
    projection = for_whole_paths(projection)
    first = specs[0]
    proj = shared_pca(trajs) if projection == "pca" else run_projection(projection, trajs[first.gamma], first.seed)
    return trajs, proj, load_dataset(first.data).x


@st.cache_data(max_entries=32, show_spinner="Drawing every γ…")
def overlay_png(specs: tuple[SampleSpec, ...], projection: str = "pca", sample: int = 0) -> bytes:
    """PNG of the paths of one seed at several gammas (one spec each, ``ui.runs.with_gammas``) in ONE
    shared view: PCA of all their points (also for ``plane``: ``viz.draw.projection.for_whole_paths``),
    PCA of the data set, or random."""
    trajs, proj, background = _overlay_inputs(specs, projection)
    with DRAWING:
        return figure_png(gamma_overlay_figure(trajs, proj, sample=sample, background=background))


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


@st.cache_data(max_entries=16, show_spinner="Measuring…")
def highdim_facts(seed: int):
    """``models.analysis.highdim.measure`` of the digits for one seed (the high-dimensions page's numbers)."""
    return measure(load_digits_dataset().x, int(seed))


@st.cache_data(max_entries=16, show_spinner="Drawing…")
def highdim_png(seed: int) -> bytes:
    """PNG of ``viz.figures.highdim.highdim_figure`` of the digits for one seed; the figure is dropped after."""
    x = load_digits_dataset().x
    with DRAWING:
        return figure_png(highdim_figure(measurements(x, int(seed))))


@st.cache_data(max_entries=16, show_spinner=False)
def noising_png(upload: Optional[bytes], seed: int) -> bytes:
    """PNG of the forward-noising figure of the bundled photograph or an uploaded image."""
    image = load_photo("china") if upload is None else image_from_upload(upload)
    with DRAWING:
        return figure_png(noising_figure(image, make_schedule("linear"), seed=seed))


# ----------------------------------------------------------------------------- the trade-off page

@st.cache_data(max_entries=256, show_spinner=False)
def evaluation_row(sweep: Sweep, gamma: float) -> dict:
    """One gamma's row of ``models.analysis.evaluate.evaluate`` (accuracy, diversity, nearest_train, ...) for
    the settings of ``sweep``; one gamma per call, so the page can show its progress."""
    bundle = cached_bundle(sweep.data, sweep.model, resources(sweep.guidance), str(assets_dir()))
    return evaluation.evaluate(sweep.data, sweep.model, sweep.sampler, int(sweep.steps), sweep.guidance, [float(gamma)],
                               int(sweep.samples), int(sweep.seed), bundle=bundle)[0]


@st.cache_data(max_entries=32, show_spinner=False)
def curves_png(sweep: Sweep, gammas: tuple[float, ...]) -> bytes:
    """PNG of the trade-off curves (``viz.figures.tradeoff.curves_figure``) of ``evaluation_row`` at each of ``gammas``."""
    rows = [evaluation_row(sweep, g) for g in gammas]
    title = (f"{sweep.model} model · {sweep.data} · {sweep.guidance} guidance · {sweep.sampler}, {sweep.steps} steps · "
             f"{sweep.samples} samples per γ · seed {sweep.seed}")
    with DRAWING:
        return figure_png(curves_figure(rows, data_reference(sweep.data), title, row_scale(rows)))


@st.cache_data(max_entries=32, show_spinner="Drawing the tilted density…")
def tilted_png(specs: tuple[SampleSpec, ...], t: int) -> bytes:
    """PNG of ``viz.figures.tradeoff.tilted_figure`` on gmm2d: the tilted density at timestep ``t`` (-1: the
    clean data) under the points of one run per gamma (``specs``: one gmm2d run per gamma, same class)."""
    points, shown_t = {}, t
    for spec in specs:
        points[spec.gamma], shown_t = points_at(cached_trajectory(spec), t)
    first = specs[0]
    names = load_dataset("gmm2d").class_names
    what = (f"{first.batch} samples of class {names[first.label]}, {first.model} model, {first.guidance} guidance, "
            f"{first.sampler}, {first.steps} steps")
    with DRAWING:
        return figure_png(tilted_figure(tilt_view(points, first.label, shown_t), names[first.label], what))


@st.cache_data(max_entries=256, show_spinner=False)
def gap_run(spec: SampleSpec) -> GapRun:
    """The final samples of the gmm2d run ``spec`` (no trajectory kept: the exact-target section has
    24 runs of 1000 samples), their ``tilted_tv`` report against the exact target at ``spec.gamma``
    (``models.analysis.tilted_target.tilted_tv_report``) and the seconds both took."""
    start = time.perf_counter()
    bundle, _ = bundle_or_fallback(spec.data, spec.model, resources(spec.guidance))
    x = run(spec, bundle).samples
    report = tilted_tv_report(x, spec.label, spec.gamma)
    return GapRun(x, report, time.perf_counter() - start)


@st.cache_data(max_entries=32, show_spinner=False)
def gap_view_of(runs: tuple[tuple[GapSampler, tuple[SampleSpec, ...]], ...], gamma: float, shown: str) -> GapView:
    """The exact-target figure's numbers (``models.analysis.tilted_target_gap.gap_view``) for ``runs`` (each sampler
    with its runs, one per gamma, the exact draws among them) with the samples of the sampler named
    ``shown`` beside the exact draws at ``gamma``."""
    measured = {sampler.name: [gap_run(spec) for spec in specs] for sampler, specs in runs}
    specs = dict((sampler.name, specs) for sampler, specs in runs)
    gammas = [spec.gamma for spec in specs[EXACT.name]]
    first = specs[shown][0]
    i = gammas.index(float(gamma))
    what = (f"{first.model} model, {first.guidance} guidance, {first.steps} steps, seed {first.seed}")
    return gap_view(first.label, load_dataset("gmm2d").class_names[first.label], gap_curves(measured, gammas),
                    first.batch, float(gamma), measured[EXACT.name][i].samples, measured[shown][i].samples, shown, what)


@st.cache_data(max_entries=32, show_spinner="Drawing…")
def exact_target_png(runs: tuple[tuple[GapSampler, tuple[SampleSpec, ...]], ...], gamma: float, shown: str) -> bytes:
    """PNG of ``viz.figures.tradeoff.exact_target_figure`` of ``gap_view_of(runs, gamma, shown)``."""
    view = gap_view_of(runs, gamma, shown)
    with DRAWING:
        return figure_png(exact_target_figure(view))


# ----------------------------------------------------------------------------- the zoo page

@st.cache_data(max_entries=64, show_spinner=False)
def final_digits_png(spec: SampleSpec, per_row: int = 4) -> bytes:
    """PNG of the final samples of a digits run, ``per_row`` to a row (``viz.figures.mosaic``), those
    that left the data's range framed: numpy only, a few milliseconds."""
    traj = cached_trajectory(spec)
    x, out = traj.samples, outside_range(traj.samples, data_range(traj))
    rows = range(0, len(x), per_row)
    return png(digit_rows([x[i: i + per_row] for i in rows], outside=[out[i: i + per_row] for i in rows]))
