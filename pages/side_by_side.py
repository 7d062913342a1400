"""Two guidance methods or two guidance scales, or the diffusion (VP) path beside the flow-matching path,
from the same seed, side by side."""

import streamlit as st

from ui.run_cache import cached_trajectory, opening_step, shared_basis
from ui.side_by_side import COMPARE, basis_caption, method_sides, path_sides
from ui.sidebar import current
from ui.state import keep, remember
from ui.views import STEP_CHOSEN, play_toggle, show_view, step_scrubber
from viz.figures.lecture import construction_kind

s = current()
st.title("Side by side")
st.markdown(
    "Two runs that start from the **same noise** (the sidebar's seed) and differ only in what you compare: "
    "the guidance method or the scale γ, or the noising path (diffusion's VP path, or flow matching's straight "
    "line from data to noise). *Construction* draws one step of each run the way its method builds its guess; "
    "*paths* draws every sample's path. Both panels are drawn in **one** 2-D basis and at **one** scale, so a "
    "direction on the left is the same direction on the right, and an arrow twice as long is twice as long."
)
compare_box, show, scrubber, play_box = st.columns([1.5, 1.5, 3.6, 1.0], gap="medium", vertical_alignment="bottom")
compare = remember("sbs_compare", compare_box.radio("Compare", tuple(COMPARE), key=keep("sbs_compare", "methods"),
                                                    format_func=COMPARE.get))
view = remember("sbs_view", show.radio(
    "Show", ("construction", "paths"), key=keep("sbs_view", "construction"),
    format_func={"construction": "one step's construction", "paths": "the paths of every sample"}.get))
sides = []
for side in (path_sides if compare == "paths" else method_sides)(s):
    try:
        traj = cached_trajectory(side.spec)
    except ValueError as e:
        side.column.error(f"This run cannot be sampled: {e}")
        continue
    sides.append((side, construction_kind(traj) if view == "construction" else "paths"))
if sides:
    with scrubber:
        step = step_scrubber(s.steps, opening_step(sides[0][0].spec) if not st.session_state.get(STEP_CHOSEN) else 0)
    with play_box:
        play = play_toggle()
    # paths: the data set's PCA on digits, the plane itself on gmm2d (every run's own "pca" would differ)
    projection = s.projection if view == "construction" else "pca" if s.data == "gmm2d" else "pca_data"
    pair = tuple((kind, side.spec) for side, kind in sides)  # every construction view shares a basis and a camera
    basis = shared_basis(tuple(spec for _, spec in pair), projection)
    for side, kind in sides:
        with side.column:
            st.subheader(side.heading)
            show_view(kind, side.spec, projection, step - 1, play, filename=f"{side.name}-{side.spec.guidance}-{kind}.gif",
                      key=f"sbs_{side.name}_gif", basis=basis, pair=pair)
    st.caption(basis_caption(s.data, projection, compare))
