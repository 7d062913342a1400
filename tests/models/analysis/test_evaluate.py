"""models.analysis.evaluate: one evaluation of sampled rows, and the command line's error paths. (The metrics on
hand-made arrays: test_metrics.py.)"""
import json
import math
import os
import subprocess
import sys

import pytest

from models.analysis.evaluate import evaluate, main, parse_gammas
from models.engine.loading import ASSETS_ENV
from tests.conftest import ROOT


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
