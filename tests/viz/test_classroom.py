"""Pictures a class can read (issue 11), checked as functions of the figures, not by timing:

* at most six key entries in any figure, and nothing in a frame's key that the frame does not draw;
* every text at least 14 px high on a 1920-px-wide screen, at the width the app shows the figure;
* 8x8 images beside the points on digits, none on the 2-D mixture;
* a steady camera (consecutive frames' scales within 1.25x) and the step and the noise visible in
  every frame (at least 25 px long, or magnified in a labelled inset), over many runs;
* classifier guidance drawn head to tail at x_t, as the post draws it;
* the step a page opens on.

Runs use the exact model (fast); every sampler, 10 and 200 steps, gamma 0, 3 and 10.
"""

import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.legend import Legend
from matplotlib.patches import FancyArrowPatch
from matplotlib.text import Text

from models.analysis.field import compute_field, field_series
from models.analysis.field_records import FieldSpec
from models.guidance import ZOO_GUIDANCE
from models.engine.pipeline import SampleSpec, run
from models.engine.samplers import SAMPLER_NAMES
from models.engine.schedule import make_schedule
from viz.views.paths import PathAnimation, frame_indices
from viz.draw.camera import plan_shots, shared_shots, smooth_widths
from viz.views.construction import shared_camera
from viz.views.kinds import ANIMATIONS, CFGDiagram, gamma_overlay_figure, load_photo, make_animation, noising_figure
from viz.draw.drawing import arrow_ends
from viz.figures.field import FieldAnimation, field_figure
from viz.draw.geometry import abar_pair, readable_step, step_vectors
from viz.views.guidance import CFGDiagram, ClassifierGuidanceDiagram, ClassifierPredictionDiagram
from viz.draw.key import MAX_ENTRIES
from viz.draw.projection import identity_projection, pca_projection
from viz.draw.sprites import PAD, TextSprite
from viz.views.step import StepDiagram
from viz.draw.style import DISPLAY_WIDTH, HALF_SIZE, display_width, MIN_ARROW_PX, MIN_TEXT_PX, class_color

_RUNS: dict = {}


def sample(data="gmm2d", guidance="cfg", gamma=3.0, sampler="ddpm", steps=10, batch=2, label=1, **kw):
    key = (data, guidance, gamma, sampler, steps, batch, label, tuple(sorted(kw.items())))
    if key not in _RUNS:
        _RUNS[key] = run(SampleSpec(model="exact", data=data, guidance=guidance, gamma=gamma, sampler=sampler,
                                    steps=steps, batch=batch, seed=0, label=label, **kw), device="cpu")
    return _RUNS[key]


def zoo_run(method, data="gmm2d", steps=10, gamma=3.0):
    return sample(data, method, gamma, "ddim" if method == "cfgpp" else "ddpm", steps, rescale_phi=0.7, apg_eta=0.5,
                  interval_lo=0.5, interval_hi=4.0, cfgpp_lambda=0.6)


def run_for(kind, data="gmm2d", steps=10, gamma=3.0, sampler="ddpm"):
    """A run the view ``kind`` draws."""
    if kind in ZOO_GUIDANCE:
        return zoo_run(kind, data, steps, gamma)
    guidance = "classifier" if kind in ("classifier", "classifier_x0") else "cfg"
    return sample(data, guidance, gamma, sampler, steps)


#: views with no gmm2d run, and why (their tests run on the digits only)
NO_GMM2D_RUN = {"fdg": "fdg splits 8x8 images into frequency bands: gmm2d's 2-D points have no fdg run"}


def skip_without_run(kind, data):
    """Skip a test of ``kind`` on ``data`` where that data set has no run of it (``NO_GMM2D_RUN``)."""
    if data == "gmm2d" and kind in NO_GMM2D_RUN:
        pytest.skip(NO_GMM2D_RUN[kind])


def data_sets(kind):
    """The data sets a run of view ``kind`` exists on."""
    return ("digits",) if kind in NO_GMM2D_RUN else ("digits", "gmm2d")


