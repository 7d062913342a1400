"""Guidance Lab: see how diffusion models sample and how guidance bends their path.

Run with ``streamlit run app.py`` (or ``make run``).
"""

import streamlit as st

from viz.ui import sidebar_from_app

st.set_page_config(page_title="Guidance Lab", page_icon="🧭", layout="wide")

pages = [
    st.Page("pages/sampling.py", title="Sampling", icon="🎲", default=True),
    st.Page("pages/classifier_guidance.py", title="Classifier guidance", icon="🧲"),
    st.Page("pages/classifier_free_guidance.py", title="Classifier-free guidance", icon="🧭"),
    st.Page("pages/high_dimensions.py", title="High dimensions", icon="📐"),
    st.Page("pages/tradeoff.py", title="Guidance trade-off", icon="⚖️"),
    st.Page("pages/side_by_side.py", title="Side by side", icon="🪞"),
    st.Page("pages/lecture.py", title="Lecture", icon="🎓"),
]
page = st.navigation(pages)
sidebar_from_app()
page.run()
