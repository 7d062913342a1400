"""models.trajectory: the .npz record is written where it is asked to be, and reads back whole."""

import numpy as np

from models.pipeline import SampleSpec, run


def test_npz_written_to_exactly_the_given_path(tmp_path):
    traj = run(SampleSpec(data="gmm2d", model="exact", steps=3, batch=2))
    for name in ("out.npz.tmp", "no_suffix", "plain.npz"):
        path = tmp_path / name
        traj.save_npz(path)
        assert path.is_file(), name
        assert not (tmp_path / (name + ".npz")).exists(), f"{name}: numpy appended .npz"
        with np.load(path, allow_pickle=False) as z:
            np.testing.assert_array_equal(z["x"], traj.x)
