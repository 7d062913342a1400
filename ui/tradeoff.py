"""The trade-off page's measuring loop and its findings, and its exact-target section (the numbers
come from ``ui.run_cache`` and ``ui.view_cache``)."""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping, Optional, Sequence

import streamlit as st

from models.engine.data import load_dataset
from models.engine.pipeline import TILTED_GUIDANCE, SampleSpec
from models.engine.loading import WeightsError
from models.engine.settings import GAMMA, SHIFT
from models.analysis.tilted_density import CLEAN, blob_shares, points_at
from models.analysis.tilted_target import TILTED_DATA
from models.analysis.tilted_target_gap import (CORRECTED, EXACT, FLOW_ODE, GAP_CORRECTOR, GAP_GAMMAS, GAP_SAMPLERS, GAP_SAMPLES,
                                               GAP_SHOWN, GAP_STEPS, PLAIN, VP_ODE, GapSampler, gap_sentence, path_sentence)
from models.analysis.tradeoff import SYMBOLS, TILT_GAMMAS, data_reference, describe_blobs, findings, row_scale, swept
from ui.run_cache import cached_trajectory, evaluation_row, gap_run, gap_view_of
from ui.view_cache import exact_target_png
from ui.runs import Settings, Sweep, run_spec, with_gammas
from ui.views import show_image

TILT_BATCH = 400  # samples per gamma under the tilted density
#: Material icons (Streamlit ships the font): emoji show as empty boxes in browsers without an emoji font
VERDICTS = {"agrees": ":material/check_circle: agrees", "partly": ":material/contrast: partly",
            "differs": ":material/cancel: differs", "note": ":material/info: the toy only"}


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
    """What the measured rows say about each of the papers' claims (``models.analysis.tradeoff.findings``)."""
    for f in findings(rows, data_reference(data)):
        st.markdown(f"**{VERDICTS.get(f.verdict, f.verdict)} · {f.claim}.** {f.evidence}")


