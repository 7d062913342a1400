"""The trade-off page's measuring loop and its findings (the numbers come from ``ui.cache``)."""

from __future__ import annotations

from typing import Mapping, Sequence

import streamlit as st

from models.data import load_dataset
from models.pipeline import SampleSpec
from models.registry import WeightsError
from models.tilt import CLEAN, blob_shares, points_at
from models.tradeoff import TILT_GAMMAS, data_reference, describe_blobs, findings
from ui.cache import cached_trajectory, evaluation_row
from ui.runs import Settings, Sweep, run_spec, with_gammas

TILT_BATCH = 400  # samples per gamma under the tilted density
VERDICTS = {"agrees": "✅ agrees", "partly": "◐ partly", "differs": "✗ differs", "note": "ℹ️ the toy only"}


def measure(sweep: Sweep, gammas: Sequence[float]) -> list[dict]:
    """``evaluation_row`` at each of ``gammas``, with a progress bar; a method that cannot be
    evaluated with these settings stops the page with a plain message."""
    bar = st.progress(0.0)
    rows = []
    try:
        for i, g in enumerate(gammas):
            bar.progress(i / len(gammas), text=f"Sampling and measuring γ = {g:g} ({i + 1} of {len(gammas)})…")
            rows.append(evaluation_row(sweep, g))
    except (ValueError, WeightsError) as e:
        bar.empty()
        st.error(f"This method cannot be evaluated with these settings: {e}")
        st.stop()
    bar.empty()
    return rows


def ignores_gamma(rows: Sequence[Mapping]) -> bool:
    """Whether every gamma measured the same (a method with its own setting instead of γ)."""
    return all(r[m] == rows[0][m] for r in rows for m in ("accuracy", "diversity", "nearest_train"))


def show_findings(rows: Sequence[Mapping], data: str) -> None:
    """What the measured rows say about each of the papers' claims (``models.tradeoff.findings``)."""
    for f in findings(rows, data_reference(data)):
        st.markdown(f"**{VERDICTS.get(f.verdict, f.verdict)} · {f.claim}.** {f.evidence}")


def show_numbers(rows: Sequence[Mapping], command: str) -> None:
    """The measured rows as a table, and the command line that measures them, folded away."""
    with st.expander("The numbers"):
        st.dataframe([{k: r[k] for k in ("gamma", "accuracy", "diversity", "nearest_train", "finite", "seconds")}
                      for r in rows], hide_index=True)
        st.code(command, language="bash")


def tilt_specs(s: Settings, guidance: str, model: str) -> tuple[SampleSpec, ...]:
    """The runs drawn on the tilted density: ``TILT_BATCH`` samples of the sidebar's class at each
    of ``TILT_GAMMAS``."""
    return with_gammas(run_spec(s, guidance, TILT_GAMMAS[0], model=model, batch=TILT_BATCH), TILT_GAMMAS)


def blob_summary(spec: SampleSpec) -> str:
    """One sentence comparing the final samples' shares of their class's blobs with the tilted density's."""
    final = points_at(cached_trajectory(spec), CLEAN)[0]
    name = load_dataset(spec.data).class_names[spec.label]
    return describe_blobs(blob_shares(final, spec.label, spec.gamma), spec.gamma, name)
