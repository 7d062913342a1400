"""ui.sidebar: the shared sidebar's widgets (the architecture's keys), the class kept in range when
the data set changes, and a page that reads the settings with or without app.py."""

from streamlit.testing.v1 import AppTest

from models.engine.data import DATA_NAMES
from models.engine.names import MODEL_NAMES, PATH_NAMES, PATH_SAMPLERS
from models.engine.settings import SHIFT
from ui.sidebar import PATH_LABELS


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
    for key in ("data", "path", "model", "sampler", "label", "projection"):
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
    assert len(at.sidebar.selectbox) == 6  # data, path, model, sampler, class, view
    at.slider(key="steps").set_value(9).run()
    assert at.session_state["settings"].steps == 9


def _has_shift(at) -> bool:
    return "shift" in [w.key for w in at.sidebar.slider]


def test_the_path_offers_its_samplers_and_the_shift_on_flow_only():
    at = AppTest.from_function(page_script, default_timeout=60)
    at.run()
    assert at.selectbox(key="path").options == [PATH_LABELS[p] for p in PATH_NAMES] == ["diffusion (VP)", "flow matching"]
    assert at.selectbox(key="sampler").options == list(PATH_SAMPLERS["vp"]) and not _has_shift(at)
    assert at.session_state["settings"].path == "vp" and at.session_state["settings"].shift == SHIFT.default
    at.selectbox(key="sampler").set_value("ddim").run()
    at.selectbox(key="path").set_value("flow").run()
    assert not at.exception
    # DDIM does not run on flow: the path's first sampler (euler, which DDIM with eta 0 becomes there)
    assert at.selectbox(key="sampler").options == list(PATH_SAMPLERS["flow"])
    assert at.selectbox(key="sampler").value == PATH_SAMPLERS["flow"][0] == "euler"
    shift = at.slider(key="shift")
    assert (shift.label, shift.min, shift.max, shift.value) == (SHIFT.label, SHIFT.slider[0], SHIFT.slider[1], SHIFT.default)
    shift.set_value(3.0).run()
    s = at.session_state["settings"]
    assert (s.path, s.sampler, s.shift) == ("flow", "euler", 3.0)
    at.selectbox(key="sampler").set_value("ddpm").run()
    at.selectbox(key="path").set_value("vp").run()  # ddpm runs on both paths: kept
    s = at.session_state["settings"]
    assert (s.path, s.sampler, s.shift) == ("vp", "ddpm", SHIFT.default) and not _has_shift(at)
    at.selectbox(key="path").set_value("flow").run()
    assert at.session_state["settings"].shift == 3.0  # the shift held while the vp path hid it


def test_the_flow_network_is_offered_in_plain_words():
    at = AppTest.from_function(page_script, default_timeout=60)
    at.run()
    model = at.selectbox(key="model")
    assert model.options[:len(MODEL_NAMES)] and "neural_flow" in MODEL_NAMES
    label = model.options[MODEL_NAMES.index("neural_flow")]
    assert "flow" in label and "neural_flow" not in label or "unavailable, showing exact" in label
