"""viz.draw.drawing: named arrows and points take their look from ``viz.draw.style`` and end exactly on
their points (``arrow_ends`` reads them back); a dotted arrow gets a solid head of its own; the scale bar
has a round length; limits hold every point at equal units, leave far outliers out and pin them on the
edge along their true direction."""

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from models.engine.pipeline import SampleSpec, run
from viz.draw.drawing import (ScaleBar, arrow_ends, far_out, fit_limits, limits_with_outliers, mixture_for, pin_inside,
                              point_marker, set_point, set_vector, vector_arrow)
from viz.draw.style import COLORS, POINTS, VECTORS, new_figure


@pytest.fixture
def ax():
    fig = new_figure((4.0, 4.0), layout=None)
    a = fig.add_axes((0, 0, 1, 1))
    a.set_xlim(0, 10)
    a.set_ylim(0, 10)
    return a


def test_arrows_take_their_style_and_end_exactly_on_their_points(ax):
    step = vector_arrow(ax, "step", (1, 2), (4, 6))
    assert step.get_gid() == "step" and step in ax.patches and step.head is None  # solid: its own head
    assert step.get_facecolor() == pytest.approx(to_rgba(COLORS[VECTORS["step"]["color"]]))
    assert step.get_linewidth() == VECTORS["step"]["lw"]
    start, end = arrow_ends(step)
    np.testing.assert_array_equal(start, [1, 2])
    np.testing.assert_array_equal(end, [4, 6])
    noise = vector_arrow(ax, "noise", (0, 0), (3, 0), gid="mine")
    assert noise.get_gid() == "mine" and noise.head is not None and noise.head in ax.patches  # dotted: a solid head
    assert noise.head.get_linewidth() == 0 and noise.head.get_gid() == "mine:head"
    proxy = vector_arrow(None, "diff")
    assert proxy.axes is None and proxy not in ax.patches  # a legend proxy is not drawn


def test_set_vector_moves_the_arrow_and_its_head_and_hides_a_zero_arrow(ax):
    noise = vector_arrow(ax, "noise")
    set_vector(noise, np.array([2.0, 2.0]), np.array([8.0, 5.0]))
    for patch in (noise, noise.head):
        np.testing.assert_allclose(np.concatenate(arrow_ends(patch)), [2, 2, 8, 5])
        assert patch.get_visible()
    set_vector(noise, np.array([1.0, 1.0]), np.array([1.0, 1.0]))
    assert not noise.get_visible() and not noise.head.get_visible()
    step = vector_arrow(ax, "step")
    set_vector(step, np.array([5.0, 5.0]), np.array([5.05, 5.0]))  # a few px long: the head shrinks
    px = 0.05 * 400 / 10
    assert step.get_mutation_scale() <= 0.4 * (px * 72 / ax.figure.dpi) / 0.55 + 1e-9 < step.full_head


def test_points_take_their_marker_and_hollow_ones_are_outlines(ax):
    xt = point_marker(ax, "x_t")
    marker, size, color = POINTS["x_t"]
    assert (xt.get_marker(), xt.get_markersize(), xt.get_gid()) == (marker, size, "x_t")
    assert to_rgba(xt.get_markerfacecolor()) == to_rgba(COLORS[color])
    hollow = point_marker(ax, "x_cfg")
    assert to_rgba(hollow.get_markerfacecolor()) == to_rgba("white")
    set_point(xt, np.array([3.0, 4.0]))
    assert list(xt.get_xdata()) == [3.0] and list(xt.get_ydata()) == [4.0]
    set_point(xt, None)
    assert len(xt.get_xdata()) == 0


@pytest.mark.parametrize("width, length", [(7.3, 1.0), (37.0, 5.0), (0.9, 0.1), (120.0, 20.0), (1000.0, 200.0)])
def test_the_scale_bar_is_a_round_length_about_a_fifth_of_the_width(ax, width, length):
    bar = ScaleBar(ax)
    assert bar.update((10.0, 10.0 + width)) == pytest.approx(length)
    assert bar.text.get_text() == f"{length:g}"
    x = bar.line.get_xdata()
    assert x[1] - x[0] == pytest.approx(length / width) and length / width <= 0.2


def test_limits_hold_every_point_at_equal_units_and_keep_room_below():
    pts = np.array([[0.0, 0.0], [4.0, 1.0], [2.0, 3.0], [np.nan, 50.0]])
    for aspect in (1.0, 2.0, 0.5):
        (x0, x1), (y0, y1) = fit_limits(pts, aspect, pad=0.1, bottom=0.12)
        assert (x1 - x0) / (y1 - y0) == pytest.approx(aspect)
        finite = pts[:3]
        assert (finite[:, 0] > x0).all() and (finite[:, 0] < x1).all()
        assert (finite[:, 1] > y0 + 0.12 * (y1 - y0) - 1e-9).all() and (finite[:, 1] < y1).all()  # above the bar
    assert fit_limits(np.empty((0, 2)), 1.0) == ((-1.0, 1.0), (-1.0, 1.0))


def test_far_outliers_are_left_out_and_pinned_along_their_direction():
    core = np.array([[0.0, 0.0], [1.0, 1.0]])
    extra = np.array([[1.5, 0.5], [100.0, 40.0]])
    assert far_out(core, extra).tolist() == [False, True]
    limits = limits_with_outliers(core, extra, 1.0)
    assert limits == fit_limits(np.concatenate([core, extra[:1]]), 1.0)
    anchor = np.array([[0.5, 0.5], [0.5, 0.5]])
    shown, moved = pin_inside(extra, limits, anchors=anchor)
    assert moved.tolist() == [False, True]
    np.testing.assert_array_equal(shown[0], extra[0])
    d_true, d_shown = extra[1] - anchor[1], shown[1] - anchor[1]
    assert d_true[0] * d_shown[1] - d_true[1] * d_shown[0] == pytest.approx(0.0, abs=1e-9)  # same direction
    (x0, x1), (y0, y1) = limits
    half = np.array([x1 - x0, y1 - y0]) / 2 * (1 - 0.07)
    centre = np.array([x0 + x1, y0 + y1]) / 2
    off = np.abs(shown[1] - centre)
    assert (off <= half + 1e-9).all() and np.isclose(off, half).any()  # on the edge of the shrunk box


def test_the_mixture_is_found_behind_gmm2d_runs_only():
    gmm2d = run(SampleSpec(data="gmm2d", model="exact", steps=2, batch=1))
    digits = run(SampleSpec(data="digits", model="exact", steps=2, batch=1))
    assert mixture_for(gmm2d, 2) is not None and mixture_for(gmm2d, 2).num_classes == 3
    assert mixture_for(digits, 64) is None and mixture_for(gmm2d, 64) is None
