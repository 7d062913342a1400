"""The guidance zoo's construction views (viz.methods.zoo_views): each method's own construction, drawn
at true lengths in its exact plane, against the formulas of its paper and the recorded run.

Runs are small (10 steps, batch 2); each is sampled once per module.
"""

import dataclasses
import itertools
import math

import numpy as np
import pytest
from matplotlib.patches import FancyArrowPatch

from models.guidance import ZOO_GUIDANCE as EVERY_ZOO_METHOD
from models.engine.pipeline import SampleSpec, run
from models.engine.schedule import make_schedule
from viz.views.kinds import ANIMATIONS, make_animation
from viz.draw.drawing import arrow_ends
from viz.draw.geometry import step_vectors
from viz.gif import gif_frame_count
from viz.figures.lecture import construction_kind, view_applies
from viz.draw.magnifier import INSET_MIN_PX, clip_segment
from viz.draw.style import MIN_ARROW_PX
from viz.methods import views
from viz.methods.on_cfg import apg_parts

from tests.viz.artists import arrows, drawn, key_labels, point_texts

#: the zoo methods this module's views draw (diffusers' guiders: tests/viz/test_guider_diagrams.py)
ZOO_GUIDANCE = ("rescale", "apg", "interval", "autoguidance", "cfgpp")  # the views built on the CFG construction
ZOO_VIEWS = {m: views()[m] for m in ZOO_GUIDANCE}
STEPS = 10
SETTINGS = dict(rescale_phi=0.7, apg_eta=0.5, interval_lo=0.5, interval_hi=4.0, cfgpp_lambda=0.6)
_RUNS: dict = {}


def spec_for(method, data="digits", model="neural", **kw):
    base = dict(data=data, model=model, guidance=method, gamma=3.0, label=1, steps=STEPS, batch=2, seed=3,
                sampler="ddim" if method == "cfgpp" else "ddpm", **SETTINGS)
    base.update(kw)
    return SampleSpec(**base)


def sample(method, data="digits", model="neural", **kw):
    key = (method, data, model, tuple(sorted(kw.items())))
    if key not in _RUNS:
        _RUNS[key] = run(spec_for(method, data, model, **kw), device="cpu")
    return _RUNS[key]


def distances(points):
    return {(a, b): float(np.linalg.norm(points[a] - points[b])) for a, b in itertools.combinations(points, 2)}


CASES = [(m, model, data) for m in ZOO_GUIDANCE for model in ("exact", "neural") for data in ("digits", "gmm2d")]
#: points each method's exact plane holds exactly: those spanning it and those built from them in float64
EXACT_IN_PLANE = {"rescale": ("x_cfg", "x_r", "ray_end"), "apg": ("par_end", "ray_end"), "interval": (),
                  "autoguidance": (), "cfgpp": ()}
#: ... and those it holds up to float32 rounding (combinations the model computed in float32; APG: beta = 0)
ROUNDED_IN_PLANE = {"rescale": ("guided",), "apg": ("x0_uncond", "x_cfg"), "interval": ("guided",),
                    "autoguidance": ("guided",), "cfgpp": ("guided",)}


# ----------------------------------------------------------------------------- every method

