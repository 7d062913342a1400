"""Diagrams (viz.views.kinds and its modules): geometry against the formulas, arrows against the
vectors they stand for, GIFs that animate and repeat byte for byte, loud failures, safe uploads.

Every run uses the exact model with few steps, so the whole file stays fast.
"""

import io
import math

import numpy as np
import pytest
from matplotlib.patches import FancyArrowPatch
from PIL import Image

from models.guidance import ZOO_GUIDANCE
from models.engine.pipeline import SampleSpec, run
from models.engine.schedule import make_schedule
from models.engine.trajectory import Trajectory
from tests.images import header_only_png, image_bytes
from tests.viz.artists import key_labels, point_texts
from viz.views.kinds import (ANIMATIONS, CFGDiagram, ClassifierGuidanceDiagram, NoisingAnimation, StepDiagram,
                          TrajectoryDiagram, gamma_overlay_figure, image_from_upload, load_photo, make_animation,
                          noising_figure, shared_pca, step_figure)
from viz.views.guidance import ClassifierPredictionDiagram
from viz.draw.sprites import Sprite, TextSprite
from viz.draw.drawing import arrow_ends
from viz.draw.geometry import ddpm_sigma, fitted_sigma, noise_scales, step_vectors
from viz.gif import gif_frame_count
from viz.draw.projection import pca_projection

STEPS = 6


def sample(data="digits", guidance="cfg", gamma=3.0, sampler="ddpm", steps=STEPS, batch=3, seed=0, eta=0.0, label=2):
    return run(SampleSpec(model="exact", data=data, sampler=sampler, guidance=guidance, gamma=gamma, label=label,
                          steps=steps, batch=batch, seed=seed, eta=eta))


@pytest.fixture(scope="module")
def cfg_digits():
    return sample()


@pytest.fixture(scope="module")
def classifier_digits():
    return sample(guidance="classifier")


@pytest.fixture(scope="module")
def cfg_gmm():
    return sample(data="gmm2d")


def arrows(fig_or_view):
    """gid -> visible FancyArrowPatch of the main view (separate solid heads left out)."""
    ax = fig_or_view.ax if hasattr(fig_or_view, "ax") else fig_or_view.axes[0]
    return {p.get_gid(): p for p in ax.patches
            if isinstance(p, FancyArrowPatch) and p.get_visible() and ":" not in str(p.get_gid())}


def length(arrow):
    a, b = arrow_ends(arrow)
    return float(np.linalg.norm(b - a))


def direction(arrow):
    a, b = arrow_ends(arrow)
    return b - a


def angle(u, v):
    return math.degrees(math.acos(np.clip(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)), -1, 1)))


def decoded_frames(gif: bytes) -> list[np.ndarray]:
    with Image.open(io.BytesIO(gif)) as im:
        out = []
        for i in range(im.n_frames):
            im.seek(i)
            out.append(np.asarray(im.convert("RGB")))
        return out


# ----------------------------------------------------------------------------- step geometry

def test_ddpm_step_split_matches_the_posterior_mean(cfg_digits):
    """mean = x_{t-1} - sigma z equals the DDPM posterior mean c0 x0_hat + ct x_t (arXiv 2006.11239)."""
    traj = cfg_digits
    for k in range(traj.steps):
        t = int(traj.timesteps[k])
        abar = traj.alphas_cumprod[t]
        abar_prev = traj.alphas_cumprod[int(traj.timesteps[k + 1])] if k + 1 < traj.steps else 1.0
        beta = 1 - abar / abar_prev
        sv = step_vectors(traj, k, sample=1)
        c0 = math.sqrt(abar_prev) * beta / (1 - abar)
        ct = math.sqrt(abar / abar_prev) * (1 - abar_prev) / (1 - abar)
        np.testing.assert_allclose(sv.mean, c0 * sv.x0_hat + ct * sv.x_t, atol=2e-5)
    assert noise_scales(traj)[-1] == 0  # the last DDPM step adds no noise


def test_fitted_sigma_recovers_ddpm_and_ddim_noise_levels(cfg_digits):
    """The least-squares split finds DDPM's sigma, and DDIM's is eta times it (arXiv 2010.02502)."""
    for k in range(cfg_digits.steps - 1):
        assert fitted_sigma(cfg_digits, k) == pytest.approx(ddpm_sigma(*_abar(cfg_digits, k)), rel=1e-4)
    ddim = sample(sampler="ddim", eta=0.5)
    sig = noise_scales(ddim)
    for k in range(ddim.steps - 1):
        assert sig[k] == pytest.approx(0.5 * ddpm_sigma(*_abar(ddim, k)), rel=1e-9)
        assert fitted_sigma(ddim, k) == pytest.approx(sig[k], rel=1e-4)  # without meta['eta']
    assert not noise_scales(sample(sampler="ddim", eta=0.0)).any()


