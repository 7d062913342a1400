"""Extreme settings: γ up to ±100 on the command line and 10 (the slider's end) on the pages, 1 step,
1000 steps, batch 1. No NaN or inf reaches a figure or a number on a page; the pages warn when the
samples leave the data's range; a run that does diverge is refused in plain words, never drawn.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import models.engine.pipeline
import ui.run_cache
import ui.view_cache
import viz.export
from models.engine.pipeline import SampleSpec
from models.engine.settings import GAMMA
from models.engine.trajectory import Trajectory
from tests.apptest import open_page
from tests.robustness.conftest import assert_one_line_error, call_main
from viz.draw.geometry import data_range, outside_range
from viz.gif import gif_frame_count

# (options, GIF frames expected or None): every view and guidance at the ends of the ranges
CLI_CASES = [
    (["--guidance", "cfg", "--gamma", "100", "--steps", "1", "--figure", "cfg", "--projection", "plane"], 1),
    (["--guidance", "cfg", "--gamma", "-100", "--steps", "2", "--sampler", "heun", "--figure", "paths"], 3),
    (["--guidance", "classifier", "--gamma", "100", "--steps", "1", "--figure", "classifier", "--projection", "plane"], 1),
    (["--guidance", "universal", "--gamma", "100", "--steps", "2", "--figure", "step"], 2),
    (["--guidance", "universal", "--gamma", "-100", "--steps", "1", "--figure", "trajectory", "--model", "exact"], 2),
    (["--guidance", "cfg", "--gamma", "100", "--steps", "1000", "--figure", "paths", "--model", "exact", "--frames", "11"], 11),
    (["--guidance", "classifier", "--gamma", "100", "--steps", "1000", "--sampler", "ddim", "--figure", "classifier",
      "--frames", "5"], 5),
    (["--data", "gmm2d", "--guidance", "cfg", "--gamma", "100", "--steps", "1000", "--sampler", "euler", "--figure", "paths",
      "--frames", "5"], 5),
    (["--data", "gmm2d", "--guidance", "universal", "--gamma", "100", "--steps", "1", "--figure", "noising", "--frames", "3"], 3),
    # the guidance zoo, each in its own construction view
    (["--guidance", "rescale", "--gamma", "100", "--rescale-phi", "1", "--steps", "1", "--figure", "rescale",
      "--projection", "plane"], 1),
    (["--guidance", "apg", "--gamma", "100", "--apg-beta", "-0.9", "--apg-r", "0.01", "--steps", "1000", "--figure", "apg",
      "--frames", "5"], 5),
    (["--guidance", "interval", "--gamma", "-100", "--interval", "0,inf", "--steps", "2", "--figure", "interval"], 2),
    (["--guidance", "autoguidance", "--gamma", "100", "--steps", "1", "--figure", "autoguidance", "--model", "exact"], 1),
    (["--data", "gmm2d", "--guidance", "cfgpp", "--cfgpp-lambda", "1", "--sampler", "ddim", "--steps", "1000",
      "--figure", "cfgpp", "--frames", "5"], 5),
]


@pytest.mark.parametrize("options, frames", CLI_CASES, ids=[" ".join(c[0]) for c in CLI_CASES])
def test_export_at_the_ends_of_every_range(tmp_path, capsys, options, frames):
    gif, npz = tmp_path / "x.gif", tmp_path / "x.npz"
    code, out, err = call_main(viz.export.main, ["--batch", "1", "--label", "1", *options, "--out", str(gif),
                                                 "--npz", str(npz)], capsys)
    assert code == 0, err
    with np.load(npz, allow_pickle=False) as z:
        floats = {k: z[k] for k in z.files if z[k].dtype.kind == "f" and z[k].ndim}  # arrays, not settings (apg r = inf)
    assert floats and all(np.isfinite(a).all() for a in floats.values()), [k for k, a in floats.items() if not np.isfinite(a).all()]
    assert gif_frame_count(gif.read_bytes()) == frames


def test_a_diverging_run_is_refused_in_one_line_not_drawn(tmp_path, capsys):
    """APG with an absurd (finite) weight diverges: the command says so and writes nothing."""
    code, out, err = call_main(viz.export.main, ["--guidance", "apg", "--apg-eta", "1e300", "--steps", "3", "--batch", "2",
                                                 "--out", str(tmp_path / "x.gif")], capsys)
    assert "diverged" in assert_one_line_error(code, out, err, "python -m viz.export")
    assert not (tmp_path / "x.gif").exists()


# ------------------------------------------------------------------------- the pages


def _page(page: str, *, data: str = "digits", model: str = "neural", steps: int = 25, gamma: float | None = None,
          kind: str | None = None) -> AppTest:
    at = open_page(page, data=data, model=model, steps=steps, timeout=300)
    if kind:
        at.radio(key="cg_kind").set_value(kind).run()
    if gamma is not None:
        at.slider(key="gamma").set_value(gamma).run()
    return at


def _numbers_are_finite(at: AppTest) -> None:
    values = [m.value for m in at.metric]
    assert values and all(math.isfinite(float(v)) for v in values), values


PAGE_CASES = [  # (page, data, model, steps, gamma, classifier kind)
    ("pages/classifier_free_guidance.py", "digits", "neural", 1, 10.0, None),
    ("pages/classifier_guidance.py", "digits", "neural", 1, 10.0, "classifier"),
    ("pages/classifier_guidance.py", "digits", "neural", 1, 10.0, "universal"),
    ("pages/classifier_free_guidance.py", "gmm2d", "neural", 1000, 10.0, None),
    ("pages/sampling.py", "digits", "exact", 1000, None, None),
]


@pytest.mark.parametrize("page, data, model, steps, gamma, kind", PAGE_CASES)
def test_pages_at_the_ends_of_every_slider(page, data, model, steps, gamma, kind):
    at = _page(page, data=data, model=model, steps=steps, gamma=gamma, kind=kind)
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    _numbers_are_finite(at)
    assert len(at.get("image")) >= 2
    if gamma is None:
        return
    guidance = "cfg" if kind is None else kind
    traj = ui.run_cache.cached_trajectory(SampleSpec(data=data, model=model, sampler="ddpm", guidance=guidance, gamma=gamma,
                                                 label=0, steps=steps, seed=0, batch=8))  # what the page drew
    outside = int(outside_range(traj.samples, data_range(traj)).sum())
    warnings = [w.value for w in at.warning if "leave the data's range" in w.value]
    if outside:
        assert warnings and warnings[0].startswith(f"{outside} of 8 samples leave the data's range"), warnings
    else:
        assert not warnings, warnings
    if steps == 1 and data == "digits":
        assert outside > 0  # one step at γ = 10 overshoots: the warning is really shown somewhere


ZOO_CASES = [(m, "digits", 1) for m in ("cfg", "rescale", "apg", "interval", "autoguidance", "cfgpp")] + [
    ("apg", "gmm2d", 1000), ("interval", "gmm2d", 1000)]


@pytest.mark.parametrize("method, data, steps", ZOO_CASES)
def test_zoo_page_at_the_ends_of_its_sliders(method, data, steps):
    """The zoo page at γ = 10 (λ = 1 for CFG++), with each method's settings at their ends."""
    at = _page("pages/guidance_zoo.py", data=data, model="neural", steps=steps)
    at.selectbox(key="zoo_method").set_value(method).run()
    if method == "cfgpp":
        at.slider(key="zoo_lambda").set_value(1.0)
    else:
        at.slider(key="zoo_gamma").set_value(10.0)
    if method == "rescale":
        at.slider(key="zoo_phi").set_value(1.0)
    if method == "apg":
        at.slider(key="zoo_apg_eta").set_value(1.0)
        at.select_slider(key="zoo_apg_r").set_value(0.25)
        at.slider(key="zoo_apg_beta").set_value(-0.9)
    if method == "interval":
        at.select_slider(key="zoo_interval").set_value((0.0, math.inf))
    at.run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    _numbers_are_finite(at)
    assert len(at.get("image")) >= 2
    zoo = {"cfg": {}, "autoguidance": {}, "rescale": {"rescale_phi": 1.0}, "cfgpp": {"cfgpp_lambda": 1.0},
           "apg": {"apg_beta": -0.9, "apg_eta": 1.0, "apg_r": 0.25},
           "interval": {"interval_hi": math.inf, "interval_lo": 0.0}}[method]
    spec = SampleSpec(data=data, model="neural", sampler="ddim" if method == "cfgpp" else "ddpm", guidance=method,
                      gamma=GAMMA.default if method == "cfgpp" else 10.0, label=0, steps=steps, seed=0, batch=8, **zoo)
    traj = ui.run_cache.cached_trajectory(spec)  # what the page drew (CFG++ reads its λ, not γ: γ keeps its default)
    outside = int(outside_range(traj.samples, data_range(traj)).sum())
    warned = [w.value for w in at.warning if "leave the data's range" in w.value]
    assert warned == ([f"{outside} of 8 samples leave the data's range: guidance this strong overshoots the data."]
                      if outside else [])


