"""ui.tradeoff: the measuring loop (a row per γ or CFG++'s λ, or one plain message), the verdicts, the
runs drawn on the tilted density, and the exact-target section (its runs, its sentence, why it is absent)."""

import pytest
from streamlit.testing.v1 import AppTest

import ui.run_cache
import ui.view_cache
import ui.tradeoff
from models.engine.data import load_dataset
from models.engine.pipeline import run
from models.analysis.tilted_density import CLEAN, blob_shares, points_at
from models.analysis.tilted_target import expected_tv, target_shares, tilted_tv_report
from models.analysis.tilted_target_gap import (CORRECTED, EXACT, FLOW_ODE, GAP_CORRECTOR, GAP_SAMPLERS, PLAIN, VP_ODE, GapNumbers,
                                               describe_gap, describe_paths, gap_numbers)
from models.analysis.tradeoff import TILT_GAMMAS, describe_blobs
from tests.models.analysis.test_tilted_target_gap import BLOBS as BLOB_NAMES
from ui.runs import Settings
from ui.tradeoff import GAP_KEYS, TILT_BATCH, blob_summary, exact_target_absent, gap_runs, ignores_gamma, tilt_specs

S = Settings("gmm2d", "exact", "ddpm", 4, 2, 1, "pca")


def measure_script():
    import streamlit as st

    from ui.runs import Sweep, evaluate_command
    from ui.tradeoff import measure, show_findings, show_numbers

    sweep = Sweep("gmm2d", "exact", "ddpm", 3, "cfg", st.session_state.get("samples", 20), 0)
    rows = measure(sweep, (0.0, 1.0, 3.0))
    st.session_state["rows"] = rows
    show_findings(rows, "gmm2d")
    show_numbers(rows, evaluate_command(sweep, (0.0, 1.0, 3.0)))


def test_measure_gives_one_row_per_gamma_and_the_findings():
    ui.run_cache.evaluation_row.clear()
    at = AppTest.from_function(measure_script, default_timeout=120)
    at.run()
    assert not at.exception and not at.error
    rows = at.session_state["rows"]
    assert [r["gamma"] for r in rows] == [0.0, 1.0, 3.0] and all(r["samples"] == 20 for r in rows)
    assert len(at.markdown) >= 3 and all(m.value.startswith("**") for m in at.markdown)  # one verdict per claim
    assert not at.get("progress")  # the progress bar is gone once the rows are in
    table = at.dataframe[0].value
    assert list(table["gamma"]) == [0.0, 1.0, 3.0] and list(table.columns)[:4] == ["gamma", "accuracy", "diversity",
                                                                                   "nearest_train"]
    assert at.code[0].value.startswith("python -m models.evaluate --data gmm2d --model exact")


def test_settings_that_cannot_be_evaluated_stop_with_one_message():
    at = AppTest.from_function(measure_script, default_timeout=60)
    at.session_state["samples"] = 1  # evaluate needs at least 2
    at.run()
    assert not at.exception and len(at.error) == 1
    assert at.error[0].value.startswith("This method cannot be evaluated with these settings: samples must be")
    assert not at.markdown


def test_ignores_gamma():
    row = {"accuracy": 0.9, "diversity": 0.5, "nearest_train": 0.1}
    assert ignores_gamma([dict(row, gamma=0.0), dict(row, gamma=3.0)])
    assert not ignores_gamma([dict(row, gamma=0.0), dict(row, gamma=3.0, diversity=0.4)])


def test_tilt_runs_and_their_blob_summary():
    specs = tilt_specs(S, "cfg", "exact")
    assert [s.gamma for s in specs] == list(TILT_GAMMAS)
    assert {(s.data, s.guidance, s.label, s.batch, s.seed, s.steps) for s in specs} == {("gmm2d", "cfg", 1, TILT_BATCH, 2, 4)}
    top = specs[-1]
    final = points_at(run(top), CLEAN)[0]
    expected = describe_blobs(blob_shares(final, 1, top.gamma), top.gamma, load_dataset("gmm2d").class_names[1])
    assert blob_summary(top) == expected


def lambda_script():
    import streamlit as st

    from models.analysis.tradeoff import DEFAULT_LAMBDAS
    from ui.runs import Sweep, evaluate_command
    from ui.tradeoff import measure, show_findings, show_numbers

    sweep = Sweep("gmm2d", "exact", "ddim", 3, "cfgpp", 20, 0)
    rows = measure(sweep, DEFAULT_LAMBDAS[::2])
    show_findings(rows, "gmm2d")
    show_numbers(rows, evaluate_command(sweep, DEFAULT_LAMBDAS[::2]))


def test_a_cfgpp_sweep_is_over_lambda():
    at = AppTest.from_function(lambda_script, default_timeout=120)
    at.run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    assert list(table.columns)[0] == "cfgpp_lambda" and list(table["cfgpp_lambda"]) == [0.0, 0.4, 0.8]
    assert len(set(table["accuracy"]) | set(table["diversity"])) > 2  # λ changes the samples
    text = " ".join(m.value for m in at.markdown)
    assert "λ = 0" in text and "γ" not in text
    assert "--guidance cfgpp --gammas 0,0.4,0.8" in at.code[0].value


# ----------------------------------------------------------------------------- the exact-target section

SMALL_GAP = dict(GAP_SAMPLES=200, GAP_GAMMAS=(0.0, 1.0, 7.0), GAP_STEPS=30)  # the layout of the page, quicker


