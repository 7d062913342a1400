"""The guidance-field page's controls and pictures: ``models.analysis.field`` numbers drawn by ``viz.figures.field``,
cached on a ``models.analysis.field_records.FieldSpec`` (frozen: two specs that differ in any setting are two
entries). The animation over t is byte for byte what ``python -m viz.export --figure field`` writes."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

import streamlit as st

from models.engine.data import load_dataset
from models.analysis.field import compute_field, field_series
from models.analysis.field_records import (FIELD_DATA, FIELD_GIF_FPS, FIELD_GIF_FRAMES, FieldSpec, describe_basins,
                                           describe_departure, describe_series)
from models.engine.loading import MODEL_NAMES
from models.guidance import cards
from models.engine.schedule import make_schedule
from models.engine.settings import GAMMA
from models.guidance import settings_for, zoo_flags
from ui.run_cache import usable_model
from ui.view_cache import DRAWING, figure_png
from ui.runs import Settings
from ui.state import SHADOW
from ui.views import gamma_slider
from ui.zoo import group_widget, setting_widget
from viz.figures.field import FieldAnimation, field_figure, method_title, sigma_text

#: every method with a scale (or its own λ) that applies to 2-D points (not those that need images)
METHODS = tuple(c.name for c in cards() if c.name != "none" and "images" not in c.needs)
#: the noise levels of the slider, noisiest first: denser where the guided basins split (t 200..0)
LEVELS = (999, 800, 600, 500, 400, 300, 250, 200, 175, 150, 125, 100, 75, 50, 25, 10, 0)
DEFAULT_GAMMA, DEFAULT_T = 7.0, 150  # where the observation lives (class B's outer blob)


@dataclass(frozen=True)
class FieldChoice:
    """What the page's controls decided: the field, the model's fall-back warning (None if the
    sidebar's model is used) and the scale as the page writes it (``γ = 7``, ``λ = 0.6``)."""

    spec: FieldSpec
    warning: Optional[str]
    scale_text: str


def why_not(data: str) -> str:
    """Why the field is not drawn for ``data`` (a data set other than gmm2d)."""
    return (f"The guidance field is drawn on gmm2d, the 2-D mixture: there every point of the plane is a possible "
            f"canvas, and the density guidance aims at is known exactly. {data} lives in "
            f"{load_dataset(data).dim} dimensions, where a field over a grid cannot be drawn.")


def offer_gmm2d(data: str) -> None:
    """On another data set: say why, and offer the switch to gmm2d in one click (the sidebar follows)."""
    st.info(why_not(data))

    def switch() -> None:
        st.session_state["data"] = st.session_state[SHADOW + "data"] = FIELD_DATA

    st.button(f"Switch to {FIELD_DATA}", key="field_switch", type="primary", on_click=switch,
              help="the whole app then works on the 2-D mixture; switch back in the sidebar")


def level_text(t: int) -> str:
    """``t = 150 · σ = 0.52`` for the noise-level slider."""
    return f"t = {t} · σ = {sigma_text(float(make_schedule('linear').sigma(int(t))))}"


def field_controls(s: Settings, where=st) -> FieldChoice:
    """The model, the method, its scale (γ, or the setting that replaces it), its own settings and the
    noise level, one under the other in ``where`` (the page's controls column); return the field they
    describe for the sidebar's class."""
    wanted = where.radio("Model", MODEL_NAMES, index=MODEL_NAMES.index("exact"), key="field_model", horizontal=True,
                         help="the exact model's field is the truth; a trained network's is compared with it")
    method = where.selectbox("Guidance method", METHODS, index=METHODS.index("cfg"), key="field_method",
                             format_func=lambda m: method_title(FieldSpec(guidance=m)).split(",")[0])
    own = settings_for(method)
    scale = next((x for x in own if x.replaces == GAMMA.name), None)
    values: dict[str, float] = {}
    if scale is None:
        gamma = gamma_slider("field_gamma", default=DEFAULT_GAMMA, where=where)
        text = f"γ = {gamma:g}"
    else:
        gamma, values[scale.name] = GAMMA.default, setting_widget(scale, where)
        text = f"{scale.label.split()[0]} = {values[scale.name]:g}"
    drawn: list[str] = []
    for setting in (x for x in own if x is not scale):
        if (setting.group or setting.name) in drawn:
            continue
        drawn.append(setting.group or setting.name)
        values.update(group_widget(setting.group, where) if setting.group else {setting.name: setting_widget(setting, where)})
    t = int(where.select_slider("Noise level", LEVELS, value=DEFAULT_T, key="field_t", format_func=level_text,
                                help="the timestep whose field is drawn: 999 is pure noise, 0 the last sampling step"))
    model, warning = usable_model("gmm2d", wanted, method)
    spec = FieldSpec(model=model, guidance=method, gamma=gamma, label=s.label, t=t, settings=tuple(sorted(values.items())))
    return FieldChoice(spec, warning, text)


@st.cache_data(max_entries=128, show_spinner="Following the field…")
def field_picture(spec: FieldSpec) -> tuple[bytes, str]:
    """PNG of the field figure of ``spec`` and the sentences its basins' numbers give (with a trained
    model: also where its field departs from the exact one)."""
    f = compute_field(spec)
    name = load_dataset("gmm2d").class_names[spec.label]
    words = " ".join(w for w in (describe_basins(f, name), describe_departure(f)) if w)
    with DRAWING:
        return figure_png(field_figure(f)), words


@st.cache_data(max_entries=16, show_spinner="Computing the field at every noise level and drawing the animation…")
def field_animation(spec: FieldSpec) -> tuple[bytes, str]:
    """The GIF of the field over t (``FIELD_GIF_FRAMES`` levels, noisiest first; ``spec.t`` is not
    read) and the sentence the levels' basins give (``describe_series``)."""
    fields = field_series(spec, FIELD_GIF_FRAMES)
    name = load_dataset("gmm2d").class_names[spec.label]
    with DRAWING:
        gif = FieldAnimation(fields).gif(FIELD_GIF_FRAMES, FIELD_GIF_FPS)
    return gif, describe_series(fields, name)


def animation_over_t(spec: FieldSpec) -> tuple[bytes, str]:
    """``field_animation`` of ``spec``, one cache entry whatever the slider's t."""
    return field_animation(replace(spec, t=DEFAULT_T))


def field_command(spec: FieldSpec) -> str:
    """The command line that writes the page's GIF (the same bytes)."""
    replaced = any(x.replaces == GAMMA.name for x in settings_for(spec.guidance))
    parts = ["python -m viz.export --data gmm2d", f"--model {spec.model}", f"--guidance {spec.guidance}"]
    if not replaced:
        parts.append(f"--gamma {spec.gamma:g}")
    parts.append(f"--label {spec.label}")
    flags = zoo_flags(dict(spec.settings)) if spec.settings else ""
    return " ".join(parts + ([flags] if flags else []) + ["--figure field --out field.gif"])
