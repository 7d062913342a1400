"""Every option of the three command lines, given a bad value: one line on stderr, exit status 2,
no traceback, and the line names the option. Most run ``main`` in this process; a few run the real
command, to prove that no traceback reaches a terminal either.

Each table lists, per option, values of the wrong type, out of range, not finite or unknown; a test
checks that the tables cover every option the parsers have, so a new option needs its bad values here.

Then what issue 18 asked of them: ``--help`` and argument errors answer before torch loads, every
range is in ``--help``, a run estimated above ``--max-memory`` is refused before sampling, ``--out``
ends in .gif, η with a sampler that ignores it is refused, and long runs show a progress bar.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import models.analysis.evaluate
import models.cli
import models.train
import viz.export
import viz.lecture_gifs
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
PATH = {"--path": ["curved", "", "VP"], "--shift": NOT_A_NUMBER + NOT_FINITE + ["0", "-1", "0.09", "10.5"]}
COMMON = {"--device": ["tpu", "CPU", ""] + NO_GPU, "--data": ["mnist", "", "DIGITS"], "--model": ["huge", ""],
          "--sampler": ["foo", "DDPM"], "--guidance": ["magic", ""], "--seed": NOT_AN_INTEGER + ["-1", str(2**63)]}

EXPORT = {
    **COMMON, **ZOO, **CORRECTOR, **PATH,
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
    "--max-memory": NOT_A_NUMBER + NOT_FINITE + ["0", "-1", "1025"],
}
EVALUATE = {
    **COMMON, **ZOO, **CORRECTOR, **PATH,
    "--steps": NOT_AN_INTEGER + ["0", "-1", "1001"],
    "--gammas": ["", "a", "1,,2", "1,nan", "inf", "101", "0,-1e9", "1;2"],
    "--samples": NOT_AN_INTEGER + ["1", "0", "4097"],
    "--eta": NOT_A_NUMBER + NOT_FINITE + ["-0.1", "2"],
    "--json": ["=yes"],  # a flag given a value
    "--max-memory": NOT_A_NUMBER + NOT_FINITE + ["0", "-1", "1025"],
}
TRAIN = {
    "--only": ["mnist", ""],
    "--device": COMMON["--device"],
    "--steps-scale": NOT_A_NUMBER + NOT_FINITE + ["0", "-1", "1000"],
    "--seed": COMMON["--seed"],
    "--workers": NOT_AN_INTEGER + ["-1", "100000"],
    "--roles": ["flow", "", "denoiser,bogus"],
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
    """/dev/full accepts the open and refuses the write: the error comes after sampling, still one line.
    (The .npz: the GIF's name must end in .gif.)"""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    code, out, err = call_main(viz.export.main, ["--model", "exact", "--steps", "2", "--batch", "1", "--out",
                                                 str(tmp_path / "x.gif"), "--npz", "/dev/full"], capsys)
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



# ------------------------------------------------------------------------- issue 18: help without torch

HELP_MODULES = ["viz.export", "viz.lecture_gifs", "models.evaluate", "models.train"]


def _imported_modules(argv: list[str]) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run ``python -X importtime -m ...``: the process and the top-level names of what it imported."""
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", *argv], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    names = {line.split("|")[-1].strip().split(".")[0] for line in res.stderr.splitlines()
             if line.startswith("import time:") and "|" in line}
    return res, names


@pytest.mark.parametrize("module", HELP_MODULES)
@pytest.mark.parametrize("argv", [["--help"], ["--seed", "abc"]])
def test_help_and_argument_errors_load_neither_torch_nor_matplotlib(module, argv):
    res, names = _imported_modules([module, *argv])
    assert res.returncode == (0 if argv == ["--help"] else 2), res.stderr[-2000:]
    assert "argparse" in names  # the import log is really read
    assert not {"torch", "matplotlib", "streamlit"} & names, sorted({"torch", "matplotlib", "streamlit"} & names)


@pytest.mark.parametrize("parser, ranges", [
    (viz.export.build_parser, ["1..1000", "0..9007199254740991", "1..4096", "0..batch-1", "2..1001", "(0, 50]",
                               "[-100, 100]", "[0, 1]", "0..9 on digits", "0..2 on gmm2d", "(0, 1024]"]),
    (viz.lecture_gifs.build_parser, ["1..1000", "0..9007199254740991", "1..4096", "2..1001", "(0, 50]",
                                     "[-100, 100]", "0..9 on digits", "(0, 1024]"]),
    (models.analysis.evaluate.build_parser, ["1..1000", "0..9007199254740991", "2..4096", "[-100, 100]", "[0, 1]",
                                             "(0, 1024]"]),
    (models.train.build_parser, ["(0, 100]", "0..9007199254740991", "0..256"]),
])
def test_help_states_every_range(parser, ranges):
    text = " ".join(parser().format_help().split())
    missing = [r for r in ranges if r not in text]
    assert not missing, missing


# ------------------------------------------------------------------------- issue 18: bounded runs

def test_a_huge_export_is_refused_in_one_line_within_a_minute(tmp_path):
    """The issue's run (--batch 4096 --steps 1000 ran for minutes, 4.3 GB and growing) stops before sampling."""
    start = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "viz.export", "--batch", "4096", "--steps", "1000",
                          "--out", str(tmp_path / "x.gif")], cwd=ROOT, capture_output=True, text=True, timeout=60)
    seconds = time.perf_counter() - start
    line = assert_one_line_error(res.returncode, res.stdout, res.stderr, EXPORT_PROG, mentions="--max-memory")
    assert "GB" in line and "--batch (4096)" in line and "--steps (1000)" in line and "2 GB" in line, line
    assert seconds < 60 and not list(tmp_path.iterdir())


