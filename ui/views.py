"""Widgets and displays the pages share: the run preamble (``prepare_run``), the step scrubber and
play switch (keys ``step`` and ``play``), the picture-beside-its-controls layout, one view with its
GIF download, the several-gamma overlay.

State follows the teacher from page to page: ``step``, ``gamma`` and the sidebar keep their values
for the whole session (``ui.state``). The step is counted from 1, "step k of S", as every figure
titles its frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import base64
import logging
from pathlib import Path
from typing import Optional

import streamlit as st
import streamlit.components.v1 as components

from models.engine.pipeline import SampleSpec
from models.engine.loading import WeightsError
from models.engine.settings import GAMMA
from models.engine.trajectory import Trajectory
from ui.run_cache import cached_trajectory, opening_step, usable_model
from ui.view_cache import overlay_png, view_frame, view_gif
from ui.runs import Settings, non_finite_parts, samples_off_data, with_gammas
from ui.link import drawn
from ui.state import keep, remember
from viz.figures.lecture import OVERLAY_GAMMAS
from viz.draw.style import HALF_SIZE, TEXT_PX, display_width
from viz.views.catalog import figure_kinds

LOG = logging.getLogger("guidance_lab")

from ui.state import STEP_CHOSEN  # noqa: E402  (set once the teacher, or a link, has picked the step)
#: the picture's share of a guidance page's width beside its controls (~1100 px of a 1920-px screen)
PICTURE_SHARE = 0.72
#: the several-gamma overlay's share of the row under it (~760 px of a 1920-px screen)
OVERLAY_SHARE = 0.5


@dataclass(frozen=True)
class PreparedRun:
    """A run ready to show: its trajectory, the scrubber's step ``step`` (1..S, "step k of S", as
    the figures title their frames), the frame ``k = step - 1`` every view and number of the page
    shows, and whether the play switch is on."""

    traj: Trajectory
    step: int
    k: int
    play: bool


# ----------------------------------------------------------------------------- the column's width
# Streamlit does not tell the server how wide a column is. ``column_width`` places an invisible frame
# (``ui/column_width/index.html``, a component without a build step) in the current column; its script
# reports the column's width in CSS px, and again after the window is resized. A figure is then drawn
# so that, shown at the column's width, its smallest type is at least ``SHOWN_TEXT_PX`` (issue 17.5:
# at 1400x900 the step figures were drawn 1100 px wide and shown at 0.66x, their small print 10 px):
# no wider than ``SHRINK`` times the column, keeping as much of the declared layout as that allows.
# Until the browser has answered (the first run of a session, AppTest) and where the column is wide
# enough already, the figure keeps its declared size (``drawing_width`` returns None). GIFs keep the
# export's size.

_COLUMN_WIDTH = components.declare_component("column_width", path=str(Path(__file__).with_name("column_width")))
#: the least size (CSS px) a figure's smallest type may be shown at
SHOWN_TEXT_PX = 12
#: a figure drawn at most this many times the column's width shows its smallest type at SHOWN_TEXT_PX or more
SHRINK = min(TEXT_PX.values()) / SHOWN_TEXT_PX
#: widths are rounded down to a multiple of this many px (fewer cached drawings)
STEP_PX = 20


def column_width(key: str) -> Optional[int]:
    """The width in CSS px of the column this is called in, as the browser last reported it; None
    before it has (or where no browser runs the page)."""
    value = _COLUMN_WIDTH(key=key, default=None)
    return int(value) if isinstance(value, (int, float)) and value > 0 else None


def drawing_width(declared: int, measured: Optional[int]) -> Optional[int]:
    """The width to draw a figure declared ``declared`` px wide at, for a column ``measured`` px wide:
    None (as declared) where unknown or where the column shows it with its smallest type at
    ``SHOWN_TEXT_PX`` or more; else ``SHRINK`` times the column, rounded down to ``STEP_PX``. Below
    ``viz.draw.style.COMPACT_WIDTH`` the views take their compact layout."""
    if measured is None or declared <= SHRINK * measured:
        return None
    return int(SHRINK * measured) // STEP_PX * STEP_PX


def fitted_width(declared: int, key: str, where=None) -> Optional[int]:
    """``drawing_width`` of a figure declared ``declared`` px wide for the column ``where`` (default: the
    current one), measured under ``key``."""
    if where is None:
        return drawing_width(declared, column_width(key))
    with where:
        return drawing_width(declared, column_width(key))


def _step_chosen() -> None:
    st.session_state[STEP_CHOSEN] = True


def step_scrubber(steps: int, opening: int) -> int:
    """The step scrubber (key ``step``), "step k of S" from 1 to ``steps``; returns k.

    Until the teacher moves it, it sits on step ``opening + 1`` (``opening``: the 0-based step the
    page opens on, where the construction reads well, ``ui.run_cache.opening_step``); once moved, the
    chosen step holds on every page (``ui.state``), pulled back to the end when a run has fewer steps."""
    state = st.session_state
    if state.get(STEP_CHOSEN):
        keep("step", int(opening) + 1)
    else:
        state["step"] = int(opening) + 1
    state["step"] = min(max(int(state["step"]), 1), int(steps))
    if steps < 2:  # nothing to choose (a slider from 1 to 1 cannot be drawn)
        st.caption(f"Step 1 of {steps}")
        return remember("step", 1)
    step = remember("step", int(st.slider(
        "Step", 1, int(steps), key="step", format=f"step %d of {int(steps)}", on_change=_step_chosen,
        help="step 1 starts from pure noise; the last step ends on the final sample")))
    drawn("step", "step", step)
    return step


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
    it cannot be sampled or diverged, then draw the step scrubber (opening on the run's readable
    step until the teacher picks one) and the play switch."""
    try:
        traj = cached_trajectory(spec)
    except ValueError as e:
        st.error(f"This run cannot be sampled: {e}")
        st.stop()
    stop_unless_finite(traj)
    step = step_scrubber(traj.steps, opening_step(spec) if not st.session_state.get(STEP_CHOSEN) else 0)
    play = play_toggle()
    return PreparedRun(traj, step, step - 1, play)


