"""viz.methods.rescale: CFG scaled toward the origin, then mixed with it by phi."""

import numpy as np
import pytest

from viz.draw.drawing import arrow_ends
from viz.draw.geometry import step_vectors
from viz.views.kinds import make_animation

from tests.viz.artists import arrows, drawn, key_labels
from tests.viz.methods.test_on_cfg import STEPS, sample


# ----------------------------------------------------------------------------- rescale

@pytest.mark.parametrize("data", ["digits", "gmm2d"])
def test_rescale_scales_cfg_toward_the_origin_and_mixes_by_phi(data):
    traj = sample("rescale", data, "neural")
    phi, gamma = traj.meta["rescale_phi"], traj.meta["gamma"]
    view = make_animation("rescale", traj, "plane")
    for k in range(STEPS):
        view.update(k)
        sv = step_vectors(traj, k, 0)
        named = view.named_points(sv)
        x_cfg, x_r = named["x_cfg"], named["x_r"]
        np.testing.assert_allclose(x_cfg, sv.x0_uncond + gamma * (sv.x0_cond - sv.x0_uncond), atol=1e-12)
        ratio = np.std(sv.x0_cond) / np.std(x_cfg)  # arXiv 2305.08891: x_r = x_cfg std(D_c) / std(x_cfg)
        np.testing.assert_allclose(x_r, ratio * x_cfg, rtol=1e-12)
        assert np.std(x_r) == pytest.approx(np.std(sv.x0_cond), rel=1e-9)
        np.testing.assert_allclose(phi * x_r + (1 - phi) * x_cfg, sv.x0_hat, atol=2e-5)
        # Drawn: the origin, x_cfg and x_r on one line; the guided point on the segment x_cfg -> x_r, phi of the way.
        a = arrows(view)
        start, end = arrow_ends(a["scaled"])
        origin = drawn(view, "origin")
        np.testing.assert_allclose(origin, view.projection_at(k)(np.zeros_like(sv.x_t)), atol=1e-12)
        np.testing.assert_allclose(start, drawn(view, "x_cfg"), atol=1e-12)
        u, w = start - origin, end - origin
        assert abs(u[0] * w[1] - u[1] * w[0]) <= 1e-9 * np.linalg.norm(u) * np.linalg.norm(w) + 1e-15
        g = drawn(view, "guided")
        s = np.dot(g - start, end - start) / np.dot(end - start, end - start)
        assert s == pytest.approx(phi, abs=1e-4) and 0 <= s <= 1
        np.testing.assert_allclose(g, start + s * (end - start), atol=1e-5 * max(1.0, np.linalg.norm(end - start)))
        ray = arrow_ends(a["ray"])
        np.testing.assert_allclose(ray[0], origin, atol=1e-12)
    assert "φ = 0.7" in view.title.get_text() and "γ = 3" in view.title.get_text()
    labels = key_labels(view)
    assert "× std($\\hat{x}_0^{c}$) / std(CFG)" in labels and "line from the origin 0" in labels
