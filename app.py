"""Guidance Lab: see how diffusion models sample and how guidance bends their path.

Run with ``streamlit run app.py`` (or ``make run``).
"""

import streamlit as st

st.set_page_config(page_title="Guidance Lab", page_icon="🧭", layout="wide")

pages = [
    st.Page("pages/sampling.py", title="Sampling", icon="🎲", default=True),
    st.Page("pages/high_dimensions.py", title="High dimensions", icon="📐"),
]
st.navigation(pages).run()
