"""models.engine.trajectory: the .npz record is written where it is asked to be and survives np.savez and back
(arrays, parts and meta, without pickle), on both paths (flow: float levels, alpha + sigma = 1, no
alphas_cumprod); a run records the meta names of its guidance."""

import numpy as np
import pytest

from models.engine.pipeline import SampleSpec, run
from models.engine.trajectory import PART_NAMES, Trajectory
from models.guidance import META_NAMES, meta_names
from tests.models.engine.test_pipeline import _arrays_equal, spec


@pytest.mark.parametrize("case", [dict(guidance="cfg"), dict(guidance="classifier", sampler="heun"),
                                  dict(guidance="none", label=-1, sampler="ddim", eta=1.0)],
                         ids=["cfg", "classifier", "unconditional"])
def test_save_load_round_trip(tmp_path, case):
    tr = run(spec(**case), device="cpu")
    path = tmp_path / "traj.npz"
    tr.save_npz(path)
    back = Trajectory.load_npz(path)
    _arrays_equal(tr, back)
    assert back.meta == tr.meta
    assert {k: type(v) for k, v in back.meta.items()} == {k: type(v) for k, v in tr.meta.items()}
    assert back.parts().keys() == tr.parts().keys()
    for name in ("x0_uncond", "x0_cond", "classifier_shift"):
        assert (getattr(back, name) is None) == (getattr(tr, name) is None)
    # Readable without pickle.
    with np.load(path, allow_pickle=False) as z:
        assert set(z.files) == set(tr.to_arrays())


def test_meta_names_are_the_general_ones_and_a_methods_own_settings():
    assert meta_names("cfg") == META_NAMES
    assert meta_names("apg") == META_NAMES + ("apg_eta", "apg_r", "apg_beta")
    assert meta_names("cfgpp") == tuple(n for n in META_NAMES if n != "gamma") + ("cfgpp_lambda",)
    assert PART_NAMES == ("x0_uncond", "x0_cond", "classifier_shift")


def test_npz_written_to_exactly_the_given_path(tmp_path):
    traj = run(SampleSpec(data="gmm2d", model="exact", steps=3, batch=2))
    for name in ("out.npz.tmp", "no_suffix", "plain.npz"):
        path = tmp_path / name
        traj.save_npz(path)
        assert path.is_file(), name
        assert not (tmp_path / (name + ".npz")).exists(), f"{name}: numpy appended .npz"
        with np.load(path, allow_pickle=False) as z:
            np.testing.assert_array_equal(z["x"], traj.x)


@pytest.mark.parametrize("case", [dict(sampler="euler", guidance="cfg"), dict(sampler="ddpm", guidance="none", label=-1),
                                  dict(sampler="heun", guidance="classifier", model="neural_flow")],
                         ids=["euler-cfg", "ddpm-unconditional", "heun-classifier-neural_flow"])
def test_flow_round_trip_keeps_the_path_and_its_levels(tmp_path, case):
    tr = run(spec(path="flow", shift=3.0, **case), device="cpu")
    assert tr.path == "flow" and tr.alphas_cumprod is None
    np.testing.assert_array_equal(tr.alpha + tr.sigma, 1.0)
    assert tr.sigma[0] == 1.0 and tr.sigma[-1] == 0.0 and tr.alpha[-1] == 1.0
    tr.save_npz(tmp_path / "flow.npz")
    back = Trajectory.load_npz(tmp_path / "flow.npz")
    _arrays_equal(tr, back)
    assert back.meta == tr.meta and back.path == "flow" and back.meta["shift"] == 3.0
    assert back.alphas_cumprod is None and back.timesteps.dtype == np.float64
    np.testing.assert_array_equal(back.alpha + back.sigma, 1.0)
    assert back.level_text(0) == "σ = 1" and back.level_text(back.steps) == "σ = 0"
    assert back.level_text(1) == f"σ = {back.timesteps[1] / 1000:.3g}"


def test_vp_levels_and_text():
    tr = run(spec(sampler="ddim", steps=4), device="cpu")
    assert tr.path == "vp" and tr.level_text(0) == "t = 999" and tr.level_text(4) == "t = 0"
    np.testing.assert_allclose(tr.alpha, np.sqrt(np.append(tr.alphas_cumprod[tr.timesteps], 1.0)), rtol=1e-15)
    np.testing.assert_allclose(tr.alpha**2 + tr.sigma**2, 1.0, rtol=1e-12)


def test_a_record_saved_before_paths_existed_reads_as_vp(tmp_path):
    tr = run(spec(steps=3), device="cpu")
    arrays = {k: v for k, v in tr.to_arrays().items() if k not in ("alpha", "sigma", "path")}
    np.savez(tmp_path / "old.npz", **arrays)
    back = Trajectory.load_npz(tmp_path / "old.npz")
    assert back.path == "vp" and back.alpha is None and "path" not in back.meta
    np.testing.assert_array_equal(back.x, tr.x)
