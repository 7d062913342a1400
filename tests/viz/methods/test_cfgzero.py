"""viz.methods.cfgzero: s* u drawn at the foot of the perpendicular from the conditional prediction, in the
flow-matching velocity u on either path, the zero steps at u = 0 (x_t / (a + s)), and a rescale shorter than its marker magnified (views in a prediction space as a whole:
test_in_space.py)."""

import numpy as np
import pytest

from viz.draw.drawing import arrow_ends
from viz.draw.style import MIN_ARROW_PX
from viz.views.kinds import make_animation

from tests.viz.artists import arrows, drawn
from tests.viz.methods.test_in_space import STEPS, sample, title


# ----------------------------------------------------------------------------- each construction

@pytest.mark.parametrize("model, path", [("exact", "vp"), ("neural", "vp"), ("exact", "flow")])
def test_cfgzero_draws_s_star_u_at_the_foot_of_the_perpendicular_and_zero_steps_at_u_zero(model, path):
    traj = sample("cfgzero", "digits", model, **({"path": "flow", "shift": 3.0} if path == "flow" else {}))
    view = make_animation("cfgzero", traj, "plane")
    for k in range(STEPS):
        view.update(k)
        proj = view.projection_at(k)
        a, s = float(traj.alpha[k]), float(traj.sigma[k])
        zero = proj(np.asarray(traj.x[k, 0], np.float64) / (a + s))  # u = eps - x0 = 0
        np.testing.assert_allclose(drawn(view, "origin"), zero, atol=1e-9)
        d_u, d_c = proj(traj.x0_uncond[k, 0]), proj(traj.x0_cond[k, 0])
        if k < 2:  # the zero steps: x0_hat is v = 0 itself, nothing is built
            np.testing.assert_allclose(drawn(view, "guided"), zero, atol=1e-5)
            assert "zero step" in title(view)
            assert not arrows(view)["diff_scaled"].get_visible()
            continue
        su = arrow_ends(arrows(view)["scaled"])[1]
        assert np.dot(d_c - su, d_u - zero) == pytest.approx(0.0, abs=1e-6 * np.linalg.norm(d_u - zero) ** 2 + 1e-9)
        cross = (su - zero)[0] * (d_u - zero)[1] - (su - zero)[1] * (d_u - zero)[0]  # s* u on the line 0 -> D_u
        assert abs(cross) <= 1e-9 * max(1.0, np.linalg.norm(d_u - zero) ** 2)
        band = arrows(view)["diff_scaled"]
        np.testing.assert_allclose(arrow_ends(band)[0], su, atol=1e-9)
        np.testing.assert_allclose(arrow_ends(band)[1], proj(traj.x0_hat[k, 0]), atol=1e-9)
        assert "s* = " in title(view)


@pytest.mark.parametrize("data", ["digits", "gmm2d"])
def test_cfgzero_magnifies_a_rescale_shorter_than_its_marker(data):
    """s* is often near 1 (1.02-1.04 on digits): the green arrow x̂0ᵘ -> s* x̂0ᵘ is then a few px, under
    x̂0ᵘ's marker. Wherever it is shorter than MIN_ARROW_PX it is drawn at least that long in an inset,
    unless the step's insets need the column (the step and the noise come first)."""
    view = make_animation("cfgzero", sample("cfgzero", data, steps=25), "plane")
    magnified = 0
    for k in range(view.num_frames):
        seen = view.visibility(k)
        if "scaled" not in seen:  # a zero step (nothing is built), or both predictions one point (exact model, low noise)
            continue
        main, inset = seen["scaled"]
        step_first = any(seen[g][0] < MIN_ARROW_PX for g in ("step", "noise") if g in seen)
        assert main >= MIN_ARROW_PX or step_first or (inset is not None and inset >= MIN_ARROW_PX), (k, main, inset)
        magnified += inset is not None
    assert magnified >= (1 if data == "digits" else 0)
