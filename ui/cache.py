"""Streamlit caches: models shared read-only across sessions, runs and pictures keyed on a named spec.

Every run is a ``models.pipeline.SampleSpec`` (frozen; Streamlit hashes a dataclass by its field
names and values, so two specs that differ in any setting, a zoo method's own included, are two
entries). Moving the step scrubber never re-samples: trajectories are cached on their spec, each
view's figure is built once per run (shared, behind a lock, because a figure is mutable) and each
frame's PNG is cached too.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Optional

import numpy as np
import streamlit as st
from PIL import Image

import models.evaluate as evaluation  # looked up at call time: a test may stand in for ``evaluate``
from models.data import load_dataset, load_digits_dataset
from models.highdim import measure, measurements
from models.pipeline import SampleSpec, run
from models.registry import ModelBundle, WeightsError, assets_dir, load_bundle, resolve_device
from models.schedule import make_schedule
from models.tilt import points_at, tilt_view
from models.tilted import tilted_tv_report
from models.tilted_gap import EXACT, GapRun, GapSampler, GapView, gap_curves, gap_view
from models.tradeoff import data_reference, row_scale
from models.trajectory import Trajectory
from ui.runs import Sweep
from viz.diagrams import gamma_overlay_figure, image_from_upload, load_photo, make_animation, noising_figure, run_projection, shared_pca
from viz.geometry import data_range, outside_range
from viz.highdim import highdim_figure
from viz.mosaic import digit_rows, png
from viz.projection import for_whole_paths
from viz.tradeoff import curves_figure, exact_target_figure, tilted_figure

GIF_FRAMES = 101  # the export command line's defaults: same settings, same bytes
GIF_FPS = 10.0


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
    _, warning = bundle_or_fallback(data, model, (guidance,))
    return ("exact" if warning else model), warning


@st.cache_data(max_entries=64, show_spinner="Sampling…")
def cached_trajectory(spec: SampleSpec) -> Trajectory:
    """The trajectory of ``spec`` (``ui.runs.run_spec``): moving the step scrubber never re-samples."""
    bundle, _ = bundle_or_fallback(spec.data, spec.model, (spec.guidance,))
    return run(spec, bundle)


# Matplotlib is not thread-safe: its mathtext parser (pyparsing) fails at random when two sessions'
# threads lay out or draw text at once (found by tests/robustness/test_load.py). Every figure is
# built and drawn holding this lock; never hold it while calling another cached function (a thread
# computing that value could be waiting for the lock).
DRAWING = threading.RLock()


def _build_view(kind: str, spec: SampleSpec, projection: str, sample: int, stages: Optional[tuple[str, ...]]):
    traj = cached_trajectory(spec)
    background = load_dataset(spec.data).x
    with DRAWING:
        return make_animation(kind, traj, projection, sample=sample, seed=spec.seed, background=background,
                              stages=stages)


# A view is about 4 MB (25 steps). Twelve were too few for a class: with twenty students, each
# on their own seed, a step move found its view evicted and rebuilt it (test_load.py measured step
# moves 4x slower than alone). An idle view goes after half an hour.
@st.cache_resource(max_entries=64, ttl=1800, show_spinner="Drawing…")
def _shared_view(kind: str, spec: SampleSpec, projection: str, sample: int, stages: Optional[tuple[str, ...]]):
    """One view object per run, shared by the sessions looking at it (drawn holding ``DRAWING``)."""
    return _build_view(kind, spec, projection, sample, stages)


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
               stages: Optional[tuple[str, ...]] = None) -> bytes:
    """PNG bytes of frame ``step`` (clamped to the view's frames) of view ``kind`` of the run ``spec``."""
    view = _shared_view(kind, spec, projection, sample, stages)
    with DRAWING:
        pixels = view.frame(int(np.clip(step, 0, view.num_frames - 1)))
    return _png(pixels)


@st.cache_data(max_entries=32, show_spinner="Rendering the animation…")
def view_gif(kind: str, spec: SampleSpec, projection: str, sample: int = 0) -> bytes:
    """The GIF of a whole view, byte for byte what ``python -m viz.export --figure kind`` writes."""
    view = _build_view(kind, spec, projection, sample, None)
    with DRAWING:
        return view.gif(GIF_FRAMES, GIF_FPS)


@st.cache_data(max_entries=32, show_spinner="Drawing every γ…")
def overlay_png(specs: tuple[SampleSpec, ...], projection: str = "pca", sample: int = 0) -> bytes:
    """PNG of the paths of one seed at several gammas (one spec each, ``ui.runs.with_gammas``) in ONE
    shared view: PCA of all their points (also for ``plane``: ``viz.projection.for_whole_paths``),
    PCA of the data set, or random."""
    trajs = {spec.gamma: cached_trajectory(spec) for spec in specs}
    projection = for_whole_paths(projection)
    first = specs[0]
    proj = shared_pca(trajs) if projection == "pca" else run_projection(projection, trajs[first.gamma], first.seed)
    background = load_dataset(first.data).x
    with DRAWING:
        return figure_png(gamma_overlay_figure(trajs, proj, sample=sample, background=background))


@st.cache_data(max_entries=16, show_spinner="Measuring…")
def highdim_facts(seed: int):
    """``models.highdim.measure`` of the digits for one seed (the high-dimensions page's numbers)."""
    return measure(load_digits_dataset().x, int(seed))


@st.cache_data(max_entries=16, show_spinner="Drawing…")
def highdim_png(seed: int) -> bytes:
    """PNG of ``viz.highdim.highdim_figure`` of the digits for one seed; the figure is dropped after."""
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
    """One gamma's row of ``models.evaluate.evaluate`` (accuracy, diversity, nearest_train, ...) for
    the settings of ``sweep``; one gamma per call, so the page can show its progress."""
    bundle = cached_bundle(sweep.data, sweep.model, (sweep.guidance,), str(assets_dir()))
    return evaluation.evaluate(sweep.data, sweep.model, sweep.sampler, int(sweep.steps), sweep.guidance, [float(gamma)],
                               int(sweep.samples), int(sweep.seed), bundle=bundle)[0]


@st.cache_data(max_entries=32, show_spinner=False)
def curves_png(sweep: Sweep, gammas: tuple[float, ...]) -> bytes:
    """PNG of the trade-off curves (``viz.tradeoff.curves_figure``) of ``evaluation_row`` at each of ``gammas``."""
    rows = [evaluation_row(sweep, g) for g in gammas]
    title = (f"{sweep.model} model · {sweep.data} · {sweep.guidance} guidance · {sweep.sampler}, {sweep.steps} steps · "
             f"{sweep.samples} samples per γ · seed {sweep.seed}")
    with DRAWING:
        return figure_png(curves_figure(rows, data_reference(sweep.data), title, row_scale(rows)))


@st.cache_data(max_entries=32, show_spinner="Drawing the tilted density…")
def tilted_png(specs: tuple[SampleSpec, ...], t: int) -> bytes:
    """PNG of ``viz.tradeoff.tilted_figure`` on gmm2d: the tilted density at timestep ``t`` (-1: the
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
    (``models.tilted.tilted_tv_report``) and the seconds both took."""
    start = time.perf_counter()
    bundle, _ = bundle_or_fallback(spec.data, spec.model, (spec.guidance,))
    x = run(spec, bundle).samples
    report = tilted_tv_report(x, spec.label, spec.gamma)
    return GapRun(x, report, time.perf_counter() - start)


@st.cache_data(max_entries=32, show_spinner=False)
def gap_view_of(runs: tuple[tuple[GapSampler, tuple[SampleSpec, ...]], ...], gamma: float, shown: str) -> GapView:
    """The exact-target figure's numbers (``models.tilted_gap.gap_view``) for ``runs`` (each sampler
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
    """PNG of ``viz.tradeoff.exact_target_figure`` of ``gap_view_of(runs, gamma, shown)``."""
    view = gap_view_of(runs, gamma, shown)
    with DRAWING:
        return figure_png(exact_target_figure(view))


# ----------------------------------------------------------------------------- the zoo page

@st.cache_data(max_entries=64, show_spinner=False)
def final_digits_png(spec: SampleSpec, per_row: int = 4) -> bytes:
    """PNG of the final samples of a digits run, ``per_row`` to a row (``viz.mosaic``), those
    that left the data's range framed: numpy only, a few milliseconds."""
    traj = cached_trajectory(spec)
    x, out = traj.samples, outside_range(traj.samples, data_range(traj))
    rows = range(0, len(x), per_row)
    return png(digit_rows([x[i: i + per_row] for i in rows], outside=[out[i: i + per_row] for i in rows]))
