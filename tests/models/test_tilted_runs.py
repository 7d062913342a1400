"""``--sampler tilted`` and ``--corrector-steps`` end to end: SampleSpec and run (models.engine.pipeline), and
both command lines (viz.export, models.analysis.evaluate): exact draws where an exact target exists, one clear
line and exit status 2 where none does, ``tilted_tv`` in every gmm2d row of the evaluation."""
import json

import numpy as np
import pytest

import models.analysis.evaluate
import viz.export
from models.engine.pipeline import TILTED_GUIDANCE, SampleSpec, run
from models.analysis.tilted_target import exact_tv_quantile, batch_target_shares, tilted_sample, tilted_tv
from models.engine.trajectory import Trajectory
from tests.robustness.conftest import assert_one_line_error, call_main

TILTED = dict(data="gmm2d", model="exact", sampler="tilted", guidance="cfg")
EXPORT, EVALUATE = "python -m viz.export", "python -m models.evaluate"


# --- the pipeline ------------------------------------------------------------------------------

def test_tilted_run_is_a_one_step_trajectory_of_exact_draws(tmp_path):
    spec = SampleSpec(**TILTED, gamma=3.0, label=1, batch=50, seed=4, steps=100)
    traj = run(spec, device="cpu")
    assert traj.steps == 1 and traj.timesteps.tolist() == [999] and traj.x.shape == (2, 50, 2)
    np.testing.assert_array_equal(traj.samples, tilted_sample(50, 1, 3.0, 4))
    np.testing.assert_array_equal(traj.x0_hat[0], traj.samples)
    assert not traj.noise.any() and traj.labels.tolist() == [1] * 50
    # x_T is a draw of the forward process given the sample: at abar_T ~ 4e-5 it is almost pure noise.
    assert abs(float(traj.x[0].std()) - 1.0) < 0.2
    assert traj.meta["sampler"] == "tilted" and traj.meta["steps"] == 1 and traj.meta["gamma"] == 3.0
    np.testing.assert_array_equal(run(spec, device="cpu").x, traj.x)  # same seed, same draws
    traj.save_npz(tmp_path / "t.npz")
    back = Trajectory.load_npz(tmp_path / "t.npz")
    np.testing.assert_array_equal(back.x, traj.x)
    assert back.meta == traj.meta


def test_tilted_run_honours_per_sample_labels():
    labels = np.arange(30) % 3
    x = run(SampleSpec(**TILTED, gamma=7.0, batch=30, seed=2), device="cpu", labels=labels).samples
    for c in range(3):
        np.testing.assert_array_equal(x[labels == c], tilted_sample(10, c, 7.0, 2))


@pytest.mark.parametrize("changes, message", [
    (dict(data="digits"), "no exact tilted target for the digits data set"),
    (dict(model="neural"), "not the neural model's"),
    (dict(gamma=-0.5), "gamma >= 0"),
    (dict(guidance="apg"), "guidance 'apg' has no such target"),
    (dict(label=-1), "needs a class label"),
    (dict(corrector_steps=2), "corrector steps do not apply"),
])
def test_tilted_spec_refuses_what_has_no_exact_target(changes, message):
    with pytest.raises(ValueError, match=message):
        SampleSpec(**(TILTED | dict(gamma=1.0, label=1) | changes)).validate()


def test_every_aiming_guidance_gives_the_same_exact_draws():
    runs = [run(SampleSpec(**(TILTED | dict(guidance=g)), gamma=2.0, label=0, batch=20), device="cpu").samples
            for g in TILTED_GUIDANCE]
    for x in runs[1:]:
        np.testing.assert_array_equal(x, runs[0])


def test_corrector_settings_reach_the_sampler_and_the_record():
    base = dict(data="gmm2d", model="exact", sampler="ddpm", gamma=3.0, label=1, steps=10, batch=16, seed=1)
    plain = run(SampleSpec(**base), device="cpu")
    corrected = run(SampleSpec(**base, corrector_steps=2, corrector_snr=0.2), device="cpu")
    assert not np.array_equal(plain.x[1:], corrected.x[1:])
    assert corrected.meta["corrector_steps"] == 2 and corrected.meta["corrector_snr"] == 0.2
    assert "corrector_steps" not in plain.meta  # runs without a corrector record what they did before
    np.testing.assert_array_equal(run(SampleSpec(**base, corrector_steps=0, corrector_snr=0.3), device="cpu").x, plain.x)


@pytest.mark.parametrize("changes, message", [
    (dict(corrector_steps=-1), "corrector steps"), (dict(corrector_steps=2.5), "corrector.steps must be an integer"),
    (dict(corrector_steps=101), "corrector steps"), (dict(corrector_snr=0.0), "corrector snr"),
    (dict(corrector_snr=float("nan")), "corrector snr"), (dict(corrector_snr="0.2"), "corrector.snr must be a number"),
])
def test_bad_corrector_settings_are_one_sentence(changes, message):
    with pytest.raises(ValueError, match=message):
        SampleSpec(data="gmm2d", model="exact", **changes).validate()


# --- viz.export ---------------------------------------------------------------------------------

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


# --- models.analysis.evaluate ----------------------------------------------------------------------------

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
