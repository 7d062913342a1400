"""viz.methods.cfgpp: the view says lambda, marks where plain CFG's DDIM step would land, and magnifies a
short step in an inset."""

import dataclasses
import math

import numpy as np
import pytest
from matplotlib.patches import FancyArrowPatch

from models.engine.pipeline import run
from viz.draw.drawing import arrow_ends
from viz.draw.geometry import step_vectors
from viz.draw.magnifier import INSET_MIN_PX
from viz.draw.style import MIN_ARROW_PX
from viz.views.kinds import make_animation

from tests.viz.artists import arrows, drawn, key_labels
from tests.viz.methods.test_on_cfg import STEPS, sample, spec_for


# ----------------------------------------------------------------------------- CFG++

@pytest.mark.parametrize("model, data", [("exact", "digits"), ("neural", "gmm2d")])
def test_cfgpp_says_lambda_and_marks_where_plain_cfg_ddim_would_land(model, data):
    traj = sample("cfgpp", data, model)
    lam = traj.meta["cfgpp_lambda"]
    view = make_animation("cfgpp", traj, "plane")
    title = view.title.get_text()
    assert f"λ = {lam:g}" in title and "γ" not in title
    assert "λ × ($\\hat{x}_0^{c}$ − $\\hat{x}_0^{u}$)" in key_labels(view)
    # Plain CFG at gamma = lambda with DDIM from the same noise: its first step lands on the hollow marker.
    cfg = run(dataclasses.replace(spec_for("cfgpp", data, model), guidance="cfg", gamma=lam), device="cpu")
    view.update(0)
    np.testing.assert_allclose(view.named_points(view.vectors(0))["x_ddim"], cfg.x[1, 0], atol=1e-5)
    for k in range(STEPS):
        view.update(k)
        sv = step_vectors(traj, k, 0)
        proj = view.projection_at(k)
        np.testing.assert_allclose(drawn(view, "x_next"), proj(sv.x_next), atol=1e-9)
        # Re-noising with eps_u instead of eps_lambda moves the landing point by c sqrt(abar) lambda (D_c - D_u),
        # c = sqrt(1 - abar_prev) / sqrt(1 - abar) (arXiv 2406.08070 with DDIM, arXiv 2010.02502).
        abar = traj.alphas_cumprod[int(traj.timesteps[k])]
        abar_prev = traj.alphas_cumprod[int(traj.timesteps[k + 1])] if k + 1 < STEPS else 1.0
        shift = math.sqrt(1 - abar_prev) / math.sqrt(1 - abar) * math.sqrt(abar) * lam * (sv.x0_cond - sv.x0_uncond)
        start, end = arrow_ends(arrows(view)["renoise"])
        np.testing.assert_allclose(end - start, proj.vectors(shift), atol=1e-4 * max(1.0, np.linalg.norm(shift)))
        assert np.linalg.norm(end - start) == pytest.approx(np.linalg.norm(shift), rel=1e-4, abs=1e-9)  # true length
    stochastic = make_animation("cfgpp", sample("cfgpp", data, model, eta=1.0), "plane")
    assert "x_ddim" not in stochastic.points and "renoise" not in arrows(stochastic)


def test_cfgpp_inset_magnifies_the_step():
    traj = sample("cfgpp", "digits", "neural")
    view = make_animation("cfgpp", traj, "plane")
    inset = next(m for m in view.magnifiers if "step" in m.spec.triggers)
    shown = 0
    for k in range(STEPS):
        view.update(k)
        seen = view.visibility(k)
        if inset.magnification is None:
            assert not inset.ax.get_visible()
            assert seen["step"][0] >= MIN_ARROW_PX  # long enough in the main view
            continue
        shown += 1
        assert inset.ax.get_visible() and inset.magnification > 1
        pos = view.positions(k)
        ends = {p.get_gid(): arrow_ends(p) for p in inset.ax.patches if isinstance(p, FancyArrowPatch)}
        np.testing.assert_allclose(ends["inset_step"][1], pos["x_next"], atol=1e-12)
        (x0, x1), (y0, y1) = inset.ax.get_xlim(), inset.ax.get_ylim()
        for name in ("x_t", "x_next"):
            assert x0 <= pos[name][0] <= x1 and y0 <= pos[name][1] <= y1
        assert seen["step"][1] >= INSET_MIN_PX  # drawn long in the inset
        assert inset.title.get_text().startswith("the step  ×")
        assert inset.box.get_visible()  # the magnified region marked in the main view
    assert shown >= 1
