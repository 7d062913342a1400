"""Widgets and displays the pages share: the run preamble (``prepare_run``), the step scrubber and
play switch (keys ``step`` and ``play``), one view with its GIF download, the several-gamma overlay."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from models.pipeline import SampleSpec
from models.registry import WeightsError
from models.settings import GAMMA
from models.trajectory import Trajectory
from ui.cache import cached_trajectory, overlay_png, usable_model, view_frame, view_gif
from ui.runs import Settings, export_command, non_finite_parts, samples_off_data, with_gammas
from viz.lecture import OVERLAY_GAMMAS


@dataclass(frozen=True)
class PreparedRun:
    """A run ready to show: its trajectory, the scrubber's position ``step`` (0..steps: the last is
    the final sample), the step ``k`` a one-step view and its numbers show (``step`` clamped to the
    last sampling step) and whether the play switch is on."""

    traj: Trajectory
    step: int
    k: int
    play: bool


def step_scrubber(steps: int) -> int:
    """The step scrubber (key ``step``), starting half-way and clamped when the number of steps shrinks."""
    if "step" not in st.session_state:
        st.session_state["step"] = steps // 2
    elif st.session_state["step"] > steps:
        st.session_state["step"] = steps
    return int(st.slider("Step", 0, steps, key="step",
                         help="0 is pure noise x_T; the last position is the final sample"))


def play_toggle() -> bool:
    """The playback switch (key ``play``): shows the animation, played smoothly by the browser."""
    return bool(st.toggle("▶ Play", key="play", help="play every step as an animation (the GIF you can download)"))


def stop_unless_finite(traj: Trajectory) -> None:
    """Stop the page with a plain message when the run diverged (NaN or inf): no number, figure
    or GIF is ever made from it."""
    bad = non_finite_parts(traj)
    if bad:
        st.error(f"At these settings the sampler diverged (NaN or inf in {', '.join(bad)}), so nothing is drawn. "
                 "Try a smaller γ, more steps or another sampler.")
        st.stop()


def prepare_run(spec: SampleSpec) -> PreparedRun:
    """The preamble of a page that shows one run: sample it (cached), stop with a plain message if
    it cannot be sampled or diverged, then draw the step scrubber and the play switch."""
    try:
        traj = cached_trajectory(spec)
    except ValueError as e:
        st.error(f"This run cannot be sampled: {e}")
        st.stop()
    stop_unless_finite(traj)
    step = step_scrubber(traj.steps)
    play = play_toggle()
    return PreparedRun(traj, step, min(step, traj.steps - 1), play)


def model_for(s: Settings, guidance: str) -> str:
    """The model the page can use for ``guidance``: the chosen one, or the exact model with a
    warning naming the broken weights file; if even that cannot work, an error and a stop."""
    try:
        model, warning = usable_model(s.data, s.model, guidance)
    except WeightsError as e:
        st.error(f"{e}. This view needs that file; pick another guidance method or rebuild the weights.")
        st.stop()
    if warning:
        st.warning(warning)
    return model


def leaves_data_warning(traj: Trajectory, what: str) -> None:
    """Warn when guidance has pushed samples off the data (``ui.runs.samples_off_data``)."""
    out = samples_off_data(traj)
    if out.any():
        st.warning(f"{int(out.sum())} of {len(out)} samples leave the data's range: {what}")


def show_view(kind: str, spec: SampleSpec, projection: str, step: int, play: bool, *, sample: int = 0,
              stages: tuple[str, ...] | None = None, filename: str = "guidance-lab.gif", key: str | None = None) -> None:
    """One view: the frame at ``step``, or the whole animation when playing; with a GIF download
    (``key`` names its button where one page shows the same view twice)."""
    try:
        if play:
            st.image(view_gif(kind, spec, projection, sample), width="stretch")
        else:
            st.image(view_frame(kind, spec, projection, sample, step, stages), width="stretch", output_format="PNG")
        st.download_button("Download the GIF", data=lambda: view_gif(kind, spec, projection, sample),
                           file_name=filename, mime="image/gif",
                           key=key or f"gif-{kind}-{'-'.join(map(str, stages or ()))}",
                           on_click="ignore")
    except ValueError as e:
        st.error(f"This view cannot be drawn: {e}")


def show_overlay(spec: SampleSpec, gammas: tuple[float, ...], projection: str) -> None:
    """The run ``spec`` at each of ``gammas`` in one figure (``ui.cache.overlay_png``), or a plain
    message if it cannot be drawn."""
    try:
        st.image(overlay_png(with_gammas(spec, gammas), projection), width="stretch", output_format="PNG")
    except ValueError as e:
        st.error(f"This figure cannot be drawn: {e}")


def command_expander(command: str, title: str = "The same GIF from the command line") -> None:
    """The command line that makes what the page shows, folded away."""
    with st.expander(title):
        st.code(command, language="bash")


def step_and_overlay(spec: SampleSpec, view: str, projection: str, k: int, play: bool, *, filename: str,
                     caption: str) -> None:
    """The two guidance pages' figures: one step of ``view`` of ``spec`` (left), the paths of one
    seed at the lecture's fixed γ values (right: moving the slider does not redraw it), and the
    command line that writes the step's GIF."""
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.subheader(f"One step at γ = {spec.gamma:g}")
        show_view(view, spec, projection, k, play, filename=filename)
    with right:
        st.subheader(f"One seed, γ = {', '.join(f'{g:g}' for g in OVERLAY_GAMMAS[:-1])} and {OVERLAY_GAMMAS[-1]:g}")
        show_overlay(spec, OVERLAY_GAMMAS, projection)
        st.caption(caption)
    command_expander(export_command(spec, view, projection))


def gamma_slider(key: str = "gamma", default: float | None = None, where=st) -> float:
    """The guidance scale γ slider (``key``; ``where`` a column or ``st``), as ``models.settings.GAMMA``
    declares it (range, step, default unless ``default`` is given, label and help)."""
    lo, hi, step = GAMMA.slider
    return float(where.slider(GAMMA.label, lo, hi, GAMMA.default if default is None else float(default), step,
                              key=key, help=f"{GAMMA.help} ({GAMMA.paper})"))
