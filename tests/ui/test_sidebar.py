"""ui.sidebar: the shared sidebar's widgets (the architecture's keys), the class kept in range when
the data set changes, and a page that reads the settings with or without app.py."""

from streamlit.testing.v1 import AppTest

from models.engine.data import DATA_NAMES


def page_script():
    import streamlit as st

    from ui.sidebar import current, sidebar_from_app

    if st.session_state.get("via_app"):
        sidebar_from_app()
    st.session_state["settings"] = current()


def test_the_sidebar_and_its_keys():
    at = AppTest.from_function(page_script, default_timeout=60)
    at.run()
    assert not at.exception
    for key in ("data", "model", "sampler", "label", "projection"):
        assert at.sidebar.selectbox(key=key)
    assert at.sidebar.slider(key="steps").value == 25 and at.sidebar.number_input(key="seed").value == 0
    assert at.selectbox(key="data").value == DATA_NAMES[0] and len(at.selectbox(key="data").options) == len(DATA_NAMES)
    s = at.session_state["settings"]
    assert (s.model, s.steps, s.seed, s.label, s.projection) == ("neural", 25, 0, 0, "pca")


def test_a_class_the_new_data_set_lacks_goes_back_to_the_first():
    at = AppTest.from_function(page_script, default_timeout=60)
    at.run()
    at.selectbox(key="label").set_value(7).run()
    assert at.session_state["settings"].label == 7
    at.selectbox(key="data").set_value("gmm2d").run()  # three classes
    assert at.session_state["settings"].label == 0 and not at.exception


def test_drawn_once_when_the_app_draws_it():
    at = AppTest.from_function(page_script, default_timeout=60)
    at.session_state["via_app"] = True
    at.run()
    assert not at.exception  # a second sidebar would repeat its widget keys and fail
    assert len(at.sidebar.selectbox) == 5
    at.slider(key="steps").set_value(9).run()
    assert at.session_state["settings"].steps == 9
