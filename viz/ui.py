"""The shared sidebar and the settings every page reads (widget keys of the architecture contract)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from models.data import DATA_NAMES, load_dataset
from models.registry import MODEL_NAMES
from models.samplers import SAMPLER_NAMES
from viz.projection import PROJECTION_NAMES

BATCH = 8  # trajectories per run on the pages; the one-sample views follow sample 0
POST = "https://sander.ai/2023/08/28/geometry.html"
DATA_LABELS = {"digits": "digits (8x8 images, 64-D)", "gmm2d": "gmm2d (2-D mixture, exact picture)"}
MODEL_LABELS = {"neural": "neural (trained MLP)", "exact": "exact (closed-form optimum)"}
PROJECTION_LABELS = {"pca": "PCA of the run", "pca_data": "PCA of the data set", "random": "random projection", "plane": "exact plane of each step"}


@dataclass(frozen=True)
class Settings:
    """What the sidebar decides."""

    data: str
    model: str
    sampler: str
    steps: int
    seed: int
    label: int
    projection: str


def sidebar() -> Settings:
    """Draw the shared sidebar (called once per rerun by ``app.py``) and return its settings."""
    with st.sidebar:
        st.header("Settings")
        data = st.selectbox("Data set", DATA_NAMES, key="data", format_func=DATA_LABELS.get)
        model = st.selectbox("Model", MODEL_NAMES, index=MODEL_NAMES.index("neural"), key="model",
                             format_func=MODEL_LABELS.get)
        sampler = st.selectbox("Sampler", SAMPLER_NAMES, key="sampler",
                               help="ddpm and ddim add fresh noise (ddim only with eta > 0, here 0); "
                                    "euler, heun and dpmpp2m follow the deterministic probability-flow ODE")
        steps = st.slider("Sampling steps", 1, 1000, 25, key="steps",
                          help="fewer steps make each step longer and easier to see; more steps sample more accurately")
        seed = st.number_input("Seed", min_value=0, max_value=2**31 - 1, value=0, step=1, key="seed")
        dataset = load_dataset(data)
        if st.session_state.get("label", 0) not in range(dataset.num_classes):
            st.session_state["label"] = 0  # the previous data set had more classes
        label = st.selectbox("Class to guide toward", range(dataset.num_classes), key="label",
                             format_func=lambda c: dataset.class_names[c])
        projection = st.selectbox("2-D view", PROJECTION_NAMES, key="projection", format_func=PROJECTION_LABELS.get)
        st.caption(f"After Sander Dieleman, [The geometry of diffusion guidance]({POST}).")
    return Settings(data, model, sampler, int(steps), int(seed), int(label), projection)


VIA_APP = "_sidebar_drawn_by_app"


def sidebar_from_app() -> Settings:
    """Draw the sidebar from ``app.py`` and tell the page that runs next that it is there."""
    settings = sidebar()
    st.session_state[VIA_APP] = True
    return settings


def current() -> Settings:
    """The sidebar's settings, read back on a page. A page run on its own (without ``app.py``,
    as AppTest's ``switch_page`` does where a ``pages/`` folder exists) draws the sidebar itself."""
    if not st.session_state.pop(VIA_APP, False):
        return sidebar()
    s = st.session_state
    return Settings(s["data"], s["model"], s["sampler"], int(s["steps"]), int(s["seed"]), int(s["label"]),
                    s["projection"])


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


def show_view(kind: str, run_key: tuple, projection: str, step: int, play: bool, *, sample: int = 0,
              stages: tuple[str, ...] | None = None, filename: str = "guidance-lab.gif", key: str | None = None) -> None:
    """One view: the frame at ``step``, or the whole animation when playing; with a GIF download
    (``key`` names its button where one page shows the same view twice)."""
    from viz.cache import view_frame, view_gif

    try:
        if play:
            st.image(view_gif(kind, run_key, projection, sample), width="stretch")
        else:
            st.image(view_frame(kind, run_key, projection, sample, step, stages), width="stretch", output_format="PNG")
        st.download_button("Download the GIF", data=lambda: view_gif(kind, run_key, projection, sample),
                           file_name=filename, mime="image/gif",
                           key=key or f"gif-{kind}-{'-'.join(map(str, stages or ()))}",
                           on_click="ignore")
    except ValueError as e:
        st.error(f"This view cannot be drawn: {e}")


def run_key(s: Settings, guidance: str, gamma: float, label: int | None = None, model: str | None = None,
            zoo: dict[str, float] | None = None, sampler: str | None = None) -> tuple:
    """The scalar arguments of ``viz.cache.cached_trajectory`` for these settings (``zoo``: the
    guidance zoo's settings by ``SampleSpec`` field name; ``sampler`` overrides the sidebar's)."""
    key = (s.data, model or s.model, sampler or s.sampler, guidance, float(gamma), s.label if label is None else int(label),
           s.steps, s.seed, BATCH, 0.0)
    return key + (tuple(sorted((k, float(v)) for k, v in zoo.items())),) if zoo else key


