"""Classifier-free guidance: extrapolate from the unconditional to the conditional prediction."""

import numpy as np
import streamlit as st

from ui.runs import run_spec
from ui.sidebar import POST, current
from ui.views import gamma_slider, leaves_data_warning, model_for, prepare_run, step_and_overlay

s = current()
st.title("Classifier-free guidance")
st.markdown(
    f"""
One network trained with the label sometimes dropped gives two predictions: unconditional
$\\hat{{x}}_0^{{u}}$ and conditional $\\hat{{x}}_0^{{c}}$. Their difference plays the part of the
classifier direction (by Bayes' rule it is the gradient of an implicit classifier). Classifier-free
guidance (Ho & Salimans, arXiv 2207.12598) starts at the unconditional prediction and goes γ times
that difference: $\\;\\hat{{x}}_0^{{\\gamma}} = \\hat{{x}}_0^{{u}} + \\gamma\\,(\\hat{{x}}_0^{{c}} - \\hat{{x}}_0^{{u}})$.
γ = 0 is unconditional and γ = 1 conditional sampling; γ > 1 extrapolates past the conditional
prediction. (The paper writes the weight as $1 + w$, so γ = 1 + w.) See [the post]({POST}).
"""
)
gamma = gamma_slider()
spec = run_spec(s, "cfg", gamma, model=model_for(s, "cfg"))
run = prepare_run(spec)
traj, k = run.traj, run.k
diff = np.linalg.norm(traj.x0_cond[k, 0] - traj.x0_uncond[k, 0])
c1, c2, c3 = st.columns(3)
c1.metric("timestep t", int(traj.timesteps[k]))
c2.metric("‖x̂₀ᶜ − x̂₀ᵘ‖", f"{diff:.3f}")
c3.metric("‖γ (x̂₀ᶜ − x̂₀ᵘ)‖", f"{gamma * diff:.3f}")
leaves_data_warning(traj, "extrapolating this far overshoots the data (saturated, over-sharpened images).")
step_and_overlay(spec, "cfg", s.projection, k, run.play, filename="cfg.gif",
                 caption="Same starting noise, same model: only γ differs. The extrapolated predictions send the "
                         "paths apart, and the final samples become more typical of the class as γ grows.")
