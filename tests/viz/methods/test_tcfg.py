"""viz.methods.tcfg: the unconditional prediction projected on the singular line, and a far eps = 0 pinned on
its line."""

import numpy as np
import pytest

from viz.draw.drawing import arrow_ends
from viz.views.kinds import make_animation

from tests.viz.artists import arrows
from tests.viz.methods.test_in_space import STEPS, sample


@pytest.mark.parametrize("data", ["digits", "gmm2d"])
def test_tcfg_projects_the_unconditional_prediction_on_the_singular_line(data):
    traj = sample("tcfg", data, "neural")
    view = make_animation("tcfg", traj, "plane")
    for k in range(STEPS):
        view.update(k)
        pos = view.positions(k)
        u_n, d_u, zero = pos["u_n"], pos["x0_uncond"], pos["origin"]
        line = pos["ray_end"] - zero
        assert abs(np.dot(d_u - u_n, line)) <= 1e-6 * np.linalg.norm(line) * max(np.linalg.norm(d_u - u_n), 1e-3)
        np.testing.assert_allclose(arrow_ends(arrows(view)["scaled"])[1], u_n, atol=1e-9)  # dashes are unpinned
        np.testing.assert_allclose(pos["guided"], u_n + 3.0 * (pos["x0_cond"] - u_n),
                                   atol=1e-4 * max(1.0, np.abs(pos["guided"]).max()))


def test_tcfg_pins_a_far_eps_zero_on_its_line():
    """At high noise eps = 0 (x_t / sqrt(abar)) lies far beyond the construction: it is pinned to the
    edge on the line it starts, so the dotted line keeps its direction."""
    traj = sample("tcfg", "digits")
    view = make_animation("tcfg", traj, "plane")
    view.update(0)
    names, _, _, far = view._positions[0]
    assert far[names.index("origin")]
    start, end = arrow_ends(arrows(view)["ray"])
    u_n = view.positions(0)["u_n"]
    cross = (end - start)[0] * (u_n - start)[1] - (end - start)[1] * (u_n - start)[0]
    assert abs(cross) <= 1e-6 * np.linalg.norm(end - start) * np.linalg.norm(u_n - start)


@pytest.mark.parametrize("data", ["digits", "gmm2d"])
def test_tcfg_draws_the_flow_paths_first_level_where_eps_zero_is_at_infinity(data):
    """On the flow path the first level is sigma = 1 (a = 0): eps = 0 lies at infinity along x_t. The view
    draws the construction's limit (the model's own prediction there, models.guidance.zoo.tcfg): it builds,
    pins eps = 0 to the edge, and its guided point is the recorded x0_hat; the small print says sigma."""
    from models.engine.pipeline import SampleSpec, run
    traj = run(SampleSpec(data=data, model="exact", path="flow", shift=3.0, sampler="euler", guidance="tcfg",
                          gamma=7.0, label=1, steps=6, batch=2), device="cpu")
    assert traj.alpha[0] == 0.0
    view = make_animation("tcfg", traj, "plane")
    view.update(0)
    pos = view.positions(0)
    assert all(np.isfinite(p).all() for p in pos.values())
    names, _, _, far = view._positions[0]
    assert far[names.index("origin")]
    assert "(1 − σ)" in view.plane_note and "√ᾱ" not in view.plane_note