def zoo_flags(zoo: dict[str, float]) -> str:
    """The command-line flags (``models.cli.add_zoo_options``) that give these zoo settings: each
    field's flag is its name with dashes (``apg_r`` -> ``--apg-r``), but the interval's two ends
    are one ``--interval LO,HI``."""
    flags = [f"--{name.replace('_', '-')} {float(value):g}" for name, value in zoo.items()
             if name not in ("interval_lo", "interval_hi")]
    if "interval_lo" in zoo or "interval_hi" in zoo:
        from models.guidance import GuidanceOptions

        lo, hi = GuidanceOptions().interval
        flags.append(f"--interval {float(zoo.get('interval_lo', lo)):g},{float(zoo.get('interval_hi', hi)):g}")
    return " ".join(flags)


def export_command(s: Settings, kind: str, guidance: str, gamma: float, label: int, model: str,
                   zoo: dict[str, float] | None = None, sampler: str | None = None) -> str:
    """The command line that writes the same GIF."""
    extra = f" {zoo_flags(zoo)}" if zoo else ""
    return (f"python -m viz.export --data {s.data} --model {model} --sampler {sampler or s.sampler} "
            f"--guidance {guidance} --gamma {gamma:g} --label {label} --steps {s.steps} --seed {s.seed} "
            f"--batch {BATCH}{extra} --projection {s.projection} --figure {kind} --out {kind}.gif")


def model_for(s: Settings, guidance: str) -> str:
    """The model the page can use for ``guidance``: the chosen one, or the exact model with a
    warning naming the broken weights file; if even that cannot work, an error and a stop."""
    from models.registry import WeightsError
    from viz.cache import usable_model

    try:
        model, warning = usable_model(s.data, s.model, guidance)
    except WeightsError as e:
        st.error(f"{e}. This view needs that file; pick another guidance method or rebuild the weights.")
        st.stop()
    if warning:
        st.warning(warning)
    return model


def leaves_data_warning(traj, what: str) -> None:
    """Warn when guidance has pushed samples off the data (see ``viz.geometry.outside_range``);
    a sample that is not finite has left it too."""
    from viz.geometry import data_range, outside_range

    out = outside_range(traj.samples, data_range(traj)) | ~np.isfinite(traj.samples).all(axis=-1)
    if out.any():
        st.warning(f"{int(out.sum())} of {len(out)} samples leave the data's range: {what}")


def non_finite_parts(traj) -> list[str]:
    """Names of the trajectory's float arrays that hold NaN or inf (empty when all is finite)."""
    from models.trajectory import ARRAY_NAMES

    arrays = {name: getattr(traj, name) for name in ARRAY_NAMES if getattr(traj, name) is not None}
    return [name for name, a in arrays.items() if np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all()]


def stop_unless_finite(traj) -> None:
    """Stop the page with a plain message when the run diverged (NaN or inf): no number, figure
    or GIF is ever made from it."""
    bad = non_finite_parts(traj)
    if bad:
        st.error(f"At these settings the sampler diverged (NaN or inf in {', '.join(bad)}), so nothing is drawn. "
                 "Try a smaller γ, more steps or another sampler.")
        st.stop()


def show_overlay(run_keys: tuple[tuple, ...], gammas: tuple[float, ...], projection: str) -> None:
    """The several-gamma figure (``viz.cache.overlay_png``), or a plain message if it cannot be drawn."""
    from viz.cache import overlay_png

    try:
        st.image(overlay_png(run_keys, gammas, projection), width="stretch", output_format="PNG")
    except ValueError as e:
        st.error(f"This figure cannot be drawn: {e}")


def step_and_overlay(s: Settings, view: str, guidance: str, gamma: float, model: str, k: int, play: bool, *,
                     filename: str, caption: str) -> None:
    """The two guidance pages' figures: one step of ``view`` at ``gamma`` (left), the paths of one
    seed at the lecture's fixed γ values (right: moving the slider does not redraw it), and the
    command line that writes the step's GIF."""
    from viz.lecture import OVERLAY_GAMMAS

    left, right = st.columns([3, 2], gap="large")
    with left:
        st.subheader(f"One step at γ = {gamma:g}")
        show_view(view, run_key(s, guidance, gamma, model=model), s.projection, k, play, filename=filename)
    with right:
        st.subheader(f"One seed, γ = {', '.join(f'{g:g}' for g in OVERLAY_GAMMAS[:-1])} and {OVERLAY_GAMMAS[-1]:g}")
        show_overlay(tuple(run_key(s, guidance, g, model=model) for g in OVERLAY_GAMMAS), OVERLAY_GAMMAS, s.projection)
        st.caption(caption)
    with st.expander("The same GIF from the command line"):
        st.code(export_command(s, view, guidance, gamma, s.label, model), language="bash")
