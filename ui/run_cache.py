"""Streamlit caches of models and runs: models shared read-only across sessions, trajectories and the
numbers measured on them keyed on a named spec.

Every run is a ``models.engine.pipeline.SampleSpec`` (frozen; Streamlit hashes a dataclass by its field
names and values, so two specs that differ in any setting, a method's own included, are two entries).
Moving the step scrubber never re-samples: trajectories are cached on their spec. The pictures drawn
from them are cached in ``ui.view_cache``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

import numpy as np
import streamlit as st

import models.analysis.evaluate as evaluation  # looked up at call time: a test may stand in for ``evaluate``
import models.analysis.path_gap as path_gap_analysis  # the same, for ``path_gap``
from models.analysis.highdim import measure
from models.analysis.tilted_target import tilted_tv_report
from models.analysis.tilted_target_gap import EXACT, GapRun, GapSampler, GapView, gap_curves, gap_view
from models.engine.data import load_dataset, load_digits_dataset
from models.engine.loading import ModelBundle, WeightsError, assets_dir, load_bundle, resolve_device
from models.engine.pipeline import SampleSpec, run
from models.engine.trajectory import Trajectory
from models.guidance import resources
from ui.runs import Sweep, readable_step
from viz.draw.projection import Projection
from viz.figures.path_gap import GapCurve, extremes, gap_sentence
from viz.views.basis import shared_run_basis, shares_a_basis


@st.cache_resource(show_spinner="Loading the model…")
def cached_bundle(data: str, model: str, needs: tuple[str, ...] = (), assets: str = "", path: str = "vp",
                  shift: float = 1.0) -> ModelBundle:
    """One shared, read-only model per (data, model, needs, weights folder, noising path and shift)."""
    return load_bundle(data, model, resolve_device("auto"), needs=needs, assets=Path(assets) if assets else None,
                       path=path, shift=float(shift))


def bundle_or_fallback(data: str, model: str, needs: tuple[str, ...] = (), path: str = "vp",
                       shift: float = 1.0) -> tuple[ModelBundle, Optional[str]]:
    """The model asked for on ``path`` (at ``shift``), or the exact model with a message saying which file is wrong."""
    folder = str(assets_dir())
    try:
        return cached_bundle(data, model, needs, folder, path, float(shift)), None
    except WeightsError as e:
        if model == "exact":
            raise
        return cached_bundle(data, "exact", needs, folder, path, float(shift)), f"{e}. Showing the exact model instead."


def unavailable(data: str, model: str) -> Optional[str]:
    """Why ``model``'s denoiser for ``data`` cannot be loaded (the ``WeightsError``), or None where it can."""
    if model == "exact":
        return None
    try:
        cached_bundle(data, model, (), str(assets_dir()))
    except WeightsError as e:
        return str(e)
    return None


def usable_model(data: str, model: str, guidance: str) -> tuple[str, Optional[str]]:
    """The model name the page can use, and a warning if it had to fall back to the exact one."""
    _, warning = bundle_or_fallback(data, model, resources(guidance))
    return ("exact" if warning else model), warning


@st.cache_data(max_entries=64, show_spinner="Sampling…")
def cached_trajectory(spec: SampleSpec) -> Trajectory:
    """The trajectory of ``spec`` (``ui.runs.run_spec``): moving the step scrubber never re-samples."""
    bundle, _ = bundle_or_fallback(spec.data, spec.model, resources(spec.guidance), spec.path, spec.shift)
    return run(spec, bundle)


@st.cache_data(max_entries=256, show_spinner=False)
def opening_step(spec: SampleSpec) -> int:
    """The step (0-based) a page opens on for the run ``spec`` until the teacher picks one
    (``ui.runs.readable_step``): computed once per run, never on a step move."""
    return readable_step(cached_trajectory(spec))


_LOG = logging.getLogger("guidance_lab")
IDENTITY = ("identity",)  # the basis key of 2-D data: the plane itself


def reference_runs(spec: SampleSpec) -> tuple[SampleSpec, SampleSpec]:
    """The two runs a shared basis is fitted to: from the same noise (seed), model, sampler, steps and
    noising path as ``spec``, without guidance (CFG at γ = 0) and conditional (γ = 1). Neither depends on
    the panels' methods or scales, so moving a γ slider moves the points, not the axes."""
    base = SampleSpec(data=spec.data, model=spec.model, sampler=spec.sampler, guidance="cfg", label=spec.label,
                      steps=spec.steps, seed=spec.seed, batch=spec.batch, eta=spec.eta, path=spec.path,
                      shift=spec.shift)
    return replace(base, gamma=0.0), replace(base, gamma=1.0)


def shared_basis(specs: tuple[SampleSpec, ...], projection: str) -> Optional[tuple]:
    """What ONE 2-D basis for the runs ``specs`` (the side-by-side page's two columns) depends on, as a
    cache key: ``None`` where each run's own ``projection`` is already that basis (the data set's PCA,
    the seeded random projection); ``IDENTITY`` on 2-D data; else (``pca``, and ``plane``, whose
    exact plane differs from run to run) the ``reference_runs`` of the first run on each noising path
    among ``specs`` (one path: two runs; VP beside flow: four), whose PCA (``basis_of``) is the same
    whatever method and γ each column picks."""
    if not shares_a_basis(projection):
        return None
    if load_dataset(specs[0].data).x.shape[-1] == 2:
        return IDENTITY
    firsts = {}
    for spec in specs:
        firsts.setdefault((spec.path, spec.shift), spec)
    return tuple(run for spec in firsts.values() for run in reference_runs(spec))


