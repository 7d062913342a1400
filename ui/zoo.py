"""The guidance zoo page's controls and pictures: each method's sliders derived from its declared
settings (``models.engine.settings``), its numbers at one step, and its final digits beside plain CFG's."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from models.engine.pipeline import SampleSpec
from models.engine.settings import GAMMA, GROUPS, SETTINGS, Setting, settings_for
from models.engine.trajectory import Trajectory
from ui.cache import final_digits_png
from ui.runs import Settings, run_spec
from ui.state import keep, remember
from ui.views import gamma_slider
from viz.methods.zoo_views import sigma_of

METHODS = {
    "cfg": "CFG (the reference)",
    "rescale": "CFG rescale",
    "apg": "Adaptive projected guidance (APG)",
    "interval": "Guidance in a limited interval",
    "autoguidance": "Autoguidance",
    "cfgpp": "CFG++",
    "cfgzero": "CFG-Zero*",
    "tcfg": "Tangential CFG (TCFG)",
    "mambo": "Magnitude-aware guidance (MAMBO-G)",
    "apgmix": "APG in a σ window, CFG outside",
    "fdg": "Frequency-decoupled guidance (FDG)",
}
ABOUT = {
    "cfg": "Start at the unconditional prediction $\\hat{x}_0^{u}$ and go γ times the difference "
           "$\\hat{x}_0^{c} - \\hat{x}_0^{u}$ (Ho & Salimans, arXiv 2207.12598). Every method below changes one part "
           "of this construction.",
    "rescale": "Large γ inflates the spread of the guided prediction, and images over-saturate. CFG rescale "
               "(Lin et al., arXiv 2305.08891) scales the CFG prediction, toward or away from the origin, until "
               "its standard deviation matches the conditional prediction's, then mixes that with plain CFG by φ "
               "(φ = 0 is CFG). *Note:* here it rescales the $\\hat{x}_0$ prediction; the paper (a v-prediction "
               "model) and diffusers' pipelines rescale the network's own output (ε or v), which gives other numbers "
               "because the rescale is not an affine combination.",
    "apg": "APG (Sadat et al., arXiv 2410.02416) splits the guidance difference into a part along the conditional "
           "prediction $\\hat{x}_0^{c}$ (which mostly raises contrast and saturation) and a part orthogonal to it (which "
           "mostly adds detail), and keeps only η of the parallel part. Optionally the difference is clipped to a "
           "norm r and averaged over steps with momentum β (the paper uses negative β). η = 1 with no clipping and "
           "no momentum is CFG.",
    "interval": "Kynkäänniemi et al. (arXiv 2404.07724) found guidance harmful at the highest noise levels (it "
                "collapses diversity) and useless at the lowest, so they guide only while the noise level σ lies in "
                "an interval, and sample plainly conditionally elsewhere. As in the paper the interval is half-open, "
                "(lo, hi]: a step whose σ equals lo exactly is not guided.",
    "autoguidance": "Karras et al. (arXiv 2406.02507) replace the unconditional prediction by the conditional "
                    "prediction of a weaker model of the same kind, and extrapolate away from its mistakes: "
                    "x̂₀ = x̂₀(weak) + γ (x̂₀(main) − x̂₀(weak)). Here the weak network is a smaller, shorter-trained MLP "
                    "(`assets/`); the exact model's weak twin is the exact denoiser of blurred data.",
    "cfgpp": "CFG++ (Chung et al., arXiv 2406.08070) interpolates instead of extrapolating, with λ in [0, 1], "
             "and takes the DDIM step's re-noising direction from the unconditional noise estimate instead of the "
             "guided one. It is defined for DDIM, so this page samples it with DDIM whatever the sidebar says.",
    "cfgzero": "CFG-Zero* (Fan et al., arXiv 2503.18886) works on the **velocity** prediction $v$. Before "
               "extrapolating it shrinks the unconditional velocity to the multiple $s^* v_u$ closest to $v_c$, "
               "$s^* = \\langle v_c, v_u \\rangle / \\|v_u\\|^2$, then does CFG from there; and for the first steps it "
               "outputs $v = 0$, which leaves $\\hat{x}_0 = \\sqrt{\\bar\\alpha}\\, x_t$. The figure draws the velocity "
               "construction in $\\hat{x}_0$ units: the cross marks $v = 0$.",
    "tcfg": "Tangential CFG (Kwon et al., arXiv 2503.18137) works on the **noise** prediction ε. It stacks "
            "$\\epsilon_c$ and $\\epsilon_u$, keeps only the leading right-singular direction of that 2-row matrix, and replaces "
            "$\\epsilon_u$ by its projection on it (dropping the part the authors call tangential), then does CFG. The "
            "figure draws it in $\\hat{x}_0$ units: the cross marks ε = 0, far away while the noise is high.",
    "mambo": "MAMBO-G (Zhu et al., arXiv 2508.03442) damps the guidance where it is large compared with the "
             "prediction itself: γ becomes $1 + (γ - 1)\\,e^{-α r}$ with $r = \\|v_c - v_u\\| / \\|v_u\\|$ measured "
             "on the **velocity** predictions. Early, noisy steps (large r) get almost no guidance, late ones almost "
             "the full γ; α = 0 is CFG.",
    "apgmix": "diffusers' `AdaptiveProjectedMixGuidance` (used by HunyuanImage-2.1) applies APG (Sadat et al., "
              "arXiv 2410.02416) on the $\\hat{x}_0$ prediction while σ lies in a window (lo, hi], and plain CFG at "
              "the same γ outside it; its momentum average is fed at every step, the CFG steps' too. diffusers "
              "switches after a number of steps; here the window is in σ, so it does not depend on the step count.",
    "fdg": "Frequency-decoupled guidance (Sadat et al., arXiv 2506.19713) treats each digit as an 8×8 **image**. A "
           "Laplacian pyramid splits the difference $\\hat{x}_0^{c} - \\hat{x}_0^{u}$ into a low band (blurred and "
           "shrunk to 4×4, then brought back to 8×8: the coarse shape) and a high band (the rest: strokes and edges), "
           "and each band gets its own scale: γ for the high band, γ_low for the low one. The authors keep γ_low "
           "below γ, so the coarse layout is guided gently (keeping diversity) and the details strongly; γ_low = γ is "
           "CFG. The split is linear and the two bands add up to the difference, so the result is the same whether "
           "it is applied to $\\hat{x}_0$, ε or v. Digits only: the 2-D points of gmm2d are not images.",
}
#: widget keys that predate the declaration (pages and tests know them); the others are ``zoo_<name or group>``
WIDGET_KEYS = {"rescale_phi": "zoo_phi", "cfgpp_lambda": "zoo_lambda"}
SAMPLERS = {"cfgpp": "ddim"}  # methods defined for one sampler only
DIGITS_WIDTH = 440  # px: four 8x8 digits to a row, each ~100 px on the screen


@dataclass(frozen=True)
class ZooChoice:
    """What the zoo page's sliders decided: the run and its scale as the page writes it (``γ = 3``, ``λ = 0.6``)."""

    spec: SampleSpec
    scale: float  # γ, or the setting the method reads instead of it (CFG++'s λ)
    scale_text: str


