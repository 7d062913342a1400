"""Two guidance methods, or two guidance scales, from the same seed, side by side."""

import streamlit as st

from models.guidance import names
from ui.run_cache import cached_trajectory, opening_step, shared_basis
from ui.runs import run_spec
from ui.sidebar import PROJECTION_LABELS, current
from ui.state import keep, remember
from ui.views import STEP_CHOSEN, gamma_slider, model_for, play_toggle, show_view, step_scrubber
from viz.figures.lecture import construction_kind

GUIDED = tuple(g for g in names() if g != "none")
SIDES = (("left", "cfg", 1.0), ("right", "cfg", 5.0))  # (name, default method, default γ)

s = current()
st.title("Side by side")
st.markdown(
    "Two runs that start from the **same noise** (the sidebar's seed) and differ only in what you pick "
    "below: the guidance method, the scale γ, or both. *Construction* draws one step of each run the way "
    "its method builds its guess; *paths* draws every sample's path. Both panels are drawn in **one** 2-D "
    "basis and at **one** scale, so a direction on the left is the same "
    "direction on the right, and an arrow twice as long is twice as long."
)
show, scrubber, play_box = st.columns([1.4, 4, 0.8], gap="medium", vertical_alignment="bottom")
view = remember("sbs_view", show.radio(
    "Show", ("construction", "paths"), key=keep("sbs_view", "construction"),
    format_func={"construction": "one step's construction", "paths": "the paths of every sample"}.get))
columns = st.columns(2, gap="large")
runs = []
for column, (side, method, gamma) in zip(columns, SIDES):
    with column:
        pick, scale = st.columns([1, 1.4])
        guidance = remember(f"sbs_{side}_guidance", pick.selectbox("Guidance method", GUIDED,
                                                                   key=keep(f"sbs_{side}_guidance", method)))
        gamma = gamma_slider(f"sbs_{side}_gamma", gamma, where=scale)
        spec = run_spec(s, guidance, gamma, model=model_for(s, guidance))
        try:
            traj = cached_trajectory(spec)
        except ValueError as e:
            st.error(f"This run cannot be sampled: {e}")
            continue
        runs.append((column, side, spec, construction_kind(traj) if view == "construction" else "paths"))
if runs:
    with scrubber:
        step = step_scrubber(s.steps, opening_step(runs[0][2]) if not st.session_state.get(STEP_CHOSEN) else 0)
    with play_box:
        play = play_toggle()
    # paths: the data set's PCA on digits, the plane itself on gmm2d (every run's own "pca" would differ)
    projection = s.projection if view == "construction" else "pca" if s.data == "gmm2d" else "pca_data"
    pair = tuple((kind, spec) for *_, spec, kind in runs)  # every construction view shares a basis and a camera
    basis = shared_basis(tuple(spec for _, spec in pair), projection)
    for column, side, spec, kind in runs:
        with column:
            st.subheader(f"{spec.guidance}, γ = {spec.gamma:g}")
            show_view(kind, spec, projection, step - 1, play, filename=f"{side}-{spec.guidance}-{kind}.gif",
                      key=f"sbs_{side}_gif", basis=basis, pair=pair)
    where = "the 2-D data itself" if s.data == "gmm2d" else (
        "the PCA of the runs without guidance and at γ = 1 from the same noise" if projection in ("pca", "plane")
        else PROJECTION_LABELS[projection])
    st.caption(f"Both panels: one basis, {where}" + (" (the exact plane of a step differs from run to run, so "
               "both are drawn in that common PCA)" if projection == "plane" and s.data != "gmm2d" else "") +
               ", and one scale at every step: equal lengths are equally long on both sides, and moving a γ "
               "slider moves the points, not the axes.")
