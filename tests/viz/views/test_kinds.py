"""viz.views.kinds, every figure kind: each animates and repeats byte for byte, blitted frames equal a full
redraw, non-finite values and bad arguments fail loudly, every text is readable on a projector (also at
a side-by-side column's size) and keys hold at most six entries, only what the frame draws."""

import io

import numpy as np
import pytest
from matplotlib.legend import Legend
from matplotlib.patches import FancyArrowPatch
from matplotlib.text import Text
from PIL import Image

from models.engine.schedule import make_schedule
from models.engine.trajectory import Trajectory
from models.guidance import ZOO_GUIDANCE
from viz.draw.key import MAX_ENTRIES
from viz.draw.projection import identity_projection, pca_projection
from viz.draw.sprites import PAD, TextSprite
from viz.draw.style import HALF_SIZE, MIN_TEXT_PX
from viz.gif import gif_frame_count
from viz.figures.noising import load_photo, noising_figure
from viz.views.guidance import CFGDiagram, ClassifierGuidanceDiagram, gamma_overlay_figure
from viz.views.kinds import ANIMATIONS, make_animation
from viz.views.paths import PathAnimation
from viz.views.step import StepDiagram, TrajectoryDiagram

from tests.viz.projector import NO_GMM2D_RUN, STEP_KINDS, assert_readable, build, data_sets, run_for, texts_of
from tests.viz.small_runs import exact_run


def decoded_frames(gif: bytes) -> list[np.ndarray]:
    with Image.open(io.BytesIO(gif)) as im:
        out = []
        for i in range(im.n_frames):
            im.seek(i)
            out.append(np.asarray(im.convert("RGB")))
        return out


# ----------------------------------------------------------------------------- animations

@pytest.mark.parametrize("kind", sorted(ANIMATIONS))
def test_every_kind_animates_and_repeats_byte_for_byte(cfg_digits, kind):
    if kind in ZOO_GUIDANCE:  # each zoo method's view draws a run of that method
        traj = exact_run(guidance=kind, sampler="ddim" if kind == "cfgpp" else "ddpm")
    elif kind == "flow":  # the flow view draws a run on the flow path
        traj = run_for("flow", "digits", steps=6)
    else:
        traj = exact_run(guidance="classifier") if kind in ("classifier", "classifier_x0") else cfg_digits
    frames = 4 if kind == "noising" else 100
    anim = make_animation(kind, traj, "pca")
    gif = anim.gif(max_frames=frames, fps=10)
    assert gif_frame_count(gif) == min(anim.num_frames, frames)
    pixels = decoded_frames(gif)
    assert any(not np.array_equal(pixels[0], p) for p in pixels[1:])  # something moves
    assert make_animation(kind, traj, "pca").gif(max_frames=frames, fps=10) == gif


def test_plane_views_stay_fast_and_small():
    """The exact plane changes every step: the zoom axes are redrawn whole, still cheaply."""
    traj = exact_run(data="gmm2d", steps=12, batch=2)
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
    for construct in (lambda: StepDiagram(bad, "plane"), lambda: CFGDiagram(bad),
                      lambda: TrajectoryDiagram(bad, pca_projection(cfg_digits.x.reshape(-1, 64))),
                      lambda: make_animation("paths", bad), lambda: gamma_overlay_figure({1.0: bad})):
        with pytest.raises(ValueError, match="non-finite"):
            construct()
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


def skip_without_run(kind, data):
    """Skip a test of ``kind`` on ``data`` where that data set has no run of it (``NO_GMM2D_RUN``)."""
    if data == "gmm2d" and kind in NO_GMM2D_RUN:
        pytest.skip(NO_GMM2D_RUN[kind])


ALL_KINDS = sorted(set(ANIMATIONS) | {"classifier_x0"})


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