@pytest.fixture
def diverging(monkeypatch):
    """Make every run at γ = 10 (and, for the overlay, γ = 7) return NaN, as a diverging sampler would."""
    real = models.engine.pipeline.run

    def run(spec, *args, **kwargs) -> Trajectory:
        traj = real(spec, *args, **kwargs)
        if spec.gamma in (7.0, 10.0) or spec.label == 9:
            traj.x = traj.x.copy()
            traj.x[-1, 0, 0] = np.nan
        return traj

    monkeypatch.setattr(ui.run_cache, "run", run)
    ui.run_cache.cached_trajectory.clear()
    ui.view_cache.overlay_png.clear()
    yield
    ui.run_cache.cached_trajectory.clear()
    ui.view_cache.overlay_png.clear()


@pytest.mark.parametrize("page", ["pages/classifier_free_guidance.py", "pages/classifier_guidance.py"])
def test_a_diverged_run_is_never_drawn_on_a_page(diverging, page):
    at = _page(page, model="exact", steps=4)
    assert not at.exception
    overlay_errors = [e.value for e in at.error]  # γ = 7 is in the fixed overlay
    assert any(e.startswith("This figure cannot be drawn") for e in overlay_errors), overlay_errors
    _numbers_are_finite(at)
    at.slider(key="gamma").set_value(10.0).run()
    assert not at.exception
    assert any("diverged" in e.value for e in at.error)
    assert not at.metric and not at.get("image")  # no number and no picture from the diverged run
    at.slider(key="gamma").set_value(2.0).run()  # and the page recovers
    assert not at.exception and len(at.get("image")) >= 1
    _numbers_are_finite(at)


def test_a_diverged_run_is_never_drawn_on_the_sampling_page(diverging):
    at = _page("pages/sampling.py", model="exact", steps=4)
    assert not at.exception and not at.error
    at.checkbox(key="conditional").check()
    at.selectbox(key="label").set_value(9)
    at.run()
    assert not at.exception and any("diverged" in e.value for e in at.error)
    assert not at.metric and len(at.get("image")) == 1  # only the noising photograph, above the run
