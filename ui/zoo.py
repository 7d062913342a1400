"""The guidance zoo page's controls and pictures: each method's sliders derived from its declared
settings (``models.engine.settings``), its numbers at one step, and its final digits beside plain CFG's."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from models.engine.pipeline import SampleSpec
from models.engine.settings import GAMMA, Setting
from models.guidance import GROUPS, SETTINGS, card, cards, settings_for
from models.engine.trajectory import Trajectory
from ui.view_cache import final_digits_png
from ui.runs import Settings, run_spec
from ui.link import drawn
from ui.state import keep, remember
from ui.views import gamma_slider, level_metric, show_image
from viz.methods.on_cfg import sigma_of



def methods() -> dict[str, str]:
    """The zoo page's menu, from the cards (``models.guidance``): CFG, the reference, then each newer
    method, by name -> label."""
    return {c.name: c.label for c in cards() if c.zoo or c.name == "cfg"}


#: widget keys that predate the declaration (pages and tests know them); the others are ``zoo_<name or group>``
WIDGET_KEYS = {"rescale_phi": "zoo_phi", "cfgpp_lambda": "zoo_lambda"}
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
    """One setting's slider (``slider``) or select slider (``choices``), as declared (its value goes into
    the page's link)."""
    value = _setting_widget(setting, where)
    drawn(setting.name, widget_key(setting.name), value)
    return value


def _setting_widget(setting: Setting, where) -> float:
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
    drawn(group, key, (float(values[0]), float(values[1])))
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
    sampler = card(method).sampler or s.sampler
    if sampler != s.sampler:
        settings_box.info(f"{card(method).label} is sampled with {sampler.upper()} (η = 0) here; the sidebar's sampler "
                          f"({s.sampler}) is used by the other methods.")
    return ZooChoice(run_spec(s, method, gamma, model=model, sampler=sampler, zoo=values), value, text)


def show_numbers(traj: Trajectory, k: int, choice: ZooChoice) -> None:
    """Timestep and noise level (in one row), then the method's readout at step ``k`` (``Card.readout``)."""
    method, gamma = card(choice.spec.guidance), choice.scale
    d_u, d_c, guided = traj.x0_uncond[k, 0], traj.x0_cond[k, 0], traj.x0_hat[k, 0]
    when, level = st.columns(2)  # one row: the controls column fits a 1080-px screen with every method's sliders
    level_metric(traj, k, when)
    # the VE level s/a that the interval method compares; on the flow path σ names the path's own level
    level.metric("noise level σ" if traj.path == "vp" else "noise/signal s/a", f"{sigma_of(traj, k):.3g}")
    readout = method.readout
    st.metric(readout.label, f"{readout.measure(d_u, d_c, guided, gamma):.3f}", help=readout.help)


def show_final_digits(s: Settings, choice: ZooChoice) -> None:
    """The method's eight final digits above plain CFG's from the same noise: at the same scale,
    or (for CFG itself) at γ = 1, conditional sampling."""
    spec = choice.spec
    other_gamma = 1.0 if spec.guidance == "cfg" else choice.scale
    other = run_spec(s, "cfg", other_gamma, model=spec.model, sampler=spec.sampler)
    st.subheader("The eight final samples")
    st.markdown(f"**{card(spec.guidance).label}**, {choice.scale_text}")
    show_image(final_digits_png(spec), width=DIGITS_WIDTH)
    st.markdown(f"**Plain CFG**, γ = {other_gamma:g}{' (conditional sampling)' if other_gamma == 1 else ''}")
    show_image(final_digits_png(other), width=DIGITS_WIDTH)
    st.caption("Both from the same noise. A vermilion frame marks a sample that left the data's range. "
               "Saturated, blotchy digits at large γ are what CFG rescaling and APG were made to avoid.")
