"""ui.tradeoff: the measuring loop (a row per γ, or one plain message), the verdicts and the runs
drawn on the tilted density."""

from streamlit.testing.v1 import AppTest

import ui.cache
from models.data import load_dataset
from models.pipeline import run
from models.tilt import CLEAN, blob_shares, points_at
from models.tradeoff import TILT_GAMMAS, describe_blobs
from ui.runs import Settings
from ui.tradeoff import TILT_BATCH, blob_summary, ignores_gamma, tilt_specs

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
    ui.cache.evaluation_row.clear()
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
