"""The app under AppTest, opened on one page with the sidebar's data set, model and steps chosen."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]


def open_page(page: str, *, data: str = "digits", model: str = "exact", steps: int = 12,
              timeout: float = 180) -> AppTest:
    """``app.py`` run, switched to ``page``, then run again with these sidebar settings."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.run()
    at.switch_page(page).run()
    at.selectbox(key="data").set_value(data)
    at.selectbox(key="model").set_value(model)
    at.slider(key="steps").set_value(steps)
    at.run()
    return at
