"""The classifier-free guidance page under AppTest: Play shows the animation, the class, projection and data
set resample or redraw, and missing weights fall back to the exact model with a message."""

from tests.apptest import app, image_urls


def test_play_shows_the_animation(sample_calls):
    at = app(page="pages/classifier_free_guidance.py")
    still = image_urls(at)[0]
    at.toggle(key="play").set_value(True).run()
    assert not at.exception
    assert image_urls(at)[0].startswith("data:image/gif;") and image_urls(at)[0] != still


def test_label_and_projection_and_data(sample_calls):
    at = app(page="pages/classifier_free_guidance.py")
    at.selectbox(key="label").set_value(5).run()
    assert sample_calls[-1].label == 5
    urls = image_urls(at)
    at.selectbox(key="projection").set_value("random").run()
    assert image_urls(at)[0] != urls[0] and not at.exception
    at.selectbox(key="data").set_value("gmm2d").run()  # 3 classes: the label falls back to 0
    assert not at.exception and sample_calls[-1].data == "gmm2d" and sample_calls[-1].label == 0


def test_missing_weights_fall_back_to_exact_with_a_message(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("GUIDANCE_LAB_ASSETS", str(tmp_path))
    with caplog.at_level("WARNING", logger="guidance_lab"):
        at = app(model="neural", steps=6, page="pages/classifier_free_guidance.py")
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "exact model" in text and "server's log" in text and "digits_denoiser" not in text  # plain words...
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "digits_denoiser" in logged and "python -m models.train" in logged  # ...the file and the command: the log
