"""viz.export, the export command line: contract arrays, GIF bytes, determinism and one-line errors, for
the runs' views, ``--sampler tilted`` and the corrector's flags, and ``--figure field`` (the guidance field's
GIF over t, its defaults, its errors)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import viz.export
from models.analysis.field_records import FIELD_GIF_FPS, FIELD_GIF_FRAMES, FieldSpec
from models.analysis.tilted_target import tilted_sample
from models.engine.pipeline import SampleSpec
from models.engine.trajectory import Trajectory
from ui.view_cache import GIF_FPS, GIF_FRAMES, view_gif
from viz.export import export, main, main as export_main
from viz.gif import gif_frame_count

from tests.robustness.conftest import assert_one_line_error, call_main


ROOT = Path(__file__).resolve().parents[2]
BASE = ["--data", "digits", "--model", "exact", "--sampler", "ddpm", "--guidance", "cfg", "--gamma", "3",
        "--label", "4", "--steps", "12", "--seed", "5", "--batch", "3", "--projection", "pca"]


def test_writes_contract_npz_and_animated_gif(tmp_path):
    gif, npz = tmp_path / "a.gif", tmp_path / "a.npz"
    assert main(BASE + ["--out", str(gif), "--npz", str(npz)]) == 0
    with np.load(npz, allow_pickle=False) as z:
        assert z["x"].shape == (13, 3, 64) and z["x0_hat"].shape == (12, 3, 64)
        assert z["noise"].shape == (12, 3, 64) and z["timesteps"].shape == (12,)
        assert z["alphas_cumprod"].shape == (1000,) and z["alphas_cumprod"].dtype == np.float64
        assert set(z.files) >= {"x0_uncond", "x0_cond", "labels", "gamma", "sampler", "guidance", "model", "data", "seed"}
        assert str(z["sampler"]) == "ddpm" and float(z["gamma"]) == 3.0
        np.testing.assert_array_equal(z["labels"], [4, 4, 4])
    traj = Trajectory.load_npz(npz)
    assert traj.meta["seed"] == 5
    assert gif_frame_count(gif.read_bytes()) == 13  # x_T, then one frame per step


def test_same_settings_same_bytes(tmp_path):
    outs = []
    for name in ("a", "b"):
        main(BASE + ["--out", str(tmp_path / f"{name}.gif"), "--npz", str(tmp_path / f"{name}.npz")])
        outs.append((tmp_path / f"{name}.gif").read_bytes())
    assert outs[0] == outs[1]
    main(BASE[:-6] + ["--seed", "6", "--batch", "3", "--projection", "pca", "--out", str(tmp_path / "c.gif")])
    assert (tmp_path / "c.gif").read_bytes() != outs[0]


@pytest.mark.parametrize("projection", ["random", "plane"])
def test_other_projections(tmp_path, projection):
    args = BASE[:-1] + [projection, "--out", str(tmp_path / "p.gif"), "--frames", "5"]
    assert main(args) == 0
    assert gif_frame_count((tmp_path / "p.gif").read_bytes()) == 5


@pytest.mark.parametrize("bad", [
    ["--sampler", "foo"], ["--steps", "0"], ["--steps", "1001"], ["--gamma", "nan"], ["--gamma", "inf"],
    ["--gamma", "abc"], ["--label", "10"], ["--batch", "0"], ["--projection", "tsne"], ["--device", "tpu"],
    ["--out", "/nonexistent-folder/x.gif"], ["--eta", "2"], ["--guidance", "magic"],
])
def test_bad_values_fail_with_one_line(tmp_path, capsys, bad):
    args = ["--model", "exact", "--steps", "2", "--batch", "1", "--out", str(tmp_path / "x.gif")] + bad
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0]


def test_bad_value_in_a_real_process_has_no_traceback(tmp_path):
    res = subprocess.run([sys.executable, "-m", "viz.export", "--steps", "abc", "--out", str(tmp_path / "x.gif")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr and "--steps" in res.stderr


def test_classifier_in_prediction_space_is_a_figure_kind(tmp_path, capsys):
    """``--figure classifier_x0`` writes the prediction-space construction of a classifier-guided run,
    one frame per step and not the picture of ``--figure classifier``, and a CFG run (no classifier direction recorded) is refused in one line."""
    args = ["--data", "digits", "--model", "exact", "--sampler", "ddpm", "--gamma", "3", "--label", "4",
            "--steps", "4", "--batch", "1", "--figure", "classifier_x0", "--projection", "plane"]
    gif = tmp_path / "c.gif"
    assert main(args + ["--guidance", "classifier", "--out", str(gif)]) == 0
    assert gif_frame_count(gif.read_bytes()) == 4
    assert main(args[:-4] + ["--figure", "classifier", "--projection", "plane", "--guidance", "classifier",
                             "--out", str(tmp_path / "d.gif")]) == 0
    assert (tmp_path / "d.gif").read_bytes() != gif.read_bytes()
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        main(args + ["--guidance", "cfg", "--out", str(tmp_path / "x.gif")])
    assert e.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "classifier" in lines[0] and "Traceback" not in lines[0]
    assert not (tmp_path / "x.gif").exists()


@pytest.mark.parametrize("content", [None, b"", b"not a torch file", b"PK\x03\x04truncated"])
def test_missing_or_corrupt_weights_name_the_file_and_the_fix(tmp_path, content):
    assets = tmp_path / "assets"
    assets.mkdir()
    if content is not None:
        (assets / "digits_denoiser.json").write_text('{"dim": 64, "num_classes": 10, "hidden": 32, "depth": 1}')
        (assets / "digits_denoiser.pt").write_bytes(content)
    res = subprocess.run([sys.executable, "-m", "viz.export", "--model", "neural", "--steps", "2", "--batch", "1",
                          "--out", str(tmp_path / "x.gif")], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "GUIDANCE_LAB_ASSETS": str(assets)})
    assert res.returncode == 2, res.stderr
    line = res.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "digits_denoiser" in line and "python -m models.train" in line


@pytest.mark.parametrize("kind,guidance,projection", [("cfg", "cfg", "plane"), ("trajectory", "none", "pca_data"),
                                                      ("classifier", "classifier", "random")])
def test_page_download_equals_command_line_bytes(tmp_path, kind, guidance, projection):
    """The app's download button and `python -m viz.export` give the same GIF for the same settings."""
    label = 3 if guidance != "none" else -1
    spec = SampleSpec(data="digits", model="exact", sampler="ddpm", guidance=guidance, gamma=2.5, label=label,
                      steps=6, seed=4, batch=8)
    page_bytes = view_gif(kind, spec, projection, 0)  # the page's download: cached on the same spec
    _, cli_bytes = export(spec, kind, projection, tmp_path / "x.gif", device="cpu", frames=GIF_FRAMES, fps=GIF_FPS)
    assert page_bytes == cli_bytes == (tmp_path / "x.gif").read_bytes()
    assert gif_frame_count(cli_bytes) == (7 if kind == "trajectory" else 6)  # S + 1 path frames, S one-step frames