#: the view that draws a flow step (``viz.views.flow``), or the step view where that kind is not registered
FLOW_KIND = "flow" if "flow" in figure_kinds() else "step"
#: the step's level, named in the words of the run's noising path (``Trajectory.level_text``)
LEVEL_LABELS = {"vp": "timestep t", "flow": "flow level σ"}


def level_metric(traj: Trajectory, k: int, where=st) -> None:
    """The level of step ``k`` as a metric, in the path's words: ``timestep t`` 623 on VP, ``flow level σ``
    0.62 on the flow path (``Trajectory.level_text``)."""
    where.metric(LEVEL_LABELS[traj.path], traj.level_text(k).split(" = ", 1)[1])


def model_for(s: Settings, guidance: str) -> str:
    """The model the page can use for ``guidance``: the chosen one, or the exact model with a
    warning naming the broken weights file; if even that cannot work, an error and a stop."""
    try:
        model, warning = usable_model(s.data, s.model, guidance)
    except WeightsError as e:
        LOG.error("%s: %s", s.data, e)
        st.error("This view needs a trained network that could not be loaded on this server, and it has no exact "
                 "stand-in: pick another guidance method. Tell your teacher: the server's log says which file to rebuild.")
        st.stop()
    if warning:  # the student reads plain words; the file and the rebuild command go to the server's log
        LOG.warning("%s: %s", s.data, warning)
        st.warning(f"The trained network ({s.model}) could not be loaded on this server, so these pictures use the "
                   "exact model instead. Tell your teacher: the server's log says which file to rebuild.")
    return model


def leaves_data_warning(traj: Trajectory, what: str) -> None:
    """Warn when guidance has pushed samples off the data (``ui.runs.samples_off_data``)."""
    out = samples_off_data(traj)
    if out.any():
        st.warning(f"{int(out.sum())} of {len(out)} samples leave the data's range: {what}")


# ----------------------------------------------------------------------------- showing a picture
# A picture goes to the browser inside the page's own message, as a data URL, not as a file the
# browser fetches afterwards from Streamlit's media store. The store forgets a session's files when
# the next run starts and deletes them when any run ends; a browser that asks for a picture in that
# gap (a rerun that a reported column width, a slider or another student's session starts while the
# picture is on its way) gets a 404, and where the next run draws the same picture, the same address
# never loads again: a broken image until the page is reloaded (CI, stop 21).

#: the file signatures of the pictures the app shows, and their types
IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"GIF87a": "image/gif", b"GIF89a": "image/gif"}


def image_url(image: bytes) -> str:
    """``image`` (PNG or GIF bytes) as a ``data:`` URL; ValueError for any other bytes."""
    kind = next((t for sig, t in IMAGE_TYPES.items() if bytes(image[:len(sig)]) == sig), None)
    if kind is None:
        raise ValueError("not a PNG or GIF picture")
    return f"data:{kind};base64,{base64.b64encode(image).decode('ascii')}"


def show_image(image: bytes, where=st, width="stretch") -> None:
    """Show PNG or GIF bytes in ``where`` (default: the current column), ``width`` as ``st.image``'s."""
    where.image(image_url(image), width=width)


