"""The trade-off page under AppTest (the whole app): the curves are measured for the chosen method and
cached, the tilted density is drawn on gmm2d, the exact-target section draws its figure and its sentence
on gmm2d and says in words why it is absent on the digits, and a CFG++ sweep on the page is over λ."""

import pytest

import models.analysis.evaluate
import ui.run_cache
import ui.tradeoff
import ui.view_cache
from models.analysis.tilted_target_gap import FLOW_ODE, GAP_SAMPLERS
from models.analysis.tradeoff import DEFAULT_LAMBDAS
from ui.tradeoff import GAP_KEYS, NO_EXACT_TARGET

from tests.apptest import image_urls, open_page, page_app


SMALL_GAP = dict(GAP_SAMPLES=200, GAP_GAMMAS=(0.0, 3.0, 7.0), GAP_STEPS=30)  # the page's layout, quicker


@pytest.fixture
def small_gap(monkeypatch):
    for name, value in SMALL_GAP.items():
        monkeypatch.setattr(ui.tradeoff, name, value)
    ui.run_cache.gap_run.clear()


def urls(at) -> list[str]:
    return [im.proto.imgs[0].url for im in at.get("image")]


def test_the_section_renders_on_gmm2d_with_its_sentence_and_figure(small_gap):
    at = open_page("pages/tradeoff.py", data="gmm2d", model="exact", steps=12)
    assert not at.exception and not at.error
    assert [h.value for h in at.subheader][-1] == "Does guided sampling reach that density?"
    assert len(at.get("image")) == 3  # the curves, the tilted density, the exact target
    sentence, paths = at.markdown[-2].value, at.markdown[-1].value
    assert sentence.startswith("At γ = 7 DDPM") and "Langevin corrector step" in sentence and "exact draws score" in sentence
    assert paths.startswith("At γ = 7 flow Euler on the flow path scores") and "DDIM (η = 0) on the VP path" in paths
    assert any("Monte Carlo error" in c.value for c in at.caption)
    figure = urls(at)[-1]
    at.radio(key=GAP_KEYS["sampler"]).set_value(GAP_SAMPLERS[2].name).run()
    assert not at.exception and urls(at)[-1] != figure and at.markdown[-2].value == sentence  # same numbers, other dots
    at.select_slider(key=GAP_KEYS["gamma"]).set_value(3.0).run()
    assert not at.exception and at.markdown[-2].value.startswith("At γ = 3 DDPM")


def test_the_flow_sampler_is_a_choice_beside_the_exact_draws(small_gap):
    """The section's fourth curve runs on the flow path; choosing it shows its own samples beside the exact
    draws (another picture, the same sentences), with the sidebar on either path."""
    at = open_page("pages/tradeoff.py", data="gmm2d", model="exact", steps=12)
    assert FLOW_ODE.name in at.radio(key=GAP_KEYS["sampler"]).options and FLOW_ODE.path == "flow"
    words, figure = [m.value for m in at.markdown[-2:]], urls(at)[-1]
    at.radio(key=GAP_KEYS["sampler"]).set_value(FLOW_ODE.name).run()
    assert not at.exception and not at.error
    assert urls(at)[-1] != figure and [m.value for m in at.markdown[-2:]] == words
    at.selectbox(key="path").set_value("flow").run()  # the sidebar on flow: the section's runs keep their own paths
    assert not at.exception and not at.error and [m.value for m in at.markdown[-2:]] == words
    # ... while the curves at the top follow the sidebar onto the flow path, as their command line says
    assert any("--path flow" in c.value for c in at.code)


def test_cfgpp_on_the_flow_path_is_refused_in_words():
    at = open_page("pages/tradeoff.py", data="gmm2d", model="exact", steps=8)
    at.selectbox(key="path").set_value("flow").run()
    at.selectbox(key="tradeoff_guidance").set_value("cfgpp").run()
    assert not at.exception
    assert [e.value for e in at.error] == ["This method cannot be evaluated with these settings: cfgpp (CFG++) needs "
                                           "the ddim sampler, which the flow path does not offer: use path vp"]


def test_the_section_says_why_it_is_absent_on_digits():
    at = open_page("pages/tradeoff.py", data="digits", model="exact", steps=12)
    assert not at.exception and not at.error
    assert [i.value for i in at.info] == [NO_EXACT_TARGET]
    assert "p(y | x) is 0 or 1 at every image" in NO_EXACT_TARGET and "on gmm2d only" in NO_EXACT_TARGET
    assert not at.get("progress") and GAP_KEYS["gamma"] not in at.session_state


def test_cfgpp_on_the_page_sweeps_lambda():
    ui.run_cache.evaluation_row.clear()
    at = open_page("pages/tradeoff.py", data="gmm2d", model="exact", steps=8)
    at.selectbox(key="sampler").set_value("ddim")
    at.selectbox(key="tradeoff_guidance").set_value("cfgpp").run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table["cfgpp_lambda"]) == list(DEFAULT_LAMBDAS)
    assert not any("does not use the scale γ" in i.value for i in at.info)  # every λ samples differently
    assert f"--guidance cfgpp --gammas {','.join(f'{v:g}' for v in DEFAULT_LAMBDAS)}" in at.code[0].value
    assert "reads its own weight λ in place of γ" in at.info[-1].value  # no exact target for CFG++


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


def test_tradeoff_curves_use_the_chosen_guidance(evaluations):
    at = page_app("pages/tradeoff.py")
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
    at = page_app("pages/tradeoff.py")
    n = len(evaluations)
    at.run()
    assert len(evaluations) == n  # cached: a rerun measures nothing again
    at.select_slider(key="tradeoff_samples").set_value(200).run()
    assert not at.exception and len(evaluations) == n + 8


def test_tradeoff_draws_the_tilted_density_on_gmm2d():
    at = page_app("pages/tradeoff.py", data="gmm2d")
    assert not at.exception and not at.error
    assert len(at.get("image")) == 3  # the curves, the tilted density and the exact target (tests/app/test_tradeoff.py)
    assert any("blobs of class" in m.value for m in at.markdown)
    before = image_urls(at)[1]
    at.select_slider(key="tradeoff_t").set_value(300).run()
    assert not at.exception and image_urls(at)[1] != before