def _abar(traj, k):
    abar = traj.alphas_cumprod[int(traj.timesteps[k])]
    return abar, traj.alphas_cumprod[int(traj.timesteps[k + 1])] if k + 1 < traj.steps else 1.0


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
    ddim = StepDiagram(sample(sampler="ddim"), "plane")
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
    view = CFGDiagram(sample(gamma=100.0, steps=4))
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
    trajs = {g: sample(gamma=g, batch=2, steps=4) for g in (0.0, 1.0, 3.0, 7.0)}
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
        gamma_overlay_figure({1.0: trajs[1.0], 3.0: sample(gamma=3.0, batch=2, steps=5)})


# ----------------------------------------------------------------------------- animations

@pytest.mark.parametrize("kind", sorted(ANIMATIONS))
def test_every_kind_animates_and_repeats_byte_for_byte(cfg_digits, kind):
    if kind in ZOO_GUIDANCE:  # each zoo method's view draws a run of that method
        traj = sample(guidance=kind, sampler="ddim" if kind == "cfgpp" else "ddpm")
    else:
        traj = sample(guidance="classifier") if kind in ("classifier", "classifier_x0") else cfg_digits
    frames = 4 if kind == "noising" else 100
    anim = make_animation(kind, traj, "pca")
    gif = anim.gif(max_frames=frames, fps=10)
    assert gif_frame_count(gif) == min(anim.num_frames, frames)
    pixels = decoded_frames(gif)
    assert any(not np.array_equal(pixels[0], p) for p in pixels[1:])  # something moves
    assert make_animation(kind, traj, "pca").gif(max_frames=frames, fps=10) == gif


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
    gmm = TrajectoryDiagram(sample(data="gmm2d"), pca_projection(np.eye(2)))
    assert any(a.get_gid() == "density" for a in gmm.ax.artists)  # the density shaded under the path
    assert not gmm.labels.images  # 2-D points need no pictures


def test_plane_views_stay_fast_and_small():
    """The exact plane changes every step: the zoom axes are redrawn whole, still cheaply."""
    traj = sample(data="gmm2d", steps=12, batch=2)
    gif = make_animation("cfg", traj, "plane").gif(max_frames=12)
    assert gif_frame_count(gif) == 12 and len(gif) < 12 * 50_000  # 5 MB per 100 frames


@pytest.mark.parametrize("kind, projection", [("cfg", "plane"), ("step", "pca"), ("trajectory", "pca")])
def test_blitted_frames_equal_a_full_redraw(cfg_digits, kind, projection):
    """What the GIF shows (blitted frame k) is what the page shows (draw(k), drawn whole)."""
    anim = make_animation(kind, cfg_digits, projection)
    blitted = anim.frame(3)
    fig = anim.draw(3)
    fig.canvas.draw()
    full = np.asarray(fig.canvas.buffer_rgba())
    assert (blitted != full).any(-1).mean() < 1e-4  # at most a few pixels where blit order differs from zorder


def test_noising_gif_budget_holds_for_any_aspect():
    """Noise does not compress: the picture is bounded by area, ~43 kB a frame (5 MB / 100 frames)."""
    square = np.random.default_rng(0).uniform(-1, 1, (160, 160, 3))
    anim = NoisingAnimation(square, make_schedule(), frames=10)
    assert anim.image.shape[0] * anim.image.shape[1] <= 110 * 74
    assert len(anim.gif(max_frames=10)) < 10 * 50_000


# ----------------------------------------------------------------------------- failing loudly

def _with_nan(traj: Trajectory, field: str) -> Trajectory:
    arrays = {k: getattr(traj, k) for k in ("timesteps", "alphas_cumprod", "x", "x0_hat", "noise", "labels",
                                            "x0_uncond", "x0_cond", "classifier_shift")}
    bad = np.array(arrays[field], copy=True)
    bad[2, 0, 1] = np.nan
    arrays[field] = bad
    return Trajectory(**arrays, meta=dict(traj.meta))


