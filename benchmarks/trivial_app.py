"""The baseline page: one slider and one matplotlib figure (for `make bench`)."""

import numpy as np
import streamlit as st
from matplotlib.figure import Figure

gamma = st.slider("gamma", 0.0, 10.0, 1.0, 0.1, key="gamma")
fig = Figure(figsize=(6.4, 4.8))
ax = fig.add_subplot()
x = np.linspace(0, 1, 100)
ax.plot(x, np.sin(gamma * x))
st.pyplot(fig)
