"""The trade-off figures (viz.figures.tradeoff): the curves figure's lines (over γ, or CFG++'s λ), the
tilted-density panels and the exact-target figure (curves, band, points coloured by class, sizes).
The numbers they draw are tested in tests/models/analysis/test_tilted_density.py and test_tradeoff.py."""

import numpy as np
import pytest

from matplotlib.colors import to_rgba
from matplotlib.text import Text

from models.engine.data import make_gmm2d
from models.analysis.metrics import METRIC_NAMES
from models.analysis.tilted_density import CLEAN, tilt_view
from models.analysis.tilted_target import tilted_sample, tilted_tv_report
from models.analysis.tilted_target_gap import EXACT, GapRun, gap_curves, gap_view
from tests.models.analysis.test_tilted_density import exact_class_samples
from tests.models.analysis.test_tradeoff import rows
from viz.figures.field import CLASS_COLORS, legend_entry_count, text_heights
from viz.draw.style import MIN_TEXT_PX
from viz.figures.tradeoff import (EXACT_STYLE, GAP_DISPLAY_WIDTH, TRADEOFF_DISPLAY_WIDTH, curves_figure, exact_target_figure,
                          tilted_figure)


def rendered_text_px(fig, display_width):
    """(text, font px, rendered height px) of every visible text of ``fig`` (tick labels included) once
    the figure, drawn by Agg, is shown ``display_width`` CSS px wide: the renderer's extents, scaled."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    scale = display_width / (fig.get_figwidth() * fig.dpi)
    out = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip() or (t.axes is not None and not t.axes.get_visible()):
            continue
        out.append((t.get_text(), t.get_fontsize() * fig.dpi / 72 * scale, t.get_window_extent(renderer).height * scale))
    return out


def assert_readable(fig, display_width):
    """At most six legend entries, and every text at least MIN_TEXT_PX (14) high on a 1920-px screen."""
    found = rendered_text_px(fig, display_width)
    assert len(found) >= 10  # titles, labels, notes (and tick labels where there are ticks) were all measured
    small = [(t, round(px, 1), round(h, 1)) for t, px, h in found if min(px, h) < MIN_TEXT_PX]
    assert not small, f"texts under {MIN_TEXT_PX} px at {display_width} px wide: {small}"
    assert legend_entry_count(fig) <= 6


def test_the_readability_check_catches_small_type():
    fig = curves_figure(rows([0, 1, 3], [0.3, 0.8, 0.9], [2.0, 1.8, 1.7], [1.0, 1.0, 1.0]))
    assert_readable(fig, TRADEOFF_DISPLAY_WIDTH)
    fig.text(0.5, 0.5, "tiny", fontsize=9)  # 12.5 px on a figure drawn at its display width
    with pytest.raises(AssertionError, match="tiny"):
        assert_readable(fig, TRADEOFF_DISPLAY_WIDTH)
    with pytest.raises(AssertionError):  # the same figure squeezed into 1000 px: tick labels under 14 px
        assert_readable(curves_figure(rows([0, 1], [0.3, 0.8], [2.0, 1.8], [1.0, 1.0])), 1000)


@pytest.mark.parametrize("lam", [False, True])
def test_curves_figure_is_readable_at_the_pages_width(lam):
    """Drawn at the width the trade-off page shows it on a 1920-px screen (1 figure px = 1 CSS px)."""
    r = rows([0, 1, 3, 7], [0.3, 0.8, 0.9, 0.95], [2.0, 1.8, 1.7, 1.2], [1.0, 1.0, 0.9, 0.8])
    if lam:
        r = [{"cfgpp_lambda": g / 10, **{k: v for k, v in row.items() if k != "gamma"}} for g, row in zip((0, 3, 6, 10), r)]
    fig = curves_figure(r, {"accuracy": 1.0, "diversity": 3.5, "nearest_train": 1.1}, "digits · CFG · 100 samples per γ")
    assert fig.get_figwidth() * fig.dpi == TRADEOFF_DISPLAY_WIDTH
    assert_readable(fig, TRADEOFF_DISPLAY_WIDTH)


@pytest.mark.parametrize("t", [CLEAN, 300])
def test_tilted_figure_is_readable_at_the_pages_width(t):
    """The panels, the blobs' shares (on the clean data) and the note along the bottom."""
    points = {g: exact_class_samples(2, 200) for g in (0.0, 1.0, 3.0, 7.0)}
    fig = tilted_figure(tilt_view(points, 2, t), "C", "DDPM, 100 steps")
    assert fig.get_figwidth() * fig.dpi == TRADEOFF_DISPLAY_WIDTH
    found = rendered_text_px(fig, TRADEOFF_DISPLAY_WIDTH)
    assert any(text.startswith("Shading") for text, _, _ in found)
    assert (t == CLEAN) == any("% aim" in text for text, _, _ in found)
    assert_readable(fig, TRADEOFF_DISPLAY_WIDTH)


