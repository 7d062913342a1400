"""The high-dimensions figure (viz.highdim) draws the measurements it is given (models.highdim)."""

import numpy as np

from models.data import load_digits_dataset
from models.highdim import measurements
from viz.highdim import highdim_figure


def test_highdim_figure_draws_the_measurements():
    m = measurements(load_digits_dataset().x, seed=0)
    fig = highdim_figure(m)
    assert len(fig.axes) == 4
    assert fig.axes[2].get_legend().get_texts()[0].get_text() == f"2 axes keep {100 * m.explained[1]:.1f}%"
    x, y = fig.axes[2].get_lines()[0].get_data()
    np.testing.assert_allclose(y, 100 * m.explained)
    lo, hi = np.percentile(m.distortions, [5, 95])
    assert fig.axes[3].get_title() == f"A 2-D random view scales distances by {lo:.2f}x to {hi:.2f}x"
