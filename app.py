"""Guidance Lab: see how diffusion models sample and how guidance bends their path.

Run with ``streamlit run app.py`` (or ``make run``).
"""

import ui.preload  # noqa: F401  (first: the heavy imports, once per process, without garbage collections)
import streamlit as st
import torch

from ui.sidebar import sidebar_from_app

# The models are tiny: one thread per op is fastest, and many sessions share the cores.
torch.set_num_threads(1)

# Icons from the Material Symbols font that Streamlit ships (emoji show as empty boxes in
# browsers without an emoji font, such as Debian's Chromium).
st.set_page_config(page_title="Guidance Lab", page_icon=":material/explore:", layout="wide")

pages = [
    st.Page("pages/sampling.py", title="Sampling", icon=":material/casino:", default=True),
    st.Page("pages/classifier_guidance.py", title="Classifier guidance", icon=":material/target:"),
    st.Page("pages/classifier_free_guidance.py", title="Classifier-free guidance", icon=":material/explore:"),
    st.Page("pages/guidance_zoo.py", title="Guidance zoo", icon=":material/pets:"),
    st.Page("pages/high_dimensions.py", title="High dimensions", icon=":material/square_foot:"),
    st.Page("pages/tradeoff.py", title="Guidance trade-off", icon=":material/balance:"),
    st.Page("pages/guidance_field.py", title="Guidance field", icon=":material/air:"),
    st.Page("pages/side_by_side.py", title="Side by side", icon=":material/compare:"),
    st.Page("pages/lecture.py", title="Lecture", icon=":material/school:"),
]
page = st.navigation(pages)
sidebar_from_app()
page.run()
