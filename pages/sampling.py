"""Sampling: a DDPM (or other sampler) trajectory, projected to 2-D, step by step."""

import numpy as np
import streamlit as st

from models.data import DATA_NAMES, load_dataset
from models.guidance import GUIDANCE_NAMES
from models.registry import MODEL_NAMES
from models.samplers import SAMPLER_NAMES
from viz.animate import PathAnimation
from viz.cache import bundle_or_fallback, cached_trajectory
from viz.export import path_projection

st.title("Sampling, step by step")
st.markdown(
    "A sampler starts from pure noise $x_T$ and repeatedly asks the model where the clean image "
    "should end up ($\\hat{x}_0$), moves a little toward it, and (for DDPM) adds fresh noise. "
    "Geometry after Sander Dieleman, [The geometry of diffusion guidance](https://sander.ai/2023/08/28/geometry.html)."
)

with st.sidebar:
    data = st.selectbox("Data set", DATA_NAMES, key="data")
    model = st.selectbox("Model", MODEL_NAMES, index=1, key="model")
    sampler = st.selectbox("Sampler", SAMPLER_NAMES, key="sampler")
    guidance = st.selectbox("Guidance", GUIDANCE_NAMES, index=1, key="guidance")
    classes = load_dataset(data).num_classes
    label = st.selectbox("Class label", list(range(classes)), key="label")
    gamma = st.slider("Guidance scale γ", 0.0, 10.0, 3.0, 0.5, key="gamma")
    steps = st.slider("Steps", 1, 1000, 50, key="steps")
    seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="seed")
    projection = st.selectbox("Projection", ("pca", "random", "plane"), key="projection")

_, warning = bundle_or_fallback(data, model, (guidance,))
if warning:
    st.warning(warning)
    model = "exact"
traj = cached_trajectory(data, model, sampler, guidance, gamma, label, steps, int(seed), 8)
step = st.slider("Step", 0, traj.steps, traj.steps, key="step")
anim = PathAnimation(traj, path_projection(projection, traj, int(seed)), load_dataset(data).x)
st.pyplot(anim.draw(step), clear_figure=False)
st.caption(anim.projection.note)
