"""Every page under AppTest: it runs, and each widget changes what it should (and nothing else).

AppTest cannot see pixels, but each image's media URL carries a hash of its bytes, so a changed
URL means a changed picture. Sampling is counted by wrapping ``models.engine.pipeline.run``.
"""

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import ui.run_cache
import ui.view_cache
import ui.views


ROOT = Path(__file__).resolve().parents[2]
PAGES = ["pages/sampling.py", "pages/classifier_guidance.py", "pages/classifier_free_guidance.py",
         "pages/high_dimensions.py"]
GUIDANCE_PAGES = ["pages/classifier_guidance.py", "pages/classifier_free_guidance.py"]


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


def metrics(at: AppTest) -> list[str]:
    return [m.value for m in at.metric]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_error(page):
    at = app(page=page)
    assert not at.exception and not at.error
    assert len(at.get("image")) >= 1 or page.endswith("high_dimensions.py")
    assert at.title and at.markdown


@pytest.mark.parametrize("page", GUIDANCE_PAGES)
def test_gamma_resamples_and_redraws(page, sample_calls):
    at = app(page=page)
    before_urls, before_metrics, n = image_urls(at), metrics(at), len(sample_calls)
    at.slider(key="gamma").set_value(6.5).run()
    assert not at.exception
    assert len(sample_calls) == n + 1 and sample_calls[-1].gamma == 6.5  # a new trajectory
    assert image_urls(at)[0] != before_urls[0]  # a new construction figure
    assert metrics(at)[2] != before_metrics[2]  # |gamma * guidance vector| changed
    assert image_urls(at)[1:] == before_urls[1:]  # the fixed-gamma overlay did not change


@pytest.mark.parametrize("page", ["pages/sampling.py", *GUIDANCE_PAGES])
def test_step_scrubber_changes_the_frame_not_the_trajectory(page, sample_calls):
    at = app(page=page)
    before_urls, before_metrics, n = image_urls(at), metrics(at), len(sample_calls)
    at.slider(key="step").set_value(2).run()
    assert not at.exception
    assert len(sample_calls) == n  # no re-sampling
    assert image_urls(at) != before_urls
    assert metrics(at)[0] != before_metrics[0]  # the timestep shown moved
    at.slider(key="step").set_value(2).run()
    assert len(sample_calls) == n


def test_sampling_page_widgets(sample_calls):
    at = app()
    urls, n = image_urls(at), len(sample_calls)
    at.checkbox(key="conditional").check().run()  # conditional sampling: a new run
    assert len(sample_calls) == n + 1 and sample_calls[-1].label == 0 and sample_calls[-1].guidance == "none"
    at.radio(key="build").set_value("prediction").run()  # build-up stage: a different picture, same run
    assert len(sample_calls) == n + 1 and image_urls(at)[1] != urls[1]
    at.selectbox(key="sampler").set_value("ddim").run()
    assert sample_calls[-1].sampler == "ddim"
    at.number_input(key="seed").set_value(3).run()
    assert sample_calls[-1].seed == 3
    assert not at.exception


def test_play_shows_the_animation(sample_calls):
    at = app(page="pages/classifier_free_guidance.py")
    still = image_urls(at)[0]
    at.toggle(key="play").set_value(True).run()
    assert not at.exception
    assert image_urls(at)[0].endswith(".gif") and image_urls(at)[0] != still


def test_label_and_projection_and_data(sample_calls):
    at = app(page="pages/classifier_free_guidance.py")
    at.selectbox(key="label").set_value(5).run()
    assert sample_calls[-1].label == 5
    urls = image_urls(at)
    at.selectbox(key="projection").set_value("random").run()
    assert image_urls(at)[0] != urls[0] and not at.exception
    at.selectbox(key="data").set_value("gmm2d").run()  # 3 classes: the label falls back to 0
    assert not at.exception and sample_calls[-1].data == "gmm2d" and sample_calls[-1].label == 0


