"""The whole guidance field on gmm2d: the denoisers evaluated over a grid (``models.analysis.field_records`` holds
the settings, the result, the exact tilted density and the basins, without torch).

``compute_field(spec)`` fills a ``models.analysis.field_records.GuidedField``: the unguided field (the unconditional
denoiser, gamma = 0) and the guided one, for any method ``models.guidance.make_guidance`` builds, over
a grid of the view; with the neural model also the exact model's guided field; the exact tilted
density on a finer grid; and the sinks and basins of both fields. ``field_series`` gives one per frame
of an animation, from the noisiest level to the cleanest.

Each evaluation builds a fresh guidance wrapper, so nothing a wrapper keeps from call to call (APG's
momentum) passes between evaluations; every row is its own point. CFG-Zero*'s zeroed first steps count
a run's levels, so the field shows it past them (``RUN_SETTINGS``). Float64 on the CPU, deterministic.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache
from typing import Iterator, Mapping, Optional

import numpy as np
import torch

from models.engine.data import make_gmm2d
from models.analysis.field_records import (BASIN_GRID, FIELD_DATA, VIEW_HALF, FieldSpec, GuidedField, basin_half, component_params,
                               flow_sinks, flow_step_scale, frame_timesteps, log_terms, peak_one, square_grid,
                               to_quantity)
from models.guidance import GUIDANCE_NAMES, make_guidance, resources
from models.engine.loading import MODEL_NAMES, ModelBundle, load_bundle
from models.guidance import SETTINGS

#: settings that count a run's steps, not a property of one noise level, held neutral in the field:
#: CFG-Zero* zeroes its output at the first levels a wrapper meets, and a fresh wrapper's first
#: evaluation would always be one of them (the field shows CFG-Zero* past its zeroed first steps)
RUN_SETTINGS = {"cfgzero_zero_steps": 0}

# ----------------------------------------------------------------------------- models

@lru_cache(maxsize=8)
def bundle_for(model: str, guidance: str) -> ModelBundle:
    """The gmm2d model with what ``guidance`` needs (classifier, clean classifier, weak model), on the CPU."""
    return load_bundle(FIELD_DATA, model, "cpu", needs=resources(guidance))


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run torch with one intra-op thread, then put the count back. The field's batches (a few thousand
    2-D points through a small MLP) gain nothing from a second thread, and on a busy 2-core machine
    threads waiting on each other made a 32 x 32 neural field take 200-500 ms instead of ~55 ms."""
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def guided_x0(bundle: ModelBundle, guidance: str, gamma: float, settings: Mapping[str, float], x: np.ndarray,
              t: int, label: int) -> np.ndarray:
    """The guided x0 prediction (N, 2) float64 at points ``x`` (N, 2), timestep ``t``, class ``label``.

    A fresh wrapper per call: nothing a wrapper keeps (APG's momentum) passes from one call to the next,
    and each row is its own point. Settings that belong to a run rather than to a noise level
    (``RUN_SETTINGS``) are held at their neutral value."""
    settings = {**dict(settings), **{k: v for k, v in RUN_SETTINGS.items() if k in SETTINGS}}
    wrapper = make_guidance(guidance, bundle.denoiser, gamma, log_prob=bundle.log_prob,
                            clean_log_prob=bundle.clean_log_prob, weak=bundle.weak, settings=settings)
    xt = torch.as_tensor(np.asarray(x, np.float64).reshape(-1, 2))
    tt = torch.full((len(xt),), int(t), dtype=torch.long)
    y = torch.full((len(xt),), int(label), dtype=torch.long)
    with torch.no_grad():
        return wrapper(xt, tt, y).detach().to(torch.float64).numpy()


def unguided_x0(bundle: ModelBundle, x: np.ndarray, t: int) -> np.ndarray:
    """The unconditional prediction D_u (N, 2) float64: the field at gamma = 0."""
    xt = torch.as_tensor(np.asarray(x, np.float64).reshape(-1, 2))
    with torch.no_grad():
        return bundle.denoiser(xt, torch.full((len(xt),), int(t), dtype=torch.long), None).to(torch.float64).numpy()


