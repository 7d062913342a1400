"""``python -m viz.export --figure field``: the guidance field's GIF over t, its defaults, its errors."""

import subprocess
import sys
from pathlib import Path

import pytest

import viz.export
from models.analysis.field_records import FIELD_GIF_FPS, FIELD_GIF_FRAMES, FieldSpec
from viz.export import main
from viz.gif import gif_frame_count

ROOT = Path(__file__).resolve().parents[2]
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
