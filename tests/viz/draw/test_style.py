"""viz.draw.style: one visual vocabulary. Every named vector and point takes a declared colour
(predictions are diamonds), the gamma band is the difference's colour paled over white, type is never
under ``MIN_TEXT_PX`` at the width the app shows a figure, sizes keep each kind's width / height, one
colour per class on every figure, and figures are made without pyplot."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb

from viz.draw.style import (CLASS_COLOR_NAMES, CLASS_COLORS, COLORS, DEFAULT_HEIGHT, DEFAULT_WIDTH, DISPLAY_HEIGHT,
                            DISPLAY_WIDTH, DPI, HALF_SIZE, HOLLOW_POINTS, MIN_TEXT_PX, POINT_LABELS, POINTS, TEXT_PX,
                            UNDERLAYS, VECTORS, class_color, class_color_name, display_height, display_size,
                            display_width, font_pt, new_figure, text_pt)


def test_every_vector_and_point_has_a_declared_colour_and_predictions_are_diamonds():
    assert all(v["color"] in COLORS for v in VECTORS.values())
    assert all(color in COLORS for _, _, color in POINTS.values())
    assert set(POINT_LABELS) <= set(POINTS) | {"x0"}
    assert set(HOLLOW_POINTS) <= set(POINTS) and set(UNDERLAYS) <= set(VECTORS)
    assert all(POINTS[p][0] == "D" for p in ("x0_hat", "x0_uncond", "x0_cond", "guided"))
    assert POINTS["x_t"][0] == "o" and POINTS["x0"][0] == "*"
    # a line from x_t to a prediction has no head; the step and the noise have one, the noise dotted
    assert not any(VECTORS[v]["head"] for v in ("prediction", "to_uncond", "to_cond", "to_guided"))
    assert VECTORS["step"]["head"] and VECTORS["noise"]["head"] and VECTORS["noise"]["ls"] == ":"


def test_the_gamma_band_is_the_difference_paled_over_white():
    diff, band = np.array(to_rgb(COLORS["diff"])), np.array(to_rgb(COLORS["diff_band"]))
    np.testing.assert_allclose(band, 0.35 * diff + 0.65, atol=1 / 255)  # "diff" at 35 % over white
    assert VECTORS["diff_scaled"]["color"] == "diff_band" and VECTORS["diff_scaled"]["lw"] > VECTORS["diff"]["lw"]


def test_type_is_readable_on_a_projector_and_sizes_round_trip():
    assert min(TEXT_PX.values()) >= MIN_TEXT_PX
    for role, px in TEXT_PX.items():
        assert text_pt(role) * DPI / 72 == pytest.approx(px)  # drawn at its display width: px on screen
    assert font_pt(72, dpi=72) == pytest.approx(72) and font_pt(20, dpi=144) == pytest.approx(10)
    with pytest.raises(KeyError):
        text_pt("huge")


def test_display_sizes_keep_each_kinds_width_and_height():
    assert display_width("cfg") == DISPLAY_WIDTH["cfg"] and display_width("some_new_method") == DEFAULT_WIDTH
    assert display_height("overlay") == DISPLAY_HEIGHT["overlay"] and display_height("cfg") == DEFAULT_HEIGHT
    w, h = display_size("overlay")
    assert (w * DPI, h * DPI) == (DISPLAY_WIDTH["overlay"], DISPLAY_HEIGHT["overlay"])
    w2, h2 = display_size("overlay", 350)  # half as wide, the same shape
    assert w2 * DPI == 350 and h2 * DPI == pytest.approx(DISPLAY_HEIGHT["overlay"] / 2, abs=1)
    assert display_size("cfg", HALF_SIZE) == (HALF_SIZE[0] / DPI, HALF_SIZE[1] / DPI)  # a side-by-side column


def test_one_colour_per_class_on_every_figure():
    assert len(set(CLASS_COLORS)) == len(CLASS_COLORS) == len(CLASS_COLOR_NAMES) == 10
    assert [class_color(c) for c in range(3)] == list(CLASS_COLORS[:3])
    assert class_color(13) == class_color(3) and class_color_name(13) == class_color_name(3) == "red"
    assert [class_color_name(c) for c in range(3)] == ["blue", "orange", "green"]  # the mixture's A, B, C
    r, g, b = to_rgb(class_color(0))
    assert b > r and b > g  # blue is blue
    r, g, b = to_rgb(class_color(1))
    assert r > g > b  # orange is orange


def test_new_figure_uses_no_pyplot():
    before = plt.get_fignums()
    fig = new_figure((2.0, 1.0))
    assert isinstance(fig.canvas, FigureCanvasAgg) and fig.dpi == DPI
    assert (fig.get_figwidth(), fig.get_figheight()) == (2.0, 1.0)
    assert plt.get_fignums() == before  # not registered with pyplot: nothing leaks between sessions
    fig.canvas.draw()
    assert np.asarray(fig.canvas.buffer_rgba()).shape == (100, 200, 4)