@pytest.mark.parametrize("method, model, data", CASES, ids=["-".join(c) for c in CASES])
def test_the_drawn_guided_point_is_the_recorded_prediction(method, model, data):
    traj = sample(method, data, model)
    view = make_animation(method, traj, "plane", sample=1)
    for k in (0, STEPS // 2, STEPS - 1):
        view.update(k)
        proj = view.projection_at(k)
        np.testing.assert_allclose(drawn(view, "guided"), proj(traj.x0_hat[k, 1]), atol=1e-9)
        np.testing.assert_allclose(arrow_ends(arrows(view)["to_guided"])[1], proj(traj.x0_hat[k, 1]), atol=1e-9)
        np.testing.assert_allclose(drawn(view, "x_t"), proj(traj.x[k, 1]), atol=1e-9)
    headline = view.headline
    assert ("2-D data, exact" if data == "gmm2d" else "exact plane") in headline


@pytest.mark.parametrize("method, model", [(m, model) for m in ZOO_GUIDANCE for model in ("exact", "neural")])
def test_the_exact_plane_keeps_true_distances(method, model):
    traj = sample(method, "digits", model)
    view = make_animation(method, traj, "plane")
    assert view.projection_at(0).kind == "plane" and view.projection_at(0).exact
    for k in range(STEPS):
        named = view.named_points(view.vectors(k))
        proj = view.projection_at(k)
        exact = {n: named[n] for n in (*view.plane, *EXACT_IN_PLANE[method])}
        for pair, d in distances(exact).items():  # the plane's own points: true distances
            assert distances({n: proj(exact[n]) for n in pair})[pair] == pytest.approx(d, rel=1e-9, abs=1e-12), (k, pair)
        rounded = {**exact, **{n: named[n] for n in ROUNDED_IN_PLANE[method]}}
        scale = max(np.linalg.norm(p) for p in rounded.values())
        for pair, d in distances(rounded).items():  # off the plane by float32 rounding at most
            assert distances({n: proj(rounded[n]) for n in pair})[pair] == pytest.approx(d, abs=1e-6 * scale), (k, pair)


@pytest.mark.parametrize("method", ZOO_GUIDANCE)
def test_same_settings_same_gif_bytes(method):
    traj = sample(method, "gmm2d", "exact")
    gif = make_animation(method, traj, "plane").gif(max_frames=5)
    assert make_animation(method, run(spec_for(method, "gmm2d", "exact"), device="cpu"), "plane").gif(max_frames=5) == gif
    assert make_animation(method, traj, "pca").gif(max_frames=5) == make_animation(method, traj, "pca").gif(max_frames=5)


@pytest.mark.parametrize("method", ZOO_GUIDANCE)
def test_each_view_refuses_a_run_of_another_guidance(method):
    for other in ("cfg", "classifier", *(m for m in ZOO_GUIDANCE if m != method)):
        traj = sample(other, "gmm2d", "exact")
        with pytest.raises(ValueError, match=f"draws runs with guidance '{method}'; this run used '{other}'"):
            ZOO_VIEWS[method](traj)
        with pytest.raises(ValueError, match=f"guidance '{method}'"):
            make_animation(method, traj, "plane")


@pytest.mark.parametrize("method", [m for m in ZOO_GUIDANCE if m != "autoguidance"])
def test_a_run_without_its_settings_is_refused_and_drawn_as_cfg(method):
    traj = dataclasses.replace(sample(method, "gmm2d", "exact"))
    traj.meta = {k: v for k, v in traj.meta.items() if k not in SETTINGS}
    with pytest.raises(ValueError, match="sample it again"):
        ZOO_VIEWS[method](traj)
    assert construction_kind(traj) == "cfg"


@pytest.mark.parametrize("method, key, value", [("rescale", "rescale_phi", 0.2), ("apg", "apg_eta", 1.0),
                                                ("interval", "interval_hi", 1e9), ("cfgpp", "cfgpp_lambda", 0.9),
                                                ("autoguidance", "gamma", 2.0)])
def test_settings_that_do_not_match_the_run_are_refused(method, key, value):
    traj = dataclasses.replace(sample(method, "digits", "exact"))
    traj.meta = {**traj.meta, key: value}
    with pytest.raises(ValueError, match="not .* of its recorded parts|not CFG\\+\\+ DDIM steps"):
        ZOO_VIEWS[method](traj)


def test_construction_kind_and_which_views_apply_to_zoo_runs():
    for method in ZOO_GUIDANCE:
        traj = sample(method, "gmm2d", "exact")
        assert construction_kind(traj) == method
        assert view_applies(method, traj) and not view_applies("cfg", traj)
        assert all(view_applies(k, traj) == (k == method) for k in ZOO_GUIDANCE)
        assert method in ANIMATIONS
    assert not any(view_applies(k, sample("cfg", "gmm2d", "exact")) for k in ZOO_GUIDANCE)


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
        p0, p1 = arrow_ends(a["apg_par"])
        o0, o1 = arrow_ends(a["apg_orth"])
        np.testing.assert_allclose(p0, proj(sv.x0_cond), atol=1e-9)
        np.testing.assert_allclose(p1, o0, atol=1e-12)
        np.testing.assert_allclose(o1, drawn(view, "guided"), atol=1e-12)
        r0, r1 = arrow_ends(a["ray"])
        line = (r1 - r0) / np.linalg.norm(r1 - r0)
        if np.linalg.norm(o1 - o0) > 1e-9:
            assert abs(np.dot(o1 - o0, line)) <= 1e-7 * np.linalg.norm(o1 - o0)  # a true right angle
        if np.linalg.norm(p1 - p0) > 1e-9:
            assert abs(abs(np.dot(p1 - p0, line)) - np.linalg.norm(p1 - p0)) <= 1e-7 * np.linalg.norm(p1 - p0)
        np.testing.assert_allclose(drawn(view, "x_cfg"), proj(sv.x0_uncond + gamma * (sv.x0_cond - sv.x0_uncond)),
                                   atol=1e-9)
    labels = key_labels(view)
    assert "parallel part (× η)" in labels and "orthogonal part" in labels
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


# ----------------------------------------------------------------------------- autoguidance

def test_autoguidance_is_labelled_weak_and_main():
    view = make_animation("autoguidance", sample("autoguidance", "digits", "neural"), "plane")
    labels = key_labels(view)
    # In the key's order: the difference of the two models' predictions and the band.
    assert labels[:2] == ["main − weak", "γ × (main − weak)"]
    said = point_texts(view)  # the points: the weak model's prediction (recorded as x0_uncond), the main model's
    assert any(t.startswith("$\\hat{x}_0$ weak") for t in said) and any(t.startswith("$\\hat{x}_0$ main") for t in said)
    assert not any("uncond" in t or "{u}" in t for t in labels + said)
    assert view.headline.startswith("Autoguidance: weak model → main model")
    assert "x̂₀(weak)" in view.note


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


@pytest.mark.parametrize("method, data", [("cfgpp", "digits"), ("autoguidance", "gmm2d")])
def test_blitted_frames_with_an_inset_equal_a_full_redraw(method, data):
    anim = make_animation(method, sample(method, data, "neural"), "plane")
    k = next(k for k in range(STEPS) if any(v[1] is not None for v in anim.visibility(k).values()))
    blitted = anim.frame(k)
    fig = anim.draw(k)
    fig.canvas.draw()
    full = np.asarray(fig.canvas.buffer_rgba())
    assert any(m.ax.get_visible() for m in anim.magnifiers)
    assert (blitted != full).any(-1).mean() < 1e-4


@pytest.mark.parametrize("method", ZOO_GUIDANCE)
def test_fixed_projections_draw_every_frame_with_a_bounded_inset(method):
    """In a fixed PCA view the predictions of the last steps nearly coincide: the inset frames them at
    most max_magnification times, and lines running out of it stop at its edge (an unclipped dashed
    line thousands of insets long once stalled the renderer)."""
    traj = sample(method, "digits", "exact")
    view = make_animation(method, traj, "pca")
    assert "PCA" in view.headline
    assert gif_frame_count(view.gif(max_frames=STEPS)) == STEPS
    for k in range(STEPS):
        view.update(k)
        for m in view.magnifiers:
            top = m.max_step_magnification if "step" in m.spec.triggers else m.max_magnification
            assert m.magnification is None or 1 < m.magnification <= top
        np.testing.assert_allclose(drawn(view, "guided"), view.fixed(traj.x0_hat[k, 0]), atol=1e-9)


def test_clip_segment_keeps_the_part_inside():
    box = ((0.0, 1.0), (0.0, 1.0))
    a, b = clip_segment(np.array([0.5, 0.5]), np.array([10.5, 0.5]), box, margin=0.0)
    np.testing.assert_allclose([a, b], [[0.5, 0.5], [1.0, 0.5]])
    a, b = clip_segment(np.array([-1.0, -1.0]), np.array([2.0, 2.0]), box, margin=0.0)
    np.testing.assert_allclose([a, b], [[0.0, 0.0], [1.0, 1.0]])
    a, b = clip_segment(np.array([2.0, 2.0]), np.array([3.0, 5.0]), box)
    assert np.array_equal(a, b)  # misses the box: nothing to draw
