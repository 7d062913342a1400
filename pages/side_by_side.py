"""Two guidance methods, or two guidance scales, from the same seed, side by side."""

import streamlit as st

from models.guidance import GUIDANCE_NAMES
from ui.cache import cached_trajectory
from ui.runs import run_spec
from ui.sidebar import current
from ui.views import gamma_slider, model_for, play_toggle, show_view, step_scrubber
from viz.lecture import construction_kind

GUIDED = tuple(g for g in GUIDANCE_NAMES if g != "none")
SIDES = (("left", "cfg", 1.0), ("right", "cfg", 5.0))  # (name, default method, default γ)

s = current()
st.title("Side by side")
st.markdown(
    "Two runs that start from the **same noise** (the sidebar's seed) and differ only in what you pick "
    "below: the guidance method, the scale γ, or both. *Construction* draws one step of each run the way "
    "its method builds its guess; *paths* draws every sample's path, both on the same two axes (the data "
    "set's PCA; each panel zooms to its own paths, so read the tick labels)."
)
view = st.radio("Show", ("construction", "paths"), horizontal=True, key="sbs_view",
                format_func={"construction": "one step's construction", "paths": "the paths of every sample"}.get)
step = step_scrubber(s.steps)
play = play_toggle()
for column, (side, method, gamma) in zip(st.columns(2, gap="large"), SIDES):
    with column:
        guidance = st.selectbox("Guidance method", GUIDED, index=GUIDED.index(method), key=f"sbs_{side}_guidance")
        gamma = gamma_slider(f"sbs_{side}_gamma", gamma)
        spec = run_spec(s, guidance, gamma, model=model_for(s, guidance))
        try:
            traj = cached_trajectory(spec)
        except ValueError as e:
            st.error(f"This run cannot be sampled: {e}")
            continue
        kind = construction_kind(traj) if view == "construction" else "paths"
        projection = s.projection if view == "construction" else "pca_data"
        st.subheader(f"{guidance}, γ = {gamma:g}")
        show_view(kind, spec, projection, min(step, traj.steps - 1) if view == "construction" else step, play,
                  filename=f"{side}-{guidance}-{kind}.gif", key=f"sbs_{side}_gif")
