"""Every page on both noising paths (issue 19): it runs without a traceback or an error box, shows a step's
level in the path's words, and samples on the sidebar's path and shift; every sampler a path offers and
every model (the flow network falls back to the exact one, as the VP network does, where its weights are
missing); a link carries the path and the shift."""

import pytest
from streamlit.testing.v1 import AppTest

import ui.run_cache
from models.engine.names import MODEL_NAMES, PATH_NAMES, PATH_SAMPLERS
from models.engine.settings import SHIFT
from tests.apptest import ROOT
from ui.page_list import PAGES
from ui.views import LEVEL_LABELS


def path_app(page: str, path: str, *, data: str = "digits", model: str = "exact", sampler: str | None = None,
             shift: float | None = None, steps: int = 6) -> AppTest:
    """``page`` opened by a link with these sidebar settings (the link checks them as a teacher's would); the
    first page is the one the link opens (after ``switch_page`` AppTest stops reading the URL back)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    params = {"data": data, "path": path, "model": model, "steps": str(steps)}
    params |= {"sampler": sampler} if sampler else {}
    params |= {"shift": f"{shift:g}"} if shift is not None else {}
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    file = page.file if hasattr(page, "file") else page
    if file != PAGES[0].file:
        at.switch_page(file).run()
    return at


@pytest.mark.parametrize("path", PATH_NAMES)
@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_page_runs_on_both_paths(page, path, sample_calls):
    at = path_app(page, path, shift=3.0 if path == "flow" else None)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.selectbox(key="path").value == path
    levels = [m for m in at.metric if m.label in LEVEL_LABELS.values()]
    shown = "flow" if page.name == "diffusion_meets_flow" else path  # that page draws the run on flow
    assert all(m.label == LEVEL_LABELS[shown] for m in levels)  # the level in the path's words
    if shown == "flow":
        assert all(0 <= float(m.value) <= 1 for m in levels)  # σ, not an integer timestep
    # every run the sidebar decides is sampled on its path (the trade-off and field pages measure on VP)
    if page.name not in ("tradeoff", "guidance_field", "lecture"):
        assert any(c.path == path for c in sample_calls) or page.name == "high_dimensions"
        assert all(c.shift == (3.0 if c.path == path == "flow" else SHIFT.default) for c in sample_calls), [(c.path, c.shift, c.guidance) for c in sample_calls]


@pytest.mark.parametrize("model", MODEL_NAMES)
@pytest.mark.parametrize("sampler", PATH_SAMPLERS["flow"])
def test_the_sampling_page_on_flow_with_every_sampler_and_model(sampler, model, sample_calls):
    at = path_app("pages/sampling.py", "flow", data="gmm2d", model=model, sampler=sampler)
    assert not at.exception and not at.error
    assert at.selectbox(key="sampler").value == sampler and at.selectbox(key="model").value == model
    ran = sample_calls[-1]
    assert (ran.path, ran.sampler) == ("flow", sampler)
    missing = ui.run_cache.unavailable("gmm2d", model) is not None
    assert ran.model == ("exact" if missing else model)  # missing weights: the exact model, with a warning
    assert any("could not be loaded" in w.value for w in at.warning) == missing


def test_a_link_carries_the_path_and_the_shift_and_a_sampler_the_path_lacks_is_replaced():
    at = path_app("pages/sampling.py", "flow", sampler="ddim", shift=3.0)
    assert not at.exception and not at.error
    assert at.selectbox(key="sampler").value == "euler"  # DDIM with eta 0 is Euler on the flow path
    assert at.slider(key="shift").value == 3.0
    written = dict(at.query_params)
    assert (written["path"], written["shift"], written["sampler"]) == ("flow", "3", "euler")
    at.selectbox(key="path").set_value("vp").run()
    written = dict(at.query_params)
    assert written["path"] == "vp" and "shift" not in written  # vp reads no shift


def test_a_shift_off_the_slider_is_left_out_with_a_note():
    at = path_app("pages/sampling.py", "flow", shift=0.3)
    assert not at.exception and not at.error
    assert at.slider(key="shift").value == SHIFT.default
    assert any("shift='0.3'" in c.value for c in at.caption)


def test_the_field_page_says_it_draws_the_vp_path():
    at = path_app("pages/guidance_field.py", "flow", data="gmm2d")
    assert not at.exception and not at.error
    assert any("drawn on the diffusion (VP) path" in c.value for c in at.caption)


def test_missing_flow_weights_fall_back_to_the_exact_model_as_the_vp_network_does(tmp_path, monkeypatch, sample_calls):
    import shutil

    from models.engine.names import ASSETS_ENV

    for f in (ROOT / "assets").iterdir():  # every shipped network but the flow path's own
        if f.is_file() and "_flow_denoiser." not in f.name:
            shutil.copy(f, tmp_path / f.name)
    monkeypatch.setenv(ASSETS_ENV, str(tmp_path))
    at = path_app("pages/sampling.py", "flow", data="gmm2d", model="neural_flow")
    assert not at.exception and not at.error
    model = at.selectbox(key="model")
    assert model.value == "neural_flow" and "neural_flow · unavailable, showing exact" in model.options
    assert any("could not be loaded" in w.value for w in at.warning)
    assert sample_calls[-1].model == "exact" and sample_calls[-1].path == "flow"
