"""The high-dimensions figure (viz.figures.highdim) draws the measurements it is given (models.analysis.highdim)."""

import numpy as np

from models.engine.data import load_digits_dataset
from models.analysis.highdim import measurements
from tests.viz.figures.test_tradeoff import assert_readable
from viz.figures.highdim import HIGHDIM_DISPLAY_HEIGHT, HIGHDIM_DISPLAY_WIDTH, highdim_figure


def test_highdim_figure_draws_the_measurements():
    m = measurements(load_digits_dataset().x, seed=0)
    fig = highdim_figure(m)
    assert len(fig.axes) == 4
    assert fig.axes[2].get_legend().get_texts()[0].get_text() == f"2 axes keep {100 * m.explained[1]:.1f}%"
    x, y = fig.axes[2].get_lines()[0].get_data()
    np.testing.assert_allclose(y, 100 * m.explained)
    lo, hi = np.percentile(m.distortions, [5, 95])
    assert fig.axes[3].get_title() == f"A 2-D random view scales distances by {lo:.2f}x to {hi:.2f}x"


def test_highdim_figure_is_readable_at_the_pages_width():
    """Drawn at the width the high-dimensions page shows it on a 1920-px screen (1 figure px = 1 CSS
    px): every text, tick labels included, at least 14 px high; five legend entries."""
    fig = highdim_figure(measurements(load_digits_dataset().x, seed=0))
    assert fig.get_figwidth() * fig.dpi == HIGHDIM_DISPLAY_WIDTH
    assert fig.get_figheight() * fig.dpi <= 1080 - 6 * 16  # fits under the app's cap at full width (ui.sidebar)
    assert_readable(fig, HIGHDIM_DISPLAY_WIDTH)
    assert sum(len(ax.get_legend().get_texts()) for ax in fig.axes if ax.get_legend()) == 5


def test_highdim_figure_drawn_for_a_laptop_column_keeps_12_px_type_inside_the_figure():
    """At 1400x900 the page's figure column is about 847 px: drawn 1040 px wide (ui.views.drawing_width)
    every text is at least 12 px as shown, and the long titles and labels wrap instead of running off."""
    from tests.viz.figures.test_tradeoff import rendered_text_px
    fig = highdim_figure(measurements(load_digits_dataset().x, seed=0), width=1040)
    assert fig.get_figwidth() * fig.dpi == 1040
    found = rendered_text_px(fig, 847)
    assert len(found) >= 10 and min(min(px, h) for _, px, h in found) >= 12
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height
    for t in [text for ax in fig.axes for text in (ax.title, ax.xaxis.label, ax.yaxis.label)]:
        if t.get_visible() and t.get_text().strip():
            box = t.get_window_extent(renderer)
            assert box.x0 >= -1 and box.x1 <= width + 1 and box.y0 >= -1 and box.y1 <= height + 1, t.get_text()
    assert "\n" in fig.axes[3].get_title()  # wrapped; at the declared width it is one line
    assert "\n" not in highdim_figure(measurements(load_digits_dataset().x, seed=0)).axes[3].get_title()
