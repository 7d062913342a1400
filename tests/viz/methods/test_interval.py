"""viz.methods.interval: the titles switch at the ends of the interval (guided inside, conditional outside)."""

import numpy as np
import pytest

from models.engine.pipeline import run
from models.engine.schedule import make_schedule
from viz.draw.drawing import arrow_ends
from viz.draw.geometry import step_vectors
from viz.views.kinds import make_animation

from tests.viz.artists import arrows
from tests.viz.methods.test_on_cfg import STEPS, sample, spec_for


# ----------------------------------------------------------------------------- interval

@pytest.mark.parametrize("model, data", [("exact", "digits"), ("neural", "gmm2d")])
def test_interval_titles_switch_at_the_ends_of_the_interval(model, data):
    traj = sample("interval", data, model)
    lo, hi = traj.meta["interval_lo"], traj.meta["interval_hi"]
    sigma = make_schedule().sigma(traj.timesteps)  # arXiv 2404.07724: guide while sigma in [lo, hi]
    inside = (sigma >= lo) & (sigma <= hi)
    assert inside.any() and (~inside).any()
    view = make_animation("interval", traj, "plane")
    for k in range(STEPS):
        view.update(k)
        title = view.title.get_text()
        assert (f"inside [{lo:g}, {hi:g}]: guided, γ = 3" in title) == inside[k], title
        assert (f"outside [{lo:g}, {hi:g}]: γ = 1, conditional" in title) == (not inside[k]), title
        assert f"σ = {sigma[k]:.3g}" in title
        band_end = arrow_ends(arrows(view)["cfg_diff_scaled"])[1]
        sv = step_vectors(traj, k, 0)
        proj = view.projection_at(k)
        want = sv.x0_uncond + 3.0 * (sv.x0_cond - sv.x0_uncond) if inside[k] else sv.x0_cond  # off: the band ends on D_c
        np.testing.assert_allclose(band_end, proj(want), atol=1e-4)
    # Where the switch lands: a bound between two steps' sigmas flips exactly there.
    cut = float((sigma[2] + sigma[3]) / 2)
    edge = make_animation("interval", run(spec_for("interval", data, model, interval_lo=0.0, interval_hi=cut), device="cpu"))
    titles = []
    for k in range(STEPS):
        edge.update(k)
        titles.append("inside" in edge.title.get_text())
    assert titles == [False] * 3 + [True] * (STEPS - 3)
