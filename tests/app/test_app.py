"""The app across its pages under AppTest: every page runs, gamma and the step scrubber change what they
should (and nothing else) on each page that has them, the settings follow the teacher from page to page,
the scrubber shows the step the figure shows, the neural model's pages run, and the side-by-side and
trade-off pages offer diffusers' guiders and refuse fdg on gmm2d in one error box. Each page's own
widgets: test_<page>.py.

AppTest cannot see pixels, but each image's URL is a data URL of its bytes, so a changed
URL means a changed picture. Sampling is counted by wrapping ``models.engine.pipeline.run``."""

import re

import pytest
from streamlit.testing.v1 import AppTest

import ui.view_cache

from tests.app.test_guidance_zoo import GUIDERS, zoo_app
from tests.apptest import app, image_urls, open_page, page_app


PAGES = ["pages/sampling.py", "pages/classifier_guidance.py", "pages/classifier_free_guidance.py",
         "pages/high_dimensions.py"]
GUIDANCE_PAGES = ["pages/classifier_guidance.py", "pages/classifier_free_guidance.py"]


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


def test_neural_model_pages_run():
    for page in GUIDANCE_PAGES:
        at = app(model="neural", steps=8, page=page)
        assert not at.exception and not at.error


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
def test_the_scrubber_shows_the_step_the_figure_shows(page, kind, frame_calls):
    drawn = frame_calls
    at = app(page=page)
    for value in (at.slider(key="step").value, 1, 7, 12):
        at.slider(key="step").set_value(value).run()
        scrubber = at.slider(key="step")
        said = scrubber.proto.format % scrubber.value  # what the scrubber's thumb shows
        assert said == f"step {value} of 12"
        shown_kind, spec, projection, sample, frame, stages, basis, pair, width = drawn[-1]
        assert shown_kind == kind and pair is None  # one run: its own camera
        view = ui.view_cache._shared_view(kind, spec, projection, sample, stages, basis)
        title = STEP_IN_TITLE.search(view.title_at(frame))
        assert title and (int(title[1]), int(title[2])) == (value, 12), (said, view.title_at(frame))


NEW_PAGES = ["pages/tradeoff.py", "pages/side_by_side.py", "pages/lecture.py"]


@pytest.mark.parametrize("page", NEW_PAGES)
def test_new_page_runs_without_error(page):
    at = page_app(page)
    assert not at.exception and not at.error
    assert len(at.get("image")) >= 1 and at.title


def test_side_by_side_and_tradeoff_offer_and_run_the_guiders():
    at = open_page("pages/side_by_side.py", data="gmm2d", steps=6)
    assert set(GUIDERS) <= set(at.selectbox(key="sbs_left_guidance").options)
    at.selectbox(key="sbs_left_guidance").set_value("tcfg")
    at.selectbox(key="sbs_right_guidance").set_value("apgmix").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [h.value for h in at.subheader][:2] == ["tcfg, γ = 1", "apgmix, γ = 5"]
    at = open_page("pages/tradeoff.py", data="gmm2d", steps=6)
    assert set(GUIDERS) <= set(at.selectbox(key="tradeoff_guidance").options)
    at.selectbox(key="tradeoff_guidance").set_value("mambo").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "--guidance mambo" in "".join(c.value for c in at.code)


def _error_without_traceback(at):
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert errors and any("8x8 images" in e for e in errors), errors
    assert not any("Traceback" in e for e in errors)


def test_fdg_on_gmm2d_shows_one_error_on_every_page():
    """gmm2d's 2-D points are not images: the zoo, side-by-side and trade-off pages say so in an
    error box, with no traceback."""
    at = zoo_app(data="gmm2d")
    at.selectbox(key="zoo_method").set_value("fdg").run()
    _error_without_traceback(at)
    at = open_page("pages/side_by_side.py", data="gmm2d", steps=6)
    assert "fdg" in at.selectbox(key="sbs_left_guidance").options
    at.selectbox(key="sbs_left_guidance").set_value("fdg").run()
    _error_without_traceback(at)
    at = open_page("pages/tradeoff.py", data="gmm2d", steps=6)
    assert "fdg" in at.selectbox(key="tradeoff_guidance").options
    at.selectbox(key="tradeoff_guidance").set_value("fdg").run()
    _error_without_traceback(at)
