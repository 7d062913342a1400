"""One card per guidance method (models.guidance.base.Card): a method is declared once, in its own
module, and everything else is derived. A method registered inside this test alone appears on both
command lines, on the zoo page and in a GIF export; the shipped methods' names are written in at
most three modules; each card's readout measures something that is not 0 by construction."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import models.guidance as guidance
from models.analysis.evaluate import build_parser as evaluate_parser
from models.engine.denoiser import Prediction
from models.engine.pipeline import SampleSpec, run
from models.guidance.base import Card, Guided, register, unconditional_and_conditional, unregister
from tests.app.test_guidance_zoo import choose, zoo_app
from viz import export, lecture_gifs
from viz.methods import views
from viz.views.catalog import figure_kinds

ROOT = Path(__file__).resolve().parents[3]
TOY = "halfway"


@pytest.fixture
def toy():
    """A method that exists only inside the test: CFG at half the scale, with no setting of its own."""
    card = Card(name=TOY, label="Half-way CFG (a test's own)", about="CFG at half the scale: a test's own method.",
                zoo=True, order=10_000, figure="half-way CFG step")

    @register(card)
    class HalfwayCFG(Guided):
        def predict(self, x_t, t, y):
            d_u, d_c = unconditional_and_conditional(self.denoiser, x_t, t, y)
            return Prediction(x0=d_u + 0.5 * self.gamma * (d_c - d_u), x0_uncond=d_u, x0_cond=d_c)

    yield card
    unregister(TOY)


def _choices(parser, flag: str) -> tuple:
    return next(a.choices for a in parser._actions if flag in a.option_strings)


def test_a_method_written_in_a_test_reaches_both_command_lines_and_the_export(toy, tmp_path):
    assert TOY in guidance.names() and TOY in guidance.zoo_names()
    assert TOY in _choices(export.build_parser(), "--guidance")
    assert TOY in _choices(evaluate_parser(), "--guidance")
    assert TOY in _choices(export.build_parser(), "--figure") and TOY in figure_kinds()
    assert TOY in lecture_gifs.build_parser().parse_args(["--out", str(tmp_path)]).guidance.split(",")
    out = tmp_path / "toy.gif"
    assert export.main(["--data", "gmm2d", "--model", "exact", "--guidance", TOY, "--label", "1", "--steps", "4",
                        "--batch", "2", "--frames", "5", "--figure", "paths", "--out", str(out)]) == 0
    assert out.read_bytes()[:6] == b"GIF89a"
    traj = run(SampleSpec(data="gmm2d", model="exact", guidance=TOY, gamma=4.0, label=1, steps=4, batch=2))
    d_u, d_c = traj.x0_uncond, traj.x0_cond
    np.testing.assert_allclose(traj.x0_hat, d_u + 2.0 * (d_c - d_u), rtol=1e-5, atol=1e-5)  # its own math ran
    assert traj.meta["guidance"] == TOY


def test_a_method_written_in_a_test_is_on_the_zoo_page(toy):
    at = zoo_app(data="gmm2d")
    assert TOY in at.selectbox(key="zoo_method").options or toy.label in at.selectbox(key="zoo_method").options
    choose(at, TOY)
    assert f"--guidance {TOY}" in at.code[0].value
    assert any(toy.about in m.value for m in at.markdown)


def test_every_newer_method_has_its_view_and_every_view_its_method():
    assert set(views()) == set(guidance.zoo_names())
    for name, view in views().items():
        assert view.kind == name and view.title


def test_autoguidance_readout_is_not_zero_where_the_prediction_moves():
    """It measures the distance from the main model's own prediction: 0 only where the method's x0 is that."""
    traj = run(SampleSpec(data="gmm2d", model="exact", guidance="autoguidance", gamma=3.0, label=1, steps=6, batch=3))
    readout = guidance.card("autoguidance").readout
    for k in range(traj.steps):
        d_u, d_c, guided = traj.x0_uncond[k, 0], traj.x0_cond[k, 0], traj.x0_hat[k, 0]
        value = readout.measure(d_u, d_c, guided, 3.0)
        assert value == pytest.approx(float(np.linalg.norm(guided - d_c)), rel=1e-6)
        if np.linalg.norm(guided - d_c) > 1e-6:
            assert value > 0
    moved = [readout.measure(traj.x0_uncond[k, 0], traj.x0_cond[k, 0], traj.x0_hat[k, 0], 3.0) for k in range(traj.steps)]
    assert max(moved) > 1e-3  # the weak and the main model differ somewhere along the run


@pytest.mark.parametrize("name", ["cfg", "rescale", "apg", "cfgpp", "mambo"])
def test_each_readout_is_its_cards_formula(name):
    d_u, d_c = np.array([0.0, 1.0]), np.array([1.0, 1.0])
    guided = d_u + 2.0 * (d_c - d_u) + np.array([0.0, 0.5])
    value = guidance.card(name).readout.measure(d_u, d_c, guided, 2.0)
    expected = {"cfg": 2.0, "cfgpp": float(np.linalg.norm(guided - d_u))}.get(name, 0.5)
    assert value == pytest.approx(expected)


def _python_modules() -> list[Path]:
    skip = {"tests", "benchmarks", "tools", ".venv", ".git", "__pycache__", "out"}
    return [p for p in ROOT.rglob("*.py") if not skip & set(p.relative_to(ROOT).parts)]


@pytest.mark.parametrize("name", ["cfgzero", "tcfg", "mambo", "apgmix", "autoguidance", "rescale"])
def test_a_method_is_named_in_at_most_three_modules(name):
    """Its engine module, its view module and at most one page that says more about it."""
    word = re.compile(rf"\b{name}\b")
    where = sorted(str(p.relative_to(ROOT)) for p in _python_modules() if word.search(p.read_text(encoding="utf-8")))
    assert len(where) <= 3, where
    assert f"models/guidance/zoo/{name}.py" in where and f"viz/methods/{name}.py" in where
