"""The guidance zoo: newer guidance methods, each drawn as the construction it makes of the same few vectors."""

import streamlit as st

from ui.runs import export_command
from ui.sidebar import POST, current
from ui.link import drawn
from ui.state import keep, remember
from ui.views import (PICTURE_SHARE, command_expander, leaves_data_warning, model_for, picture_and_controls, prepare_run, show_view,
                      step_picture)
from models.guidance import card
from ui.zoo import methods, show_final_digits, show_numbers, zoo_controls
from viz.figures.lecture import construction_kind

s = current()
st.title("The guidance zoo")
st.markdown(
    "Since the post, guidance has grown a family of variants. Each is a small geometric change to the same few "
    "vectors: the noisy canvas $x_t$, the unconditional and conditional predictions $\\hat{x}_0^{u}$ and "
    f"$\\hat{{x}}_0^{{c}}$, and the step. Pick one; the picture draws how it builds its prediction at one step "
    f"([the post]({POST}))."
)
picture, controls = picture_and_controls()
with controls:
    menu = methods()
    method = remember("zoo_method", st.selectbox("Method", tuple(menu), format_func=menu.get,
                                                 key=keep("zoo_method", next(iter(menu)))))
    drawn("method", "zoo_method", method)
    scale_box, step_box, settings_box = st.container(), st.container(), st.container()
    choice = zoo_controls(s, method, model_for(s, method), scale_box, settings_box)
    spec = choice.spec
    with step_box:
        run = prepare_run(spec)
    show_numbers(run.traj, run.k, choice)
    leaves_data_warning(run.traj, "guidance this strong overshoots the data.")
kind = construction_kind(run.traj)
with picture:
    step_picture(kind, spec, s.projection, run, filename=f"{method}.gif", gif_key="zoo_gif",
                 heading=f"One step of {menu[method]}, {choice.scale_text}")

about, digits = st.columns(2, gap="large")
with about:
    st.subheader(menu[method])
    st.markdown(card(method).about)
    paths = remember(f"zoo_paths_{s.data}", st.toggle(
        "Show every sample's path", key=keep(f"zoo_paths_{s.data}", s.data != "digits"),
        help="the paths of all eight samples on the data set's two main PCA axes (one more figure to draw at each "
             "change)"))
if s.data == "digits":
    with digits:
        show_final_digits(s, choice)
if paths:
    paths_picture, _ = st.columns([PICTURE_SHARE, 1 - PICTURE_SHARE], gap="medium")
    with paths_picture:
        st.subheader("Every sample's path")
        show_view("paths", spec, "pca_data", run.k, run.play, filename=f"{method}-paths.gif", key="zoo_paths_gif")
command_expander(export_command(spec, kind, s.projection))
