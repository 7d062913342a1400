"""The construction views drawn in the plane of a prediction space (viz.methods.in_space, the shared part
of the cfgzero, tcfg, mambo, apgmix and fdg views): each registered where the figure kinds are, the guided
point drawn where the method put x0_hat, the construction at true distances in the exact plane, figures
that stay readable (at most six key entries, text of at least 14 px at 1100 px, images at the points on
digits, off-data predictions labelled where they are, one inset taking the whole column), the same bytes
twice, runs of other methods or settings refused. Each view's own construction: test_<method>.py.

Runs are small (10 steps, batch 2), sampled once per process."""

import dataclasses

import numpy as np
import pytest
from matplotlib.text import Text

from models.engine.pipeline import SampleSpec, run
from viz.draw.drawing import arrow_ends
from viz.draw.key import MAX_ENTRIES
from viz.draw.sprites import PAD, TextSprite
from viz.figures.lecture import construction_kind, view_applies
from viz.gif import gif_frame_count
from viz.methods import views
from viz.methods.in_space import line_ends
from viz.views.catalog import descriptions, figure_kinds, lecture_projection
from viz.views.kinds import ANIMATIONS, make_animation

from tests.viz.artists import arrows, drawn, key_labels


METHODS = ("cfgzero", "tcfg", "mambo", "apgmix", "fdg")  # the views drawn in the plane of a prediction space
GUIDER_VIEWS = {m: views()[m] for m in METHODS}
STEPS = 10
SETTINGS = dict(cfgzero_zero_steps=2, mambo_alpha=2.0, apgmix_lo=0.0, apgmix_hi=5.0, apgmix_eta=0.2, apgmix_beta=-0.5,
                fdg_low=2.0)
IMAGES_ONLY = ("fdg",)  # methods of 8x8 images: no gmm2d run (the 2-D points are not images)
DISPLAY_WIDTH, MIN_TEXT_PX = 1100, 14
_RUNS: dict = {}


def data_of(method):
    """The data sets ``method`` runs on."""
    return ("digits",) if method in IMAGES_ONLY else ("digits", "gmm2d")


def home(method):
    """The small data set a test of ``method`` samples: gmm2d, or digits for a method of images."""
    return data_of(method)[-1]


def spec_for(method, data="digits", model="exact", **kw):
    base = dict(data=data, model=model, guidance=method, gamma=3.0, label=1, steps=STEPS, batch=2, seed=3,
                sampler="ddpm", **SETTINGS)
    base.update(kw)
    return SampleSpec(**base)


def sample(method, data="digits", model="exact", **kw):
    key = (method, data, model, tuple(sorted(kw.items())))
    if key not in _RUNS:
        _RUNS[key] = run(spec_for(method, data, model, **kw), device="cpu")
    return _RUNS[key]


def title(view):
    """The current frame's title (step, t, gamma and the method's own numbers)."""
    return view.title.get_text()


CASES = [(m, model, data) for m in METHODS for model in ("exact", "neural") for data in data_of(m)]


# ----------------------------------------------------------------------------- every method

def test_the_views_are_registered_where_the_figure_kinds_are():
    for method in METHODS:
        assert method in ANIMATIONS and method in descriptions() and method in figure_kinds()
        assert lecture_projection(method) == "plane"  # python -m viz.lecture_gifs draws it in its exact plane
        traj = sample(method, home(method))
        assert construction_kind(traj) == method
        assert view_applies(method, traj) and not view_applies("cfg", traj)
        assert all(view_applies(other, traj) == (other == method) for other in METHODS)
    assert not any(view_applies(m, sample("cfgzero", "gmm2d")) for m in METHODS if m != "cfgzero")


