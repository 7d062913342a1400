"""viz.views.step: the step diagram's arrows are the projected vectors, its stages build the picture up, a
fixed projection says what it flattens, and the trajectory view's frames and thumbnails."""

import numpy as np
import pytest

from viz.draw.drawing import arrow_ends
from viz.draw.geometry import step_vectors
from viz.draw.projection import pca_projection
from viz.views.kinds import make_animation
from viz.views.step import StepDiagram, TrajectoryDiagram, step_figure

from tests.viz.artists import key_labels, point_texts
from tests.viz.projector import sample
from tests.viz.small_runs import STEPS, arrows, exact_run, length


# ----------------------------------------------------------------------------- one step

def test_step_diagram_arrows_are_the_projected_vectors(cfg_digits):
    view = StepDiagram(cfg_digits, "plane", sample=1)
    k = 2
    view.update(k)
    sv = step_vectors(cfg_digits, k, 1)
    proj = view.projection_at(k)
    found = arrows(view)
    assert set(found) == {"prediction", "step", "noise"}
    for gid, (a, b) in {"prediction": (sv.x_t, sv.x0_hat), "step": (sv.x_t, sv.mean), "noise": (sv.mean, sv.x_next)}.items():
        start, end = arrow_ends(found[gid])
        np.testing.assert_allclose(start, proj(a), atol=1e-9)
        np.testing.assert_allclose(end, proj(b), atol=1e-9)
    # The plane holds x_t, x0_hat and x_{t-1}: their distances are true, not projected.
    assert length(found["prediction"]) == pytest.approx(np.linalg.norm(sv.x0_hat - sv.x_t), rel=1e-9)
    x_next = view.positions(k)["x_next"]
    assert np.linalg.norm(x_next - proj(sv.x_t)) == pytest.approx(np.linalg.norm(sv.x_next - sv.x_t), rel=1e-9)
    labels = key_labels(view)
    assert any("prediction" in s for s in labels) and "step" in labels and any("noise" in s for s in labels)
    said = point_texts(view)
    for name in ("$x_t$", "$\\hat{x}_0$", "$x_{t-1}$"):  # points are labelled where they are
        assert any(t == name or t.startswith(name + "  (") for t in said), (name, said)
    assert "exact plane" in view.headline
    assert f"step {k + 1}/{STEPS}" in view.title.get_text() and "γ = 3" in view.title.get_text()


def test_stages_build_the_picture_up_and_deterministic_runs_have_no_noise(cfg_digits):
    assert set(arrows(step_figure(cfg_digits, "plane", 1, stages=("prediction",)))) == {"prediction"}
    assert set(arrows(step_figure(cfg_digits, "plane", 1, stages=("prediction", "step")))) == {"prediction", "step"}
    ddim = StepDiagram(exact_run(sampler="ddim"), "plane")
    assert set(arrows(ddim)) == {"prediction", "step"}
    assert not any("noise" in s for s in key_labels(ddim))
    with pytest.raises(ValueError, match="prediction, step, noise"):
        StepDiagram(cfg_digits, "plane", stages=("prediction", "wiggle"))


def test_fixed_projection_and_frame_titles(cfg_digits):
    proj = pca_projection(cfg_digits.x.reshape(-1, 64))
    view = StepDiagram(cfg_digits, proj)
    view.update(0)
    start, end = arrow_ends(arrows(view)["prediction"])
    np.testing.assert_allclose(end, proj(cfg_digits.x0_hat[0, 0]), atol=1e-9)
    assert "PCA" in view.headline
    assert any(proj.note[:30] in t.get_text().replace("\n", " ") for t in view.static)  # the note, under the view


def test_trajectory_frames_and_thumbnails(cfg_digits):
    view = TrajectoryDiagram(cfg_digits, pca_projection(cfg_digits.x.reshape(-1, 64)), sample=2)
    assert view.num_frames == STEPS + 1
    assert view.shown_steps(0) == [0] and view.shown_steps(STEPS) == list(range(STEPS + 1))
    view.update(3)
    steps, pics = view.strip_at(3)
    assert steps == [0, 1, 2, 3]
    # Column 3 holds x_t and x0_hat of step 3, enlarged 6x with a 3-px frame; columns 4.. are hidden.
    np.testing.assert_array_equal(pics[0, 3], cfg_digits.x[3, 2])
    np.testing.assert_array_equal(pics[1, 3], cfg_digits.x0_hat[3, 2])
    ink = view.strip_sprites[0][3].pixels[3:-3:6, 3:-3:6, 0]  # one screen pixel per image pixel
    np.testing.assert_array_equal(ink, np.round(255 * (1 - np.clip(cfg_digits.x[3, 2], -1, 1)) / 2).reshape(8, 8))
    assert not view.strip_sprites[0][4].get_visible()
    assert [t.get_text() for t in view.strip_titles[:4]] == [f"t = {t}" for t in cfg_digits.timesteps[:4]]
    assert not view.strip_titles[4].get_visible()
    assert view.path.get_xdata().shape == (4,)
    # x_t and its prediction show their images beside them
    assert view.labels.images["x_t"].get_visible() and view.labels.images["x0_hat"].get_visible()
    gmm = TrajectoryDiagram(exact_run(data="gmm2d"), pca_projection(np.eye(2)))
    assert any(a.get_gid() == "density" for a in gmm.ax.artists)  # the density shaded under the path
    assert not gmm.labels.images  # 2-D points need no pictures


def test_projection_that_flattens_the_step_says_so_with_numbers():
    traj = sample("digits", "none", 0.0, "ddpm", 25, label=-1)
    view = StepDiagram(traj, make_animation("step", traj, "pca").fixed)
    said = []
    for k in range(traj.steps - 1):
        view.update(k)
        said.append(view.facts.get_text())
    assert any(said)
    k = next(i for i, t in enumerate(said) if t)
    sv = step_vectors(traj, k, 0)
    assert f"step {np.linalg.norm(sv.mean - sv.x_t):.3g}" in said[k] and "64-D" in said[k]
