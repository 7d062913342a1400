"""models.cli: the argparse types of the command lines, each bad value one clear message, and the zoo's
flags on both command lines. (Every option of the real command lines: tests/robustness/test_cli.py.)"""

import argparse
import math

import numpy as np
import pytest

from models.cli import float_in, float_list, group_type, int_range, setting_type, writable_file, writable_folder
from models.guidance import SETTINGS


def _rejects(parse, text: str, words: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=words):
        parse(text)


def test_int_range_and_float_in():
    assert int_range(1, 10)("10") == 10
    _rejects(int_range(1, 10), "11", "outside 1..10")
    _rejects(int_range(1, 10), "2.5", "not an integer")
    assert float_in(0.0, 1.0, low_open=True)("1") == 1.0
    _rejects(float_in(0.0, 1.0, low_open=True), "0", r"outside \(0, 1\]")
    _rejects(float_in(0.0, 1.0), "nan", "not a finite number")
    assert float_list("0, 1,3") == [0.0, 1.0, 3.0]
    _rejects(float_list, ",", "comma-separated")


def test_setting_types_follow_the_declaration():
    phi, r, eta = (setting_type(SETTINGS[n]) for n in ("rescale_phi", "apg_r", "apg_eta"))
    assert phi("0.5") == 0.5 and r("inf") == math.inf and eta("-1e300") == -1e300
    _rejects(phi, "1.5", r"'1.5' is not in \[0, 1\]")
    _rejects(r, "0", r"not in \(0, inf\]")
    _rejects(eta, "inf", "not a finite number")
    _rejects(phi, "0x10", "not a number")
    interval = group_type("interval")
    assert interval("0,inf") == (0.0, math.inf)
    _rejects(interval, "5,1", "lo <= hi")
    _rejects(interval, "1", "LO,HI")


def test_writable_paths(tmp_path):
    assert writable_file(str(tmp_path / "a.gif")) == tmp_path / "a.gif" and not (tmp_path / "a.gif").exists()
    _rejects(writable_file, str(tmp_path / "missing" / "a.gif"), "does not exist")
    _rejects(writable_file, str(tmp_path), "is a folder")
    assert writable_folder(str(tmp_path / "new" / "deeper")) == tmp_path / "new" / "deeper"
    (tmp_path / "file").write_text("x")
    _rejects(writable_folder, str(tmp_path / "file"), "is a file")


@pytest.mark.parametrize("flags", [["--guidance", "rescale", "--rescale-phi", "0.5"],
                                   ["--guidance", "apg", "--apg-eta", "0.2", "--apg-r", "inf", "--apg-beta", "-0.3"],
                                   ["--guidance", "interval", "--interval", "0.5,4"],
                                   ["--guidance", "autoguidance"],
                                   ["--guidance", "cfgpp", "--sampler", "ddim", "--cfgpp-lambda", "0.8"]])
def test_zoo_flags_on_the_command_lines(tmp_path, flags):
    from models.analysis.evaluate import main as evaluate_main
    from viz.export import main as export_main

    base = ["--model", "exact", "--steps", "4"]
    assert export_main(base + flags + ["--batch", "2", "--out", str(tmp_path / "z.gif"), "--npz", str(tmp_path / "z.npz")]) == 0
    with np.load(tmp_path / "z.npz") as z:
        assert str(z["guidance"]) == flags[1] and np.isfinite(z["x"]).all()
    if flags[1] == "cfgpp":  # CFG++ sweeps its λ: --gammas are λ values, --cfgpp-lambda is refused (tests/models/analysis/test_evaluate.py)
        flags = flags[:-2] + ["--gammas", "0.2,0.8"]
    else:
        flags = flags + ["--gammas", "1,2"]
    assert evaluate_main(base + flags + ["--samples", "10", "--json"]) == 0


@pytest.mark.parametrize("flags", [["--rescale-phi", "1.5"], ["--apg-r", "0"], ["--apg-r", "nan"], ["--apg-beta", "1"],
                                   ["--interval", "3"], ["--interval", "4,1"], ["--interval", "a,b"],
                                   ["--cfgpp-lambda", "-0.1"], ["--apg-eta", "inf"]])
def test_bad_zoo_flags_are_one_line_errors(tmp_path, capsys, flags):
    from viz.export import main as export_main

    with pytest.raises(SystemExit) as e:
        export_main(["--model", "exact", "--steps", "2", "--batch", "1", "--out", str(tmp_path / "z.gif")] + flags)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error" in err[0]