def build(kind, traj, projection="plane"):
    if kind == "classifier_x0":  # the prediction-space view (the lead registers it as a figure kind)
        return ClassifierPredictionDiagram(traj, 0, projection)
    return make_animation(kind, traj, projection)


STEP_KINDS = ["step", "classifier", "classifier_x0", "cfg", *ZOO_GUIDANCE]
ALL_KINDS = sorted(set(ANIMATIONS) | {"classifier_x0"})


# ----------------------------------------------------------------------------- texts and keys

def texts_of(fig):
    """(what, font px, extent px) of every visible text of a drawn figure, in the figure's pixels."""
    renderer = fig.canvas.get_renderer()
    out = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip() or (t.axes is not None and not t.axes.get_visible()):
            continue
        if t.axes is not None and not t.axes.axison and t not in t.axes.texts and t is not t.axes.title:
            continue  # a tick label of an axes drawn without its axis
        px = t.get_fontsize() * fig.dpi / 72
        out.append((t.get_text(), px, t.get_window_extent(renderer).height))
    for s in fig.findobj(TextSprite):
        if not s.get_visible() or not s.get_text() or (s.axes is not None and not s.axes.get_visible()):
            continue
        size, _, _, dpi = s.font
        out.append((s.get_text(), size * dpi / 72, s.size[1] - 2 * PAD))  # the renderer's extent, measured once
    return out


def assert_readable(fig, kind):
    """Every text at least MIN_TEXT_PX high once the figure is shown display_width(kind) px wide."""
    scale = display_width(kind) / (fig.get_figwidth() * fig.dpi)
    found = texts_of(fig)
    assert found
    small = [(t, round(px * scale, 1), round(h * scale, 1)) for t, px, h in found
             if px * scale < MIN_TEXT_PX or h * scale < MIN_TEXT_PX]
    assert not small, f"{kind}: texts under {MIN_TEXT_PX} px on a 1920-px screen: {small}"


