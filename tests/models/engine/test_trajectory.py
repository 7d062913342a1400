"""models.engine.trajectory: the .npz record is written where it is asked to be and survives np.savez and back
(arrays, parts and meta, without pickle); a run records the meta names of its guidance."""

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
