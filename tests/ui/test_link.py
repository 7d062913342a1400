"""ui.link: a link's settings reach their widgets before they are drawn, bad values are left out with
a note, and the URL follows the widgets (the page's own link; the browser test opens one by URL)."""

from streamlit.testing.v1 import AppTest

from tests.robustness.conftest import ROOT


def _app(**params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def test_a_links_settings_reach_the_sidebar_and_the_step():
    at = _app(steps="12", seed="7", step="5", model="exact", view="random", **{"class": "3"})
    assert not at.exception and not at.error
    assert at.slider(key="steps").value == 12 and at.number_input(key="seed").value == 7
    assert at.selectbox(key="model").value == "exact" and at.selectbox(key="projection").value == "random"
    assert at.selectbox(key="label").value == 3 and at.slider(key="step").value == 5
    written = dict(at.query_params)
    assert written["steps"] == "12" and written["seed"] == "7" and written["step"] == "5" and written["class"] == "3"


def test_bad_values_are_left_out_with_one_note_and_never_break_the_page():
    at = _app(steps="100000", seed="abc", gamma="5.3", data="cifar", step="0", nonsense="1")
    assert not at.exception and not at.error
    note = " ".join(c.value for c in at.caption)
    for part in ("steps='100000'", "seed='abc' (not a number)", "data='cifar'", "step='0'", "nonsense='1'"):
        assert part in note, note
    assert at.slider(key="steps").value == 25 and at.selectbox(key="data").value == "digits"  # their own values


def test_moving_a_widget_rewrites_the_link():
    at = _app()
    at.slider(key="steps").set_value(9).run()
    assert dict(at.query_params)["steps"] == "9"
