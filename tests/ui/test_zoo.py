"""ui.zoo: the zoo page's sliders are derived from ``models.engine.settings`` (label, range, step or
choices, default, help), CFG++ gets its own λ instead of γ, and the run holds what they say."""

import math

import pytest
from streamlit.testing.v1 import AppTest

from models.engine.settings import GAMMA
from models.guidance import GROUPS, SETTINGS, settings_for
from ui.zoo import methods, widget_key


def controls_script():
    import streamlit as st

    from ui.runs import Settings
    from ui.zoo import zoo_controls

    s = Settings("digits", "exact", "ddpm", 5, 0, 0, "pca")
    choice = zoo_controls(s, st.session_state["method"], "exact", st.container(), st.container())
    st.session_state["choice"] = choice


def controls(method: str) -> AppTest:
    at = AppTest.from_function(controls_script, default_timeout=60)
    at.session_state["method"] = method
    at.run()
    assert not at.exception, at.exception
    return at


def widget(at: AppTest, key: str):
    found = [w for w in list(at.slider) + list(at.select_slider) if w.key == key]
    assert len(found) == 1, key
    return found[0]


@pytest.mark.parametrize("method", list(methods()))
def test_each_slider_is_its_declared_setting(method):
    at = controls(method)
    own = settings_for(method)
    groups = {s.group for s in own if s.group}
    expected = {widget_key(s.name) for s in own if not s.group} | {widget_key(g) for g in groups}
    if not any(s.replaces == "gamma" for s in own):
        expected.add("zoo_gamma")
    assert {w.key for w in list(at.slider) + list(at.select_slider)} == expected
    for setting in own:
        if setting.group:
            continue
        w = widget(at, widget_key(setting.name))
        assert w.label == setting.label and setting.help in w.help and w.value == setting.default
        if setting.slider:
            assert (w.min, w.max, w.step) == setting.slider
        else:
            assert tuple(w.options) == tuple(setting.format(c) for c in setting.choices)
    for group in groups:
        lo, hi = (SETTINGS[n] for n in GROUPS[group])
        w = widget(at, widget_key(group))
        assert w.value == (lo.default, hi.default) and tuple(w.options) == tuple(hi.format(c) for c in hi.choices)
    spec = at.session_state["choice"].spec
    assert all(getattr(spec, s.name) == s.default for s in own)


def test_the_widget_keys_the_pages_and_tests_know():
    assert [widget_key(n) for n in ("rescale_phi", "apg_eta", "apg_r", "apg_beta", "interval", "cfgpp_lambda")] == \
        ["zoo_phi", "zoo_apg_eta", "zoo_apg_r", "zoo_apg_beta", "zoo_interval", "zoo_lambda"]


def test_moved_sliders_reach_the_spec():
    at = controls("apg")
    at.slider(key="zoo_gamma").set_value(6.5)
    at.slider(key="zoo_apg_eta").set_value(0.4)
    at.select_slider(key="zoo_apg_r").set_value(0.5)
    at.slider(key="zoo_apg_beta").set_value(-0.3).run()
    choice = at.session_state["choice"]
    assert (choice.spec.gamma, choice.spec.apg_eta, choice.spec.apg_r, choice.spec.apg_beta) == (6.5, 0.4, 0.5, -0.3)
    assert (choice.scale, choice.scale_text) == (6.5, "γ = 6.5")
    at = controls("interval")
    at.select_slider(key="zoo_interval").set_value((0.0, math.inf)).run()
    spec = at.session_state["choice"].spec
    assert (spec.interval_lo, spec.interval_hi) == (0.0, math.inf)


def test_cfgpp_has_its_own_lambda_and_its_own_sampler():
    at = controls("cfgpp")
    assert not [w for w in at.slider if w.key == "zoo_gamma"]  # no γ: CFG++ does not read it
    at.slider(key="zoo_lambda").set_value(0.35).run()
    choice = at.session_state["choice"]
    assert (choice.spec.cfgpp_lambda, choice.spec.gamma, choice.spec.sampler) == (0.35, GAMMA.default, "ddim")
    assert (choice.scale, choice.scale_text) == (0.35, "λ = 0.35")
    assert len(at.info) == 1 and "DDIM" in at.info[0].value
