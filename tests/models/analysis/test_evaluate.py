"""models.analysis.evaluate: one evaluation of sampled rows, the command line's error paths, and ``tilted_tv``
with its Monte Carlo error in every gmm2d row (``--sampler tilted``, ``--corrector-steps``). (The metrics on
hand-made arrays: test_metrics.py.)"""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

import models.analysis.evaluate
from models.analysis.evaluate import evaluate, main, parse_gammas
from models.analysis.tilted_target import batch_target_shares, exact_tv_quantile, tilted_tv
from models.engine.loading import ASSETS_ENV
from models.engine.pipeline import SampleSpec, run

from tests.conftest import ROOT
from tests.robustness.conftest import assert_one_line_error, call_main


def test_parse_gammas():
    assert parse_gammas("0, 1,3.5") == [0.0, 1.0, 3.5]
    for bad in ("1,nan", "inf", "1,,2", "a"):
        with pytest.raises(ValueError):
            parse_gammas(bad)


def test_evaluate_exact_gmm2d_cfg_is_accurate_at_gamma_one():
    rows = evaluate("gmm2d", "exact", "ddim", 20, "cfg", [0, 1], samples=60, seed=0)
    assert [r["gamma"] for r in rows] == [0.0, 1.0]
    assert rows[1]["accuracy"] > 0.9 and rows[0]["accuracy"] < 0.7
    assert all(set(r) >= {"gamma", "accuracy", "diversity", "nearest_train", "samples"} for r in rows)


@pytest.mark.parametrize("kwargs", [dict(samples=1), dict(steps=0), dict(steps=1001), dict(gammas=[]),
                                    dict(gammas=[float("nan")]), dict(sampler="nope"), dict(data="mnist")])
def test_evaluate_rejects_bad_values(kwargs):
    args = dict(data="gmm2d", model="exact", sampler="ddim", steps=5, guidance="cfg", gammas=[1.0], samples=4, seed=0)
    with pytest.raises(ValueError):
        evaluate(**{**args, **kwargs})


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "models.evaluate", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def _one_error_line(stderr: str) -> bool:
    lines = stderr.strip().splitlines()
    return len(lines) == 1 and lines[0].startswith("python -m models.evaluate: error: ") and "Traceback" not in stderr


def test_cli_unknown_sampler_is_one_line_and_status_2():
    r = _cli("--sampler", "nope")
    assert r.returncode == 2 and r.stdout == ""
    assert _one_error_line(r.stderr) and "nope" in r.stderr


def test_cli_missing_weights_is_one_line_and_status_2(tmp_path):
    env = {**os.environ, ASSETS_ENV: str(tmp_path)}  # an empty weights folder
    r = _cli("--model", "neural", "--data", "gmm2d", "--steps", "2", "--samples", "4", env=env)
    assert r.returncode == 2 and r.stdout == ""
    assert _one_error_line(r.stderr) and "missing weights file" in r.stderr and "models.train" in r.stderr


@pytest.mark.parametrize("args", [
    ["--gammas", "0,nan"], ["--gammas", "1,,2"], ["--samples", "1"], ["--steps", "0"], ["--steps", "1001"],
    ["--sampler", "ddim", "--eta", "2"], ["--data", "mnist"], ["--gammas", "1000"],
])
def test_main_bad_values_give_one_error_line_and_status_2(args, capsys):
    try:
        status = main(["--data", "gmm2d", "--model", "exact", "--steps", "2", "--samples", "4", *args])
    except SystemExit as e:  # argparse's own checks (choices, types) exit from inside parse_args
        status = e.code
    out, err = capsys.readouterr()
    assert status == 2 and out == "" and _one_error_line(err)


