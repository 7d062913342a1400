"""The shared sidebar and the settings every page reads (widget keys of the architecture contract:
``data``, ``model``, ``sampler``, ``steps``, ``seed``, ``label``, ``projection``)."""

from __future__ import annotations

import streamlit as st

from models.data import DATA_NAMES, load_dataset
from models.registry import MODEL_NAMES
from models.samplers import SAMPLER_NAMES
from ui.runs import Settings
from viz.projection import PROJECTION_NAMES

POST = "https://sander.ai/2023/08/28/geometry.html"
DATA_LABELS = {"digits": "digits (8x8 images, 64-D)", "gmm2d": "gmm2d (2-D mixture, exact picture)"}
MODEL_LABELS = {"neural": "neural (trained MLP)", "exact": "exact (closed-form optimum)"}
PROJECTION_LABELS = {"pca": "PCA of the run", "pca_data": "PCA of the data set", "random": "random projection", "plane": "exact plane of each step"}
VIA_APP = "_sidebar_drawn_by_app"


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
