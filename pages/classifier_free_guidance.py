"""Classifier-free guidance: extrapolate from the unconditional to the conditional prediction."""

import numpy as np
import streamlit as st

from ui.runs import export_command, run_spec
from ui.sidebar import POST, current
from ui.views import (command_expander, gamma_slider, level_metric, leaves_data_warning, model_for, overlay_beside,
                      picture_and_controls, prepare_run, step_picture)

s = current()
st.title("Classifier-free guidance")
st.markdown("Start at the unconditional prediction and go γ times its difference to the conditional one: "
            "$\\;\\hat{x}_0^{\\gamma} = \\hat{x}_0^{u} + \\gamma\\,(\\hat{x}_0^{c} - \\hat{x}_0^{u})$.")
picture, controls = picture_and_controls()
with controls:
    gamma = gamma_slider()
    spec = run_spec(s, "cfg", gamma, model=model_for(s, "cfg"))
    run = prepare_run(spec)
    traj, k = run.traj, run.k
    diff = np.linalg.norm(traj.x0_cond[k, 0] - traj.x0_uncond[k, 0])
    level_metric(traj, k)
    st.metric("‖x̂₀ᶜ − x̂₀ᵘ‖", f"{diff:.3f}", help="how far apart the two predictions are (sample 0)")
    st.metric("‖γ (x̂₀ᶜ − x̂₀ᵘ)‖", f"{gamma * diff:.3f}", help="how far guidance moves the prediction")
    leaves_data_warning(traj, "extrapolating this far overshoots the data (saturated, over-sharpened images).")
with picture:
    step_picture("cfg", spec, s.projection, run, filename="cfg.gif", heading=f"One step at γ = {gamma:g}")
overlay_beside(spec, s.projection, f"""
One network trained with the label sometimes dropped gives two predictions: unconditional
$\\hat{{x}}_0^{{u}}$ and conditional $\\hat{{x}}_0^{{c}}$. Their difference plays the part of the
classifier direction (by Bayes' rule it is the gradient of an implicit classifier). Classifier-free
guidance (Ho & Salimans, arXiv 2207.12598) starts at the unconditional prediction and goes γ times
that difference. γ = 0 is unconditional and γ = 1 conditional sampling; γ > 1 extrapolates past the
conditional prediction. (The paper writes the weight as $1 + w$, so γ = 1 + w.) See [the post]({POST}).
""", "Same starting noise, same model: only γ differs. The extrapolated predictions send the paths apart, and the "
     "final samples become more typical of the class as γ grows.")
command_expander(export_command(spec, "cfg", s.projection))
