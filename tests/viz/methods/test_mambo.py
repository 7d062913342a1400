"""viz.methods.mambo: the damped scale drawn, its ratio measured in the flow-matching velocity u on either
path, and plain CFG's point beside it."""

import math

import numpy as np
import pytest

from viz.draw.drawing import arrow_ends
from viz.views.kinds import make_animation

from tests.viz.artists import arrows, drawn
from tests.viz.methods.test_in_space import STEPS, sample, title


@pytest.mark.parametrize("model, path", [("exact", "vp"), ("neural", "vp"), ("exact", "flow")])
def test_mambo_draws_the_damped_scale_and_plain_cfgs_point(model, path):
    traj = sample("mambo", "gmm2d", model, **({"path": "flow", "shift": 3.0} if path == "flow" else {}))
    view = make_animation("mambo", traj, "plane")
    for k in range(STEPS):
        view.update(k)
        a, s = float(traj.alpha[k]), float(traj.sigma[k])
        d_u, d_c, x_t = (np.asarray(v[k, 0], np.float64) for v in (traj.x0_uncond, traj.x0_cond, traj.x[:-1]))
        u_u, u_c = (x_t - (a + s) * d_u) / s, (x_t - (a + s) * d_c) / s  # u = eps - x0
        r = np.linalg.norm(u_c - u_u) / np.linalg.norm(u_u)
        scale = 1 + 2.0 * math.exp(-2.0 * r)  # gamma 3, alpha 2 (arXiv 2508.03442)
        np.testing.assert_allclose(arrow_ends(arrows(view)["cfg_diff_scaled"])[1], d_u + scale * (d_c - d_u), atol=1e-5)
        np.testing.assert_allclose(drawn(view, "x_cfg"), d_u + 3.0 * (d_c - d_u), atol=1e-9)
        ray = arrows(view)["ray"]  # |u_u| in x0 units: the line from u = 0 to D_u
        np.testing.assert_allclose(arrow_ends(ray)[0], x_t / (a + s), atol=1e-9)
        said = title(view)
        assert f"r = {r:.2g}" in said and f"γ_eff = {scale:.3g}" in said
