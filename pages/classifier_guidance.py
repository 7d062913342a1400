"""Classifier guidance: the model's direction plus a gamma-scaled classifier direction."""

import streamlit as st

from ui.runs import export_command, run_spec
from ui.sidebar import POST, current
from ui.state import keep, remember
from ui.views import (command_expander, gamma_slider, level_metric, leaves_data_warning, model_for, overlay_beside,
                      picture_and_controls, prepare_run, step_picture)
from viz.views.guidance import ARROWS_IN_FULL, drawn_lengths

s = current()
st.title("Classifier guidance")
st.markdown("At $x_t$, add γ times a classifier's direction to the model's own direction, and step along the "
            "sum: $\\;\\hat{x}_0^{\\gamma} = \\hat{x}_0 + \\gamma\\,\\frac{s_t^2}{a_t}\\,\\nabla_{x_t}\\log p(y \\mid x_t)$.")
picture, controls = picture_and_controls()
with controls:
    kind = remember("cg_kind", st.radio(
        "Classifier", ("classifier", "universal"), horizontal=True, key=keep("cg_kind", "classifier"),
        format_func={"classifier": "noise-aware p(y | xₜ)", "universal": "clean, on x̂₀ (universal)"}.get))
    gamma = gamma_slider()
    spec = run_spec(s, kind, gamma, model=model_for(s, kind))
    run = prepare_run(spec)
    traj, k = run.traj, run.k
    level_metric(traj, k)
    drawn = drawn_lengths(traj, k, gamma=gamma)  # the arrows' lengths as the figure draws them
    st.metric("model's arrow ‖a·x̂₀ᵘ − xₜ‖", f"{drawn['model']:.3f}",
              help="the model's direction as drawn: its score times s², from x_t (sample 0)")
    st.metric("classifier's arrow ‖γ·a·shift‖", f"{drawn['classifier']:.3f}",
              help="γ times the classifier's direction as drawn: its score times s² (the shift of x̂₀ times a)")
    leaves_data_warning(traj, "the classifier is pushing them toward inputs it scores highly but that look like no "
                              "training image.")
with picture:
    step_picture("classifier", spec, s.projection, run, filename="classifier-guidance.gif",
                 heading=f"One step at γ = {gamma:g}")
    st.caption(ARROWS_IN_FULL)
overlay_beside(spec, s.projection, f"""
A classifier $p(y \\mid x_t)$ says which way to move the canvas to make class $y$ more likely: its
gradient. Classifier guidance (Dhariwal & Nichol, arXiv 2105.05233) adds that gradient, scaled by γ,
to the model's own direction, which samples from $p_t(x_t)\\,p(y \\mid x_t)^{{\\gamma}}$: γ = 0 ignores
the class, γ = 1 is plain conditional sampling, larger γ sharpens the classifier's preference.
The **neural** model uses a classifier trained on noisy inputs; the **exact** model uses the true
posterior, and then this is identical to classifier-free guidance.
*Universal* guidance (Bansal et al., arXiv 2302.07121) instead applies a classifier of clean images to
$\\hat{{x}}_0$ and differentiates through the denoiser. See [the post]({POST}).
""", "Each small change to the prediction changes the next prediction too: the paths drift apart step by step.")
command_expander(export_command(spec, "classifier", s.projection))
