"""The construction views built on the CFG construction (viz.methods.on_cfg, the shared part of the rescale,
apg, interval, autoguidance and cfgpp views): the drawn guided point is the recorded prediction, the exact
plane keeps true distances, the same bytes twice, runs of other methods or without their settings refused,
insets blitted as drawn and bounded in fixed projections. Each view's own construction: test_<method>.py.

Runs are small (10 steps, batch 2); each is sampled once per process."""

import dataclasses
import itertools

import numpy as np
import pytest

from models.engine.pipeline import SampleSpec, run
from viz.draw.drawing import arrow_ends
from viz.figures.lecture import construction_kind, view_applies
from viz.gif import gif_frame_count
from viz.methods import views
from viz.views.kinds import ANIMATIONS, make_animation

from tests.viz.artists import arrows, drawn


#: the zoo methods this module's views draw (diffusers' guiders: test_in_space.py)
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