def show_numbers(rows: Sequence[Mapping], command: str) -> None:
    """The measured rows as a table (headed by their swept setting, γ or CFG++'s λ), and the command
    line that measures them, folded away."""
    scale = row_scale(rows).name
    with st.expander("The numbers"):
        st.dataframe([{k: r[k] for k in (scale, "accuracy", "diversity", "nearest_train", "finite", "seconds")}
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


# ----------------------------------------------------------------------------- the exact target (gmm2d)

GAP_KEYS = {"gamma": "tradeoff_gap_gamma", "sampler": "tradeoff_gap_sampler"}
NO_EXACT_TARGET = (
    "The density guidance aims at, p(x) p(y | x)^γ, can be drawn, and sampled exactly to measure the samplers "
    "against, on gmm2d only: there p(x) and p(y | x) are known in closed form. The digits are 1,797 training "
    "images; there p(y | x) is 0 or 1 at every image, so a class's tilted density is its training images "
    "whatever γ, and what a trained network samples has no known target to draw from. Choose gmm2d in the "
    "sidebar to see both.")
GAP_INTRO = (
    "On gmm2d the target $p_0(x)\\,p_0(y \\mid x)^{{\\gamma}}$ can be sampled exactly: draw from the mixture and "
    "keep each point with probability $p_0(y \\mid x)^{{\\gamma}}$ (at most 1 for γ ≥ 0). So a sampler's distance "
    "to it can be measured: **tilted_tv** is the total variation between the shares of the mixture's nine "
    "components in the samples (each sample given to the component most likely to have made it) and in the "
    "target. Exact draws do not score 0 (their shares fluctuate): 95 % of them score inside the grey band. "
    "Four samplers run {steps} steps with the exact model, whatever the sidebar's, so that the gap is the "
    "sampler's and guidance's, not a network's. On the VP path: DDPM, DDIM and DDPM followed by "
    "{k} Langevin corrector steps on the guided score after each step (predictor-corrector sampling, Song et "
    "al., arXiv 2011.13456); on the flow path $x_t = (1 - \\sigma)\\,x_0 + \\sigma\\,\\epsilon$ (shift 1, "
    "whatever the sidebar's path): Euler, which solves the same probability-flow ODE as DDIM in other "
    "coordinates (Liu et al., arXiv 2209.03003). The target does not depend on the path. Bradley & Nakkiran (arXiv 2408.09000) read CFG itself as such a corrector toward "
    "each noise level's tilted density $p_t(x)\,p_t(y \mid x)^{{\gamma}}$; those densities are not the target "
    "with noise added, so more correction need not bring the samples closer to the target.")


def exact_target_absent(data: str, guidance: str) -> Optional[str]:
    """Why the exact-target section cannot be drawn for ``data`` and ``guidance``, in words (None
    when it can): the target exists on gmm2d only, and only the methods that aim at it have one."""
    if data not in TILTED_DATA:
        return NO_EXACT_TARGET
    if swept(guidance).name != GAMMA.name:
        symbol = SYMBOLS.get(swept(guidance).name, swept(guidance).name)
        return (f"{guidance} reads its own weight {symbol} in place of γ and aims at no density "
                f"p(x) p(y | x)^γ, so it has no exact target to be measured against: choose "
                f"{', '.join(TILTED_GUIDANCE)} to see the comparison.")
    if guidance not in TILTED_GUIDANCE:
        return (f"{guidance} changes how guidance combines the predictions, so the density it aims at is not "
                f"p(x) p(y | x)^γ: the comparison with exact draws is made for {', '.join(TILTED_GUIDANCE)}, "
                "the methods whose target that is.")
    return None


def gap_runs(s: Settings, guidance: str) -> tuple[tuple[GapSampler, tuple[SampleSpec, ...]], ...]:
    """The section's runs: for each sampler of ``GAP_SAMPLERS`` and for the exact draws,
    ``GAP_SAMPLES`` samples of the sidebar's class at each of ``GAP_GAMMAS``, ``GAP_STEPS`` steps,
    the sidebar's seed, with the exact model whatever the sidebar's: the gap measured is then the
    sampler's and guidance's alone, and the first visit stays short (the neural model took 154 s,
    the exact one 16 s, on the 2-core test machine under load). Each sampler runs on its own path
    (``GapSampler.path``, at shift 1), whatever the sidebar's path and shift."""
    out = []
    for sampler in (*GAP_SAMPLERS, EXACT):
        spec = run_spec(s, guidance, GAP_GAMMAS[0], model="exact", sampler=sampler.sampler, batch=GAP_SAMPLES)
        spec = replace(spec, steps=GAP_STEPS, corrector_steps=sampler.corrector_steps, path=sampler.path,
                       shift=SHIFT.default)
        out.append((sampler, with_gammas(spec, GAP_GAMMAS)))
    return tuple(out)


def measure_gap(runs: tuple[tuple[GapSampler, tuple[SampleSpec, ...]], ...]) -> float:
    """Sample and measure every run (``ui.run_cache.gap_run``) with a progress bar; returns the seconds
    they took when first sampled (cached runs keep their time). Settings that cannot run stop the
    page with one message."""
    todo = [(sampler, spec) for sampler, specs in runs for spec in specs]
    bar = st.progress(0.0)
    seconds = 0.0
    try:
        for i, (sampler, spec) in enumerate(todo):
            bar.progress(i / len(todo), text=f"Sampling {sampler.name} at γ = {spec.gamma:g} ({i + 1} of {len(todo)})…")
            seconds += gap_run(spec).seconds
    except (ValueError, WeightsError) as e:
        bar.empty()
        st.error(f"The exact-target comparison cannot run with these settings: {e}")
        st.stop()
    bar.empty()
    return seconds


def show_exact_target(s: Settings, guidance: str) -> None:
    """The exact-target section: ``tilted_tv`` against γ for DDPM, DDIM and DDPM with the corrector on
    the VP path and Euler on the flow path, the exact draws beside a sampler's samples at a chosen γ, and
    two sentences read off the numbers (``models.analysis.tilted_target_gap.gap_sentence``: the corrector;
    ``path_sentence``: the two paths); on other data or methods, why it is absent."""
    st.subheader("Does guided sampling reach that density?")
    reason = exact_target_absent(s.data, guidance)
    if reason:
        st.info(reason)
        return
    st.markdown(GAP_INTRO.format(steps=GAP_STEPS, k=GAP_CORRECTOR))
    runs = gap_runs(s, guidance)
    seconds = measure_gap(runs)
    left, right = st.columns(2)
    gamma = float(left.select_slider("γ of the samples shown", GAP_GAMMAS, value=GAP_SHOWN, key=GAP_KEYS["gamma"]))
    shown = right.radio("Beside the exact draws", [g.name for g in GAP_SAMPLERS], horizontal=True, key=GAP_KEYS["sampler"])
    show_image(exact_target_png(runs, gamma, shown))
    specs = dict(runs)
    i = GAP_GAMMAS.index(gamma)
    plain, corrected = gap_run(specs[PLAIN][i]).report, gap_run(specs[CORRECTED][i]).report
    view = gap_view_of(runs, gamma, shown)
    st.markdown(gap_sentence(view, plain, corrected))
    st.markdown(path_sentence(view, gap_run(specs[FLOW_ODE][i]).report, gap_run(specs[VP_ODE][i]).report))
    errors = [gap_run(spec).report.se for _, specs_ in runs for spec in specs_]
    st.caption(f"{GAP_SAMPLES} samples per sampler and γ, class {load_dataset(s.data).class_names[s.label]}, seed {s.seed}: "
               f"the Monte Carlo error of each tilted_tv is {min(errors):.3f} to {max(errors):.3f} (error bars: one "
               f"error). Sampling and measuring took {seconds:.1f} s on the first visit; it is cached after.")
