"""ui.view_cache: each cached picture (frames, GIFs, build-up stages, the overlay, the final digits) is the
figure drawn directly from the same run, and side-by-side panels share one camera or one box."""

from dataclasses import replace

import pytest

import models.engine.pipeline
import ui.run_cache
import ui.view_cache
from models.engine.data import load_dataset
from ui.runs import Settings, run_spec, with_gammas
from ui.view_cache import GIF_FPS, GIF_FRAMES
from viz.draw.geometry import data_range, outside_range
from viz.draw.style import HALF_SIZE
from viz.figures.mosaic import digit_rows, png as mosaic_png
from viz.views.kinds import gamma_overlay_figure, make_animation, shared_pca
from viz.views.step import StepDiagram

from tests.ui.test_run_cache import S


@pytest.mark.parametrize("kind, projection", [("cfg", "plane"), ("paths", "pca_data"), ("trajectory", "random")])
def test_view_gif_and_frames_are_the_direct_views(kind, projection):
    spec = run_spec(S, "cfg", 2.0)
    traj = models.engine.pipeline.run(spec)
    direct = make_animation(kind, traj, projection, seed=spec.seed, background=load_dataset(spec.data).x)
    assert ui.view_cache.view_gif(kind, spec, projection) == direct.gif(GIF_FRAMES, GIF_FPS)
    last = direct.num_frames - 1
    frame = ui.view_cache.view_frame(kind, spec, projection, 0, 10**6)  # clamped to the last frame
    assert frame == ui.view_cache._png(direct.frame(last))


def test_a_step_frame_builds_up_in_stages():
    spec = run_spec(S, "none", 1.0, label=-1)
    traj = models.engine.pipeline.run(spec)
    for stages in (("prediction",), ("prediction", "step")):
        direct = StepDiagram(traj, "plane", 0, stages)
        assert ui.view_cache.view_frame("step", spec, "plane", 0, 2, stages) == ui.view_cache._png(direct.frame(2))
    with pytest.raises(ValueError, match="only the step view"):
        ui.view_cache.view_frame("cfg", run_spec(S, "cfg", 2.0), "plane", 0, 2, ("prediction",))


def test_overlay_is_one_shared_pca_also_for_the_plane():
    spec = run_spec(S, "cfg", 5.0)
    specs = with_gammas(spec, (0.0, 1.0, 3.0))
    trajs = {s.gamma: models.engine.pipeline.run(s) for s in specs}
    with ui.view_cache.DRAWING:
        direct = ui.view_cache.figure_png(gamma_overlay_figure(trajs, shared_pca(trajs), background=load_dataset("gmm2d").x))
    assert ui.view_cache.overlay_png(specs, "pca") == direct
    assert ui.view_cache.overlay_png(specs, "plane") == direct  # whole paths fall back to the PCA


def test_final_digits_frame_the_samples_that_left_the_data():
    spec = run_spec(replace(S, data="digits", steps=1), "cfg", 10.0)
    png = ui.view_cache.final_digits_png(spec)
    assert png.startswith(b"\x89PNG")
    traj = models.engine.pipeline.run(spec)
    out = outside_range(traj.samples, data_range(traj))
    assert out.any()  # one step at γ = 10 overshoots
    assert png == mosaic_png(digit_rows([traj.samples[:4], traj.samples[4:]], outside=[out[:4], out[4:]]))


@pytest.mark.parametrize("kind", ["cfg", "paths"])
def test_side_by_side_panels_share_one_scale(kind):
    """Two runs drawn side by side: one camera (the same shot at every frame, holding both runs'
    points), each view still cached on its own run, and each frame drawn with that camera."""
    digits = Settings("digits", "exact", "ddpm", 6, 0, 1, "pca")
    left, right = run_spec(digits, "cfg", 1.0), run_spec(digits, "cfg", 8.0)
    pair = ((kind, left), (kind, right))
    basis = ui.run_cache.shared_basis((left, right), "pca")
    if kind == "paths":
        limits = ui.view_cache.pair_limits(pair, "pca", 0, basis)
        views = [ui.view_cache._paired(kind, spec, "pca", 0, basis, pair, False)[0] for _, spec in pair]
        assert all((v.ax.get_xlim(), v.ax.get_ylim()) == limits for v in views)
        proj = ui.run_cache.basis_of(basis, "pca")
        for _, spec in pair:
            xs = proj(ui.run_cache.cached_trajectory(spec).x).reshape(-1, 2)  # every path inside the one view
            assert (xs >= [limits[0][0], limits[1][0]]).all() and (xs <= [limits[0][1], limits[1][1]]).all()
        return
    cams = ui.view_cache.pair_camera(pair, "pca", 0, basis)
    own = [ui.view_cache._shared_view(kind, spec, "pca", 0, None, basis, size=HALF_SIZE) for _, spec in pair]
    assert own[0].fig.get_figwidth() * own[0].fig.dpi == HALF_SIZE[0]  # drawn at the size a column shows it
    assert [ui.view_cache._paired(kind, spec, "pca", 0, basis, pair, False)[0] for _, spec in pair] == own
    assert any(own[0].shots[k].width != own[1].shots[k].width for k in range(6))  # alone, each zooms its own way
    for k in range(6):
        assert cams[0][k] == cams[1][k]
        for view in own:
            _, pts, _, far = view._positions[k]
            core = pts[~far]
            assert (core >= [cams[0][k].xlim[0], cams[0][k].ylim[0]]).all()
            assert (core <= [cams[0][k].xlim[1], cams[0][k].ylim[1]]).all()
    with ui.view_cache.DRAWING, own[1].camera(cams[1]):
        expected = ui.view_cache._png(own[1].frame(3))
    assert own[1].shots[3] != cams[1][3]  # the view's own camera is back after
    assert ui.view_cache.view_frame(kind, right, "pca", 0, 3, None, basis, pair) == expected
    assert ui.view_cache.view_frame(kind, right, "pca", 0, 3, None, basis) != expected
