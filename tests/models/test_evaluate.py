"""models.evaluate: one evaluation of sampled rows, and the command line's error paths. (The metrics on
hand-made arrays: test_metrics.py.)"""
import json
import os
import subprocess
import sys

import pytest

from models.evaluate import evaluate, main, parse_gammas
from models.registry import ASSETS_ENV
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