# --- --sampler tilted and --corrector-steps --------------------------------------------------------

EXPORT = "python -m viz.export"


@pytest.mark.parametrize("args, mentions", [
    (["--data", "digits", "--model", "exact"], "digits"),
    (["--data", "gmm2d", "--model", "neural"], "neural"),
    (["--data", "gmm2d", "--model", "exact", "--gamma", "-1"], "gamma"),
    (["--data", "gmm2d", "--model", "exact", "--corrector-steps", "3"], "corrector"),
    (["--data", "gmm2d", "--model", "exact", "--figure", "cfg"], "cfg"),
])
def test_export_tilted_without_an_exact_target_is_one_line_and_status_2(tmp_path, capsys, args, mentions):
    out = tmp_path / "x.gif"
    code, stdout, err = call_main(viz.export.main, ["--sampler", "tilted", "--out", str(out), *args], capsys)
    assert_one_line_error(code, stdout, err, EXPORT, mentions=mentions)
    assert not out.exists()


def test_export_tilted_writes_the_gif_and_one_step_arrays(tmp_path, capsys):
    gif, npz = tmp_path / "t.gif", tmp_path / "t.npz"
    argv = ["--data", "gmm2d", "--model", "exact", "--sampler", "tilted", "--gamma", "7", "--label", "1",
            "--batch", "16", "--seed", "3", "--out", str(gif), "--npz", str(npz)]
    assert viz.export.main(argv) == 0
    traj = Trajectory.load_npz(npz)
    assert traj.steps == 1 and traj.meta["sampler"] == "tilted"
    np.testing.assert_array_equal(traj.samples, tilted_sample(16, 1, 7.0, 3))
    first = gif.read_bytes()
    assert first[:6] == b"GIF89a" and viz.export.main(argv) == 0 and gif.read_bytes() == first  # same bytes


def test_export_corrector_flags_reach_the_arrays(tmp_path):
    npz = tmp_path / "c.npz"
    assert viz.export.main(["--data", "gmm2d", "--model", "exact", "--steps", "5", "--corrector-steps", "2",
                            "--corrector-snr", "0.1", "--out", str(tmp_path / "c.gif"), "--npz", str(npz)]) == 0
    meta = Trajectory.load_npz(npz).meta
    assert meta["corrector_steps"] == 2 and meta["corrector_snr"] == 0.1