def widget_key(name: str) -> str:
    """The widget key of a setting (or of a group of settings, e.g. ``interval``)."""
    return WIDGET_KEYS.get(name, f"zoo_{name}")


def _help(setting: Setting) -> str:
    return f"{setting.help} ({setting.paper})" if setting.paper else setting.help


def setting_widget(setting: Setting, where) -> float:
    """One setting's slider (``slider``) or select slider (``choices``), as declared."""
    if setting.choices is not None:
        key = widget_key(setting.name)
        return remember(key, float(where.select_slider(setting.label, setting.choices, key=keep(key, setting.default),
                                                       format_func=setting.format, help=_help(setting))))
    lo, hi, step = setting.slider
    key = widget_key(setting.name)
    return remember(key, float(where.slider(setting.label, float(lo), float(hi), step=float(step),
                                            key=keep(key, float(setting.default)), help=_help(setting))))


def group_widget(group: str, where) -> dict[str, float]:
    """One range slider for a group of settings (the interval's two ends), over the last end's choices."""
    lo, hi = (SETTINGS[name] for name in GROUPS[group])
    key, ends = widget_key(group), (lo.default, hi.default)
    # value= says "a range" (two thumbs); the value itself comes from the session state (``keep``)
    values = remember(key, tuple(where.select_slider(hi.label, hi.choices, value=ends, key=keep(key, ends),
                                                     format_func=hi.format, help=_help(hi))))
    return {lo.name: float(values[0]), hi.name: float(values[1])}


