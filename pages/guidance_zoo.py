"""The guidance zoo: newer guidance methods, each drawn as the construction it makes of the same few vectors."""

import streamlit as st

from ui.runs import export_command
from ui.sidebar import POST, current
from ui.views import command_expander, leaves_data_warning, model_for, prepare_run, show_view
from ui.zoo import ABOUT, METHODS, show_final_digits, show_numbers, zoo_controls
from viz.lecture import construction_kind

s = current()
st.title("The guidance zoo")
st.markdown(
    "Since the post, guidance has grown a family of variants. Each is a small geometric change to the same few "
    "vectors: the noisy canvas $x_t$, the unconditional and conditional predictions $D_u$ and $D_c$, and the "
    f"step. Pick one; the left figure draws how it builds its prediction at one step. See [the post]({POST})."
)
method = st.selectbox("Method", tuple(METHODS), format_func=METHODS.get, key="zoo_method")
st.markdown(ABOUT[method])
choice = zoo_controls(s, method, model_for(s, method))
spec = choice.spec
run = prepare_run(spec)
show_numbers(run.traj, run.k, choice)
leaves_data_warning(run.traj, "guidance this strong overshoots the data.")

kind = construction_kind(run.traj)
left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader(f"One step of {METHODS[method]}, {choice.scale_text}")
    show_view(kind, spec, s.projection, run.k, run.play, filename=f"{method}.gif", key="zoo_gif")
with right:
    if s.data == "digits":
        show_final_digits(s, choice)
    paths = st.toggle("Show every sample's path", value=s.data != "digits", key=f"zoo_paths_{s.data}",
                      help="the paths of all eight samples on the data set's two main PCA axes (one more figure "
                           "to draw at each change)")
    if paths:
        st.subheader("Every sample's path")
        show_view("paths", spec, "pca_data", run.step, run.play, filename=f"{method}-paths.gif", key="zoo_paths_gif")
command_expander(export_command(spec, kind, s.projection))
