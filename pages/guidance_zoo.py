"""The guidance zoo: newer guidance methods, each drawn as the construction it makes of the same few vectors."""

import math

import numpy as np
import streamlit as st

from viz.cache import cached_trajectory, final_digits_png
from viz.lecture import construction_kind
from viz.zoo_diagrams import sigma_of
from viz.ui import (POST, current, export_command, leaves_data_warning, model_for, play_toggle, run_key, show_view,
                    step_scrubber, stop_unless_finite)

METHODS = {
    "cfg": "CFG (the reference)",
    "rescale": "CFG rescale",
    "apg": "Adaptive projected guidance (APG)",
    "interval": "Guidance in a limited interval",
    "autoguidance": "Autoguidance",
    "cfgpp": "CFG++",
}
ABOUT = {
    "cfg": "Start at the unconditional prediction $D_u$ and go γ times the difference $D_c - D_u$ "
           "(Ho & Salimans, arXiv 2207.12598). Every method below changes one part of this construction.",
    "rescale": "Large γ inflates the spread of the guided prediction, and images over-saturate. CFG rescale "
               "(Lin et al., arXiv 2305.08891) scales the CFG prediction, toward or away from the origin, until "
               "its standard deviation matches the conditional prediction's, then mixes that with plain CFG by φ "
               "(φ = 0 is CFG).",
    "apg": "APG (Sadat et al., arXiv 2410.02416) splits the guidance difference into a part along the conditional "
           "prediction $D_c$ (which mostly raises contrast and saturation) and a part orthogonal to it (which "
           "mostly adds detail), and keeps only η of the parallel part. Optionally the difference is clipped to a "
           "norm r and averaged over steps with momentum β (the paper uses negative β). η = 1 with no clipping and "
           "no momentum is CFG.",
    "interval": "Kynkäänniemi et al. (arXiv 2404.07724) found guidance harmful at the highest noise levels (it "
                "collapses diversity) and useless at the lowest, so they guide only while the noise level σ lies in "
                "an interval, and sample plainly conditionally elsewhere.",
    "autoguidance": "Karras et al. (arXiv 2406.02507) replace the unconditional prediction by the conditional "
                    "prediction of a weaker model of the same kind, and extrapolate away from its mistakes: "
                    "$D_{weak} + γ (D_{main} - D_{weak})$. Here the weak network is a smaller, shorter-trained MLP "
                    "(`assets/`); the exact model's weak twin is the exact denoiser of blurred data.",
    "cfgpp": "CFG++ (Chung et al., arXiv 2406.08070) interpolates instead of extrapolating, with λ in [0, 1], "
             "and takes the DDIM step's re-noising direction from the unconditional noise estimate instead of the "
             "guided one. It is defined for DDIM, so this page samples it with DDIM whatever the sidebar says.",
}
SIGMAS = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, math.inf)
APG_R = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, math.inf)

s = current()
st.title("The guidance zoo")
st.markdown(
    "Since the post, guidance has grown a family of variants. Each is a small geometric change to the same few "
    "vectors: the noisy canvas $x_t$, the unconditional and conditional predictions $D_u$ and $D_c$, and the "
    f"step. Pick one; the left figure draws how it builds its prediction at one step. See [the post]({POST})."
)
method = st.selectbox("Method", tuple(METHODS), format_func=METHODS.get, key="zoo_method")
st.markdown(ABOUT[method])

zoo: dict[str, float] = {}
sampler = "ddim" if method == "cfgpp" else s.sampler
cols = st.columns(3)
if method == "cfgpp":
    gamma = float(cols[0].slider("λ (interpolation, 0 = unconditional, 1 = conditional)", 0.0, 1.0, 0.6, 0.05,
                                 key="zoo_lambda"))
    zoo["cfgpp_lambda"] = gamma
else:
    gamma = float(cols[0].slider("Guidance scale γ", 0.0, 10.0, 3.0, 0.5, key="zoo_gamma"))
if method == "rescale":
    zoo["rescale_phi"] = float(cols[1].slider("φ (0 = CFG, 1 = fully rescaled)", 0.0, 1.0, 0.7, 0.05,
                                              key="zoo_phi"))
