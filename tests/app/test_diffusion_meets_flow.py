"""The "Diffusion meets flow" page under AppTest: the sidebar's run drawn on the flow path by the flow view,
its level and the same point on VP read from match_level, the words on the two paths, and the chart of the
two networks' distance drawn from the analysis' answer (a made-up one here: the real one measures for
half a minute), with its sentence read off those numbers; a missing network is said in words."""

import numpy as np
import pytest

import models.analysis.path_gap
import ui.run_cache
from models.engine.loading import WeightsError
from models.engine.schedule import make_schedule
from models.flow.path import match_level
from tests.apptest import image_urls
from tests.app.test_flow_path import path_app
from ui.views import FLOW_KIND

PAGE = "pages/diffusion_meets_flow.py"
SIGMA = np.round(np.linspace(0.05, 1.0, 20), 10)


def made_up(data, sigmas=None, n=0, seed=0, assets=None):
    """An answer of ``path_gap``'s shape: the networks differ most at sigma = 0.4 (0.08)."""
    hump = 0.02 + 0.06 * np.exp(-((SIGMA - 0.4) / 0.15) ** 2)
    return {"sigma": SIGMA, "vp_t": SIGMA * 999, "vp_clipped": SIGMA >= 1.0,
            "cond_native_vs_mapped": hump, "cond_native_vs_exact": 0.5 * hump, "cond_mapped_vs_exact": hump,
            "uncond_native_vs_mapped": hump, "uncond_native_vs_exact": hump, "uncond_mapped_vs_exact": hump}


@pytest.fixture
def answer(monkeypatch):
    """The analysis stands in with ``made_up`` (the page's cache emptied before and after)."""
    monkeypatch.setattr(models.analysis.path_gap, "path_gap", made_up)
    ui.run_cache.path_gap_view.clear()
    yield
    ui.run_cache.path_gap_view.clear()


@pytest.mark.parametrize("path", ["vp", "flow"])
def test_the_run_is_drawn_on_the_flow_path_with_its_level_in_both_words(path, answer, frame_calls, sample_calls):
    at = path_app(PAGE, path, shift=3.0 if path == "flow" else None)
    assert not at.exception and not at.error
    kind, spec, *_ = frame_calls[-1]
    assert kind == FLOW_KIND == "flow" and spec.path == "flow" and spec.shift == (3.0 if path == "flow" else 1.0)
    assert sample_calls[-1] == spec
    traj = ui.run_cache.cached_trajectory(spec)
    k = at.slider(key="step").value - 1
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["flow level σ"] == traj.level_text(k).split(" = ")[1]
    factor, t, _, _ = match_level(traj.alpha[k], traj.sigma[k], make_schedule("linear"))
    assert metrics["the same point on the VP path"] == f"t ≈ {float(t):.0f}"
    assert any(f"{float(factor):.3g} = 1 / √" in c.value for c in at.caption)
    said = any("this page draws the same run on the flow path" in c.value for c in at.caption)
    assert said == (path == "vp")  # the sidebar's VP run is shown on flow, and the page says so
    text = " ".join(m.value for m in at.markdown)
    for words in ("2209.03003", "2210.02747", "Gao et al. 2024", "DDIM with η = 0", "s_t / (a_t + s_t)"):
        assert words in text


def test_the_chart_and_its_sentence_come_from_the_analysis_numbers(answer):
    at = path_app(PAGE, "flow")
    assert not at.exception and not at.error and len(image_urls(at)) == 2  # the flow step and the chart
    text = " ".join(m.value for m in at.markdown)
    assert "differ most at σ = 0.40 (0.08)" in text and "agree best at σ = 1.00" in text
    assert "flow network is nearer the exact denoiser (0.04 against 0.08)" in text
    assert "At σ ≥ 1.00 the flow level is noisier than the VP schedule's noisiest step" in text
    assert f"same {ui.run_cache.GAP_POINTS} noisy points at each of 20 levels" in text


def test_a_missing_network_is_said_in_words(monkeypatch):
    def missing(*args, **kwargs):
        raise WeightsError("missing weights file assets/digits_flow_denoiser.pt")
    monkeypatch.setattr(models.analysis.path_gap, "path_gap", missing)
    ui.run_cache.path_gap_view.clear()
    try:
        at = path_app(PAGE, "flow")
        assert not at.exception and not at.error
        assert len(at.info) == 1 and "could not be loaded on this server" in at.info[0].value
        assert "digits_flow_denoiser" not in at.info[0].value  # the file name goes to the server's log
    finally:
        ui.run_cache.path_gap_view.clear()
