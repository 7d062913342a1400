"""The classroom and trade-off pages under AppTest: they run, the lecture's Back and Next move
through the whole deck, the trade-off curves are measured for the chosen method, and the two
columns of the side-by-side page do not affect each other."""


import pytest
from streamlit.testing.v1 import AppTest

import models.analysis.evaluate
import models.engine.pipeline
import ui.run_cache
import ui.view_cache
import ui.views
from tests.apptest import open_page
from viz.figures.lecture import SLIDES

NEW_PAGES = ["pages/tradeoff.py", "pages/side_by_side.py", "pages/lecture.py"]


def app(page: str, model: str = "exact", steps: int = 12, data: str = "digits") -> AppTest:
    at = open_page(page, data=data, model=model, steps=steps)
    assert not at.exception, at.exception
    return at


def image_urls(at: AppTest) -> list[str]:
    return [im.proto.imgs[0].url for im in at.get("image")]


@pytest.fixture
def evaluations(monkeypatch):
    """The guidance of every call of models.analysis.evaluate.evaluate (the trade-off page's cache is emptied first)."""
    calls = []
    real = models.analysis.evaluate.evaluate

    def recording(data, model, sampler, steps, guidance, *args, **kwargs):
        calls.append(guidance)
        return real(data, model, sampler, steps, guidance, *args, **kwargs)

    monkeypatch.setattr(models.analysis.evaluate, "evaluate", recording)  # ui.run_cache looks it up at call time
    ui.run_cache.evaluation_row.clear()
    ui.view_cache.curves_png.clear()
    return calls


@pytest.mark.parametrize("page", NEW_PAGES)
def test_new_page_runs_without_error(page):
    at = app(page)
    assert not at.exception and not at.error
    assert len(at.get("image")) >= 1 and at.title


def test_lecture_next_and_back_walk_the_whole_deck():
    at = app("pages/lecture.py")
    assert "lecture_slide" not in at.session_state or at.session_state["lecture_slide"] == 0
    assert at.title[0].value == SLIDES[0].title
    assert at.button(key="lecture_back").disabled
    seen = [image_urls(at)[0]]
    for i in range(1, len(SLIDES)):
        at.button(key="lecture_next").click().run()
        assert not at.exception and not at.error, (SLIDES[i].key, at.exception, at.error)
        assert at.session_state["lecture_slide"] == i and at.title[0].value == SLIDES[i].title
        seen.append(image_urls(at)[0])
    assert len(set(seen)) == len(SLIDES)  # every slide its own picture
    assert at.button(key="lecture_next").disabled
    at.button(key="lecture_back").click().run()
    assert at.session_state["lecture_slide"] == len(SLIDES) - 2 and at.title[0].value == SLIDES[-2].title
    assert image_urls(at)[0] == seen[-2]


def test_lecture_play_animates_each_slide_with_its_own_gif():
    at = app("pages/lecture.py", steps=6)
    at.toggle(key="play").set_value(True).run()
    played = []
    for i, slide in enumerate(SLIDES):
        if i:
            at.button(key="lecture_next").click().run()
        assert not at.exception and not at.error, (slide.key, at.exception, at.error)
        url = image_urls(at)[0]
        assert url.endswith(".gif"), (slide.key, url)
        played.append(url)
    assert len(set(played)) == len(SLIDES)  # media URLs name their bytes: every slide plays its own animation


def test_tradeoff_curves_use_the_chosen_guidance(evaluations):
    at = app("pages/tradeoff.py")
    assert evaluations and set(evaluations) == {"cfg"}
    before = image_urls(at)
    n = len(evaluations)
    at.selectbox(key="tradeoff_guidance").set_value("classifier").run()
    assert not at.exception and not at.error
    assert len(evaluations) == n + 8 and set(evaluations[n:]) == {"classifier"}  # one evaluation per gamma
    assert image_urls(at)[0] != before[0]
    text = " ".join(m.value for m in at.markdown)
    assert "arXiv 2105.05233" in text and "arXiv 2207.12598" in text and "agrees" in text


def test_tradeoff_samples_control_and_cache(evaluations):
    at = app("pages/tradeoff.py")
    n = len(evaluations)
    at.run()
    assert len(evaluations) == n  # cached: a rerun measures nothing again
    at.select_slider(key="tradeoff_samples").set_value(200).run()
    assert not at.exception and len(evaluations) == n + 8


def test_tradeoff_draws_the_tilted_density_on_gmm2d():
    at = app("pages/tradeoff.py", data="gmm2d")
    assert not at.exception and not at.error
    assert len(at.get("image")) == 3  # the curves, the tilted density and the exact target (tests/app/test_tradeoff.py)
    assert any("blobs of class" in m.value for m in at.markdown)
    before = image_urls(at)[1]
    at.select_slider(key="tradeoff_t").set_value(300).run()
    assert not at.exception and image_urls(at)[1] != before


def test_side_by_side_columns_share_one_basis_and_sample_independently(sample_calls, monkeypatch):
    drawn = []
    real = ui.views.view_frame

    def recording(*args, **kwargs):
        drawn.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(ui.views, "view_frame", recording)
    at = app("pages/side_by_side.py")
    text = " ".join(m.value for m in at.markdown) + " ".join(c.value for c in at.caption)
    assert "tick" not in text and "one basis" in text  # the figures have no ticks to read
    (_, left, *_, left_basis, left_pair), (_, right, *_, right_basis, right_pair) = drawn[-2:]
    # one basis for both runs (the sidebar says PCA), fitted to runs from the same noise, and one scale
    assert left_basis == right_basis == ui.run_cache.reference_runs(left)
    assert left_pair == right_pair == (("cfg", left), ("cfg", right))
    assert "one scale" in text
    assert ui.run_cache.basis_of(left_basis, "pca").kind == "pca"
    assert ui.run_cache.shared_basis((left, right), "pca_data") is None  # the data set's PCA is one basis already
    n = len(sample_calls)
    at.slider(key="sbs_right_gamma").set_value(7.5).run()
    assert not at.exception
    assert [(c.guidance, c.gamma) for c in sample_calls[n:]] == [("cfg", 7.5)]  # only the right run is new
    assert at.slider(key="sbs_left_gamma").value == 1.0
    n = len(sample_calls)
    at.selectbox(key="sbs_left_guidance").set_value("classifier").run()
    assert not at.exception and not at.error
    assert [c.guidance for c in sample_calls[n:]] == ["classifier"] and at.selectbox(key="sbs_right_guidance").value == "cfg"
    # two kinds of picture, still one basis and one scale
    assert [kind for kind, _ in drawn[-1][-1]] == ["classifier", "cfg"] and any("one scale" in c.value for c in at.caption)
    assert all(c.seed == sample_calls[0].seed for c in sample_calls)  # same seed on both sides


def test_side_by_side_paths_and_an_unsupported_pair():
    at = app("pages/side_by_side.py")
    at.radio(key="sbs_view").set_value("paths").run()
    assert not at.exception and not at.error and len(image_urls(at)) == 2
    at.selectbox(key="sbs_right_guidance").set_value("cfgpp").run()  # CFG++ needs DDIM; the sidebar says DDPM
    assert not at.exception
    assert len(at.error) == 1 and "ddim" in at.error[0].value and len(image_urls(at)) == 1
