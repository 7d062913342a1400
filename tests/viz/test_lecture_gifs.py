"""``python -m viz.lecture_gifs`` (make gifs): every view that applies to each run written once, each zoo
method drawn with its own view, the same bytes as the export command, a sampler the method supports, and
what it could not write named; bad values are one line and status 2. (The slide deck: figures/test_lecture.py.)"""

import pytest

from models.engine.loading import ASSETS_ENV
from models.engine.pipeline import SampleSpec
from viz.export import export
from models.engine.data import DATA_NAMES
from viz.lecture_gifs import main


SMALL = ["--data", "gmm2d", "--model", "exact", "--steps", "3", "--frames", "3", "--batch", "2", "--seed", "1"]


def test_make_gifs_writes_every_view_that_applies_once(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "gifs"), *SMALL, "--guidance", "none,cfg,classifier"]) == 0
    names = sorted(p.name for p in (tmp_path / "gifs").iterdir())
    per_run = ["paths", "step", "trajectory"]
    expected = (["noising.gif"] + [f"gmm2d-{g}-{k}.gif" for g in ("none", "cfg", "classifier") for k in per_run]
                + ["gmm2d-cfg-cfg.gif", "gmm2d-classifier-classifier.gif", "gmm2d-classifier-classifier_x0.gif",
                   "gmm2d-meets-flow.gif"])  # the flow view draws flow runs only; its companion draws both paths
    assert names == sorted(expected)  # classifier_x0 only for the classifier run, like classifier
    assert "wrote 14 GIFs" in capsys.readouterr().err


def test_make_gifs_draws_each_zoo_method_with_its_own_view(tmp_path, capsys):
    zoo = "rescale,apg,interval,autoguidance,cfgpp"
    assert main(["--out", str(tmp_path), *SMALL, "--guidance", zoo, "--figures", "cfg," + zoo]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(f"gmm2d-{m}-{m}.gif" for m in zoo.split(","))  # never the CFG view, never another's
    assert "wrote 5 GIFs" in capsys.readouterr().err


def test_make_gifs_bytes_equal_the_export_command(tmp_path):
    assert main(["--out", str(tmp_path), *SMALL, "--guidance", "cfg", "--figures", "cfg", "--gamma", "2.5"]) == 0
    spec = SampleSpec(data="gmm2d", model="exact", sampler="ddpm", guidance="cfg", gamma=2.5, label=0, steps=3,
                      seed=1, batch=2)
    _, gif = export(spec, "cfg", "plane", tmp_path / "cli.gif", device="cpu", frames=3)
    assert (tmp_path / "gmm2d-cfg-cfg.gif").read_bytes() == gif


def test_make_gifs_falls_back_to_a_sampler_the_method_supports(tmp_path, capsys):
    assert main(["--out", str(tmp_path), *SMALL, "--guidance", "cfgpp", "--figures", "step"]) == 0
    assert (tmp_path / "gmm2d-cfgpp-step.gif").exists()
    assert "sampled with ddim" in capsys.readouterr().err


def test_make_gifs_names_what_it_could_not_write(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(ASSETS_ENV, str(tmp_path / "empty"))  # no weights: the neural runs cannot load
    status = main(["--out", str(tmp_path / "gifs"), "--data", "gmm2d", "--model", "neural", "--steps", "2",
                   "--frames", "2", "--guidance", "cfg", "--figures", "paths"])
    err = capsys.readouterr().err
    assert status == 1 and "not written: gmm2d-cfg-paths" in err and "missing weights file" in err


@pytest.mark.parametrize("args", [["--data", "mnist"], ["--guidance", "cfg,nope"], ["--figures", "pie"],
                                  ["--fps", "0"], ["--steps", "0"]])
def test_make_gifs_bad_values_are_one_line_and_status_2(tmp_path, args, capsys):
    with pytest.raises(SystemExit) as e:
        main(["--out", str(tmp_path), *SMALL, *args])
    err = capsys.readouterr().err
    assert e.value.code == 2 and len(err.strip().splitlines()) == 1 and "error" in err


def test_make_gifs_on_the_flow_path_draws_the_flow_view_and_both_paths(tmp_path):
    assert main(["--out", str(tmp_path), *SMALL, "--data", "digits,gmm2d", "--path", "flow", "--guidance", "cfg",
                 "--figures", "flow,step"]) == 0
    names = {p.name for p in tmp_path.glob("*.gif")}
    for data in DATA_NAMES:
        assert {f"{data}-cfg-flow.gif", f"{data}-cfg-step.gif", f"{data}-meets-flow.gif"} <= names


def test_the_flow_view_is_left_out_of_vp_runs(tmp_path):
    assert main(["--out", str(tmp_path), *SMALL, "--data", "gmm2d", "--guidance", "none", "--figures", "flow"]) == 0
    assert {p.name for p in tmp_path.glob("*.gif")} == {"gmm2d-meets-flow.gif"}
