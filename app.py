"""Guidance Lab: see how diffusion models sample and how guidance bends their path.

Run with ``streamlit run app.py`` (or ``make run``).
"""

import viz.preload  # noqa: F401  (first: the heavy imports, once per process, without garbage collections)
import streamlit as st
import torch

from viz.ui import sidebar_from_app

# The models are tiny: one thread per op is fastest, and many sessions share the cores.
torch.set_num_threads(1)

st.set_page_config(page_title="Guidance Lab", page_icon="🧭", layout="wide")

pages = [
    st.Page("pages/sampling.py", title="Sampling", icon="🎲", default=True),
    st.Page("pages/classifier_guidance.py", title="Classifier guidance", icon="🧲"),
    st.Page("pages/classifier_free_guidance.py", title="Classifier-free guidance", icon="🧭"),
    st.Page("pages/guidance_zoo.py", title="Guidance zoo", icon="🦓"),
    st.Page("pages/high_dimensions.py", title="High dimensions", icon="📐"),
    st.Page("pages/tradeoff.py", title="Guidance trade-off", icon="⚖️"),
    st.Page("pages/side_by_side.py", title="Side by side", icon="🪞"),
    st.Page("pages/lecture.py", title="Lecture", icon="🎓"),
]
page = st.navigation(pages)
sidebar_from_app()
page.run()
