"""The shared sidebar and the settings every page reads (widget keys of the architecture contract:
``data``, ``model``, ``sampler``, ``steps``, ``seed``, ``label``, ``projection``; and ``path``, ``shift`` for
the noising path), kept for the whole
session across pages (``ui.state``), and the page style every page shares."""

from __future__ import annotations

import streamlit as st

from models.engine.names import PATH_NAMES, PATH_SAMPLERS
from models.engine.settings import APP_STEPS, SEED, SHIFT, STEPS

from models.engine.data import DATA_NAMES, load_dataset
from models.engine.loading import MODEL_NAMES
from ui.run_cache import unavailable
from ui.runs import Settings, sampler_on
from ui.state import forget, keep, kept, remember
from viz.draw.projection import PROJECTION_NAMES

POST = "https://sander.ai/2023/08/28/geometry.html"
# Short enough for the sidebar's boxes (a longer one was cut off: "gmm2d (2-D mixture, exact pictu");
# the help text says the rest.
DATA_LABELS = {"digits": "digits · 8x8 images", "gmm2d": "gmm2d · 2-D mixture"}
DATA_HELP = ("digits: 8x8 images, 64 dimensions, drawn in a 2-D view of your choice. gmm2d: a mixture of Gaussians "
             "in the plane, so every picture is exact and nothing is projected.")
MODEL_LABELS = {"neural": "neural · trained MLP", "exact": "exact · closed form",
                "neural_flow": "neural flow · trained on flow"}
MODEL_HELP = ("neural: a small network trained on the data set along the diffusion (VP) path. neural flow: the same "
              "kind of network trained along the flow-matching path (it predicts a velocity). Either runs on either "
              "path. exact: the ideal denoiser of the training set in closed form (it can only reproduce training points).")
#: the noising paths in a student's words (``models.engine.names.PATH_NAMES``)
PATH_LABELS = {"vp": "diffusion (VP)", "flow": "flow matching"}
PATH_HELP = ("How data is noised, and so what sampling walks back. Diffusion (VP): x_t = a_t x0 + s_t ε with "
             "a_t² + s_t² = 1 (DDPM's path). Flow matching: x_t = (1 − σ) x0 + σ ε, a straight line from the data "
             "to the noise (rectified flow, Stable Diffusion 3).")
SAMPLER_HELP = {
    "vp": "ddpm and ddim add fresh noise (ddim only with eta > 0, here 0); euler, heun and dpmpp2m follow the "
          "deterministic probability-flow ODE",
    "flow": "euler and heun follow the flow's velocity in straight-line steps (DDIM with eta 0 is euler on this "
            "path); ddpm adds fresh noise at each step",
}
#: the shift slider's help: the setting's own words up to the command line's note
SHIFT_HELP = SHIFT.help.split(" Read on")[0] + f" ({SHIFT.paper})"
PROJECTION_LABELS = {"pca": "PCA of the run", "pca_data": "PCA of the data set", "random": "random projection",
                     "plane": "exact plane of each step"}
VIA_APP = "_sidebar_drawn_by_app"

# The page fills the screen beside the sidebar (a projector has no width to spare), no picture is
# taller than the window (it can always be seen whole), and a step figure beside its controls is never
# taller than the window leaves it, so the whole figure, its γ slider and its step scrubber are on a
# 1920x1080 screen together (``ui.views.step_picture``).
PAGE_STYLE = """
<style>
[data-testid="stMainBlockContainer"] { padding: 4.5rem 2rem 4rem 2rem; }
[data-testid="stImage"] img { max-height: calc(100vh - 6rem); object-fit: contain; }
.st-key-step_picture [data-testid="stImage"] img { max-height: calc(100vh - 21rem); object-fit: contain; }
/* the invisible frame that reports a column's width (ui.views.column_width): no height, no gap */
.stElementContainer[class*="st-key-width-"] { height: 0; overflow: hidden; margin-bottom: -1rem; }
</style>
"""


def sidebar() -> Settings:
    """Draw the shared sidebar (called once per rerun by ``app.py``) and the page style; return its settings."""
    st.html(PAGE_STYLE)
    with st.sidebar:
        st.header("Settings")
        data = remember("data", st.selectbox("Data set", DATA_NAMES, key=keep("data", DATA_NAMES[0]),
                                             format_func=DATA_LABELS.get, help=DATA_HELP))
        path = remember("path", st.selectbox("Noising path", PATH_NAMES, key=keep("path", PATH_NAMES[0]),
                                             format_func=PATH_LABELS.get, help=PATH_HELP))
        shift = SHIFT.default
        if path == "flow":
            lo, hi, step = SHIFT.slider
            shift = remember("shift", float(st.slider(SHIFT.label, float(lo), float(hi), step=float(step),
                                                      key=keep("shift", SHIFT.default), help=SHIFT_HELP)))
        broken = {m: unavailable(data, m) is not None for m in MODEL_NAMES}  # a weights file missing or corrupt
        model = remember("model", st.selectbox(
            "Model", MODEL_NAMES, key=keep("model", "neural"), help=MODEL_HELP,
            format_func=lambda m: f"{m} · unavailable, showing exact" if broken[m] else MODEL_LABELS[m]))
        offered = PATH_SAMPLERS[path]
        if kept("sampler", offered[0]) not in offered:  # switching path keeps a sampler the path offers
            st.session_state["sampler"] = sampler_on(path, kept("sampler"))
        sampler = remember("sampler", st.selectbox(
            "Sampler", offered, key=keep("sampler", offered[0]), help=SAMPLER_HELP[path]))
        steps = remember("steps", st.slider(
            STEPS.label, int(STEPS.lo), int(STEPS.hi), key=keep("steps", APP_STEPS),
            help="fewer steps make each step longer and easier to see; more steps sample more accurately"))
        seed = remember("seed", st.number_input(SEED.label, min_value=int(SEED.lo), max_value=int(SEED.hi), step=1,
                                                key=keep("seed", SEED.default)))
        dataset = load_dataset(data)
        if kept("label", 0) not in range(dataset.num_classes):
            forget("label")  # the previous data set had more classes
        label = remember("label", st.selectbox(
            "Class to guide toward", range(dataset.num_classes), key=keep("label", 0),
            format_func=lambda c: dataset.class_names[c],
            help="the figures name each class as the data set does: " + ", ".join(dataset.class_names)))
        projection = remember("projection", st.selectbox("2-D view", PROJECTION_NAMES, key=keep("projection", "pca"),
                                                         format_func=PROJECTION_LABELS.get))
        st.caption(f"After Sander Dieleman, [The geometry of diffusion guidance]({POST}).")
    return Settings(data, model, sampler, int(steps), int(seed), int(label), projection, path, float(shift))


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
    path = s.get("path", PATH_NAMES[0])
    shift = float(kept("shift", SHIFT.default)) if path == "flow" else SHIFT.default
    return Settings(s["data"], s["model"], s["sampler"], int(s["steps"]), int(s["seed"]), int(s["label"]),
                    s["projection"], path, shift)
