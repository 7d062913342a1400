"""Classifier guidance: the model's prediction plus a gamma-scaled classifier direction."""

import numpy as np
import streamlit as st

from ui.runs import run_spec
from ui.sidebar import POST, current
from ui.views import gamma_slider, leaves_data_warning, model_for, prepare_run, step_and_overlay

s = current()
st.title("Classifier guidance")
st.markdown(
    f"""
A classifier $p(y \\mid x_t)$ says which way to move the canvas to make class $y$ more likely:
its gradient. Classifier guidance (Dhariwal & Nichol, arXiv 2105.05233) adds that gradient, scaled by
γ, to the model's own direction. In terms of the prediction,
$\\;\\hat{{x}}_0^{{\\gamma}} = \\hat{{x}}_0 + \\gamma\\,\\frac{{s_t^2}}{{a_t}}\\,\\nabla_{{x_t}}\\log p(y \\mid x_t)$,
which samples from $p_t(x_t)\\,p(y \\mid x_t)^{{\\gamma}}$: γ = 0 ignores the class, γ = 1 is plain
conditional sampling, larger γ sharpens the classifier's preference.
The **neural** model uses a classifier trained on noisy inputs; the **exact** model uses the true
posterior, and then this is identical to classifier-free guidance.
*Universal* guidance (Bansal et al., arXiv 2302.07121) instead applies a classifier of clean images to
$\\hat{{x}}_0$ and differentiates through the denoiser. See [the post]({POST}).
"""
)
kind = st.radio("Classifier", ("classifier", "universal"), horizontal=True, key="cg_kind",
                format_func={"classifier": "noise-aware classifier p(y | xₜ)",
                             "universal": "clean classifier on x̂₀ (universal)"}.get)
gamma = gamma_slider()
spec = run_spec(s, kind, gamma, model=model_for(s, kind))
run = prepare_run(spec)
traj, k = run.traj, run.k
c1, c2, c3 = st.columns(3)
c1.metric("timestep t", int(traj.timesteps[k]))
c2.metric("‖model direction‖", f"{np.linalg.norm(traj.x0_uncond[k, 0] - traj.x[k, 0]):.3f}")
c3.metric("‖γ · classifier shift‖", f"{gamma * np.linalg.norm(traj.classifier_shift[k, 0]):.3f}")
leaves_data_warning(traj, "the classifier is pushing them toward inputs it scores highly but that look like no training image.")
step_and_overlay(spec, "classifier", s.projection, k, run.play, filename="classifier-guidance.gif",
                 caption="Each small change to the prediction changes the next prediction too: the paths drift "
                         "apart step by step.")
