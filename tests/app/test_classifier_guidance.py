"""The classifier guidance page under AppTest: universal guidance without its clean classifier names the
missing file and the command that trains it."""

from tests.apptest import app


def test_universal_guidance_without_its_classifier_says_so_and_logs_which_file(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("GUIDANCE_LAB_ASSETS", str(tmp_path))
    at = app(page="pages/classifier_guidance.py")
    with caplog.at_level("ERROR", logger="guidance_lab"):
        at.radio(key="cg_kind").set_value("universal").run()
    assert not at.exception
    assert any("server's log" in e.value for e in at.error)
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "digits_clean_classifier" in logged and "python -m models.train" in logged
