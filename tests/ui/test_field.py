"""ui.field: the field page's controls make the FieldSpec they show, its command line writes the
page's GIF byte for byte, and digits get a reason instead of a picture."""

import shlex

import pytest
from streamlit.testing.v1 import AppTest

import ui.field
from models.analysis.field_records import FieldSpec
from models.engine.settings import GAMMA
from models.guidance import settings_for
from ui.field import DEFAULT_GAMMA, DEFAULT_T, field_animation, field_command, why_not
from viz.export import main
from viz.gif import gif_frame_count


def controls_script():
    import streamlit as st

    from ui.field import field_controls
    from ui.runs import Settings

    st.session_state["choice"] = field_controls(Settings("gmm2d", "exact", "ddpm", 5, 0, 1, "pca"))


def controls(method: str) -> AppTest:
    at = AppTest.from_function(controls_script, default_timeout=60)
    at.session_state["field_method"] = method
    at.run()
    assert not at.exception, at.exception
    return at


def test_defaults_are_the_observation():
    """The page opens where the issue's observation lives: CFG, γ = 7, t = 150, the sidebar's class."""
    spec = controls("cfg").session_state["choice"].spec
    assert spec == FieldSpec(model="exact", guidance="cfg", gamma=DEFAULT_GAMMA, label=1, t=DEFAULT_T)


@pytest.mark.parametrize("method", ["apg", "interval", "cfgpp", "rescale"])
def test_a_methods_own_settings_reach_the_spec(method):
    at = controls(method)
    choice = at.session_state["choice"]
    own = {s.name for s in settings_for(method)}
    assert {name for name, _ in choice.spec.settings} == own
    if any(s.replaces == GAMMA.name for s in settings_for(method)):  # CFG++: λ instead of γ
        assert choice.spec.gamma == GAMMA.default and choice.scale_text.startswith("λ")
    else:
        assert choice.spec.gamma == DEFAULT_GAMMA


def test_moving_the_noise_level_changes_only_t():
    at = controls("cfg")
    at.select_slider(key="field_t").set_value(25).run()
    assert at.session_state["choice"].spec == FieldSpec(model="exact", guidance="cfg", gamma=DEFAULT_GAMMA, label=1, t=25)


def test_command_lines():
    assert field_command(FieldSpec(guidance="cfg", gamma=7.0, label=1)) == (
        "python -m viz.export --data gmm2d --model exact --guidance cfg --gamma 7 --label 1 --figure field --out field.gif")
    cfgpp = field_command(FieldSpec(guidance="cfgpp", label=0, settings=(("cfgpp_lambda", 0.4),)))
    assert "--gamma" not in cfgpp and "--cfgpp-lambda 0.4" in cfgpp
    apg = field_command(FieldSpec(guidance="apg", settings=(("apg_beta", 0.5), ("apg_eta", 0.0), ("apg_r", 2.0))))
    assert "--apg-beta 0.5" in apg and "--apg-r 2" in apg


def test_the_command_line_writes_the_pages_gif(tmp_path, monkeypatch):
    """The page's animation and its printed command give the same bytes (3 levels here, to be quick)."""
    monkeypatch.setattr(ui.field, "FIELD_GIF_FRAMES", 3)
    field_animation.clear()
    spec = FieldSpec(model="exact", guidance="interval", gamma=4.0, label=2, t=DEFAULT_T,
                     settings=(("interval_hi", 2.0), ("interval_lo", 0.2)))
    page_bytes, story = field_animation(spec)
    argv = shlex.split(field_command(spec))[3:]  # after "python -m viz.export"
    out = tmp_path / "field.gif"
    argv[argv.index("--out") + 1] = str(out)
    assert main(argv + ["--frames", "3"]) == 0
    assert out.read_bytes() == page_bytes and gif_frame_count(page_bytes) == 3
    assert "t = 0" in story


def test_digits_get_a_reason():
    text = why_not("digits")
    assert "gmm2d" in text and "64 dimensions" in text
