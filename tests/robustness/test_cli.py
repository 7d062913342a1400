"""Every option of the three command lines, given a bad value: one line on stderr, exit status 2,
no traceback, and the line names the option. Most run ``main`` in this process; a few run the real
command, to prove that no traceback reaches a terminal either.

Each table lists, per option, values of the wrong type, out of range, not finite or unknown; a test
checks that the tables cover every option the parsers have, so a new option needs its bad values here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

import models.analysis.evaluate
import models.train
import viz.export
from tests.robustness.conftest import ROOT, assert_one_line_error, call_main

NOT_FINITE = ["nan", "inf", "-inf", "1e999"]
NOT_A_NUMBER = ["abc", "", "1,5", "0x10"]
NOT_AN_INTEGER = ["abc", "", "2.5", "1e3", "nan"]
NO_GPU = [] if torch.cuda.is_available() else ["cuda"]  # asked for, but not there
ZOO = {
    "--rescale-phi": NOT_A_NUMBER + NOT_FINITE + ["-0.1", "1.5"],
    "--apg-eta": NOT_A_NUMBER + NOT_FINITE,
    "--apg-r": NOT_A_NUMBER + ["nan", "0", "-1"],
    "--apg-beta": NOT_A_NUMBER + NOT_FINITE + ["1", "-1", "5"],
    "--interval": ["", "1", "1,2,3", "a,b", "nan,1", "-1,2", "5,1"],
    "--cfgpp-lambda": NOT_A_NUMBER + NOT_FINITE + ["-0.5", "2"],
    "--cfgzero-zero-steps": NOT_AN_INTEGER + ["-1", "1001"],
    "--mambo-alpha": NOT_A_NUMBER + NOT_FINITE + ["-0.5"],
    "--apgmix-window": ["", "1", "1,2,3", "a,b", "nan,1", "-1,2", "5,1"],
    "--apgmix-eta": NOT_A_NUMBER + NOT_FINITE,
    "--apgmix-r": NOT_A_NUMBER + ["nan", "0", "-1"],
    "--apgmix-beta": NOT_A_NUMBER + NOT_FINITE + ["1", "-1", "5"],
    "--fdg-low": NOT_A_NUMBER + NOT_FINITE + ["100.5", "-101"],
}
CORRECTOR = {"--corrector-steps": NOT_AN_INTEGER + ["-1", "101"],
             "--corrector-snr": NOT_A_NUMBER + NOT_FINITE + ["0", "-0.1", "1", "2"]}
COMMON = {"--device": ["tpu", "CPU", ""] + NO_GPU, "--data": ["mnist", "", "DIGITS"], "--model": ["huge", ""],
          "--sampler": ["foo", "DDPM"], "--guidance": ["magic", ""], "--seed": NOT_AN_INTEGER + ["-1", str(2**63)]}

EXPORT = {
    **COMMON, **ZOO, **CORRECTOR,
    "--gamma": NOT_A_NUMBER + NOT_FINITE + ["100.5", "-101", "1e6"],
    "--label": NOT_AN_INTEGER + ["10", "-2", "99999999999999999999"],
    "--steps": NOT_AN_INTEGER + ["0", "-1", "1001"],
    "--batch": NOT_AN_INTEGER + ["0", "-3", "4097"],
    "--eta": NOT_A_NUMBER + NOT_FINITE + ["-0.1", "1.01"],
    "--projection": ["tsne", ""],
    "--figure": ["pie", ""],
    "--sample": NOT_AN_INTEGER + ["-1", "1", "4096"],  # the base batch is 1: sample 1 is not in it
    "--frames": NOT_AN_INTEGER + ["0", "1", "1002"],
    "--fps": NOT_A_NUMBER + NOT_FINITE + ["0", "-2", "51"],
}
EVALUATE = {
    **COMMON, **ZOO, **CORRECTOR,
    "--steps": NOT_AN_INTEGER + ["0", "-1", "1001"],
    "--gammas": ["", "a", "1,,2", "1,nan", "inf", "101", "0,-1e9", "1;2"],
    "--samples": NOT_AN_INTEGER + ["1", "0", "4097"],
    "--eta": NOT_A_NUMBER + NOT_FINITE + ["-0.1", "2"],
    "--json": ["=yes"],  # a flag given a value
}
TRAIN = {
    "--only": ["mnist", ""],
    "--device": COMMON["--device"],
    "--steps-scale": NOT_A_NUMBER + NOT_FINITE + ["0", "-1", "1000"],
    "--seed": COMMON["--seed"],
    "--workers": NOT_AN_INTEGER + ["-1", "100000"],
}
UNWRITABLE = ("--out", "--npz")  # tested below with unwritable paths
EXPORT_PROG, EVALUATE_PROG, TRAIN_PROG = "python -m viz.export", "python -m models.evaluate", "python -m models.train"


def _cases(table: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(option, value) for option, values in table.items() for value in values]


def _args(option: str, value: str) -> list[str]:
    return [option + value] if value.startswith("=") else [option, value]


def _options(parser) -> set[str]:
    return {s for a in parser._actions for s in a.option_strings if s not in ("-h", "--help")}


def test_the_tables_cover_every_option():
    assert _options(viz.export.build_parser()) == set(EXPORT) | set(UNWRITABLE)
    assert _options(models.analysis.evaluate.build_parser()) == set(EVALUATE)
    assert _options(models.train.build_parser()) == set(TRAIN) | {"--out"}


@pytest.mark.parametrize("option, value", _cases(EXPORT))
def test_export_bad_value(tmp_path, capsys, option, value):
    base = ["--model", "exact", "--steps", "2", "--batch", "1", "--out", str(tmp_path / "x.gif")]
    if option in ("--eta",):
        base += ["--sampler", "ddim"]
    code, out, err = call_main(viz.export.main, base + _args(option, value), capsys)
    assert_one_line_error(code, out, err, EXPORT_PROG, mentions=option)
    assert not (tmp_path / "x.gif").exists()


@pytest.mark.parametrize("option, value", _cases(EVALUATE))
def test_evaluate_bad_value(capsys, option, value):
    base = ["--data", "gmm2d", "--model", "exact", "--sampler", "ddim", "--steps", "2", "--samples", "4", "--gammas", "1"]
    code, out, err = call_main(models.analysis.evaluate.main, base + _args(option, value), capsys)
    # --gammas 101 fails in the sampler's settings, which call it gamma
    assert_one_line_error(code, out, err, EVALUATE_PROG, mentions="gamma" if option == "--gammas" else option)


@pytest.mark.parametrize("option, value", _cases(TRAIN))
def test_train_bad_value(tmp_path, capsys, option, value):
    code, out, err = call_main(models.train.main, ["--out", str(tmp_path / "w")] + _args(option, value), capsys)
    assert_one_line_error(code, out, err, TRAIN_PROG, mentions=option)
    assert not (tmp_path / "w").exists()  # refused before anything was made


@pytest.mark.parametrize("main, prog", [(viz.export.main, EXPORT_PROG), (models.analysis.evaluate.main, EVALUATE_PROG),
                                        (models.train.main, TRAIN_PROG)])
@pytest.mark.parametrize("argv", [["--bogus"], ["--bogus", "1"], ["extra"], ["--seed"], ["--data"], ["-x"]])
def test_unknown_options_and_missing_values(tmp_path, capsys, main, prog, argv):
    if main is viz.export.main and argv != ["--seed"]:
        argv = argv + ["--out", str(tmp_path / "x.gif")]
    code, out, err = call_main(main, argv, capsys)
    assert_one_line_error(code, out, err, prog)


def test_export_without_out_is_one_line(capsys):
    code, out, err = call_main(viz.export.main, ["--model", "exact"], capsys)
    assert "--out" in assert_one_line_error(code, out, err, EXPORT_PROG)


# ------------------------------------------------------------------------- unwritable output paths

def _unwritable(kind: str, tmp_path: Path, read_only_dir: Path, as_folder: bool = False) -> str:
    if kind == "read-only folder":
        return str(read_only_dir / ("new" if as_folder else "x.gif"))
    if kind == "a folder, not a file":
        return str(tmp_path)
    if kind == "a file, not a folder":
        (tmp_path / "file").write_text("")
        return str(tmp_path / "file")
    if kind == "missing parent":
        return str(tmp_path / "missing" / "x.gif")
    if kind == "under a file":
        (tmp_path / "file").write_text("")
        return str(tmp_path / "file" / "x.gif")
    if kind == "read-only file system":
        if not Path("/sys/kernel").is_dir():
            pytest.skip("no /sys")
        return "/sys/guidance-lab-test" + ("" if as_folder else ".gif")
    if kind == "empty name":
        return ""
    raise AssertionError(kind)


FILE_CASES = ["read-only folder", "a folder, not a file", "missing parent", "under a file", "read-only file system",
              "empty name"]
FOLDER_CASES = ["read-only folder", "a file, not a folder", "under a file", "read-only file system", "empty name"]


@pytest.mark.parametrize("option", UNWRITABLE)
@pytest.mark.parametrize("kind", FILE_CASES)
def test_export_unwritable_output(tmp_path, read_only_dir, capsys, option, kind):
    path = _unwritable(kind, tmp_path, read_only_dir)
    argv = ["--model", "exact", "--steps", "2", "--batch", "1", "--out", str(tmp_path / "x.gif"), option, path]
    code, out, err = call_main(viz.export.main, argv, capsys)
    assert_one_line_error(code, out, err, EXPORT_PROG, mentions=option)
    assert not list(read_only_dir.iterdir())


def test_export_to_a_full_disk_fails_in_one_line(tmp_path, capsys):
    """/dev/full accepts the open and refuses the write: the error comes after sampling, still one line."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    code, out, err = call_main(viz.export.main, ["--model", "exact", "--steps", "2", "--batch", "1", "--out", "/dev/full"],
                               capsys)
    assert "No space left" in assert_one_line_error(code, out, err, EXPORT_PROG)


