"""Classroom mode: the slide deck (viz.figures.lecture) and ``python -m viz.lecture_gifs`` (make gifs)."""

import pytest

from models.guidance import GUIDANCE_NAMES
from models.engine.pipeline import SampleSpec, run
from models.engine.loading import ASSETS_ENV
from viz.views.kinds import ANIMATIONS
from viz.export import export
from viz.export import main as export_main
from viz.figures.lecture import SLIDES, construction_kind, view_applies
from viz.lecture_gifs import main


def test_slides_follow_the_post():
    assert [s.key for s in SLIDES] == ["noising", "prediction", "step", "noise", "trajectory", "classifier", "cfg",
                                       "gammas"]
    assert all(s.figure in ANIMATIONS or s.figure == "overlay" for s in SLIDES)
    assert all(s.guidance in GUIDANCE_NAMES for s in SLIDES)
    stages = [s.stages for s in SLIDES if s.figure == "step"]
    assert stages == [("prediction",), ("prediction", "step"), ("prediction", "step", "noise")]  # built up
    assert all(len(s.text.split(". ")) <= 3 for s in SLIDES)  # one or two sentences a screen


def small_run(guidance):
    return run(SampleSpec(data="gmm2d", model="exact", sampler="ddpm", guidance=guidance, gamma=2.0,
                          label=-1 if guidance == "none" else 1, steps=3, batch=2))


@pytest.mark.parametrize("guidance, kind", [("none", "step"), ("cfg", "cfg"), ("classifier", "classifier"),
                                            ("universal", "classifier")])
def test_construction_kind_and_which_views_apply(guidance, kind):
    traj = small_run(guidance)
    assert construction_kind(traj) == kind
    assert view_applies("cfg", traj) == (kind == "cfg")
    assert view_applies("classifier", traj) == (kind == "classifier")
    assert view_applies("classifier_x0", traj) == (kind == "classifier")  # the same runs as "classifier"
    assert all(view_applies(k, traj) for k in ("paths", "noising", "step", "trajectory"))


SMALL = ["--data", "gmm2d", "--model", "exact", "--steps", "3", "--frames", "3", "--batch", "2", "--seed", "1"]


def test_make_gifs_writes_every_view_that_applies_once(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "gifs"), *SMALL, "--guidance", "none,cfg,classifier"]) == 0
    names = sorted(p.name for p in (tmp_path / "gifs").iterdir())
    per_run = ["paths", "step", "trajectory"]
    expected = (["noising.gif"] + [f"gmm2d-{g}-{k}.gif" for g in ("none", "cfg", "classifier") for k in per_run]
                + ["gmm2d-cfg-cfg.gif", "gmm2d-classifier-classifier.gif", "gmm2d-classifier-classifier_x0.gif"])
    assert names == sorted(expected)  # classifier_x0 only for the classifier run, like classifier
    assert "wrote 13 GIFs" in capsys.readouterr().err


def test_make_gifs_draws_each_zoo_method_with_its_own_view(tmp_path, capsys):
    zoo = "rescale,apg,interval,autoguidance,cfgpp"
    assert main(["--out", str(tmp_path), *SMALL, "--guidance", zoo, "--figures", "cfg," + zoo]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(f"gmm2d-{m}-{m}.gif" for m in zoo.split(","))  # never the CFG view, never another's
    assert "wrote 5 GIFs" in capsys.readouterr().err


def test_export_command_draws_a_zoo_view(tmp_path):
    out = tmp_path / "apg.gif"
    assert export_main(["--data", "gmm2d", "--model", "exact", "--guidance", "apg", "--apg-eta", "0.5", "--steps", "3",
                        "--batch", "2", "--projection", "plane", "--figure", "apg", "--frames", "3", "--out", str(out)]) == 0
    spec = SampleSpec(data="gmm2d", model="exact", sampler="ddpm", guidance="apg", gamma=3.0, label=0, steps=3,
                      batch=2, apg_eta=0.5)
    _, gif = export(spec, "apg", "plane", tmp_path / "again.gif", device="cpu", frames=3)
    assert out.read_bytes() == gif


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