def test_curves_figure_has_one_line_per_metric_in_gamma_order():
    r = rows([3, 0, 1], [0.9, 0.1, 0.8], [2.0, 4.0, 3.0], [1.0, 1.2, 1.1])  # unsorted on purpose
    fig = curves_figure(r, {"accuracy": 1.0, "diversity": 3.5, "nearest_train": 1.1}, "title")
    assert len(fig.axes) == len(METRIC_NAMES)
    for ax, name in zip(fig.axes, METRIC_NAMES):
        lines = [line for line in ax.get_lines() if line.get_gid() == name]
        assert len(lines) == 1
        x, y = lines[0].get_data()
        order = np.argsort([row["gamma"] for row in r])
        np.testing.assert_array_equal(x, [r[i]["gamma"] for i in order])
        np.testing.assert_array_equal(y, [r[i][name] for i in order])
        assert [line for line in ax.get_lines() if line.get_gid() is None]  # the reference and gamma = 1 lines
    with pytest.raises(ValueError):
        curves_figure([])


def test_tilted_figure_has_one_panel_per_gamma():
    points = {g: exact_class_samples(2, 200) for g in (0.0, 1.0, 3.0)}
    fig = tilted_figure(tilt_view(points, 2, CLEAN), "C")
    assert [ax.get_title(loc="left").split("·")[0].strip() for ax in fig.axes] == ["γ = 0", "γ = 1", "γ = 3"]
    assert all("% of dots inside" in ax.get_xlabel() for ax in fig.axes)


def test_curves_figure_of_a_lambda_sweep_has_lambda_on_its_axis():
    r = [{"cfgpp_lambda": lam, **{k: v for k, v in row.items() if k != "gamma"}}
         for lam, row in zip((0.0, 0.6, 1.0), rows([0, 1, 3], [0.3, 0.8, 0.9], [2.0, 1.8, 1.7], [1.0, 1.0, 1.0]))]
    fig = curves_figure(r)
    for ax in fig.axes:
        assert ax.get_xlabel().startswith("λ")
        assert not [line for line in ax.get_lines() if line.get_gid() is None]  # no "γ = 1" line for λ
        x, _ = next(line for line in ax.get_lines() if line.get_gid()).get_data()
        np.testing.assert_array_equal(x, [0.0, 0.6, 1.0])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["the training data itself"]  # no γ = 1 entry


# ----------------------------------------------------------------------------- the exact-target figure

@pytest.fixture(scope="module")
def gap_fig():
    gammas = (0.0, 1.0, 7.0)
    runs = {name: [GapRun(x, tilted_tv_report(x, 1, g), 0.0) for g in gammas for x in [tilted_sample(400, 1, g, seed)]]
            for name, seed in (("DDPM", 1), ("DDIM (η = 0)", 2), ("DDPM + 5 corrector steps", 3), ("flow Euler", 6),
                               (EXACT.name, 4))}
    # a made-up sampler at γ = 7 that overfills the outer blob (component 4)
    lopsided = np.concatenate([tilted_sample(100, 1, 7.0, 5)[:60], make_gmm2d().means[[4]] + 0.05 * np.ones((140, 2))])
    runs["DDPM"][2] = GapRun(lopsided, tilted_tv_report(lopsided, 1, 7.0), 0.0)
    view = gap_view(1, "B", gap_curves(runs, gammas), 400, 7.0, runs[EXACT.name][2].samples, lopsided, "DDPM", "made up")
    fig = exact_target_figure(view)
    fig.canvas.draw()
    return fig, view