def test_main_json_is_one_list(capsys):
    assert main(["--data", "gmm2d", "--model", "exact", "--sampler", "ddim", "--steps", "5", "--gammas", "0,2",
                 "--samples", "9", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["gamma"] for row in rows] == [0.0, 2.0]
    assert all(row["samples"] == 9 and 0 <= row["accuracy"] <= 1 for row in rows)


def test_cfgpp_sweeps_its_lambda_not_gamma():
    """CFG++ reads λ instead of γ: the values swept are λ, each row holds cfgpp_lambda (no gamma), the rows
    differ, and each equals a plain cfgpp run at that λ (with γ left at its default, which CFG++ ignores)."""
    rows = evaluate("gmm2d", "exact", "ddim", 8, "cfgpp", [0.0, 0.5, 1.0], samples=30, seed=0)
    assert [r["cfgpp_lambda"] for r in rows] == [0.0, 0.5, 1.0] and all("gamma" not in r for r in rows)
    assert len({(r["accuracy"], r["diversity"], r["nearest_train"]) for r in rows}) == 3
    assert all(math.isnan(r["tilted_tv"]) for r in rows)  # CFG++ at a λ aims at no tilted density
    lam = evaluate("gmm2d", "exact", "ddim", 8, "cfgpp", [0.5], samples=30, seed=0, zoo={"cfgpp_lambda": 0.9})[0]
    assert lam == {**rows[1], "seconds": lam["seconds"]}  # the swept λ wins over a zoo setting
    # λ = 0 is unconditional, as is CFG at γ = 0: the same samples
    cfg0 = evaluate("gmm2d", "exact", "ddim", 8, "cfg", [0.0], samples=30, seed=0)[0]
    assert (cfg0["accuracy"], cfg0["diversity"]) == (rows[0]["accuracy"], rows[0]["diversity"])


def test_main_cfgpp_table_and_json_name_lambda(capsys):
    assert main(["--data", "gmm2d", "--model", "exact", "--sampler", "ddim", "--steps", "4", "--guidance", "cfgpp",
                 "--samples", "6", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["cfgpp_lambda"] for r in rows] == [0.0, 0.5, 1.0]  # the default λ sweep
    assert main(["--data", "gmm2d", "--model", "exact", "--sampler", "ddim", "--steps", "4", "--guidance", "cfgpp",
                 "--gammas", "0.2,0.8", "--samples", "6"]) == 0
    table = capsys.readouterr().out
    assert "| cfgpp_lambda | accuracy |" in table and "\n| 0.2 |" in table and "\n| 0.8 |" in table


@pytest.mark.parametrize("args, words", [
    (["--gammas", "0,3"], "cfgpp lambda must be a number in [0, 1], got 3"),
    (["--cfgpp-lambda", "0.3"], "--gammas lists the λ values to sweep; --cfgpp-lambda does not apply"),
])
def test_main_cfgpp_bad_lambdas_give_one_error_line(args, words, capsys):
    try:
        status = main(["--data", "gmm2d", "--model", "exact", "--sampler", "ddim", "--steps", "2", "--samples", "4",
                       "--guidance", "cfgpp", *args])
    except SystemExit as e:
        status = e.code
    out, err = capsys.readouterr()
    assert status == 2 and out == "" and _one_error_line(err) and words in err


def test_help_says_gammas_are_lambdas_for_cfgpp(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "for --guidance cfgpp, which reads its interpolation weight lambda instead of gamma, the values are read as lambda" in text


# --- --sampler tilted and --corrector-steps: tilted_tv in every gmm2d row --------------------------

EVALUATE = "python -m models.evaluate"


def _evaluate_json(capsys, *args) -> list[dict]:
    assert models.analysis.evaluate.main(["--data", "gmm2d", "--model", "exact", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_evaluate_gmm2d_rows_carry_tilted_tv_and_its_error(capsys):
    rows = _evaluate_json(capsys, "--steps", "20", "--gammas", "0,1,7,-1", "--samples", "300")
    for row in rows[:3]:
        assert 0 <= row["tilted_tv"] <= 1 and 0 < row["tilted_tv_se"] < 0.1 and 0 < row["tilted_tv_floor"] < 0.1
    assert rows[3]["tilted_tv"] is None and rows[3]["tilted_tv_se"] is None  # gamma < 0: no target
    assert rows[2]["tilted_tv"] > rows[1]["tilted_tv"] + 3 * rows[2]["tilted_tv_se"]  # CFG misses at gamma = 7


def test_evaluate_tilted_sampler_scores_within_mc_error_of_zero(capsys):
    n = 3000
    rows = _evaluate_json(capsys, "--sampler", "tilted", "--gammas", "0,3,7", "--samples", str(n))
    labels = np.arange(n) % 3
    for row in rows:
        assert row["tilted_tv"] <= exact_tv_quantile(batch_target_shares(labels, row["gamma"]), n, 0.99)
        assert row["accuracy"] > 0.3 and row["finite"] == 1.0


def test_evaluate_row_matches_tilted_tv_of_the_same_samples():
    rows = models.analysis.evaluate.evaluate("gmm2d", "exact", "ddim", 10, "cfg", [3.0], 90, 5)
    x = run(SampleSpec(data="gmm2d", model="exact", sampler="ddim", steps=10, gamma=3.0, batch=90, seed=5),
            device="cpu", labels=np.arange(90) % 3).samples
    assert rows[0]["tilted_tv"] == pytest.approx(tilted_tv(x, np.arange(90) % 3, 3.0), abs=1e-12)


def test_evaluate_digits_rows_have_no_tilted_tv():
    rows = models.analysis.evaluate.evaluate("digits", "exact", "ddim", 2, "cfg", [1.0], 10, 0)
    assert "tilted_tv" not in rows[0]


@pytest.mark.parametrize("args, mentions", [
    (["--data", "digits", "--model", "exact", "--sampler", "tilted"], "digits"),
    (["--data", "gmm2d", "--model", "neural", "--sampler", "tilted"], "neural"),
    (["--data", "gmm2d", "--model", "exact", "--sampler", "tilted", "--gammas", "1,-2"], "gamma"),
    (["--data", "gmm2d", "--model", "exact", "--sampler", "tilted", "--guidance", "rescale"], "rescale"),
])
def test_evaluate_tilted_without_an_exact_target_is_one_line_and_status_2(capsys, args, mentions):
    code, out, err = call_main(models.analysis.evaluate.main, [*args, "--samples", "10"], capsys)
    assert_one_line_error(code, out, err, EVALUATE, mentions=mentions)


def test_evaluate_corrector_flags_change_the_samples(capsys):
    plain = _evaluate_json(capsys, "--steps", "10", "--gammas", "3", "--samples", "60")
    corrected = _evaluate_json(capsys, "--steps", "10", "--gammas", "3", "--samples", "60", "--corrector-steps", "2")
    assert plain[0]["tilted_tv"] != corrected[0]["tilted_tv"] or plain[0]["diversity"] != corrected[0]["diversity"]


# --- --path flow: the same measures on the flow path ------------------------------------------------

def test_flow_euler_at_gamma_zero_lands_within_the_exact_draws_spread():
    """At γ = 0 the target is the mixture itself, and Euler on the flow ODE with the exact denoiser
    carries only discretisation error: with 100 steps its tilted_tv lies below what 99 % of exact draws
    of the same mixed-class batch score (the floor, 0.021 at N = 3000, is their mean). With 25 steps it
    does not (0.035 against the quantile's 0.034, measured), so the bound can fail."""
    n = 3000
    row = evaluate("gmm2d", "exact", "euler", 100, "cfg", [0.0], n, 0, path="flow")[0]
    labels = np.arange(n) % 3
    assert row["path"] == "flow" and row["shift"] == 1.0 and row["finite"] == 1.0
    assert math.isfinite(row["tilted_tv"]) and row["tilted_tv_floor"] < row["tilted_tv"] + 3 * row["tilted_tv_se"]
    assert row["tilted_tv"] <= exact_tv_quantile(batch_target_shares(labels, 0.0), n, 0.99)


def test_flow_euler_misses_the_target_at_gamma_seven(capsys):
    """Guidance's gap is not a VP artefact: flow-Euler at γ = 7 lands many errors above the exact draws'
    99 % quantile, as VP-DDIM does (test_evaluate_gmm2d_rows_carry_tilted_tv_and_its_error)."""
    n = 600
    rows = _evaluate_json(capsys, "--path", "flow", "--sampler", "euler", "--steps", "30", "--gammas", "7",
                          "--samples", str(n))
    q = exact_tv_quantile(batch_target_shares(np.arange(n) % 3, 7.0), n, 0.99)
    assert rows[0]["path"] == "flow" and rows[0]["tilted_tv"] > q + 3 * rows[0]["tilted_tv_se"]


def test_the_exact_draws_do_not_depend_on_the_path():
    vp, flow = (evaluate("gmm2d", "exact", "tilted", 1, "cfg", [3.0], 300, 2, path=p)[0] for p in ("vp", "flow"))
    assert vp["path"] == "vp" and "shift" not in vp and flow["path"] == "flow"
    assert vp["tilted_tv"] == flow["tilted_tv"] and vp["accuracy"] == flow["accuracy"]


def test_flow_rows_are_the_flow_pipelines_samples():
    rows = evaluate("gmm2d", "exact", "ddpm", 12, "cfg", [2.0], 90, 4, path="flow", shift=3.0)
    spec = SampleSpec(data="gmm2d", model="exact", sampler="ddpm", path="flow", shift=3.0, steps=12, gamma=2.0,
                      batch=90, seed=4)
    x = run(spec, device="cpu", labels=np.arange(90) % 3).samples
    assert rows[0]["shift"] == 3.0 and rows[0]["tilted_tv"] == pytest.approx(tilted_tv(x, np.arange(90) % 3, 2.0), abs=1e-12)


def test_a_bundle_of_another_path_is_refused():
    from models.engine.loading import load_bundle

    vp = load_bundle("gmm2d", "exact", "cpu")
    with pytest.raises(ValueError, match="vp path, asked for flow"):
        evaluate("gmm2d", "exact", "euler", 4, "cfg", [1.0], 10, 0, bundle=vp, path="flow")
    flow = load_bundle("gmm2d", "exact", "cpu", path="flow", shift=3.0)
    with pytest.raises(ValueError, match="at shift 1"):
        evaluate("gmm2d", "exact", "euler", 4, "cfg", [1.0], 10, 0, bundle=flow, path="flow")


def test_main_records_the_path_in_its_table_and_json(capsys):
    assert main(["--data", "gmm2d", "--model", "exact", "--path", "flow", "--shift", "3", "--sampler", "heun",
                 "--steps", "4", "--gammas", "1", "--samples", "6"]) == 0
    assert "flow path (shift 3), heun 4 steps" in capsys.readouterr().out
    rows = _evaluate_json(capsys, "--path", "flow", "--sampler", "euler", "--steps", "4", "--gammas", "1", "--samples", "6")
    assert (rows[0]["path"], rows[0]["shift"]) == ("flow", 1.0)
    assert _evaluate_json(capsys, "--sampler", "ddim", "--steps", "4", "--gammas", "1", "--samples", "6")[0]["path"] == "vp"


@pytest.mark.parametrize("args, mentions", [
    (["--path", "flow", "--sampler", "ddim"], "does not run on the flow path"),
    (["--path", "flow", "--sampler", "dpmpp2m"], "euler, heun, ddpm"),
    (["--shift", "3"], "flow path only"),
    (["--path", "flow", "--corrector-steps", "1"], "vp path only"),
    (["--path", "flow", "--shift", "20"], "shift"),
])
def test_a_sampler_or_setting_not_on_the_path_is_one_line_and_status_2(capsys, args, mentions):
    code, out, err = call_main(models.analysis.evaluate.main, ["--data", "gmm2d", "--model", "exact", "--steps", "2",
                                                               "--samples", "4", *args], capsys)
    assert_one_line_error(code, out, err, EVALUATE, mentions=mentions)
