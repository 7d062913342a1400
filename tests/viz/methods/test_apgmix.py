"""viz.methods.apgmix: the titles and the split follow the noise-level window (CFG outside it, APG inside)."""

import numpy as np
import pytest

from models.engine.schedule import make_schedule
from viz.views.kinds import make_animation

from tests.viz.methods.test_in_space import STEPS, sample, title


@pytest.mark.parametrize("data", ["digits", "gmm2d"])
def test_apgmix_titles_and_splits_follow_the_window(data):
    traj = sample("apgmix", data)
    sigma = make_schedule().sigma(traj.timesteps)
    inside = (sigma > 0.0) & (sigma <= 5.0)
    assert inside.any() and (~inside).any()
    view = make_animation("apgmix", traj, "plane")
    for k in range(STEPS):
        view.update(k)
        said = title(view)
        assert ("in (0, 5]: APG" in said) == inside[k] and ("outside (0, 5]: CFG" in said) == (not inside[k])
        pos = view.positions(k)
        par = pos["par_end"] - pos["x0_cond"]
        along = pos["x0_cond"] - pos["origin"]
        assert abs(par[0] * along[1] - par[1] * along[0]) <= 1e-6 * max(1.0, np.linalg.norm(along) ** 2)  # parallel
        orth = pos["guided"] - pos["par_end"]
        assert abs(np.dot(orth, along)) <= 1e-6 * max(1.0, np.linalg.norm(along) * np.linalg.norm(orth))
        if not inside[k]:  # CFG: the guided point is plain CFG's
            np.testing.assert_allclose(pos["guided"], pos["x_cfg"], atol=1e-4 * max(1.0, np.abs(pos["x_cfg"]).max()))
