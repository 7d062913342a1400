"""Sampling: forward noising, one sampling step built up as in the post, and the whole trajectory."""

import numpy as np
import streamlit as st

from ui.view_cache import noising_png
from ui.runs import export_command, run_spec
from ui.sidebar import POST, current
from ui.state import keep, remember
from ui.views import (PICTURE_SHARE, fitted_width, command_expander, level_metric, model_for, picture_and_controls, prepare_run,
                      show_image, show_view, step_picture)
from viz.draw.projection import for_whole_paths
from viz.draw.style import display_width
from viz.figures.noising import MAX_UPLOAD_MB, UPLOAD_TYPES

s = current()
st.title("How a diffusion model samples")
st.markdown(
    f"""
Noise is added to data by the **forward process** $x_t = a_t\\,x_0 + s_t\\,\\varepsilon$ (a small
$a_t$ and a large $s_t$ at high $t$). Sampling runs it backwards: from the current canvas $x_t$
the model predicts the clean result $\\hat{{x}}_0 = \\mathbb{{E}}[x_0 \\mid x_t]$, the sampler moves a
little toward that prediction, and DDPM then adds a smaller dose of fresh noise to land on
$x_{{t-1}}$ (Ho et al., arXiv 2006.11239):
$\\;x_{{t-1}} = c_0\\,\\hat{{x}}_0 + c_t\\,x_t + \\sigma_t z$.
Deterministic samplers (DDIM with η = 0, Euler, Heun, DPM-Solver++) skip the noise.
The pictures follow [The geometry of diffusion guidance]({POST}), here drawn from a real model.
"""
)

st.header("1 · Forward noising of a photograph")
# The picker offers the kinds the decoder reads; the decoder still checks the content itself (a file
# name's extension proves nothing) and says why it refuses a file, under the uploader.
upload = st.file_uploader(f"Use your own image (PNG, JPEG, GIF, WebP, BMP, TIFF; up to {MAX_UPLOAD_MB} MB)",
                          type=list(UPLOAD_TYPES), key="upload")
refusal = st.container()
picture, words = st.columns([2, 1], gap="large")
words.markdown(
    "Each panel mixes the same photograph with the same noise: $x_t = a_t x_0 + s_t \\varepsilon$, "
    "with $a_t^2 + s_t^2 = 1$. The signal-to-noise ratio $a_t^2 / s_t^2$ falls from thousands to "
    "almost zero; halfway through, the picture is already hard to make out, and at $t = 999$ it is "
    "noise. Sampling has to walk this road backwards."
    + ("" if s.path == "vp" else
       " The sidebar's flow-matching path mixes them as $(1-\\sigma)\\,x_0 + \\sigma\\,\\varepsilon$ instead: "
       "the same mixtures of photograph and noise, each scaled by $1/(a_t + s_t)$, at $\\sigma = s_t/(a_t + s_t)$ (the page "
       "*Diffusion meets flow* shows why). The steps below run on the flow path.")
)
strip = fitted_width(display_width("noising_strip"), "width-noising", picture)
try:
    show_image(noising_png(upload.getvalue() if upload is not None else None, s.seed, strip), picture)
except ValueError as e:  # said under the uploader, where the student looks
    refusal.error(f"That file cannot be used: {e}. Showing the bundled photograph instead.")
    show_image(noising_png(None, s.seed, strip), picture)

st.header("Sampling, one step at a time")
picture, controls = picture_and_controls()
with controls:
    conditional = remember("conditional", st.checkbox("Condition the model on the class in the sidebar",
                                                      key=keep("conditional", False),
                                                      help="off: unconditional sampling (no label)"))
    build = remember("build", st.radio("Show", ("prediction", "+ small step", "+ fresh noise"), horizontal=True,
                                       key=keep("build", "+ fresh noise"),
                                       help="build the step up part by part, as the post does"))
    stages = {"prediction": ("prediction",), "+ small step": ("prediction", "step"),
              "+ fresh noise": ("prediction", "step", "noise")}[build]
    spec = run_spec(s, "none", 1.0, label=s.label if conditional else -1, model=model_for(s, "none"))
    run = prepare_run(spec)
    traj, k, play = run.traj, run.k, run.play
    level_metric(traj, k)
    st.metric("‖x̂₀ − xₜ‖ (sample 0)", f"{np.linalg.norm(traj.x0_hat[k, 0] - traj.x[k, 0]):.3f}",
              help="how far the prediction lies from the canvas, in all 64 dimensions")
    st.metric("‖xₜ₋₁ − xₜ‖ (sample 0)", f"{np.linalg.norm(traj.x[k + 1, 0] - traj.x[k, 0]):.3f}",
              help="how far this step moves the canvas, in all 64 dimensions (a 2-D view shows only part of it)")
with picture:
    step_picture("step", spec, s.projection, run, stages=stages if not play else None, filename="step.gif",
                 heading="2–4 · One step")
trajectory, words = st.columns([PICTURE_SHARE, 1 - PICTURE_SHARE], gap="medium")
with trajectory:
    st.subheader("5 · The whole trajectory")
    show_view("trajectory", spec, for_whole_paths(s.projection), k, play, filename="trajectory.gif")
words.markdown("The path of $x_t$ with the prediction $\\hat{x}_0$ of every step so far, up to the step chosen "
               "above: early predictions are blurry averages of many possible results, late ones a single sharp "
               "sample. Play shows it to the final sample.")
command_expander(export_command(spec, "trajectory", for_whole_paths(s.projection)), "The same GIFs from the command line")