def test_export_command_draws_a_zoo_view(tmp_path):
    out = tmp_path / "apg.gif"
    assert export_main(["--data", "gmm2d", "--model", "exact", "--guidance", "apg", "--apg-eta", "0.5", "--steps", "3",
                        "--batch", "2", "--projection", "plane", "--figure", "apg", "--frames", "3", "--out", str(out)]) == 0
    spec = SampleSpec(data="gmm2d", model="exact", sampler="ddpm", guidance="apg", gamma=3.0, label=0, steps=3,
                      batch=2, apg_eta=0.5)
    _, gif = export(spec, "apg", "plane", tmp_path / "again.gif", device="cpu", frames=3)
    assert out.read_bytes() == gif


FIELD = ["--data", "gmm2d", "--model", "exact", "--figure", "field"]


def test_writes_the_field_gif(tmp_path, capsys):
    out = tmp_path / "field.gif"
    assert main(FIELD + ["--guidance", "apg", "--gamma", "5", "--label", "2", "--apg-beta", "0.5", "--frames", "3",
                         "--out", str(out)]) == 0
    data = out.read_bytes()
    assert data[:6] == b"GIF89a" and gif_frame_count(data) == 3
    assert "wrote" in capsys.readouterr().err
    again = tmp_path / "again.gif"
    main(FIELD + ["--guidance", "apg", "--gamma", "5", "--label", "2", "--apg-beta", "0.5", "--frames", "3",
                  "--out", str(again)])
    assert again.read_bytes() == data  # same settings, same bytes


def test_the_command_line_chooses_the_field(tmp_path, monkeypatch):
    """--model, --guidance, --gamma, --label and the method's own settings make the FieldSpec; the
    field's frames and fps default to FIELD_GIF_FRAMES and FIELD_GIF_FPS."""
    seen = {}

    def fake(spec, out, frames, fps):
        seen.update(spec=spec, frames=frames, fps=fps)
        return b"GIF89a"

    monkeypatch.setattr(viz.export, "export_field", fake)
    main(["--data", "gmm2d", "--model", "neural", "--figure", "field", "--guidance", "apg", "--gamma", "4",
          "--label", "2", "--apg-eta", "0.5", "--rescale-phi", "0.1", "--out", str(tmp_path / "x.gif")])
    assert seen["spec"] == FieldSpec(model="neural", guidance="apg", gamma=4.0, label=2,
                                     settings=(("apg_beta", 0.0), ("apg_eta", 0.5), ("apg_r", float("inf"))))
    assert (seen["frames"], seen["fps"]) == (FIELD_GIF_FRAMES, FIELD_GIF_FPS)


def test_trajectory_views_keep_their_defaults(tmp_path, monkeypatch):
    seen = {}

    def fake(spec, figure, projection, out, npz, device, frames, fps, sample):
        seen.update(frames=frames, fps=fps)
        raise ValueError("stop here")

    monkeypatch.setattr(viz.export, "export", fake)
    with pytest.raises(SystemExit):
        main(["--model", "exact", "--out", str(tmp_path / "x.gif")])
    assert (seen["frames"], seen["fps"]) == (101, 10.0)


@pytest.mark.parametrize("bad,words", [
    (["--data", "digits"], "gmm2d only"), (["--label", "-1"], "label"), (["--label", "3"], "label"),
    (["--npz", "x.npz"], "--npz"), (["--fps", "0"], "fps"), (["--frames", "1"], "--frames"),
])
def test_bad_input_fails_with_one_line(tmp_path, capsys, bad, words):
    args = ["--data", "gmm2d", "--model", "exact", "--figure", "field", "--out", str(tmp_path / "x.gif")] + bad
    with pytest.raises(SystemExit) as e:
        main(args)
    assert e.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0]
    assert not (tmp_path / "x.gif").exists()


def test_digits_in_a_real_process_says_why_without_a_traceback(tmp_path):
    res = subprocess.run([sys.executable, "-m", "viz.export", "--data", "digits", "--figure", "field",
                          "--out", str(tmp_path / "x.gif")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr and "gmm2d" in res.stderr


@pytest.mark.parametrize("data", ["gmm2d", "digits"])
def test_exports_the_flow_view_on_the_flow_path_with_its_levels(tmp_path, data):
    out, npz = tmp_path / "flow.gif", tmp_path / "flow.npz"
    assert main(["--data", data, "--model", "exact", "--path", "flow", "--shift", "3", "--sampler", "euler",
                 "--guidance", "cfg", "--label", "1", "--steps", "5", "--batch", "2", "--frames", "3",
                 "--figure", "flow", "--projection", "plane", "--out", str(out), "--npz", str(npz)]) == 0
    assert out.read_bytes()[:6] == b"GIF89a"
    with np.load(npz) as z:
        assert str(z["path"]) == "flow" and z["sigma"][0] == 1.0 and z["sigma"][-1] == 0.0


def test_a_sampler_off_the_path_is_one_line_and_status_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["--data", "gmm2d", "--path", "flow", "--sampler", "dpmpp2m", "--out", str(tmp_path / "x.gif")])
    err = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and len(err) == 1 and "does not run on the flow path" in err[0]
