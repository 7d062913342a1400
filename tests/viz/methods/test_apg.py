"""viz.methods.apg: the APG view splits the guidance along and across the conditional prediction, and draws
clipping and momentum (views built on the CFG construction as a whole: test_on_cfg.py)."""

import numpy as np
import pytest

from viz.draw.drawing import arrow_ends
from viz.draw.geometry import step_vectors
from viz.methods.on_cfg import apg_parts
from viz.views.kinds import make_animation

from tests.viz.artists import arrows, drawn, key_labels, point_texts
from tests.viz.methods.test_on_cfg import STEPS, sample


# ----------------------------------------------------------------------------- APG

@pytest.mark.parametrize("model, data, eta", [("exact", "digits", 0.5), ("neural", "digits", 0.0),
                                              ("neural", "gmm2d", 0.5), ("exact", "gmm2d", 0.0)])
def test_apg_splits_the_guidance_along_and_across_the_conditional_prediction(model, data, eta):
    traj = sample("apg", data, model, apg_eta=eta)
    gamma = traj.meta["gamma"]
    view = make_animation("apg", traj, "plane")
    for k in range(STEPS):
        view.update(k)
        sv = step_vectors(traj, k, 0)
        par, orth = apg_parts(sv.x0_hat - sv.x0_cond, sv.x0_cond)
        u = sv.x0_cond / np.linalg.norm(sv.x0_cond)
        np.testing.assert_allclose(par, np.dot(par, u) * u, atol=1e-12)  # parallel to D_c
        assert abs(np.dot(orth, u)) <= 1e-9 * max(1.0, np.linalg.norm(orth))  # orthogonal to D_c
        np.testing.assert_allclose(sv.x0_cond + par + orth, sv.x0_hat, atol=1e-12)
        # arXiv 2410.02416 (no momentum, no clipping): x0_hat - D_c = (gamma - 1)(orth(delta) + eta par(delta)).
        delta = sv.x0_cond - sv.x0_uncond
        d_par, d_orth = apg_parts(delta, sv.x0_cond)
        np.testing.assert_allclose(par, (gamma - 1) * eta * d_par, atol=2e-5)
        np.testing.assert_allclose(orth, (gamma - 1) * d_orth, atol=2e-5)
        # Drawn: D_c -> D_c + par along the dotted line through the origin and D_c, then the orthogonal part.
        proj, a = view.projection_at(k), arrows(view)
        o0, o1 = arrow_ends(a["apg_orth"])
        if eta == 0.0:  # no parallel part: none drawn, the orthogonal part starts at D_c
            assert "apg_par" not in a
            np.testing.assert_allclose(o0, proj(sv.x0_cond), atol=2e-5)  # the recorded float32 parts' rounding
        else:
            p0, p1 = arrow_ends(a["apg_par"])
            np.testing.assert_allclose(p0, proj(sv.x0_cond), atol=1e-9)
            np.testing.assert_allclose(p1, o0, atol=1e-12)
        np.testing.assert_allclose(o1, drawn(view, "guided"), atol=1e-12)
        r0, r1 = arrow_ends(a["ray"])
        line = (r1 - r0) / np.linalg.norm(r1 - r0)
        if np.linalg.norm(o1 - o0) > 1e-9:
            assert abs(np.dot(o1 - o0, line)) <= 1e-7 * np.linalg.norm(o1 - o0)  # a true right angle
        if eta != 0.0 and np.linalg.norm(p1 - p0) > 1e-9:
            assert abs(abs(np.dot(p1 - p0, line)) - np.linalg.norm(p1 - p0)) <= 1e-7 * np.linalg.norm(p1 - p0)
        np.testing.assert_allclose(drawn(view, "x_cfg"), proj(sv.x0_uncond + gamma * (sv.x0_cond - sv.x0_uncond)),
                                   atol=1e-9)
    labels = key_labels(view)
    assert ("parallel part (× η)" in labels) == (eta != 0.0) and "orthogonal part" in labels  # only what is drawn
    assert any(t.startswith("plain CFG's") for t in point_texts(view))  # the hollow diamond, labelled where it is
    assert f"η = {eta:g}" in view.title.get_text()


def test_apg_with_clipping_and_momentum_is_drawn():
    traj = sample("apg", "digits", "exact", apg_eta=0.5, apg_r=1.0, apg_beta=-0.5)
    view = make_animation("apg", traj, "plane")
    title = view.title.get_text()
    assert "r = 1" in title and "β = −0.5" in title
    for k in range(STEPS):
        view.update(k)
        np.testing.assert_allclose(drawn(view, "guided"), view.projection_at(k)(traj.x0_hat[k, 0]), atol=1e-9)