@pytest.mark.parametrize("field", ["x", "x0_hat", "x0_cond"])
def test_non_finite_values_raise(cfg_digits, field):
    bad = _with_nan(cfg_digits, field)
    for build in (lambda: StepDiagram(bad, "plane"), lambda: CFGDiagram(bad),
                  lambda: TrajectoryDiagram(bad, pca_projection(cfg_digits.x.reshape(-1, 64))),
                  lambda: make_animation("paths", bad), lambda: gamma_overlay_figure({1.0: bad})):
        with pytest.raises(ValueError, match="non-finite"):
            build()
    image = load_photo("flower", max_side=32)
    image[0, 0, 0] = np.inf
    with pytest.raises(ValueError, match="non-finite"):
        noising_figure(image, make_schedule())


def test_bad_arguments_list_the_choices(cfg_digits):
    with pytest.raises(ValueError, match="paths, noising, step, trajectory, classifier, classifier_x0, cfg"):
        make_animation("spiral", cfg_digits)
    with pytest.raises(ValueError, match="pca, pca_data, random, plane"):
        make_animation("step", cfg_digits, projection="tsne")
    with pytest.raises(ValueError, match="sample"):
        make_animation("step", cfg_digits, sample=3)
    with pytest.raises(ValueError, match="china, flower"):
        load_photo("moon")


# ----------------------------------------------------------------------------- noising

def test_noising_panels_say_t_and_snr():
    schedule = make_schedule()
    image = load_photo("china", max_side=48)
    assert image.shape == (32, 48, 3) and image.min() >= -1 and image.max() <= 1
    fig = noising_figure(image, schedule, timesteps=(0, 300, 999))
    titles = [ax.get_title() for ax in fig.axes]
    abar = schedule.alphas_cumprod[300]
    assert titles[1] == f"t = 300\nSNR = {abar / (1 - abar):.2f}"  # SNR = abar / (1 - abar)
    assert len(titles) == 3
    anim = NoisingAnimation(image, schedule, frames=10)
    assert anim.num_frames == 10
    assert not np.array_equal(anim.frame(0), anim.frame(9))


# ----------------------------------------------------------------------------- uploads

def _rgb_ok(arr: np.ndarray, max_side: int = 160) -> None:
    assert arr.ndim == 3 and arr.shape[2] == 3 and max(arr.shape[:2]) <= max_side
    assert arr.dtype == np.float64 and arr.min() >= -1 and arr.max() <= 1


def test_upload_accepts_any_mode():
    gradient = np.linspace(0, 255, 300 * 200).reshape(200, 300).astype(np.uint8)
    rgb = Image.fromarray(np.dstack([gradient, gradient[::-1], np.full_like(gradient, 90)]))
    _rgb_ok(image_from_upload(image_bytes(rgb)))
    _rgb_ok(image_from_upload(image_bytes(rgb, "JPEG")))
    rgba = rgb.convert("RGBA")
    rgba.putalpha(0)  # fully transparent: laid on white
    assert image_from_upload(image_bytes(rgba)).min() == pytest.approx(1.0)
    _rgb_ok(image_from_upload(image_bytes(rgb.convert("CMYK"), "JPEG")))
    sixteen = Image.fromarray((np.linspace(0, 65535, 40 * 50).reshape(40, 50)).astype(np.uint16))
    data = image_bytes(sixteen)
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    out = image_from_upload(data)
    _rgb_ok(out)
    assert out.max() > 0.9 and out.min() < -0.9  # 16-bit range kept, not clipped to 255
    palette = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    _rgb_ok(image_from_upload(image_bytes(palette)))
    frames = [Image.new("RGB", (30, 20), c) for c in ("red", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    first = image_from_upload(buf.getvalue())
    assert first.shape == (20, 30, 3) and first[0, 0, 0] > 0.9 and first[0, 0, 2] < -0.9  # red: frame 0
    assert image_from_upload(image_bytes(rgb), max_side=64).shape == (43, 64, 3)


@pytest.mark.parametrize("data, match", [
    (b"", "empty"),
    (b"this is not an image at all", "not an image"),
    (header_only_png(20_000, 20_000), "too large|megapixels"),
    (header_only_png(7_000, 7_000), "megapixels"),
])
def test_upload_refuses_bad_or_huge_files(data, match):
    with pytest.raises(ValueError, match=match):
        image_from_upload(data)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_upload_refuses_truncated_files(fmt):
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8))
    data = image_bytes(noise, fmt)
    with pytest.raises(ValueError, match="decoded|not an image"):
        image_from_upload(data[: len(data) // 2])


def test_upload_bomb_made_by_pil_is_refused_before_decoding():
    buf = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buf, format="PNG")  # 400 megapixels in a few kB
    assert len(buf.getvalue()) < 200_000
    with pytest.raises(ValueError, match="too large|megapixels"):
        image_from_upload(buf.getvalue())
