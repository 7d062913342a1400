"""The app under AppTest, opened on one page with the sidebar's data set, model and steps chosen
(``open_page``; ``page_app`` also checks it ran; ``app`` sets the model and steps before and after
switching), and the images' media URLs the page tests compare."""

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


def app(model: str = "exact", steps: int = 12, page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.selectbox(key="model").set_value(model)
    at.slider(key="steps").set_value(steps)
    at.run()
    if page:
        at.switch_page(page).run()
        at.selectbox(key="model").set_value(model)
        at.slider(key="steps").set_value(steps)
        at.run()
    assert not at.exception, at.exception
    return at


def image_urls(at: AppTest) -> list[str]:
    return [im.proto.imgs[0].url for im in at.get("image")]


def page_app(page: str, model: str = "exact", steps: int = 12, data: str = "digits") -> AppTest:
    at = open_page(page, data=data, model=model, steps=steps)
    assert not at.exception, at.exception
    return at