@pytest.mark.parametrize("main, prog, argv, lower", [
    (viz.export.main, EXPORT_PROG, ["--batch", "4096", "--steps", "1000"], "--batch (4096)"),
    (viz.export.main, EXPORT_PROG, ["--batch", "64", "--steps", "100", "--max-memory", "0.01"], "--steps (100)"),
    (viz.export.main, EXPORT_PROG, ["--figure", "field", "--data", "gmm2d", "--frames", "1001", "--max-memory", "0.5"],
     "--frames (1001)"),
    (models.analysis.evaluate.main, EVALUATE_PROG, ["--samples", "4096", "--steps", "1000"], "--samples (4096)"),
    (viz.lecture_gifs.main, "python -m viz.lecture_gifs", ["--batch", "4096", "--steps", "1000"], "--batch (4096)"),
])
def test_runs_over_the_memory_budget_are_refused_before_loading(tmp_path, capsys, main, prog, argv, lower):
    out = ["--out", str(tmp_path / ("gifs" if main is viz.lecture_gifs.main else "x.gif"))]
    code, stdout, err = call_main(main, argv + (out if main is not models.analysis.evaluate.main else []), capsys)
    line = assert_one_line_error(code, stdout, err, prog, mentions="--max-memory")
    assert lower in line and "GB" in line
    assert not list(tmp_path.iterdir())


def test_a_larger_budget_lets_the_run_past_the_memory_check(tmp_path, capsys):
    """With --max-memory raised the same run goes on to the next check (here a label out of range)."""
    argv = ["--batch", "4096", "--steps", "1000", "--label", "99", "--out", str(tmp_path / "x.gif")]
    code, out, err = call_main(viz.export.main, argv + ["--max-memory", "1024"], capsys)
    assert "label" in assert_one_line_error(code, out, err, EXPORT_PROG)


@pytest.mark.parametrize("sampler, guidance", [("ddpm", "cfg"), ("ddim", "cfg"), ("euler", "none"), ("tilted", "cfg")])
def test_the_memory_estimate_bounds_what_a_run_holds(sampler, guidance):
    """``run_memory`` counts the trajectory twice (recorded, then stacked) and the PCA's copies: at
    least twice the arrays a run returns (and so the .npz), whatever the sampler records."""
    from models.engine.pipeline import SampleSpec, run

    data, model = ("gmm2d", "exact")
    spec = SampleSpec(data=data, model=model, sampler=sampler, guidance=guidance, gamma=2.0,
                      label=-1 if guidance == "none" else 1, steps=7, batch=5)
    traj = run(spec, device="cpu")
    held = sum(a.nbytes for a in (traj.x, traj.x0_hat, traj.noise, *traj.parts().values()))
    steps, itemsize = (1, 8) if sampler == "tilted" else (spec.steps, 4)  # exact draws: one float64 step
    assert traj.x.itemsize == itemsize
    per_step = itemsize * steps * spec.batch * traj.x.shape[-1]  # one (S, B, D) array
    # and at most the three parts a run may record, counted for every run, and the projection's copies
    need = models.cli.run_memory(steps, spec.batch, traj.x.shape[-1], itemsize=itemsize)
    assert 2 * held + 14 * 4 * traj.x.size <= need <= 2 * (held + 3 * per_step) + 14 * traj.x.nbytes


