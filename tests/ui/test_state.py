"""ui.state: a widget's value survives the runs that do not draw it (a page switch), through its
shadow copy, and the widget is never given two values."""

from streamlit.testing.v1 import AppTest


def script():
    import streamlit as st

    from ui.state import forget, keep, remember

    if st.session_state.get("forget"):
        forget("x")  # before the widget is drawn (as the sidebar forgets a class the new data set lacks)
    if st.session_state.get("draw", True):
        value = remember("x", st.slider("x", 0, 20, key=keep("x", 5)))
        st.write(f"x={value}")
    else:
        st.write("another page")


def test_a_widget_gets_its_value_back_after_runs_that_did_not_draw_it():
    at = AppTest.from_function(script, default_timeout=30)
    at.run()
    assert at.markdown[-1].value == "x=5"  # its default
    at.slider(key="x").set_value(17).run()
    assert at.markdown[-1].value == "x=17"
    at.session_state["draw"] = False
    at.run()
    at.run()  # Streamlit has dropped the undrawn widget's own value by now
    assert "x" not in at.session_state
    at.session_state["draw"] = True
    at.run()
    assert at.markdown[-1].value == "x=17" and at.slider(key="x").value == 17
    assert not at.exception and not at.warning


def test_forget_starts_over_from_the_default():
    at = AppTest.from_function(script, default_timeout=30)
    at.run()
    at.slider(key="x").set_value(12).run()
    at.session_state["forget"] = True
    at.run()
    at.session_state["forget"] = False
    at.run()
    assert at.markdown[-1].value == "x=5"
