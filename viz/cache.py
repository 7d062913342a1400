"""Streamlit caches: models shared read-only across sessions, trajectories keyed on scalars."""

from __future__ import annotations

import streamlit as st

from models.pipeline import SampleSpec, run
from models.registry import ModelBundle, WeightsError, load_bundle, resolve_device
from models.trajectory import Trajectory


@st.cache_resource(show_spinner="Loading the model…")
def cached_bundle(data: str, model: str, needs: tuple[str, ...] = ()) -> ModelBundle:
    """One shared, read-only model per (data, model, needs)."""
    return load_bundle(data, model, resolve_device("auto"), needs=needs)


def bundle_or_fallback(data: str, model: str, needs: tuple[str, ...] = ()) -> tuple[ModelBundle, str | None]:
    """The model asked for, or the exact model with a message saying which file is wrong."""
    try:
        return cached_bundle(data, model, needs), None
    except WeightsError as e:
        if model == "exact":
            raise
        return cached_bundle(data, "exact", needs), f"{e}. Showing the exact model instead."


@st.cache_data(max_entries=64, show_spinner="Sampling…")
def cached_trajectory(data: str, model: str, sampler: str, guidance: str, gamma: float, label: int,
                      steps: int, seed: int, batch: int, eta: float = 0.0) -> Trajectory:
    """A trajectory keyed on scalar settings: moving the step scrubber never re-samples."""
    spec = SampleSpec(data=data, model=model, sampler=sampler, guidance=guidance, gamma=float(gamma),
                      label=int(label), steps=int(steps), seed=int(seed), batch=int(batch), eta=float(eta))
    bundle, _ = bundle_or_fallback(data, model, (guidance,))
    return run(spec, bundle)
