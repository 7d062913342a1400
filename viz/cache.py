"""Streamlit caches: models shared read-only across sessions, arrays and pictures keyed on scalars.

Moving the step scrubber never re-samples: trajectories are cached on their scalar settings,
each view's figure is built once per run (shared, behind a lock, because a figure is mutable)
and each frame's PNG is cached too.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Optional

import numpy as np
import streamlit as st
from PIL import Image

from models.data import load_dataset
from models.pipeline import SampleSpec, run
from models.registry import ModelBundle, WeightsError, assets_dir, load_bundle, resolve_device
from models.trajectory import ZOO_META_NAMES, Trajectory

#: the zoo settings a page may pass to ``cached_trajectory`` (fields of ``SampleSpec``, each method's own)
ZOO_FIELDS = tuple(name for names in ZOO_META_NAMES.values() for name in names)
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
def cached_trajectory(data: str, model: str, sampler: str, guidance: str, gamma: float, label: int,
                      steps: int, seed: int, batch: int, eta: float = 0.0,
                      zoo: tuple[tuple[str, float], ...] = ()) -> Trajectory:
    """A trajectory keyed on scalar settings: moving the step scrubber never re-samples.

    ``zoo`` holds ``(name, value)`` pairs of the zoo settings of ``models.pipeline.SampleSpec``
    (``rescale_phi``, ``apg_eta``, ...); the ones left out keep their defaults."""
    unknown = {name for name, _ in zoo} - set(ZOO_FIELDS)
    if unknown:
        raise ValueError(f"unknown zoo settings {sorted(unknown)}; valid: {', '.join(ZOO_FIELDS)}")
    spec = SampleSpec(data=data, model=model, sampler=sampler, guidance=guidance, gamma=float(gamma),
                      label=int(label), steps=int(steps), seed=int(seed), batch=int(batch), eta=float(eta),
                      **{name: float(value) for name, value in zoo})
    bundle, _ = bundle_or_fallback(data, model, (guidance,))
    return run(spec, bundle)


# Matplotlib is not thread-safe: its mathtext parser (pyparsing) fails at random when two sessions'
# threads lay out or draw text at once (found by tests/robustness/test_load.py). Every figure is
# built and drawn holding this lock; never hold it while calling another cached function (a thread
# computing that value could be waiting for the lock).
DRAWING = threading.RLock()


def _build_view(kind: str, run_key: tuple, projection: str, sample: int, stages: Optional[tuple[str, ...]]):
    from viz.diagrams import StepDiagram, make_animation, run_projection

    traj = cached_trajectory(*run_key)
    background = load_dataset(run_key[0]).x
    with DRAWING:
        if kind == "step" and stages is not None:
            return StepDiagram(traj, run_projection(projection, traj, run_key[7], sample, per_step=True), sample, stages)
        return make_animation(kind, traj, projection, sample=sample, seed=run_key[7], background=background)


# A view is about 4 MB (25 steps). Twelve were too few for a class: with twenty students, each
# on their own seed, a step move found its view evicted and rebuilt it (test_load.py measured step
# moves 4x slower than alone). An idle view goes after half an hour.
@st.cache_resource(max_entries=64, ttl=1800, show_spinner="Drawing…")
def _shared_view(kind: str, run_key: tuple, projection: str, sample: int, stages: Optional[tuple[str, ...]]):
    """One view object per run, shared by the sessions looking at it (drawn holding ``DRAWING``)."""
    return _build_view(kind, run_key, projection, sample, stages)


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels[..., :3]).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _figure_png(fig) -> bytes:
    """PNG bytes of a Figure (call holding ``DRAWING``); the figure is dropped after."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})  # fast: noise barely compresses anyway
    return buf.getvalue()


@st.cache_data(max_entries=512, show_spinner=False)
def view_frame(kind: str, run_key: tuple, projection: str, sample: int, step: int,
               stages: Optional[tuple[str, ...]] = None) -> bytes:
    """PNG bytes of frame ``step`` of view ``kind`` of the run ``run_key`` (cached_trajectory's arguments)."""
    view = _shared_view(kind, run_key, projection, sample, stages)
    with DRAWING:
        pixels = view.frame(int(np.clip(step, 0, view.num_frames - 1)))
    return _png(pixels)


@st.cache_data(max_entries=32, show_spinner="Rendering the animation…")
def view_gif(kind: str, run_key: tuple, projection: str, sample: int = 0) -> bytes:
    """The GIF of a whole view, byte for byte what ``python -m viz.export --figure kind`` writes."""
    view = _build_view(kind, run_key, projection, sample, None)
    with DRAWING:
        return view.gif(GIF_FRAMES, GIF_FPS)


