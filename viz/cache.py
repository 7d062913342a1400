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
from models.trajectory import Trajectory

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
                      steps: int, seed: int, batch: int, eta: float = 0.0) -> Trajectory:
    """A trajectory keyed on scalar settings: moving the step scrubber never re-samples."""
    spec = SampleSpec(data=data, model=model, sampler=sampler, guidance=guidance, gamma=float(gamma),
                      label=int(label), steps=int(steps), seed=int(seed), batch=int(batch), eta=float(eta))
    bundle, _ = bundle_or_fallback(data, model, (guidance,))
    return run(spec, bundle)


def _build_view(kind: str, run_key: tuple, projection: str, sample: int, stages: Optional[tuple[str, ...]]):
    from viz.diagrams import StepDiagram, make_animation, run_projection

    traj = cached_trajectory(*run_key)
    if kind == "step" and stages is not None:
        return StepDiagram(traj, run_projection(projection, traj, run_key[7], sample, per_step=True), sample, stages)
    return make_animation(kind, traj, projection, sample=sample, seed=run_key[7],
                          background=load_dataset(run_key[0]).x)


@st.cache_resource(max_entries=12, show_spinner="Drawing…")
def _shared_view(kind: str, run_key: tuple, projection: str, sample: int, stages: Optional[tuple[str, ...]]):
    """One view object per run, shared by the sessions looking at it; its lock serialises drawing."""
    return threading.Lock(), _build_view(kind, run_key, projection, sample, stages)


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels[..., :3]).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


@st.cache_data(max_entries=512, show_spinner=False)
def view_frame(kind: str, run_key: tuple, projection: str, sample: int, step: int,
               stages: Optional[tuple[str, ...]] = None) -> bytes:
    """PNG bytes of frame ``step`` of view ``kind`` of the run ``run_key`` (cached_trajectory's arguments)."""
    lock, view = _shared_view(kind, run_key, projection, sample, stages)
    with lock:
        return _png(view.frame(int(np.clip(step, 0, view.num_frames - 1))))


@st.cache_data(max_entries=32, show_spinner="Rendering the animation…")
def view_gif(kind: str, run_key: tuple, projection: str, sample: int = 0) -> bytes:
    """The GIF of a whole view, byte for byte what ``python -m viz.export --figure kind`` writes."""
    return _build_view(kind, run_key, projection, sample, None).gif(GIF_FRAMES, GIF_FPS)


@st.cache_data(max_entries=32, show_spinner="Drawing every γ…")
def overlay_png(run_keys: tuple[tuple, ...], gammas: tuple[float, ...], projection: str = "pca", sample: int = 0) -> bytes:
    """PNG of the paths of one seed at several gammas in ONE shared view: PCA of all their points
    (also for ``plane``, which has no single plane for whole paths), PCA of the data set, or random."""
    from viz.diagrams import gamma_overlay_figure, run_projection, shared_pca

    trajs = {g: cached_trajectory(*k) for g, k in zip(gammas, run_keys)}
    first = trajs[gammas[0]]
    proj = run_projection(projection, first, int(run_keys[0][7])) if projection in ("pca_data", "random") else shared_pca(trajs)
    fig = gamma_overlay_figure(trajs, proj, sample=sample, background=load_dataset(run_keys[0][0]).x)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


@st.cache_data(max_entries=16, show_spinner=False)
def noising_png(upload: Optional[bytes], seed: int) -> bytes:
    """PNG of the forward-noising figure of the bundled photograph or an uploaded image."""
    from models.schedule import make_schedule
    from viz.diagrams import image_from_upload, load_photo, noising_figure

    image = load_photo("china") if upload is None else image_from_upload(upload)
    fig = noising_figure(image, make_schedule("linear"), seed=seed)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# ----------------------------------------------------------------------------- the trade-off page

def _figure_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


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
    return _figure_png(tilted_figure(points, label, shown_t, names[label], what))
