"""viz.views.guidance: the guidance views against the formulas and the vectors they stand for (CFG's
plane keeps lengths and angles, exact classifier guidance draws CFG's picture, classifier guidance head to
tail at x_t and its step along the sum), the views refusing runs without their parts, the 2-D view with
the density below, an extreme gamma pinned and marked, the gamma overlay in one projection and readable.

Every run uses the exact model with few steps, so the whole file stays fast."""

import math

import numpy as np
import pytest

from models.engine.schedule import make_schedule
from viz.draw.drawing import arrow_ends
from viz.draw.geometry import abar_pair, step_vectors
from viz.draw.sprites import Sprite, TextSprite
from viz.draw.style import DISPLAY_WIDTH
from viz.figures.noising import load_photo, noising_figure
from viz.views.guidance import (CFGDiagram, ClassifierGuidanceDiagram, ClassifierPredictionDiagram, gamma_overlay_figure,
                                shared_pca)

from tests.viz.artists import key_labels, point_texts
from tests.viz.projector import _RUNS, assert_readable, build, sample
from tests.viz.small_runs import arrows, exact_run, length


@pytest.fixture(scope="module")
def classifier_digits():
    return exact_run(guidance="classifier")


@pytest.fixture(scope="module")
def cfg_gmm():
    return exact_run(data="gmm2d")


def direction(arrow):
    a, b = arrow_ends(arrow)
    return b - a


def angle(u, v):
    return math.degrees(math.acos(np.clip(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)), -1, 1)))


# ----------------------------------------------------------------------------- guidance

def test_cfg_plane_keeps_lengths_and_angles(cfg_digits):
    gamma = cfg_digits.meta["gamma"]
    view = CFGDiagram(cfg_digits, sample=0)
    for k in (0, 3):
        view.update(k)
        sv = step_vectors(cfg_digits, k, 0)
        a = arrows(view)
        d_u, d_c = sv.x0_uncond, sv.x0_cond
        np.testing.assert_allclose(sv.x0_hat, d_u + gamma * (d_c - d_u), atol=1e-4)  # CFG, arXiv 2207.12598
        assert length(a["cfg_diff"]) == pytest.approx(np.linalg.norm(d_c - d_u), rel=1e-9)
        assert length(a["cfg_diff_scaled"]) == pytest.approx(gamma * np.linalg.norm(d_c - d_u), rel=1e-5)
        true = angle(d_u - sv.x_t, d_c - sv.x_t)
        assert angle(direction(a["to_uncond"]), direction(a["to_cond"])) == pytest.approx(true, abs=1e-6)
        assert length(a["to_guided"]) == pytest.approx(np.linalg.norm(sv.x0_hat - sv.x_t), rel=1e-5)
    assert set(arrows(view)) >= {"to_uncond", "to_cond", "cfg_diff", "cfg_diff_scaled", "to_guided", "step"}
    labels = key_labels(view)
    for want in ("$\\hat{x}_0^{c}$ − $\\hat{x}_0^{u}$", "γ × ($\\hat{x}_0^{c}$ − $\\hat{x}_0^{u}$)", "step"):
        assert want in labels
    assert all(any(t.startswith(n) for t in point_texts(view)) for n in ("$\\hat{x}_0^{u}$", "$\\hat{x}_0^{c}$"))
    assert any(t.startswith("guided $\\hat{x}_0$") for t in point_texts(view))


def test_exact_classifier_guidance_draws_the_cfg_picture(cfg_digits, classifier_digits):
    """With the exact posterior, x0_uncond + shift = D_c, so the prediction-space view of classifier
    guidance and the CFG view share the plane and every point (arXiv 2105.05233 vs 2207.12598,
    ../shared/docs/MATH.md)."""
    gamma = classifier_digits.meta["gamma"]
    cls, cfg = ClassifierPredictionDiagram(classifier_digits), CFGDiagram(cfg_digits)
    for k in (0, 2, 4):
        cls.update(k)
        cfg.update(k)
        a, b = arrows(cls), arrows(cfg)
        sv = step_vectors(classifier_digits, k, 0)
        assert length(a["shift_scaled"]) == pytest.approx(gamma * np.linalg.norm(sv.shift), rel=1e-5)
        for mine, theirs in (("to_uncond", "to_uncond"), ("shift", "cfg_diff"), ("to_guided", "to_guided")):
            np.testing.assert_allclose(np.concatenate(arrow_ends(a[mine])), np.concatenate(arrow_ends(b[theirs])),
                                       atol=2e-3)
    assert "γ × classifier direction" in key_labels(cls)


def test_guidance_views_need_their_parts(cfg_digits, classifier_digits):
    with pytest.raises(ValueError, match="classifier"):
        ClassifierGuidanceDiagram(cfg_digits)
    with pytest.raises(ValueError, match="classifier"):
        ClassifierPredictionDiagram(cfg_digits)
    with pytest.raises(ValueError, match="cfg"):
        CFGDiagram(classifier_digits)


def test_two_d_view_is_the_identity_with_the_density_below(cfg_gmm):
    view = CFGDiagram(cfg_gmm)
    view.update(2)
    start, end = arrow_ends(arrows(view)["to_cond"])
    np.testing.assert_allclose(start, cfg_gmm.x[2, 0], atol=1e-12)
    np.testing.assert_allclose(end, cfg_gmm.x0_cond[2, 0], atol=1e-12)
    assert "2-D data, exact" in view.headline
    assert view.density is not None and view.density.sprite.pixels is not None
    assert view.density.sprite.pixels[..., 3].max() > 0  # the density shows