@pytest.mark.parametrize("data", ["digits", "gmm2d"])
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_text_is_readable_on_a_projector(kind, data):
    skip_without_run(kind, data)
    traj = run_for(kind, data, steps=10)
    view = build(kind, traj, "pca" if kind in ("paths", "trajectory") else "plane")
    for k in (0, view.num_frames // 2, view.num_frames - 1):
        view.frame(k)
        assert_readable(view.fig, kind)


def text_boxes(fig):
    """(text, (x0, y0, x1, y1) px) of every visible text of a drawn figure."""
    renderer = fig.canvas.get_renderer()
    out = []
    for t in fig.findobj(Text):
        if t.get_visible() and t.get_text().strip() and (t.axes is None or t.axes.get_visible()) and \
                (t.axes is None or t.axes.axison or t in t.axes.texts or t is t.axes.title):
            e = t.get_window_extent(renderer)
            out.append((t.get_text(), (e.x0, e.y0, e.x1, e.y1)))
    for sp in fig.findobj(TextSprite):
        if sp.get_visible() and sp.get_text() and (sp.axes is None or sp.axes.get_visible()):
            x0, y0, x1, y1 = sp.box()
            out.append((sp.get_text(), (x0 + PAD, y0 + PAD, x1 - PAD, y1 - PAD)))
    return out


HALF_KINDS = ["paths", "step", "classifier", "cfg", *ZOO_GUIDANCE]


@pytest.mark.parametrize("data", ["digits", "gmm2d"])
@pytest.mark.parametrize("kind", HALF_KINDS)
def test_side_by_side_panels_are_readable_on_a_projector(kind, data):
    """A view drawn for one of the side-by-side page's columns (HALF_SIZE, the px it is shown at on a
    1920-px screen with the sidebar open): every text at least 14 px, inside the figure, and the
    scale bar's length apart from the flattened lengths beside it."""
    skip_without_run(kind, data)
    traj = run_for(kind, data, steps=10)
    proj = identity_projection() if data == "gmm2d" else pca_projection(traj.x.reshape(-1, 64))
    if kind == "paths":
        view = PathAnimation(traj, proj, None, "paths of every sample", width=HALF_SIZE)
    else:
        view = ui_view(kind, traj, proj)
    assert view.fig.get_figwidth() * view.fig.dpi == HALF_SIZE[0]
    W, H = view.fig.get_figwidth() * view.fig.dpi, view.fig.get_figheight() * view.fig.dpi
    assert H >= HALF_SIZE[1] and (kind == "paths" or view.layout.inset_room(view.fig_rows) >= 150)  # room for the insets
    for k in (0, view.num_frames // 2, view.num_frames - 1):
        view.frame(k)
        small = [(t, px, h) for t, px, h in texts_of(view.fig) if px < MIN_TEXT_PX or h < MIN_TEXT_PX]
        assert not small, small
        boxes = text_boxes(view.fig)
        outside = [(t, b) for t, b in boxes if b[0] < -1 or b[1] < -1 or b[2] > W + 1 or b[3] > H + 1]
        assert not outside, outside
        if kind != "paths" and view.facts.get_text():
            a, b = view.bar_text.box(), view.facts.box()
            assert a[2] <= b[0] or b[2] <= a[0], (view.bar_text.get_text(), view.facts.get_text())


def ui_view(kind, traj, proj):
    """The one-step view ``kind`` at a column's size, as the side-by-side page draws it."""
    from viz.methods import views as method_views
    views = {"step": lambda t, s, p, width: StepDiagram(t, p, s, width=width), "cfg": CFGDiagram,
             "classifier": ClassifierGuidanceDiagram, **method_views()}
    return views[kind](traj, 0, proj, width=HALF_SIZE)


def test_still_figures_are_readable_on_a_projector():
    trajs = {g: sample("digits", "cfg", g) for g in (0.0, 1.0, 3.0, 7.0)}
    fig = gamma_overlay_figure(trajs)
    fig.canvas.draw()
    assert_readable(fig, "overlay")
    assert fig.get_figwidth() * fig.dpi == DISPLAY_WIDTH["overlay"]
    fig = noising_figure(load_photo("china", max_side=64), make_schedule())
    fig.canvas.draw()
    assert_readable(fig, "noising_strip")


@pytest.mark.parametrize("model", ["exact", "neural"])
def test_the_guidance_field_is_readable_on_a_projector(model):
    """The guidance field (``--figure field``, gmm2d only, not a view of a run): drawn at its display
    width, every text at least 14 px there, at most six legend entries, each class in the colour
    every other figure gives it; its animation keeps one box and stays readable frame after frame."""
    fig = field_figure(compute_field(FieldSpec(model=model, gamma=3.0, t=150, label=1, n=11)))
    fig.canvas.draw()
    assert fig.get_figwidth() * fig.dpi == DISPLAY_WIDTH["field"]
    assert_readable(fig, "field")
    legends = fig.findobj(Legend)
    assert legends and all(len(lg.get_texts()) <= MAX_ENTRIES for lg in legends)
    blobs = {t.get_text(): h for lg in legends for t, h in zip(lg.get_texts(), lg.legend_handles)
             if t.get_text().startswith("class ")}
    for c, name in enumerate("ABC"):
        handle = next(h for text, h in blobs.items() if text.startswith(f"class {name} "))
        assert to_hex(handle.get_markerfacecolor()) == to_hex(class_color(c))
    anim = FieldAnimation(field_series(FieldSpec(gamma=3.0, label=1, n=11), num_frames=3))
    boxes = []
    for k in range(anim.num_frames):
        anim.frame(k)
        boxes.append([ax.get_xlim() + ax.get_ylim() for ax in anim.zoom_axes])
        anim.fig.canvas.draw()
        assert_readable(anim.fig, "field")
    assert all(b == boxes[0] for b in boxes)


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_keys_hold_at_most_six_entries_and_only_what_the_frame_draws(kind):
    for data, steps in ((data, 10) for data in data_sets(kind)):
        traj = run_for(kind, data, steps=steps)
        view = build(kind, traj, "pca" if kind in ("paths", "trajectory") else "plane")
        legends = [a for a in view.fig.findobj(Legend)]
        assert all(len(lg.get_texts()) <= MAX_ENTRIES for lg in legends)
        if hasattr(view, "key"):
            assert len(view.key.labels()) <= MAX_ENTRIES
        if kind not in STEP_KINDS:
            continue
        for k in range(view.num_frames):
            view.update(k)
            axes = (view.ax, *(m.ax for m in view.magnifiers if m.ax.get_visible()))
            drawn = {p.get_gid() for ax in axes for p in ax.patches if isinstance(p, FancyArrowPatch) and p.get_visible()}
            styles = {s.style for s in view.segments if s.gid in drawn or f"inset_{s.gid}" in drawn}
            for name in view.key.visible:  # a key row is an arrow style the frame draws
                assert name in styles or name in view.points, (kind, k, name)
            last = view.traj.steps - 1
            if k == last and view.traj.meta["sampler"] == "ddpm":  # DDPM's last step adds no noise: not in the key
                assert "noise" not in view.key.visible


# ----------------------------------------------------------------------------- images at the points

@pytest.mark.parametrize("kind", STEP_KINDS)
def test_images_beside_the_points_on_digits_only(kind):
    view = build(kind, run_for(kind, "digits"))
    view.update(3)
    shown = {n for n, s in view.labels.images.items() if s.get_visible()}
    assert "x_t" in shown and "x_next" in shown and len(shown) >= 3
    for name, sprite in view.labels.images.items():  # each image is its point's, enlarged, beside its marker
        if not sprite.get_visible():
            continue
        marker = view.ax.transData.transform(np.array(view.points[name].get_data()).T)[0]
        x0, y0, x1, y1 = sprite.box()
        gap = np.hypot(max(x0 - marker[0], 0, marker[0] - x1), max(y0 - marker[1], 0, marker[1] - y1))
        assert gap < 120, (name, gap)
    if kind in NO_GMM2D_RUN:
        return  # no gmm2d run to check (NO_GMM2D_RUN)
    gmm = build(kind, run_for(kind, "gmm2d"))
    gmm.update(3)
    assert not gmm.labels.images
    assert all(t.get_visible() for n, t in gmm.labels.texts.items() if n in gmm.positions(3))  # labels instead


def test_images_follow_the_frames_of_an_animation():
    view = build("cfg", run_for("cfg", "digits"))
    view.frame(1)
    first = view.labels.images["x_t"].pixels.copy()
    view.frame(6)
    assert not np.array_equal(first, view.labels.images["x_t"].pixels)  # x_t's image is the new canvas
    ink = view.labels.images["x_t"].pixels[3:-3:7, 3:-3:7, 0]
    want = np.round(255 * (1 - np.clip(view.traj.x[6, 0], -1, 1)) / 2).reshape(8, 8)
    np.testing.assert_array_equal(ink, want)


# ----------------------------------------------------------------------------- the camera and the step

def test_smooth_widths_is_the_tightest_smooth_envelope():
    d = np.array([100.0, 1.0, 1.0, 1.0, 50.0, 1.0])
    w = smooth_widths(d, 1.25)
    assert (w >= d).all()
    ratios = w[1:] / w[:-1]
    assert (ratios <= 1.25 + 1e-12).all() and (ratios >= 1 / 1.25 - 1e-12).all()
    brute = np.array([max(d[j] / 1.25 ** abs(k - j) for j in range(len(d))) for k in range(len(d))])
    np.testing.assert_allclose(w, brute, rtol=1e-12)
    shots = plan_shots(np.array([[[0, 0], [1, 1]], [[5, 5], [5.5, 5.5]]]), 1.5, (0.1, 0.1), 1.25)
    (x0, x1), (y0, y1) = shots[1].xlim, shots[1].ylim
    assert x0 <= 5 and x1 >= 5.5 and y0 <= 5 and y1 >= 5.5  # each frame holds its box
    assert (x1 - x0) / (y1 - y0) == pytest.approx(1.5)


CAMERA_RUNS = [(s, n, g) for s in SAMPLER_NAMES for n in (10, 200) for g in (0.0, 3.0, 10.0)]


def check_camera_and_step(view):
    """Consecutive frames (every step, and the GIF's frames) within 1.25x of each other's scale; the
    step and the noise long enough to see in every frame, or magnified in an inset that says by how much."""
    widths = np.array([view.shots[k].width for k in range(view.num_frames)])
    for idx in (list(range(view.num_frames)), frame_indices(view.num_frames, 100)):
        w = widths[idx]
        assert (np.maximum(w[1:] / w[:-1], w[:-1] / w[1:]) <= 1.25 + 1e-9).all()
    for k in range(view.num_frames):
        seen = view.visibility(k)
        for gid in ("step", "noise"):
            if gid in seen:
                main, inset = seen[gid]
                assert main >= MIN_ARROW_PX or (inset is not None and inset >= MIN_ARROW_PX), (k, gid, seen[gid])


@pytest.mark.parametrize("sampler, steps, gamma", CAMERA_RUNS, ids=[f"{s}-{n}-{g:g}" for s, n, g in CAMERA_RUNS])
def test_steady_camera_and_visible_step_over_runs(sampler, steps, gamma):
    traj = sample("gmm2d", "cfg", gamma, sampler, steps)
    for kind in ("step", "cfg"):
        check_camera_and_step(build(kind, traj))


@pytest.mark.parametrize("sampler", SAMPLER_NAMES)
def test_steady_camera_and_visible_step_on_digits(sampler):
    for steps, gamma in ((10, 3.0), (200, 10.0)):
        traj = sample("digits", "cfg", gamma, sampler, steps)
        check_camera_and_step(build("cfg", traj))
        check_camera_and_step(build("step", traj, "pca"))
    check_camera_and_step(build("classifier", sample("digits", "classifier", 3.0, sampler, 10)))


@pytest.mark.parametrize("kind", ["classifier", "classifier_x0", *ZOO_GUIDANCE])
def test_steady_camera_and_visible_step_in_the_guidance_views(kind):
    for steps in (10, 200):
        check_camera_and_step(build(kind, run_for(kind, data_sets(kind)[-1], steps=steps)))


def test_a_gif_of_few_frames_keeps_a_smooth_camera():
    view = build("cfg", sample("gmm2d", "cfg", 3.0, "euler", 200))
    idx = frame_indices(view.num_frames, 12)
    shots = view.plan_camera(idx, 1.2)
    w = np.array([shots[k].width for k in idx])
    assert (np.maximum(w[1:] / w[:-1], w[:-1] / w[1:]) <= 1.25).all()


@pytest.mark.parametrize("data, steps", [("gmm2d", 10), ("gmm2d", 200), ("digits", 25)])
def test_views_side_by_side_share_one_steady_camera(data, steps):
    """Two runs from the same noise at γ 1 and 10, one view each in one basis: the shared camera gives
    both the same shot at every frame (every step, and the GIF's frames), holds both runs' points,
    keeps the camera steady, and the step of the calmer run, now seen from farther, stays visible
    (magnified where it is short)."""
    calm, wild = sample(data, "cfg", 1.0, "ddpm", steps), sample(data, "cfg", 10.0, "ddpm", steps)
    proj = identity_projection() if data == "gmm2d" else pca_projection(np.concatenate([calm.x, wild.x]).reshape(-1, 64))
    views = [make_animation("cfg", calm, "pca"), make_animation("cfg", wild, "pca")] if data == "gmm2d" else \
        [CFGDiagram(calm, 0, proj), CFGDiagram(wild, 0, proj)]
    for idx in (None, frame_indices(steps, 100)):
        cams = shared_camera(views, idx)
        assert all(cams[0][k] == cams[1][k] for k in cams[0])
        for view, cam in zip(views, cams):
            own = dict(view.shots)
            with view.camera(cam):
                assert view.shots == {**own, **cam}
                if idx is None:
                    check_camera_and_step(view)
                else:  # the GIF's frames only
                    w = np.array([cam[k].width for k in idx])
                    assert (np.maximum(w[1:] / w[:-1], w[:-1] / w[1:]) <= 1.25 + 1e-9).all()
                for k in cam:
                    _, pts, _, far = view._positions[k]
                    (x0, x1), (y0, y1) = cam[k].xlim, cam[k].ylim
                    assert (pts[~far][:, 0] >= x0).all() and (pts[~far][:, 0] <= x1).all()
                    assert (pts[~far][:, 1] >= y0).all() and (pts[~far][:, 1] <= y1).all()
            assert view.shots == own  # its own camera is back
    with pytest.raises(ValueError, match="different numbers of steps"):
        shared_camera([views[0], make_animation("cfg", sample(data, "cfg", 1.0, "ddpm", 7), "pca")])


def test_shared_shots_keep_units_per_pixel_across_view_sizes():
    boxes = [np.array([[[0, 0], [1, 1]], [[0, 0], [2, 1]]]), np.array([[[-1, 0], [0, 3]], [[0, 0], [1, 1]]])]
    a, b = shared_shots(boxes, [(400, 200), (800, 200)], (0.1, 0.1), 1.25)
    for sa, sb in zip(a, b):
        assert sb.width == pytest.approx(2 * sa.width)  # twice the pixels: twice the data width, same scale
        assert (sb.ylim[1] - sb.ylim[0]) == pytest.approx(sa.ylim[1] - sa.ylim[0])
        assert sum(sa.xlim) == pytest.approx(sum(sb.xlim)) and sum(sa.ylim) == pytest.approx(sum(sb.ylim))
    assert a[0].xlim[0] <= -1 and a[0].xlim[1] >= 1 and a[0].ylim[1] >= 3  # the union of both views' boxes
    with pytest.raises(ValueError):
        shared_shots(boxes[:1], [(400, 200), (800, 200)])


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


# ----------------------------------------------------------------------------- where a page opens

@pytest.mark.parametrize("sampler, steps", [("ddpm", 25), ("ddim", 25), ("euler", 10), ("heun", 50), ("dpmpp2m", 200)])
def test_readable_step_is_neither_the_first_nor_the_last(sampler, steps):
    traj = sample("digits", "cfg", 3.0, sampler, steps)
    k = readable_step(traj)
    assert 0 < k < steps - 1
    seen = build("cfg", traj).visibility(k)
    if steps <= 25:
        assert seen["step"][0] >= MIN_ARROW_PX  # a run of few steps opens where the step reads without a magnifier
    else:
        assert seen["step"][0] >= MIN_ARROW_PX or seen["step"][1] >= MIN_ARROW_PX
    # its parts are better balanced than those of the first step (a blur far away, the step a dot)
    def balance(i):
        sv = step_vectors(traj, i, 0)
        parts = [np.linalg.norm(sv.mean - sv.x_t), np.linalg.norm(sv.x0_hat - sv.mean),
                 3.0 * np.linalg.norm(sv.x0_cond - sv.x0_uncond)]
        if sv.sigma > 0:
            parts.append(np.linalg.norm(sv.x_next - sv.mean))
        return min(parts) / max(parts)
    assert balance(k) > balance(0)


def test_readable_step_of_tiny_runs():
    assert readable_step(sample("gmm2d", "cfg", 3.0, "ddpm", 1)) == 0
    assert readable_step(sample("gmm2d", "cfg", 3.0, "ddpm", 2)) == 1
    with pytest.raises(ValueError, match="sample"):
        readable_step(sample("gmm2d", "cfg", 3.0, "ddpm", 5), sample=7)


def test_same_settings_same_gif_bytes_with_images_and_insets():
    a = build("classifier", sample("digits", "classifier", 3.0, "euler", 10)).gif(max_frames=10)
    _RUNS.clear()
    b = build("classifier", sample("digits", "classifier", 3.0, "euler", 10)).gif(max_frames=10)
    assert a == b
