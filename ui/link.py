"""A link carries the view: the page's settings live in the URL's query parameters, kept in step with
the widgets, so that a teacher can send students the exact picture.

``apply_link`` runs before the sidebar, on a session's first run (opening a link starts a session), where
each known parameter is checked and, if valid, given to its widget
(a bad or out-of-range value is left out with a short note, never a traceback). ``write_link`` runs
after the page: the sidebar's settings, the γ and the step the page drew, the zoo's method and the
method's own settings the page drew (``drawn``) go back into the URL.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import streamlit as st

from models.engine.data import DATA_NAMES, load_dataset
from models.engine.loading import MODEL_NAMES
from models.engine.names import PATH_NAMES, SAMPLER_NAMES
from models.engine.settings import GAMMA, SEED, SHIFT, STEPS, Setting
from models.guidance import ZOO_SETTINGS, parse_group
from ui.state import SHADOW, STEP_CHOSEN
from viz.draw.projection import PROJECTION_NAMES

WRITTEN = "_link_written"  # the parameters this session last put in the URL
DRAWN = "_link_drawn"  # parameter -> (widget key, value) drawn by this run's page (γ, step, a method's settings)
NOTES = "_link_notes"  # what the last link left out, said on the page until a widget moves
SET = "_link_set"  # widget key -> the value the link gave it (the note stays while they all keep it)
OPENED = "_link_opened"  # the session's first run has read the link (a link opened is a new session)



def _choice(names) -> Callable[[str], Any]:
    def parse(text: str):
        if text not in names:
            raise ValueError(f"not one of {', '.join(names)}")
        return text
    return parse


def _integer(setting: Setting) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if not setting.lo <= value <= setting.hi:
            raise ValueError(f"outside {int(setting.lo)}..{int(setting.hi)}")
        return value
    return parse


def _on_slider(setting: Setting) -> Callable[[str], Any]:
    """A value the page's widget for ``setting`` can show: on its slider's grid, or one of its choices."""
    def parse(text: str):
        value = float(text)
        if setting.choices is not None:
            if value not in setting.choices:
                raise ValueError(f"not one of {', '.join(setting.format(c) for c in setting.choices)}")
            return value
        lo, hi, step = setting.slider
        steps = (value - lo) / step
        if not (lo <= value <= hi and math.isclose(steps, round(steps), abs_tol=1e-9)):
            raise ValueError(f"not on the slider ({lo:g} to {hi:g} in steps of {step:g})")
        return int(value) if setting.integer else value
    return parse


def _label(text: str) -> int:
    data = st.session_state.get("data", DATA_NAMES[0])
    names = load_dataset(data).class_names
    if text in names:
        return names.index(text)
    value = int(text)
    if not 0 <= value < len(names):
        raise ValueError(f"not a class of {data} ({', '.join(names)})")
    return value


def _step(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("steps count from 1")
    return value


#: parameter -> (widget key, parser); the order matters: the data set before the class
PARAMS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "data": ("data", _choice(DATA_NAMES)), "path": ("path", _choice(PATH_NAMES)), "shift": ("shift", _on_slider(SHIFT)),
    "model": ("model", _choice(MODEL_NAMES)),
    "sampler": ("sampler", _choice(SAMPLER_NAMES)), "steps": ("steps", _integer(STEPS)), "seed": ("seed", _integer(SEED)),
    "class": ("label", _label), "view": ("projection", _choice(PROJECTION_NAMES)),
    "gamma": ("gamma", _on_slider(GAMMA)), "step": ("step", _step),
}
GAMMA_KEYS = ("gamma", "zoo_gamma", "field_gamma")  # every page's γ slider reads the link's γ


def _set(key: str, value) -> None:
    st.session_state[key] = value
    st.session_state[SHADOW + key] = value
    st.session_state.setdefault(SET, {})[key] = value


def apply_link() -> None:
    """Give a newly opened link's parameters to their widgets (before any is drawn)."""
    state = st.session_state
    state[DRAWN] = {}
    if state.get(OPENED):  # only the session's first run reads the link: a later run's URL may lag behind the
        return             # widgets (a rerun sent before the browser took the last written URL would undo a move)
    state[OPENED] = True
    given = st.query_params.to_dict()
    if not given:
        return
    notes = []
    method_keys = _method_keys()
    for name, text in given.items():
        try:
            if name in PARAMS:
                key, parse = PARAMS[name]
                value = parse(text)
                for k in (GAMMA_KEYS if name == "gamma" else (key,)):
                    _set(k, value)
                if name == "step":
                    state[STEP_CHOSEN] = True
            elif name == "method":
                _set("zoo_method", _choice(tuple(method_keys["__methods__"]))(text))
            elif name in method_keys:
                key, parse = method_keys[name]
                _set(key, parse(text))
            else:
                raise ValueError("not a setting of this app")
        except ValueError as e:
            reason = str(e) if not str(e).startswith(("invalid literal", "could not convert")) else "not a number"
            notes.append(f"{name}={text!r} ({reason})")
    state[WRITTEN] = given
    state[NOTES] = notes


def _method_keys() -> dict:
    """A method's own settings as link parameters: name -> (the zoo's widget key, parser); groups as one
    parameter ``interval=0.3,5``."""
    from models.guidance import zoo_names
    from ui.zoo import widget_key

    out: dict = {"__methods__": ("cfg", *zoo_names())}
    for s in ZOO_SETTINGS:
        if s.group is None:
            out[s.name] = (widget_key(s.name), _on_slider(s))
        elif s.group not in out:
            out[s.group] = (widget_key(s.group), lambda text, g=s.group: parse_group(g, text))
    return out


def drawn(name: str, key: str, value) -> None:
    """Record that this run's page drew parameter ``name`` (widget ``key``) with ``value``."""
    st.session_state.setdefault(DRAWN, {})[name] = value


def link_notes() -> None:
    """Say what the last link left out, on every run until a widget the link set moves (a rerun of the page
    itself, e.g. the browser reporting a column's width, keeps the note)."""
    state = st.session_state
    notes = state.get(NOTES)
    if notes and all(state.get(k) == v for k, v in state.get(SET, {}).items()):
        st.caption("This link's " + "; ".join(notes) + " left out: the page uses its own value instead.")
    else:
        state.pop(NOTES, None)


def _text(value) -> str:
    if isinstance(value, tuple):
        return ",".join(_text(v) for v in value)
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:g}"
    return str(value)


def write_link(settings) -> None:
    """Put the page's settings into the URL (after the page ran): the sidebar's and what it drew."""
    state = st.session_state
    wanted = {"data": settings.data, "model": settings.model, "sampler": settings.sampler, "steps": settings.steps,
              "seed": settings.seed, "class": settings.label, "view": settings.projection, "path": settings.path}
    if settings.path == "flow":  # the shift is read on the flow path only
        wanted["shift"] = settings.shift
    wanted.update(state.get(DRAWN, {}))
    text = {k: _text(v) for k, v in wanted.items()}
    if text != st.query_params.to_dict():
        st.query_params.from_dict(text)
    state[WRITTEN] = text


def copy_link(where=st) -> None:
    """This view's link (the page's address with its settings), in a box with a copy button."""
    from urllib.parse import urlencode

    base = st.context.url or ""
    params = st.session_state.get(WRITTEN) or st.query_params.to_dict()
    with where.expander("Link to this view", icon=":material/link:"):
        st.code(f"{base}?{urlencode(params)}" if params else base, language=None)
        st.caption("Copy it (the button at the box's right) and send it: it opens this page with these settings.")


__all__ = ["PARAMS", "apply_link", "copy_link", "drawn", "link_notes", "write_link"]