def test_neural_model_pages_run():
    for page in GUIDANCE_PAGES:
        at = app(model="neural", steps=8, page=page)
        assert not at.exception and not at.error


def test_missing_weights_fall_back_to_exact_with_a_message(tmp_path, monkeypatch):
    monkeypatch.setenv("GUIDANCE_LAB_ASSETS", str(tmp_path))
    at = app(model="neural", steps=6, page="pages/classifier_free_guidance.py")
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "digits_denoiser" in text and "python -m models.train" in text and "exact model" in text


def test_universal_guidance_without_its_classifier_says_which_file(tmp_path, monkeypatch):
    monkeypatch.setenv("GUIDANCE_LAB_ASSETS", str(tmp_path))
    at = app(page="pages/classifier_guidance.py")
    at.radio(key="cg_kind").set_value("universal").run()
    assert not at.exception
    assert any("digits_clean_classifier" in e.value and "python -m models.train" in e.value for e in at.error)


def sidebar_and_page_state(at: AppTest) -> dict:
    """What should follow the teacher from page to page."""
    return {"step": at.slider(key="step").value, "gamma": at.slider(key="gamma").value,
            "seed": at.number_input(key="seed").value, "label": at.selectbox(key="label").value,
            "projection": at.selectbox(key="projection").value, "steps": at.slider(key="steps").value}


def test_step_gamma_seed_class_and_view_survive_a_round_trip_between_the_guidance_pages(sample_calls):
    at = app(page="pages/classifier_free_guidance.py")
    at.slider(key="step").set_value(9).run()
    at.slider(key="gamma").set_value(6.5).run()
    at.number_input(key="seed").set_value(4).run()
    at.selectbox(key="label").set_value(3).run()
    at.selectbox(key="projection").set_value("random").run()
    chosen = sidebar_and_page_state(at)
    assert chosen == {"step": 9, "gamma": 6.5, "seed": 4, "label": 3, "projection": "random", "steps": 12}
    picture, t = image_urls(at)[0], metrics(at)[0]
    at.switch_page("pages/classifier_guidance.py").run()
    assert not at.exception and sidebar_and_page_state(at) == chosen
    assert ("classifier", 6.5, 4, 3) in {(c.guidance, c.gamma, c.seed, c.label) for c in sample_calls}
    assert metrics(at)[0] == t  # the same step's timestep
    at.switch_page("pages/high_dimensions.py").run()  # a page without a step or a γ
    at.switch_page("pages/classifier_free_guidance.py").run()
    assert not at.exception and sidebar_and_page_state(at) == chosen
    assert image_urls(at)[0] == picture  # the very picture left behind


STEP_IN_TITLE = re.compile(r"step (\d+)/(\d+)")


@pytest.mark.parametrize("page, kind", [("pages/classifier_free_guidance.py", "cfg"),
                                        ("pages/classifier_guidance.py", "classifier"),
                                        ("pages/guidance_zoo.py", "cfg")])
def test_the_scrubber_shows_the_step_the_figure_shows(page, kind, monkeypatch):
    drawn = []
    real = ui.views.view_frame

    def recording(*args, **kwargs):
        drawn.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(ui.views, "view_frame", recording)
    at = app(page=page)
    for value in (at.slider(key="step").value, 1, 7, 12):
        at.slider(key="step").set_value(value).run()
        scrubber = at.slider(key="step")
        said = scrubber.proto.format % scrubber.value  # what the scrubber's thumb shows
        assert said == f"step {value} of 12"
        shown_kind, spec, projection, sample, frame, stages, basis, pair = drawn[-1]
        assert shown_kind == kind and pair is None  # one run: its own camera
        view = ui.view_cache._shared_view(kind, spec, projection, sample, stages, basis)
        title = STEP_IN_TITLE.search(view.title_at(frame))
        assert title and (int(title[1]), int(title[2])) == (value, 12), (said, view.title_at(frame))