@pytest.mark.parametrize("method, model, data", CASES, ids=["-".join(c) for c in CASES])
def test_the_drawn_guided_point_is_the_methods_prediction(method, model, data):
    traj = sample(method, data, model)
    view = make_animation(method, traj, "plane", sample=1)
    assert ("2-D data, exact" if data == "gmm2d" else "exact plane") in view.headline
    for k in range(STEPS):
        view.update(k)
        proj = view.projection_at(k)
        np.testing.assert_allclose(drawn(view, "guided"), proj(traj.x0_hat[k, 1]), atol=1e-9)
        np.testing.assert_allclose(arrow_ends(arrows(view)["to_guided"])[1], proj(traj.x0_hat[k, 1]), atol=1e-9)
        np.testing.assert_allclose(drawn(view, "x_t"), proj(traj.x[k, 1]), atol=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_the_exact_plane_holds_the_construction_at_true_distances(method):
    """Every point of the construction (the space's zero, both predictions, the constructed points)
    keeps its true distances to the others in the exact plane of each step."""
    traj = sample(method, "digits")
    view = make_animation(method, traj, "plane")
    in_plane = {"cfgzero": ("origin", "x0_uncond", "x0_cond", "su", "ray_start", "ray_end", "guided"),
                "tcfg": ("origin", "x0_uncond", "x0_cond", "u_n", "ray_end", "guided"),
                "mambo": ("origin", "x0_uncond", "x0_cond", "x_cfg", "guided"),
                "apgmix": ("origin", "x0_cond", "par_end", "ray_end", "guided"),
                "fdg": ("x0_uncond", "x0_cond", "low_end", "guided", "x_cfg", "band_low", "band_high")}[method]
    for k in range(STEPS):
        named = view.named_points(view.vectors(k))
        proj = view.projection_at(k)
        assert proj.kind == "plane" and proj.exact
        pts = {n: named[n] for n in in_plane}
        size = max(np.linalg.norm(p - pts["x0_cond"]) for p in pts.values())
        for a in pts:
            for b in pts:
                true = np.linalg.norm(pts[a] - pts[b])
                seen = np.linalg.norm(proj(pts[a]) - proj(pts[b]))
                assert seen == pytest.approx(true, abs=1e-6 * max(size, 1.0)), (k, a, b)


@pytest.mark.parametrize("method, data", [(m, d) for m in METHODS for d in data_of(m)])
def test_keys_are_short_and_every_text_is_legible(method, data):
    """At most six key entries; every text (matplotlib's and the sprites': labels, key, titles,
    insets) at least 14 px high once the figure is shown 1100 px wide (a 1920-px screen's page column)."""
    for gamma in (3.0, 9.0):  # a strong gamma throws predictions out of the data: labelled where they are
        view = make_animation(method, sample(method, data, gamma=gamma), "plane")
        assert 1 <= len(key_labels(view)) <= MAX_ENTRIES, key_labels(view)
        scale = DISPLAY_WIDTH / (view.fig.get_figwidth() * view.fig.dpi)
        for k in (0, STEPS // 2, STEPS - 1):
            view.frame(k)
            texts = [(t.get_text(), t.get_fontsize() * view.fig.dpi / 72) for t in view.fig.findobj(Text)
                     if t.get_visible() and t.get_text().strip()]
            sprites = [(s.get_text(), s.font[0] * s.font[3] / 72, s.size[1] - 2 * PAD)
                       for s in view.fig.findobj(TextSprite) if s.get_visible() and s.get_text()
                       and (s.axes is None or s.axes.get_visible())]
            assert len(texts) + len(sprites) >= 5  # headline, title, key, labels, note (most are sprites)
            for text, px in texts:
                assert px * scale >= MIN_TEXT_PX, (text, px * scale)
            for text, px, high in sprites:
                assert px * scale >= MIN_TEXT_PX and high * scale >= MIN_TEXT_PX, (text, px * scale, high * scale)


def test_predictions_off_the_data_are_labelled_where_they_are():
    """Rings and pins no longer take key rows: a prediction thrown out of the data says so in its
    label, and the key keeps the construction's arrows."""
    traj = sample("cfgzero", "digits", gamma=9.0)
    view = make_animation("cfgzero", traj, "plane")
    assert key_labels(view)[0] == "line from u = 0 through $u^{u}$"
    assert len(key_labels(view)) == MAX_ENTRIES and "step" in key_labels(view)
    said = []
    for k in range(STEPS):
        view.update(k)
        names, _, outside, far = view._positions[k]
        for name, o, f in zip(names, outside, far):
            if name in view.labels.texts and view.labels.texts[name].get_visible() and (o or f):
                text = view.labels.texts[name].get_text()
                assert text.endswith("(off-scale)" if f else "(off the data)"), (k, name, text)
                said.append(text)
    assert any("guided" in t for t in said)


@pytest.mark.parametrize("method", METHODS)
def test_images_at_the_points_on_digits_and_the_construction_magnified_where_small(method):
    """On digits the 8x8 images of x_t, both predictions, the guided x̂0 and x_{t-1} sit beside their
    markers, each its own point's; on gmm2d none. Where the construction is small in the frame an
    inset repeats it, titled with its magnification, the guided point inside."""
    traj = sample(method, "digits")
    view = make_animation(method, traj, "plane")
    view.update(STEPS // 2)
    shown = {n for n, s in view.labels.images.items() if s.get_visible()}
    assert {"x_t", "x0_uncond", "x0_cond", "guided", "x_next"} <= shown
    ink = view.labels.images["guided"].pixels[3:-3:7, 3:-3:7, 0]
    want = np.round(255 * (1 - np.clip(np.asarray(traj.x0_hat[STEPS // 2, 0], np.float64), -1, 1)) / 2)
    np.testing.assert_array_equal(ink, want.reshape(8, 8))  # the guided point's own image
    gmm = make_animation(method, sample(method, home(method)), "plane")
    assert method in IMAGES_ONLY or not gmm.labels.images
    construction = next(m for m in gmm.magnifiers if m.spec.what == "the construction")
    magnified = 0
    for k in range(STEPS):
        gmm.update(k)
        if construction.magnification is None:
            continue
        magnified += 1
        assert construction.ax.get_visible() and construction.magnification > 1.2
        assert construction.title.get_text().startswith("the construction  ×")
        (x0, x1), (y0, y1) = construction.limits
        guided = gmm.positions(k)["guided"]
        assert x0 <= guided[0] <= x1 and y0 <= guided[1] <= y1
    assert magnified >= 1, method


@pytest.mark.parametrize("method", METHODS)
def test_same_settings_same_gif_bytes(method):
    traj = sample(method, home(method))
    gif = make_animation(method, traj, "plane").gif(max_frames=5)
    assert gif_frame_count(gif) == 5
    assert make_animation(method, run(spec_for(method, home(method)), device="cpu"), "plane").gif(max_frames=5) == gif
    assert make_animation(method, traj, "pca").gif(max_frames=5) == make_animation(method, traj, "pca").gif(max_frames=5)


@pytest.mark.parametrize("method", METHODS)
def test_each_view_refuses_other_runs_and_runs_without_their_settings(method):
    for other in ("cfg", *(m for m in METHODS if m != method)):
        with pytest.raises(ValueError, match=f"draws runs with guidance '{method}'; this run used '{other}'"):
            GUIDER_VIEWS[method](sample(other, home(other)))
    if method != "tcfg":  # tcfg has no setting of its own
        traj = dataclasses.replace(sample(method, home(method)))
        traj.meta = {k: v for k, v in traj.meta.items() if k not in SETTINGS}
        with pytest.raises(ValueError, match="sample it again"):
            GUIDER_VIEWS[method](traj)
        assert construction_kind(traj) == "cfg"


@pytest.mark.parametrize("method, key, value", [("cfgzero", "cfgzero_zero_steps", 0), ("cfgzero", "gamma", 2.0),
                                                ("tcfg", "gamma", 5.0), ("mambo", "mambo_alpha", 0.0),
                                                ("apgmix", "apgmix_hi", 1e9), ("apgmix", "apgmix_beta", 0.0),
                                                ("fdg", "fdg_low", 4.0), ("fdg", "gamma", 5.0)])
def test_settings_that_do_not_match_the_run_are_refused(method, key, value):
    traj = dataclasses.replace(sample(method, "digits"))
    traj.meta = {**traj.meta, key: value}
    with pytest.raises(ValueError, match="not .* of its recorded parts"):
        GUIDER_VIEWS[method](traj)


def test_line_ends_cover_the_points_on_both_sides():
    zero, direction = np.zeros(2), np.array([1.0, 0.0])
    start, end = line_ends(zero, direction, [np.array([-1.0, 3.0]), np.array([4.0, 0.0]), zero])
    np.testing.assert_allclose([start, end], [[-1.75, 0.0], [4.75, 0.0]])


@pytest.mark.parametrize("method", METHODS)
def test_an_inset_shown_alone_takes_the_whole_column(method):
    """Where two insets are asked for but one is not needed at half the column (a region magnifies
    less in a wide, low slot), the other is drawn in the whole column, not in half of it over a gap."""
    for data in data_of(method):
        view = make_animation(method, sample(method, data, steps=25), "plane")
        for k in range(view.num_frames):
            view.update(k)
            shown = [m for m in view.magnifiers if m.ax.get_visible()]
            if len(shown) == 1:
                assert shown[0].rect == tuple(view.inset_slots[1][0]), (data, k, shown[0].spec.what)