@st.cache_resource(max_entries=32, show_spinner=False)
def basis_of(key: tuple, projection: str) -> Projection:
    """The basis a ``shared_basis`` key names: the plane itself for ``IDENTITY``, else the PCA of all
    the points (x_t and x̂0 of every step) of the runs it holds."""
    return shared_run_basis([] if key == IDENTITY else [cached_trajectory(spec) for spec in key])


@dataclass(frozen=True)
class PathGapView:
    """The "Diffusion meets flow" page's chart and words for one data set: ``curves`` to draw
    (``viz.figures.path_gap``) with their axis words, or ``reason``, why there is nothing to draw;
    ``sentence`` read off the numbers, ``about`` what is measured."""

    curves: tuple[GapCurve, ...] = ()
    ylabel: str = ""
    title: str = ""
    sentence: str = ""
    about: str = ""
    reason: Optional[str] = None


#: the page's measurement: points per level and their seed (``models.analysis.path_gap.path_gap``)
GAP_POINTS, GAP_SEED = 500, 0
#: the curves the chart draws from ``path_gap``'s answer (conditional on each point's label), in the key's words
GAP_CURVES = (("cond_native_vs_mapped", "flow network vs VP network moved to flow"),
              ("cond_native_vs_exact", "flow network vs the exact denoiser"),
              ("cond_mapped_vs_exact", "VP network (moved) vs the exact denoiser"))


@st.cache_data(max_entries=8, show_spinner="Measuring both networks at every level…")
def path_gap_view(data: str) -> PathGapView:
    """How far the flow path's own network is from the VP network mapped onto the flow path, per level,
    on ``data`` (``models.analysis.path_gap``), measured once per data set, as the page's chart and words
    (``GAP_CURVES``), or why there is none."""
    try:
        gap = path_gap_analysis.path_gap(data, n=GAP_POINTS, seed=GAP_SEED)
    except WeightsError as e:
        _LOG.warning("%s: %s", data, e)
        return PathGapView(reason="The two trained networks are needed for this chart, and one of them could not "
                                  "be loaded on this server. Tell your teacher: the server's log says which file to rebuild.")
    curves = tuple(GapCurve(words, gap["sigma"], gap[name]) for name, words in GAP_CURVES)
    return PathGapView(curves, "RMS distance of the x̂₀ predictions", f"{data}: how far apart the predictions are, "
                       "level by level", gap_sentence(curves[0]) + " " + nearer_exact(curves), _about(gap))


def nearer_exact(curves: tuple[GapCurve, ...]) -> str:
    """Where the flow and the VP network differ most, which of the two is nearer the exact denoiser."""
    (_, _), (s_hi, _) = extremes(curves[0])
    i = int(np.argmin(np.abs(np.asarray(curves[0].sigma) - s_hi)))
    native, mapped = float(curves[1].gap[i]), float(curves[2].gap[i])
    nearer = "flow network" if native < mapped else "VP network"
    return (f"There the {nearer} is nearer the exact denoiser ({min(native, mapped):.3g} against "
            f"{max(native, mapped):.3g}).")


def _about(gap: dict) -> str:
    """What the chart measures, with its numbers: points, levels, and where the VP schedule runs out."""
    clipped = np.asarray(gap["sigma"])[np.asarray(gap["vp_clipped"], bool)]
    end = (f" At σ ≥ {clipped.min():.2f} the flow level is noisier than the VP schedule's noisiest step, so the VP "
           "network is asked at that end." if clipped.size else "")
    return (f"Both networks are asked about the same {GAP_POINTS} noisy points at each of {len(gap['sigma'])} levels "
            "(clean data mixed with noise on the flow path, each point's own class as the label); the distance is the "
            "root mean square difference per coordinate of their predictions x̂₀. With perfect training both would "
            "give the exact denoiser's answer, the same on every path; the gap is what their training left "
            f"different.{end}")


@st.cache_data(max_entries=16, show_spinner="Measuring…")
def highdim_facts(seed: int):
    """``models.analysis.highdim.measure`` of the digits for one seed (the high-dimensions page's numbers)."""
    return measure(load_digits_dataset().x, int(seed))


# ----------------------------------------------------------------------------- the trade-off page

@st.cache_data(max_entries=256, show_spinner=False)
def evaluation_row(sweep: Sweep, gamma: float) -> dict:
    """One gamma's row of ``models.analysis.evaluate.evaluate`` (accuracy, diversity, nearest_train, ...) for
    the settings of ``sweep``; one gamma per call, so the page can show its progress."""
    bundle = cached_bundle(sweep.data, sweep.model, resources(sweep.guidance), str(assets_dir()), sweep.path, sweep.shift)
    return evaluation.evaluate(sweep.data, sweep.model, sweep.sampler, int(sweep.steps), sweep.guidance, [float(gamma)],
                               int(sweep.samples), int(sweep.seed), bundle=bundle, path=sweep.path,
                               shift=float(sweep.shift))[0]


@st.cache_data(max_entries=256, show_spinner=False)
def gap_run(spec: SampleSpec) -> GapRun:
    """The final samples of the gmm2d run ``spec`` (no trajectory kept: the exact-target section has
    24 runs of 1000 samples), their ``tilted_tv`` report against the exact target at ``spec.gamma``
    (``models.analysis.tilted_target.tilted_tv_report``) and the seconds both took."""
    start = time.perf_counter()
    bundle, _ = bundle_or_fallback(spec.data, spec.model, resources(spec.guidance), spec.path, spec.shift)
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