def test_the_frame_size_bounds_every_view():
    from viz.draw.style import DEFAULT_HEIGHT, DEFAULT_WIDTH, DISPLAY_HEIGHT, DISPLAY_WIDTH, DPI
    from viz.figures.field import FIG_WIDTH

    sizes = [DISPLAY_WIDTH.get(k, DEFAULT_WIDTH) * DISPLAY_HEIGHT.get(k, DEFAULT_HEIGHT)
             for k in set(DISPLAY_WIDTH) | set(DISPLAY_HEIGHT)] + [round(FIG_WIDTH * DPI) * round(7.4 * DPI)]
    assert max(sizes) <= models.cli.FRAME_PIXELS


# ------------------------------------------------------------------------- issue 18: small truths

@pytest.mark.parametrize("name", ["x.txt", "x", "x.gif.txt", "x.png", "cfg.npz"])
def test_out_must_end_in_gif(tmp_path, capsys, name):
    code, out, err = call_main(viz.export.main, ["--model", "exact", "--steps", "2", "--batch", "1",
                                                 "--out", str(tmp_path / name)], capsys)
    assert ".gif" in assert_one_line_error(code, out, err, EXPORT_PROG, mentions="--out")
    assert not list(tmp_path.iterdir())


def test_out_in_capitals_is_a_gif_too(tmp_path):
    args = viz.export.build_parser().parse_args(["--out", str(tmp_path / "X.GIF")])
    assert args.out == tmp_path / "X.GIF"


@pytest.mark.parametrize("sampler", ["ddpm", "euler", "heun", "dpmpp2m", "tilted"])
def test_eta_with_a_sampler_that_ignores_it_is_refused(tmp_path, capsys, sampler):
    base = ["--data", "gmm2d", "--model", "exact", "--steps", "2", "--batch", "1", "--sampler", sampler]
    code, out, err = call_main(viz.export.main, base + ["--eta", "0.5", "--out", str(tmp_path / "x.gif")], capsys)
    line = assert_one_line_error(code, out, err, EXPORT_PROG, mentions="eta")
    assert "ddim" in line and sampler in line
    assert not list(tmp_path.iterdir())
    code, out, err = call_main(models.analysis.evaluate.main, ["--data", "gmm2d", "--model", "exact", "--steps", "2",
                                                               "--samples", "4", "--sampler", sampler, "--eta", "1"],
                               capsys)
    assert "ddim" in assert_one_line_error(code, out, err, EVALUATE_PROG, mentions="eta")


def test_eta_zero_and_ddim_eta_are_accepted(tmp_path, capsys):
    base = ["--data", "gmm2d", "--model", "exact", "--steps", "2", "--batch", "1", "--figure", "paths"]
    assert viz.export.main(base + ["--sampler", "ddpm", "--eta", "0", "--out", str(tmp_path / "a.gif")]) == 0
    assert viz.export.main(base + ["--sampler", "ddim", "--eta", "0.5", "--out", str(tmp_path / "b.gif"),
                                   "--npz", str(tmp_path / "b.npz")]) == 0
    import numpy as np

    with np.load(tmp_path / "b.npz") as z:
        assert float(z["eta"]) == 0.5 and str(z["sampler"]) == "ddim"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_long_export_shows_its_progress_on_a_terminal(tmp_path, monkeypatch):
    """On a terminal, once a run has lasted ``PROGRESS_DELAY_S`` (here 0), a bar counts the sampler's
    steps and then the GIF's frames; the GIF is the same bytes as without it."""
    monkeypatch.setattr(models.cli, "PROGRESS_DELAY_S", 0.0)
    monkeypatch.setenv("COLUMNS", "100")
    argv = ["--data", "gmm2d", "--model", "exact", "--steps", "6", "--batch", "2", "--figure", "paths"]
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert viz.export.main(argv + ["--out", str(tmp_path / "a.gif")]) == 0
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal: no bar
    assert viz.export.main(argv + ["--out", str(tmp_path / "b.gif")]) == 0
    shown, quiet = terminal.getvalue(), sys.stderr.getvalue()
    assert "sampling:" in shown and "/6 [" in shown and "GIF frames:" in shown, shown
    assert "sampling" not in quiet and quiet.count("\n") == 1, quiet
    assert (tmp_path / "a.gif").read_bytes() == (tmp_path / "b.gif").read_bytes()