elif method == "apg":
    zoo["apg_eta"] = float(cols[1].slider("η (weight of the parallel part)", 0.0, 1.0, 0.0, 0.1, key="zoo_apg_eta"))
    zoo["apg_r"] = float(cols[2].select_slider("r (clip the difference to this norm)", APG_R, value=math.inf,
                                               key="zoo_apg_r", format_func=lambda r: "off" if math.isinf(r) else f"{r:g}"))
    zoo["apg_beta"] = float(cols[1].slider("β (momentum across steps)", -0.9, 0.9, 0.0, 0.1, key="zoo_apg_beta"))
elif method == "interval":
    lo, hi = cols[1].select_slider("Guide while σ is in", SIGMAS, value=(0.3, 5.0), key="zoo_interval",
                                   format_func=lambda v: "∞" if math.isinf(v) else f"{v:g}")
    zoo["interval_lo"], zoo["interval_hi"] = float(lo), float(hi)
if method == "cfgpp" and s.sampler != "ddim":
    st.info(f"CFG++ is sampled with DDIM (η = 0) here; the sidebar's sampler ({s.sampler}) is used by the other methods.")

model = model_for(s, method)
key = run_key(s, method, gamma, model=model, zoo=zoo, sampler=sampler)
try:
    traj = cached_trajectory(*key)
except ValueError as e:
    st.error(f"This run cannot be sampled: {e}")
    st.stop()
stop_unless_finite(traj)
step = step_scrubber(traj.steps)
play = play_toggle()
k = min(step, traj.steps - 1)
d_u, d_c, guided = traj.x0_uncond[k, 0], traj.x0_cond[k, 0], traj.x0_hat[k, 0]
cfg_point = d_u + gamma * (d_c - d_u)
sigma = sigma_of(traj, k)
c1, c2, c3 = st.columns(3)
c1.metric("timestep t", int(traj.timesteps[k]))
c2.metric("noise level σ", f"{sigma:.3g}")
if method == "cfg":
    c3.metric("‖γ (D_c − D_u)‖", f"{np.linalg.norm(cfg_point - d_u):.3f}")
elif method == "cfgpp":
    c3.metric("‖λ (D_c − D_u)‖", f"{np.linalg.norm(guided - d_u):.3f}")
else:
    c3.metric("‖x̂₀ − plain CFG's x̂₀‖", f"{np.linalg.norm(guided - cfg_point):.3f}",
              help="how far this method's prediction lies from what CFG would predict from the same two predictions")
leaves_data_warning(traj, "guidance this strong overshoots the data.")

kind = construction_kind(traj)
what = {"cfgpp": f"λ = {gamma:g}"}.get(method, f"γ = {gamma:g}")
left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader(f"One step of {METHODS[method]}, {what}")
    show_view(kind, key, s.projection, k, play, filename=f"{method}.gif", key="zoo_gif")
with right:
    if s.data == "digits":
        # Plain CFG from the same noise: at the same scale, or (for CFG itself) at γ = 1, conditional.
        other_gamma = 1.0 if method == "cfg" else gamma
        other = run_key(s, "cfg", other_gamma, model=model, sampler=sampler)
        st.subheader("The eight final samples")
        st.markdown(f"**{METHODS[method]}**, {what}")
        st.image(final_digits_png(key), width="stretch", output_format="PNG")
        st.markdown(f"**Plain CFG**, γ = {other_gamma:g}{' (conditional sampling)' if other_gamma == 1 else ''}")
        st.image(final_digits_png(other), width="stretch", output_format="PNG")
        st.caption("Both from the same noise. A vermilion frame marks a sample that left the data's range. "
                   "Saturated, blotchy digits at large γ are what rescale and APG were made to avoid.")
    paths = st.toggle("Show every sample's path", value=s.data != "digits", key=f"zoo_paths_{s.data}",
                      help="the paths of all eight samples on the data set's two main PCA axes (one more figure "
                           "to draw at each change)")
    if paths:
        st.subheader("Every sample's path")
        show_view("paths", key, "pca_data", step, play, filename=f"{method}-paths.gif", key="zoo_paths_gif")
with st.expander("The same GIF from the command line"):
    st.code(export_command(s, kind, method, gamma, s.label, model, zoo=zoo, sampler=sampler), language="bash")