def show_view(kind: str, spec: SampleSpec, projection: str, step: int, play: bool, *, sample: int = 0,
              stages: tuple[str, ...] | None = None, filename: str = "guidance-lab.gif", key: str | None = None,
              basis: tuple | None = None, pair: tuple | None = None) -> None:
    """One view: frame ``step`` (0-based: the scrubber's step k is frame k - 1), or the whole
    animation when playing; with a GIF download (``key`` names its button where one page shows the
    same view twice). ``basis``: drawn in the basis of that ``ui.run_cache.shared_basis`` key; ``pair``:
    at one scale with the other runs of that tuple of specs (the side-by-side page)."""
    # the column's width as the browser reports it (column_width): the frame is drawn for it, so that its
    # type keeps its size on a narrow window (the GIF keeps the export's size, byte for byte)
    width = fitted_width(HALF_SIZE[0] if pair else display_width(kind), f"width-{key or kind}-{'-'.join(stages or ())}")
    try:
        if play:
            show_image(view_gif(kind, spec, projection, sample, basis, pair))
        else:
            show_image(view_frame(kind, spec, projection, sample, step, stages, basis, pair, width))
        st.download_button("Download the GIF", data=lambda: view_gif(kind, spec, projection, sample, basis, pair),
                           file_name=filename, mime="image/gif",
                           key=key or f"gif-{kind}-{'-'.join(map(str, stages or ()))}",
                           on_click="ignore")
    except ValueError as e:
        st.error(f"This view cannot be drawn: {e}")


def show_overlay(spec: SampleSpec, gammas: tuple[float, ...], projection: str) -> None:
    """The run ``spec`` at each of ``gammas`` in one figure (``ui.view_cache.overlay_png``), or a plain
    message if it cannot be drawn."""
    try:
        width = fitted_width(display_width("overlay"), "width-overlay")
        show_image(overlay_png(with_gammas(spec, gammas), projection, 0, width))
    except ValueError as e:
        st.error(f"This figure cannot be drawn: {e}")


def command_expander(command: str, title: str = "The same GIF from the command line") -> None:
    """The command line that makes what the page shows, folded away."""
    with st.expander(title):
        st.code(command, language="bash")


def picture_and_controls():
    """Two columns, the picture on the left and its controls beside it (so that at 1920x1080 the γ
    slider, the step scrubber and the whole step figure are on screen together); returns them."""
    return st.columns([PICTURE_SHARE, 1 - PICTURE_SHARE], gap="medium")


def step_picture(kind: str, spec: SampleSpec, projection: str, run: PreparedRun, *, filename: str,
                 heading: str = "", stages: tuple[str, ...] | None = None, gif_key: str | None = None) -> None:
    """One step of view ``kind`` at the scrubber's step (or its animation when playing), in a box
    (key ``step_picture``, one per page) no taller than the window leaves it (``ui.sidebar.PAGE_STYLE``),
    with its GIF download (``gif_key`` names the button)."""
    with st.container(key="step_picture"):
        if heading:
            st.subheader(heading)
        show_view(kind, spec, projection, run.k, run.play, stages=stages, filename=filename, key=gif_key)


def overlay_beside(spec: SampleSpec, projection: str, text: str, caption: str) -> None:
    """The paths of one seed at the lecture's fixed γ values (``OVERLAY_GAMMAS``; moving the γ slider
    does not redraw it), wide enough for its type, with ``text`` (markdown) beside it."""
    left, right = st.columns([OVERLAY_SHARE, 1 - OVERLAY_SHARE], gap="large")
    with left:
        st.subheader(f"One seed, γ = {', '.join(f'{g:g}' for g in OVERLAY_GAMMAS[:-1])} and {OVERLAY_GAMMAS[-1]:g}")
        show_overlay(spec, OVERLAY_GAMMAS, projection)
        st.caption(caption)
    with right:
        st.markdown(text)


def gamma_slider(key: str = "gamma", default: float | None = None, where=st) -> float:
    """The guidance scale γ slider (``key``; ``where`` a column or ``st``), as ``models.engine.settings.GAMMA``
    declares it (range, step, default unless ``default`` is given, label and help); its value holds
    for the whole session, across pages."""
    lo, hi, step = GAMMA.slider
    start = float(GAMMA.default if default is None else default)
    gamma = remember(key, float(where.slider(GAMMA.label, float(lo), float(hi), step=float(step), key=keep(key, start),
                                             help=f"{GAMMA.help} ({GAMMA.paper})")))
    drawn("gamma", key, gamma)
    return gamma