@pytest.mark.parametrize("kind", FOLDER_CASES)
def test_train_unwritable_output_folder_fails_before_training(tmp_path, read_only_dir, capsys, monkeypatch, kind):
    trained = []
    monkeypatch.setattr(models.train, "train_all", lambda *a, **k: trained.append(a))
    path = _unwritable(kind, tmp_path, read_only_dir, as_folder=True)
    code, out, err = call_main(models.train.main, ["--steps-scale", "0.001", "--out", path], capsys)
    assert_one_line_error(code, out, err, TRAIN_PROG, mentions="--out")
    assert trained == []


def test_train_default_folder_unwritable_fails_before_training(read_only_dir, capsys, monkeypatch):
    trained = []
    monkeypatch.setattr(models.train, "train_all", lambda *a, **k: trained.append(a))
    monkeypatch.setenv("GUIDANCE_LAB_ASSETS", str(read_only_dir))
    code, out, err = call_main(models.train.main, ["--steps-scale", "0.001"], capsys)
    assert_one_line_error(code, out, err, TRAIN_PROG)
    assert trained == []


# ------------------------------------------------------------------------- real processes

REAL = [
    (["viz.export", "--gamma", "nan", "--out", "{tmp}/x.gif"], "--gamma"),
    (["viz.export", "--model", "exact", "--steps", "2", "--out", "{tmp}"], "--out"),
    (["models.evaluate", "--samples", "abc"], "--samples"),
    (["models.evaluate", "--data", "gmm2d", "--model", "exact", "--gammas", "1000", "--steps", "2", "--samples", "4"], "gamma"),
    (["models.train", "--workers", "-1"], "--workers"),
    (["models.train", "--out", "{tmp}/file"], "--out"),
]


def test_real_processes_print_one_line_and_exit_2(tmp_path):
    (tmp_path / "file").write_text("")
    procs = [(subprocess.Popen([sys.executable, "-m", *(a.replace("{tmp}", str(tmp_path)) for a in argv)], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), argv, option)
             for argv, option in REAL]
    for proc, argv, option in procs:
        out, err = proc.communicate(timeout=120)
        prog = "python -m " + argv[0]
        assert_one_line_error(proc.returncode, out, err, prog, mentions=option)
