"""Diffusion meets flow: the flow path's step on the current run, why the two paths are one family, and
how far the network trained on the flow path is from the VP network mapped onto it."""

import streamlit as st

from ui.run_cache import path_gap_view
from ui.runs import on_path, run_spec, vp_level
from ui.sidebar import PATH_LABELS, current
from ui.view_cache import path_gap_png
from ui.views import (FLOW_KIND, fitted_width, level_metric, model_for, picture_and_controls, prepare_run, show_image,
                      step_picture)
from viz.figures.path_gap import GAP_DISPLAY_WIDTH

s = current()
st.title("Diffusion meets flow")
st.markdown(
    "Flow matching noises data along a **straight line**: $x_\\sigma = (1-\\sigma)\\,x_0 + \\sigma\\,\\varepsilon$, "
    "from the data at $\\sigma = 0$ to pure noise at $\\sigma = 1$, and its network learns the velocity "
    "$\\varepsilon - x_0$ along that line. Below, one run of the sidebar's settings on that path, step by step."
)
picture, controls = picture_and_controls()
with controls:
    base = run_spec(s, "none", 1.0, model=model_for(s, "none"))
    spec = on_path(base, "flow", s.shift)
    if s.path != "flow":
        st.caption(f"The sidebar is on the {PATH_LABELS[s.path]} path; this page draws the same run on the flow "
                   f"path ({spec.sampler}, shift {spec.shift:g}). Choose flow matching in the sidebar to set the shift.")
    run = prepare_run(spec)
    level_metric(run.traj, run.k)
    t, factor = vp_level(run.traj, run.k)
    st.metric("the same point on the VP path", f"t ≈ {t:.0f}", help=(
        f"x_σ scaled by {factor:.3g} is the VP point with the same signal-to-noise ratio: the two paths visit the "
        "same noisy images, drawn at different scales"))
    st.caption(f"Scale factor to get there: {factor:.3g} = 1 / √((1 − σ)² + σ²).")
with picture:
    step_picture(FLOW_KIND, spec, s.projection, run, filename="flow.gif",
                 heading=f"The flow path, {spec.sampler}, {run.traj.level_text(run.k)}")

st.header("Two sides of one coin")
left, right = st.columns(2, gap="large")
left.markdown(
    "**The same points.** Both paths mix the clean sample with noise, $x_t = a_t x_0 + s_t \\varepsilon$: VP keeps "
    "$a_t^2 + s_t^2 = 1$, flow matching keeps $a + s = 1$. Divide a VP point by $a_t + s_t$ and you get "
    "$\\frac{a_t}{a_t+s_t} x_0 + \\frac{s_t}{a_t+s_t} \\varepsilon$: a point on the straight segment from $x_0$ to "
    "$\\varepsilon$, exactly where the flow path is at $\\sigma = s_t / (a_t + s_t)$. So one network that predicts "
    "$\\hat{x}_0$ can serve both paths after this change of scale (Gao et al. 2024, *Diffusion meets flow matching: "
    "two sides of the same coin*)."
)
right.markdown(
    "**The same steps.** DDIM with η = 0 on the VP path, written in the rescaled point $x_t / (a_t + s_t)$ and "
    "the level $\\sigma = s_t / (a_t + s_t)$, is Euler's method on the flow path: each step moves along the "
    "predicted velocity $\\hat{\\varepsilon} - \\hat{x}_0$ by the change in $\\sigma$ (rectified flow, Liu et al., "
    "arXiv 2209.03003; flow matching, Lipman et al., arXiv 2210.02747). What really differs is the training: "
    "which levels the network sees most, what it is asked to output, and where the sampler puts its steps "
    "(the timestep shift)."
)

st.header("How far apart are the two networks?")
chart, words = st.columns([0.6, 0.4], gap="large")
gap = path_gap_view(s.data)
if gap.reason:
    chart.info(gap.reason)
else:
    show_image(path_gap_png(s.data, fitted_width(GAP_DISPLAY_WIDTH, "width-path-gap", chart)), chart)
    words.markdown(gap.sentence)
words.markdown(gap.about)
