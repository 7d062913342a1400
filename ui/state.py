"""Settings that follow the teacher from page to page.

Streamlit gives a widget on each page its own identity (the page is part of its id) and drops a
widget's value at the end of every run that does not draw it: set the step to 17 on one page, visit
another, come back, and the step was gone. So every widget whose value should hold for the session
keeps a shadow copy under a key that is not a widget's, and gets it back before it is drawn:

    gamma = remember("gamma", st.slider("γ", 0.0, 10.0, step=0.5, key=keep("gamma", 3.0)))

The widget is drawn without a ``value`` (its value comes from the session state, which ``keep``
fills), so Streamlit never sees two sources for one value.
"""

from __future__ import annotations

from typing import Any, TypeVar

import streamlit as st

SHADOW = "_kept_"  # prefix of the shadow copies (never a widget's key)
T = TypeVar("T")


def keep(key: str, default: Any) -> str:
    """Before drawing the widget ``key``: give it the value it had when last drawn on any page (its
    own value if it is still there, else its shadow copy, else ``default``); returns ``key``."""
    state = st.session_state
    if key in state:
        value = state[key]
    else:
        value = state.get(SHADOW + key, default)
    state[key] = value  # also re-binds the value to this page's widget of the same key
    return key


def remember(key: str, value: T) -> T:
    """After drawing the widget ``key``: keep its ``value`` for the other pages; returns it."""
    st.session_state[SHADOW + key] = value
    return value


def kept(key: str, default: Any = None) -> Any:
    """The last value the widget ``key`` had on any page (``default`` if never drawn)."""
    state = st.session_state
    return state[key] if key in state else state.get(SHADOW + key, default)


def forget(key: str) -> None:
    """Drop the widget ``key``'s value and its shadow (the next draw starts from its default)."""
    st.session_state.pop(key, None)
    st.session_state.pop(SHADOW + key, None)


STEP_CHOSEN = "step_chosen"  # not a widget key: set once the teacher (or a link) has picked the step