def zoo_controls(s: Settings, method: str, model: str, scale_box, settings_box) -> ZooChoice:
    """Draw ``method``'s sliders one under the other: the scale in ``scale_box`` (γ, or the setting the
    method reads instead, CFG++'s λ), then its own settings (``models.engine.settings.settings_for``) in
    ``settings_box`` (two containers, so that a page can put its step scrubber between them); return
    the run they describe (with the method's sampler where it has only one)."""
    own = settings_for(method)
    scale = next((x for x in own if x.replaces == GAMMA.name), None)
    values: dict[str, float] = {}
    if scale is None:
        gamma = value = gamma_slider("zoo_gamma", where=scale_box)
        text = f"γ = {gamma:g}"
    else:
        gamma, value = GAMMA.default, setting_widget(scale, scale_box)  # gamma is not read: its default
        values[scale.name] = value
        text = f"{scale.label.split()[0]} = {value:g}"
    drawn: list[str] = []
    for setting in (x for x in own if x is not scale):
        if setting.group in drawn:
            continue
        drawn.append(setting.group or setting.name)
        values.update(group_widget(setting.group, settings_box) if setting.group
                      else {setting.name: setting_widget(setting, settings_box)})
    sampler = SAMPLERS.get(method, s.sampler)
    if sampler != s.sampler:
        settings_box.info(f"{METHODS[method]} is sampled with {sampler.upper()} (η = 0) here; the sidebar's sampler "
                          f"({s.sampler}) is used by the other methods.")
    return ZooChoice(run_spec(s, method, gamma, model=model, sampler=sampler, zoo=values), value, text)


def show_numbers(traj: Trajectory, k: int, choice: ZooChoice) -> None:
    """Timestep, noise level and how far the method's prediction lies from plain CFG's at step ``k``
    (one under the other)."""
    method, gamma = choice.spec.guidance, choice.scale
    d_u, d_c, guided = traj.x0_uncond[k, 0], traj.x0_cond[k, 0], traj.x0_hat[k, 0]
    cfg_point = d_u + gamma * (d_c - d_u)
    st.metric("timestep t", int(traj.timesteps[k]))
    st.metric("noise level σ", f"{sigma_of(traj, k):.3g}")
    if method == "cfg":
        st.metric("‖γ (x̂₀ᶜ − x̂₀ᵘ)‖", f"{np.linalg.norm(cfg_point - d_u):.3f}")
    elif method == "cfgpp":
        st.metric("‖λ (x̂₀ᶜ − x̂₀ᵘ)‖", f"{np.linalg.norm(guided - d_u):.3f}")
    else:
        st.metric("‖x̂₀ − plain CFG's x̂₀‖", f"{np.linalg.norm(guided - cfg_point):.3f}",
                  help="how far this method's prediction lies from what CFG would predict from the same two predictions")


def show_final_digits(s: Settings, choice: ZooChoice) -> None:
    """The method's eight final digits above plain CFG's from the same noise: at the same scale,
    or (for CFG itself) at γ = 1, conditional sampling."""
    spec = choice.spec
    other_gamma = 1.0 if spec.guidance == "cfg" else choice.scale
    other = run_spec(s, "cfg", other_gamma, model=spec.model, sampler=spec.sampler)
    st.subheader("The eight final samples")
    st.markdown(f"**{METHODS[spec.guidance]}**, {choice.scale_text}")
    st.image(final_digits_png(spec), width=DIGITS_WIDTH, output_format="PNG")
    st.markdown(f"**Plain CFG**, γ = {other_gamma:g}{' (conditional sampling)' if other_gamma == 1 else ''}")
    st.image(final_digits_png(other), width=DIGITS_WIDTH, output_format="PNG")
    st.caption("Both from the same noise. A vermilion frame marks a sample that left the data's range. "
               "Saturated, blotchy digits at large γ are what rescale and APG were made to avoid.")