def exact_target_script():
    import streamlit as st

    from ui.runs import Settings
    from ui.tradeoff import show_exact_target

    s = Settings(st.session_state.get("data", "gmm2d"), "exact", "ddpm", 25, 3, 1, "pca",
                 path=st.session_state.get("path", "vp"), shift=st.session_state.get("shift", 1.0))
    show_exact_target(s, st.session_state.get("guidance", "cfg"))


@pytest.fixture
def small_gap(monkeypatch):
    for name, value in SMALL_GAP.items():
        monkeypatch.setattr(ui.tradeoff, name, value)


@pytest.mark.parametrize("path, shift", [("vp", 1.0), ("flow", 3.0)])  # whatever the sidebar's path
def test_gap_runs_are_the_four_samplers_and_the_exact_draws(small_gap, path, shift):
    runs = gap_runs(Settings("gmm2d", "neural", "euler", 4, 2, 1, "pca", path=path, shift=shift), "cfg")
    assert [(g.sampler, g.corrector_steps, g.path) for g, _ in runs] == [
        ("ddpm", 0, "vp"), ("ddim", 0, "vp"), ("ddpm", GAP_CORRECTOR, "vp"), ("euler", 0, "flow"), ("tilted", 0, "vp")]
    for g, specs in runs:
        assert {(s.path, s.shift) for s in specs} == {(g.path, 1.0)}
        assert [spec.gamma for spec in specs] == [0.0, 1.0, 7.0]
        assert {(s.data, s.label, s.seed, s.batch, s.steps, s.guidance, s.eta) for s in specs} == {("gmm2d", 1, 2, 200, 30, "cfg", 0.0)}
        assert {s.model for s in specs} == {"exact"}  # whatever the sidebar's model: the sampler's gap alone


def test_the_exact_target_section_draws_and_reads_the_numbers(small_gap):
    ui.run_cache.gap_run.clear()
    at = AppTest.from_function(exact_target_script, default_timeout=300)
    at.run()
    assert not at.exception and not at.error and not at.get("progress")
    assert at.subheader[0].value.startswith("Does guided sampling reach")
    assert len(at.get("image")) == 1 and at.select_slider(key=GAP_KEYS["gamma"]).value == 7.0
    # The sentence, from reports computed here without the page's caches.
    s = Settings("gmm2d", "exact", "ddpm", 25, 3, 1, "pca")
    runs = dict(gap_runs(s, "cfg"))
    reports = {g: tilted_tv_report(run(runs[g][2]).samples, 1, 7.0) for g in (PLAIN, CORRECTED)}
    blobs = [1, 4, 7]
    expected = describe_gap(7.0, "B", BLOB_NAMES, target_shares(1, 7.0)[blobs],
                            *(gap_numbers(reports[g].tv, reports[g].se, reports[g].shares, blobs) for g in (PLAIN, CORRECTED)),
                            expected_tv(target_shares(1, 7.0), 200), GAP_CORRECTOR)
    assert at.markdown[-2].value == expected
    flow, vp = (tilted_tv_report(run(runs[g][2]).samples, 1, 7.0) for g in (FLOW_ODE, VP_ODE))
    assert at.markdown[-1].value == describe_paths(7.0, GapNumbers(flow.tv, flow.se, ()), GapNumbers(vp.tv, vp.se, ()),
                                                   expected_tv(target_shares(1, 7.0), 200), FLOW_ODE.name, VP_ODE.name)
    assert "Monte Carlo error of each tilted_tv" in at.caption[0].value and "200 samples per sampler" in at.caption[0].value
    before = at.get("image")[0].proto.imgs[0].url
    at.select_slider(key=GAP_KEYS["gamma"]).set_value(1.0).run()
    assert not at.exception and at.markdown[-2].value.startswith("At γ = 1 DDPM")
    assert at.markdown[-1].value.startswith("At γ = 1 flow Euler on the flow path scores")
    at.radio(key=GAP_KEYS["sampler"]).set_value(GAP_SAMPLERS[1].name).run()
    assert not at.exception and at.get("image")[0].proto.imgs[0].url != before


def test_the_exact_target_section_runs_with_the_sidebar_on_the_flow_path(small_gap):
    """The section's VP samplers stay on VP (DDIM and the corrector do not run on flow), and its numbers
    are the same as with the sidebar on VP."""
    ui.run_cache.gap_run.clear()
    at = AppTest.from_function(exact_target_script, default_timeout=300)
    at.run()
    on_vp = [m.value for m in at.markdown[-2:]]
    at.session_state["path"], at.session_state["shift"] = "flow", 3.0
    at.run()
    assert not at.exception and not at.error and [m.value for m in at.markdown[-2:]] == on_vp


@pytest.mark.parametrize("data, guidance, words", [
    ("digits", "cfg", "on gmm2d only"), ("gmm2d", "cfgpp", "reads its own weight λ in place of γ"),
    ("gmm2d", "apg", "the density it aims at is not p(x) p(y | x)^γ"),
])
def test_the_exact_target_section_says_why_it_is_absent(data, guidance, words):
    at = AppTest.from_function(exact_target_script, default_timeout=60)
    at.session_state["data"], at.session_state["guidance"] = data, guidance
    at.run()
    assert not at.exception and not at.get("image") and len(at.info) == 1 and words in at.info[0].value
    assert exact_target_absent(data, guidance) == at.info[0].value
    assert exact_target_absent("gmm2d", "classifier") is None
