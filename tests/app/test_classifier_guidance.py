"""The classifier guidance page under AppTest: universal guidance without its clean classifier names the
missing file and the command that trains it."""

from tests.apptest import app


def test_universal_guidance_without_its_classifier_says_which_file(tmp_path, monkeypatch):
    monkeypatch.setenv("GUIDANCE_LAB_ASSETS", str(tmp_path))
    at = app(page="pages/classifier_guidance.py")
    at.radio(key="cg_kind").set_value("universal").run()
    assert not at.exception
    assert any("digits_clean_classifier" in e.value and "python -m models.train" in e.value for e in at.error)
