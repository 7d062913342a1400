"""The guidance-field page under AppTest: it draws the field on gmm2d (exact and neural), follows its
controls, animates over the noise level, and on digits says why there is no field."""

import pytest

import ui.field
from tests.apptest import open_page

PAGE = "pages/guidance_field.py"


def field_app(data: str = "gmm2d", model: str = "exact"):
    at = open_page(PAGE, data=data, model=model)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


@pytest.mark.parametrize("model", ["exact", "neural"])
def test_the_field_renders_on_gmm2d(model):
    at = field_app(model="neural")  # the sidebar's model does not decide: the page opens on the exact one
    assert at.radio(key="field_model").value == "exact"
    at.radio(key="field_model").set_value(model).run()
    assert not at.exception and not at.error
    assert len(at.get("image")) == 1
    text = " ".join(m.value for m in at.markdown)
    assert "sink" in text and "σ = 0.52" in text  # the basins' sentence, at the default t = 150
    assert "--figure field" in at.code[0].value and f"--model {model}" in at.code[0].value
    assert ("than under the exact field" in text) == (model == "neural")  # where a network's field departs


def test_the_neural_field_says_where_it_departs_near_the_data():
    """Near the data the trained network's field has too few sinks: the page says how many and how much moved."""
    at = field_app()
    at.radio(key="field_model").set_value("neural").run()
    at.select_slider(key="field_t").set_value(0).run()
    at.slider(key="field_gamma").set_value(0.0).run()
    text = " ".join(m.value for m in at.markdown)
    assert not at.exception and "where the exact model's has 9" in text, text


def test_controls_redraw_the_field():
    at = field_app()
    before = at.get("image")[0].proto.imgs[0].url
    at.select_slider(key="field_t").set_value(25).run()
    assert not at.exception and "σ = 0.095" in " ".join(m.value for m in at.markdown)
    after_t = at.get("image")[0].proto.imgs[0].url
    at.selectbox(key="field_method").set_value("apg").run()
    assert not at.exception and not at.error
    assert "--guidance apg" in at.code[0].value
    assert len({before, after_t, at.get("image")[0].proto.imgs[0].url}) == 3


def test_the_animation_plays_over_the_noise_level(monkeypatch):
    monkeypatch.setattr(ui.field, "FIELD_GIF_FRAMES", 3)  # 3 levels instead of 40, to be quick
    ui.field.field_animation.clear()
    at = field_app()
    at.toggle(key="field_play").set_value(True).run()
    assert not at.exception and not at.error
    assert len(at.get("image")) == 2
    story = " ".join(m.value for m in at.markdown)
    assert "from the noisiest level" in story and "t = 0" in story
    assert at.get("download_button")


def test_digits_say_why_not_and_switch_in_one_click():
    at = field_app(data="digits")
    assert not at.get("image")
    assert any("gmm2d" in i.value and "64 dimensions" in i.value for i in at.info)
    at.button(key="field_switch").click().run()
    assert not at.exception and not at.error
    assert at.selectbox(key="data").value == "gmm2d" and len(at.get("image")) == 1