def test_exact_target_figure_draws_every_curve_with_its_errors_and_the_band(gap_fig):
    fig, view = gap_fig
    curves_ax = fig.axes[0]
    for curve in view.curves:
        bars = next(c for c in curves_ax.containers if c.get_label() == curve.name)
        np.testing.assert_allclose(bars.lines[0].get_ydata(), curve.tv)
        segments = bars.lines[2][0].get_segments()  # one vertical bar per gamma: tv - se .. tv + se
        np.testing.assert_allclose([s[1, 1] - s[0, 1] for s in segments], 2 * np.asarray(curve.se))
    band = curves_ax.collections[0]
    top = band.get_paths()[0].vertices[:, 1].max()
    assert top == pytest.approx(max(view.band))
    assert [t.get_text() for t in curves_ax.get_legend().get_texts()][0].startswith("floor")


def test_exact_target_figure_colours_points_by_class_and_labels_the_blobs(gap_fig):
    fig, view = gap_fig
    for ax, p in zip(fig.axes[1:], (view.exact, view.sampled)):
        dots = ax.collections[0]
        expected = np.array([to_rgba(CLASS_COLORS[c]) for c in view.comp_class[p.component[p.component >= 0]]])
        np.testing.assert_allclose(dots.get_facecolors()[:, :3], expected[:, :3])
        labels = [t.get_text() for t in ax.texts]
        assert labels == [f"{100 * p.shares[k]:.0f} %\naim {100 * view.target[k]:.0f} %" for k in view.blobs]
    # the made-up sampler's outer blob: its 140 piled points and those of its 60 exact draws that lie there
    on_outer = 140 + int((np.linalg.norm(view.sampled.points[:60] - make_gmm2d().means[4], axis=1) < 0.3).sum())
    assert fig.axes[2].texts[1].get_text() == f"{100 * on_outer / 200:.0f} %\naim 33 %"


def test_exact_target_figure_is_readable(gap_fig):
    """At most six legend entries; every text at least 14 px when shown at the page's width."""
    fig, _ = gap_fig
    assert legend_entry_count(fig) <= 6
    small = [(t, round(px, 1)) for t, px in text_heights(fig, GAP_DISPLAY_WIDTH) if px < 14]
    assert not small
    assert_readable(fig, GAP_DISPLAY_WIDTH)  # the rendered heights as well


def test_exact_target_figure_gives_each_sampler_its_own_style_and_the_exact_draws_grey(gap_fig):
    """Five curves (four samplers, one on the flow path, and the exact draws): no two alike, the exact draws
    in their own grey wherever they come in the list."""
    fig, view = gap_fig
    lines = {c.get_label(): c.lines[0] for c in fig.axes[0].containers}
    assert set(lines) == {c.name for c in view.curves} and len(lines) == 5
    looks = {(ln.get_color(), ln.get_marker(), ln.get_linestyle()) for ln in lines.values()}
    assert len(looks) == 5
    assert to_rgba(lines[EXACT.name].get_color()) == to_rgba(EXACT_STYLE["color"])


def test_exact_target_figure_leaves_the_legend_room_above_the_curves(gap_fig):
    fig, view = gap_fig
    ax = fig.axes[0]
    top = max(max(np.asarray(c.tv) + np.asarray(c.se)) for c in view.curves)
    legend = ax.get_legend().get_window_extent().transformed(ax.transData.inverted())
    assert ax.get_ylim()[1] >= top and legend.y0 >= top  # the legend's box starts above every error bar