def test_extreme_gamma_is_pinned_and_marked():
    view = CFGDiagram(exact_run(gamma=100.0, steps=4))
    said = set()
    for k in range(view.num_frames):
        view.update(k)
        said |= set(point_texts(view))
        (x0, x1), (y0, y1) = view.limits
        found = arrows(view)
        for arrow in found.values():
            for p in arrow_ends(arrow):
                assert x0 <= p[0] <= x1 and y0 <= p[1] <= y1
        if "cfg_diff" in found and length(found["cfg_diff"]) > 1e-3 * (x1 - x0):
            # Pinned or not, gamma (D_c - D_u) still points along D_c - D_u.
            assert angle(direction(found["cfg_diff"]), direction(found["cfg_diff_scaled"])) < 1e-3
    assert any("(off-scale)" in t for t in said) and any("(off the data)" in t for t in said)  # labelled where they are


def test_gamma_overlay_shares_one_projection():
    trajs = {g: exact_run(gamma=g, batch=2, steps=4) for g in (0.0, 1.0, 3.0, 7.0)}
    proj = shared_pca(trajs)
    fig = gamma_overlay_figure(trajs, proj)
    main = fig.axes[0]
    paths = [line for line in main.lines if len(line.get_xdata()) == 5]
    assert len(paths) == 4
    for line, g in zip(paths, sorted(trajs)):
        np.testing.assert_allclose(np.c_[line.get_xdata(), line.get_ydata()], proj(trajs[g].x[:, 0]), atol=1e-9)
    on_plot = [a.get_text() for a in main.artists if isinstance(a, TextSprite)]
    assert all(f"γ = {g:g}" in " ".join(on_plot) for g in trajs)  # each final sample labelled with its gamma
    assert not any(ax.get_legend() for ax in fig.axes)
    images = [a for a in fig.artists if isinstance(a, Sprite) and not isinstance(a, TextSprite)]
    assert len(images) == 4  # a final 8x8 image per gamma
    with pytest.raises(ValueError):
        gamma_overlay_figure({1.0: trajs[1.0], 3.0: exact_run(gamma=3.0, batch=2, steps=5)})


def test_still_figures_are_readable_on_a_projector():
    trajs = {g: sample("digits", "cfg", g) for g in (0.0, 1.0, 3.0, 7.0)}
    fig = gamma_overlay_figure(trajs)
    fig.canvas.draw()
    assert_readable(fig, "overlay")
    assert fig.get_figwidth() * fig.dpi == DISPLAY_WIDTH["overlay"]
    fig = noising_figure(load_photo("china", max_side=64), make_schedule())
    fig.canvas.draw()
    assert_readable(fig, "noising_strip")


# ----------------------------------------------------------------------------- classifier guidance

@pytest.mark.parametrize("data, sampler", [("digits", "ddpm"), ("digits", "euler"), ("gmm2d", "ddim")])
def test_classifier_guidance_adds_the_directions_head_to_tail(data, sampler):
    """s^2 grad log p_t(x_t) + gamma s^2 grad log p(y | x_t) = a x0_hat - x_t (VP, Tweedie; arXiv 2105.05233):
    the model's arrow starts at x_t, gamma times the classifier's starts at its tip, their sum runs from
    x_t to where the second ends; in the exact plane each keeps its true length."""
    traj = sample(data, "classifier", 3.0, sampler, 10)
    view = ClassifierGuidanceDiagram(traj)
    gamma = traj.meta["gamma"]
    for k in range(traj.steps):
        view.update(k)
        sv = step_vectors(traj, k, 0)
        a = np.sqrt(abar_pair(traj, k)[0])
        model, cls, total = (arrow_ends(view.arrows[g]) for g in ("model", "cls_scaled", "sum"))
        proj = view.projection_at(k)
        np.testing.assert_allclose(model[0], proj(sv.x_t), atol=1e-9)  # at x_t
        np.testing.assert_allclose(cls[0], model[1], atol=1e-9)  # head to tail
        np.testing.assert_allclose(total[0], model[0], atol=1e-9)
        np.testing.assert_allclose(total[1], cls[1], atol=1e-9)  # the sum
        u, c = a * sv.x0_uncond - sv.x_t, gamma * a * sv.shift  # s^2 x the two scores
        for (p, q), v in ((model, u), (cls, c), (total, u + c)):
            assert np.linalg.norm(q - p) == pytest.approx(np.linalg.norm(v), rel=1e-9, abs=1e-12)  # true lengths
        # the sum is the guided prediction's direction, as the run recorded it (float32)
        np.testing.assert_allclose(u + c, a * sv.x0_hat - sv.x_t, atol=1e-5 * max(1.0, np.linalg.norm(u)))


@pytest.mark.parametrize("sampler", ["ddpm", "ddim", "euler"])
def test_the_classifier_views_step_runs_along_the_sum(sampler):
    """With the canvas's rescale a'/a undone, DDPM's mean and DDIM's and Euler's steps lie on the line
    from x_t along the guided direction (they are affine in x_t / a and x0_hat, arXiv 2206.00364)."""
    traj = sample("digits", "classifier", 3.0, sampler, 10)
    view = ClassifierGuidanceDiagram(traj)
    for k in range(traj.steps):
        named = view.named_points(view.vectors(k))
        d, st = named["c_tip"] - named["x_t"], named["mean"] - named["x_t"]
        cos = np.dot(d, st) / (np.linalg.norm(d) * np.linalg.norm(st))
        assert cos == pytest.approx(1.0, abs=1e-6), (k, cos)


def test_same_settings_same_gif_bytes_with_images_and_insets():
    a = build("classifier", sample("digits", "classifier", 3.0, "euler", 10)).gif(max_frames=10)
    _RUNS.clear()
    b = build("classifier", sample("digits", "classifier", 3.0, "euler", 10)).gif(max_frames=10)
    assert a == b