def field_vectors(spec: FieldSpec, points: np.ndarray, model: Optional[str] = None) -> tuple[np.ndarray, np.ndarray]:
    """``(unguided, guided)`` fields (N, 2) at ``points`` (N, 2) for ``spec`` (its model unless ``model``)."""
    bundle = bundle_for(model or spec.model, spec.guidance)
    t = int(spec.t)
    a, s = float(bundle.schedule.a(t)), float(bundle.schedule.s(t))
    x = np.asarray(points, np.float64).reshape(-1, 2)
    guided = guided_x0(bundle, spec.guidance, spec.gamma, dict(spec.settings), x, t, spec.label)
    return to_quantity(unguided_x0(bundle, x, t), x, a, s, spec.quantity), to_quantity(guided, x, a, s, spec.quantity)


def check_spec(spec: FieldSpec) -> FieldSpec:
    """``spec.validate()`` and its model and method against the registries: ``ValueError`` (one sentence)."""
    spec.validate()
    for value, valid, what in ((spec.model, MODEL_NAMES, "model"), (spec.guidance, GUIDANCE_NAMES, "guidance")):
        if value not in valid:
            raise ValueError(f"unknown {what} {value!r}; valid: {', '.join(valid)}")
    return spec.validate(bundle_for(spec.model, spec.guidance).schedule.T)


def compute_field(spec: FieldSpec, basins: bool = True, density_n: int = 160,
                  compare: Optional[bool] = None) -> GuidedField:
    """The field picture's numbers for ``spec``; ``basins`` also follows both fields to their sinks
    (one evaluation of each on a ``BASIN_GRID``-a-side grid, then a flow on its interpolation);
    ``compare`` (default: for any model but the exact one) also computes the exact model's guided
    field, and with it ``difference``."""
    check_spec(spec)
    compare = spec.model != "exact" if compare is None else bool(compare)
    with one_torch_thread():
        return _compute_field(spec, basins, density_n, compare)


def _compute_field(spec: FieldSpec, basins: bool, density_n: int, compare: bool) -> GuidedField:
    schedule = bundle_for(spec.model, spec.guidance).schedule
    t = int(spec.t)
    a, s = float(schedule.a(t)), float(schedule.s(t))
    xx, yy = square_grid(VIEW_HALF, spec.n)
    points = np.stack([xx.ravel(), yy.ravel()], 1)
    unguided, guided = field_vectors(spec, points)
    exact_guided = None
    if compare:
        exact_guided = field_vectors(spec, points, model="exact")[1].reshape(spec.n, spec.n, 2)
    dx, dy = square_grid(VIEW_HALF, density_n)
    log_p, log_py = (v.reshape(dx.shape) for v in log_terms(np.stack([dx.ravel(), dy.ravel()], 1), t, spec.label, schedule))
    gmm = make_gmm2d()
    centres, _ = component_params(t, schedule, gmm)
    out = dict(spec=spec, schedule=schedule, a=a, s=s, sigma=s / a, xx=xx, yy=yy, unguided=unguided.reshape(spec.n, spec.n, 2),
               guided=guided.reshape(spec.n, spec.n, 2), exact_guided=exact_guided, dx=dx, dy=dy,
               density=peak_one(log_p + spec.tilt_gamma * log_py), base=peak_one(log_p), centres=centres, comp_class=gmm.comp_class.copy())
    if basins:
        half = basin_half(t, schedule)
        bx, by = square_grid(half, BASIN_GRID)
        bpoints = np.stack([bx.ravel(), by.ravel()], 1)
        b_unguided, b_guided = field_vectors(spec, bpoints)
        scale = flow_step_scale(spec, schedule)
        shape = (BASIN_GRID, BASIN_GRID)
        b_log_p, b_log_py = (v.reshape(shape) for v in log_terms(bpoints, t, spec.label, schedule))
        w_tilt, w_base = np.exp(b_log_p + spec.tilt_gamma * b_log_py), np.exp(b_log_p)
        out["basins"] = flow_sinks(b_guided.reshape(*shape, 2), half, scale, w_tilt)
        out["base_basins"] = flow_sinks(b_unguided.reshape(*shape, 2), half, scale, w_base)
        if compare:  # the exact model's basins on the same grid: where this model's field departs from it
            b_exact = field_vectors(spec, bpoints, model="exact")[1]
            out["exact_basins"] = flow_sinks(b_exact.reshape(*shape, 2), half, scale, w_tilt)
    return GuidedField(**out)


def field_series(spec: FieldSpec, num_frames: int = 40) -> list[GuidedField]:
    """``compute_field`` at each of ``frame_timesteps(num_frames)``, noisiest first (``spec.t`` is ignored)."""
    check_spec(spec)
    T = bundle_for(spec.model, spec.guidance).schedule.T
    return [compute_field(replace(spec, t=int(t))) for t in frame_timesteps(num_frames, T)]