@st.cache_data(max_entries=32, show_spinner="Drawing every γ…")
def overlay_png(run_keys: tuple[tuple, ...], gammas: tuple[float, ...], projection: str = "pca", sample: int = 0) -> bytes:
    """PNG of the paths of one seed at several gammas in ONE shared view: PCA of all their points
    (also for ``plane``, which has no single plane for whole paths), PCA of the data set, or random."""
    from viz.diagrams import gamma_overlay_figure, run_projection, shared_pca

    trajs = {g: cached_trajectory(*k) for g, k in zip(gammas, run_keys)}
    first = trajs[gammas[0]]
    proj = run_projection(projection, first, int(run_keys[0][7])) if projection in ("pca_data", "random") else shared_pca(trajs)
    background = load_dataset(run_keys[0][0]).x
    with DRAWING:
        return _figure_png(gamma_overlay_figure(trajs, proj, sample=sample, background=background))


@st.cache_data(max_entries=16, show_spinner="Measuring…")
def highdim_facts(seed: int):
    """``viz.highdim.measure`` of the digits for one seed (the high-dimensions page's numbers)."""
    from models.data import load_digits_dataset
    from viz.highdim import measure

    return measure(load_digits_dataset().x, int(seed))


@st.cache_data(max_entries=16, show_spinner="Drawing…")
def highdim_png(seed: int) -> bytes:
    """PNG of ``viz.highdim.highdim_figure`` of the digits for one seed; the figure is dropped after."""
    from models.data import load_digits_dataset
    from viz.highdim import highdim_figure

    x = load_digits_dataset().x
    with DRAWING:
        return _figure_png(highdim_figure(x, int(seed)))


@st.cache_data(max_entries=16, show_spinner=False)
def noising_png(upload: Optional[bytes], seed: int) -> bytes:
    """PNG of the forward-noising figure of the bundled photograph or an uploaded image."""
    from models.schedule import make_schedule
    from viz.diagrams import image_from_upload, load_photo, noising_figure

    image = load_photo("china") if upload is None else image_from_upload(upload)
    with DRAWING:
        return _figure_png(noising_figure(image, make_schedule("linear"), seed=seed))


# ----------------------------------------------------------------------------- the trade-off page

@st.cache_data(max_entries=256, show_spinner=False)
def evaluation_row(data: str, model: str, sampler: str, steps: int, guidance: str, gamma: float, samples: int,
                   seed: int) -> dict:
    """One gamma's row of ``models.evaluate.evaluate`` (accuracy, diversity, nearest_train, ...),
    cached on its scalar settings; one gamma per call, so the page can show its progress."""
    from models.evaluate import evaluate

    bundle = cached_bundle(data, model, (guidance,), str(assets_dir()))
    return evaluate(data, model, sampler, int(steps), guidance, [float(gamma)], int(samples), int(seed), bundle=bundle)[0]


@st.cache_data(max_entries=32, show_spinner=False)
def curves_png(data: str, model: str, sampler: str, steps: int, guidance: str, gammas: tuple[float, ...],
               samples: int, seed: int) -> bytes:
    """PNG of the trade-off curves (``viz.tradeoff.curves_figure``) of ``evaluation_row`` at every gamma."""
    from viz.tradeoff import curves_figure, data_reference

    rows = [evaluation_row(data, model, sampler, steps, guidance, g, samples, seed) for g in gammas]
    title = f"{model} model · {data} · {guidance} guidance · {sampler}, {steps} steps · {samples} samples per γ · seed {seed}"
    with DRAWING:
        return _figure_png(curves_figure(rows, data_reference(data), title))


@st.cache_data(max_entries=32, show_spinner="Drawing the tilted density…")
def tilted_png(model: str, sampler: str, guidance: str, gammas: tuple[float, ...], label: int, steps: int, seed: int,
               t: int, batch: int) -> bytes:
    """PNG of ``viz.tradeoff.tilted_figure`` on gmm2d: the tilted density at timestep ``t`` (-1: the
    clean data) under the points of one run per gamma (``batch`` samples of class ``label``)."""
    from viz.tradeoff import points_at, tilted_figure

    points, shown_t = {}, t
    for g in gammas:
        points[g], shown_t = points_at(cached_trajectory("gmm2d", model, sampler, guidance, g, label, steps, seed, batch), t)
    names = load_dataset("gmm2d").class_names
    what = f"{batch} samples of class {names[label]}, {model} model, {guidance} guidance, {sampler}, {steps} steps"
    with DRAWING:
        return _figure_png(tilted_figure(points, label, shown_t, names[label], what))


# ----------------------------------------------------------------------------- the zoo page

@st.cache_data(max_entries=64, show_spinner=False)
def final_digits_png(run_key: tuple, per_row: int = 4) -> bytes:
    """PNG of the final samples of a digits run, ``per_row`` to a row (``viz.mosaic``), those
    that left the data's range framed: numpy only, a few milliseconds."""
    from viz.geometry import data_range, outside_range
    from viz.mosaic import digit_rows, png

    traj = cached_trajectory(*run_key)
    x, out = traj.samples, outside_range(traj.samples, data_range(traj))
    rows = range(0, len(x), per_row)
    return png(digit_rows([x[i: i + per_row] for i in rows], outside=[out[i: i + per_row] for i in rows]))
