"""Classifier-free guidance: extrapolate from the unconditional to the conditional prediction."""

import numpy as np
import streamlit as st

from viz.cache import cached_trajectory
from viz.ui import (POST, current, export_command, leaves_data_warning, model_for, play_toggle, run_key, show_overlay,
                   show_view, step_scrubber, stop_unless_finite)

OVERLAY_GAMMAS = (0.0, 1.0, 3.0, 7.0)

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
gamma = float(st.slider("Guidance scale γ", 0.0, 10.0, 3.0, 0.5, key="gamma"))
model = model_for(s, "cfg")
key = run_key(s, "cfg", gamma, model=model)
traj = cached_trajectory(*key)
stop_unless_finite(traj)
step = step_scrubber(traj.steps)
play = play_toggle()
k = min(step, traj.steps - 1)
diff = np.linalg.norm(traj.x0_cond[k, 0] - traj.x0_uncond[k, 0])
c1, c2, c3 = st.columns(3)
c1.metric("timestep t", int(traj.timesteps[k]))
c2.metric("‖x̂₀ᶜ − x̂₀ᵘ‖", f"{diff:.3f}")
c3.metric("‖γ (x̂₀ᶜ − x̂₀ᵘ)‖", f"{gamma * diff:.3f}")
leaves_data_warning(traj, "extrapolating this far overshoots the data (saturated, over-sharpened images).")
left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader(f"One step at γ = {gamma:g}")
    show_view("cfg", key, s.projection, k, play, filename="cfg.gif")
with right:
    st.subheader("One seed, γ = 0, 1, 3 and 7")
    gammas = OVERLAY_GAMMAS  # fixed, so moving the slider does not redraw this figure
    show_overlay(tuple(run_key(s, "cfg", g, model=model) for g in gammas), gammas, s.projection)
    st.caption("Same starting noise, same model: only γ differs. The extrapolated predictions send the "
               "paths apart, and the final samples become more typical of the class as γ grows.")
with st.expander("The same GIF from the command line"):
    st.code(export_command(s, "cfg", "cfg", gamma, s.label, model), language="bash")
