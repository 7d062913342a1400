"""viz.figures.path_gap: the chart of the flow network's distance from the mapped VP network per level, and
the sentence read off its numbers (checked on made-up curves)."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from viz.figures.path_gap import GAP_DISPLAY_HEIGHT, GAP_DISPLAY_WIDTH, GapCurve, extremes, gap_sentence, path_gap_figure

SIGMA = np.linspace(0.05, 1.0, 20)


def curve(gap, name="native vs mapped", spread=None) -> GapCurve:
    return GapCurve(name, SIGMA, np.asarray(gap, np.float64), spread)


def test_the_sentence_says_where_the_gap_is_largest_and_smallest():
    rising = curve(0.01 + 0.1 * SIGMA)
    assert extremes(rising) == ((0.05, pytest.approx(0.015)), (1.0, pytest.approx(0.11)))
    text = gap_sentence(rising)
    assert "σ = 1.00 (0.11)" in text and "σ = 0.05 (0.015)" in text and "near the noise" in text
    falling = curve(0.2 - 0.1 * SIGMA)
    assert "near the data" in gap_sentence(falling) and "σ = 0.05" in gap_sentence(falling).split("agree")[0]
    assert "about equally far apart at every level (0.03" in gap_sentence(curve(np.full(20, 0.03)))
    hump = curve(np.exp(-((SIGMA - 0.4) / 0.1) ** 2))  # largest in the middle
    (_, _), (s_hi, g_hi) = extremes(hump)
    assert s_hi == pytest.approx(SIGMA[np.argmax(hump.gap)]) and f"σ = {s_hi:.2f}" in gap_sentence(hump)


def test_the_figure_is_drawn_at_its_display_size_noise_on_the_left_with_its_largest_gap_labelled():
    curves = (curve(0.01 + 0.1 * SIGMA), curve(0.05 + 0 * SIGMA, "vs exact", spread=np.full(20, 0.01)))
    fig = path_gap_figure(curves, "RMS distance", "digits")
    assert isinstance(fig, Figure)
    width, height = fig.get_size_inches() * fig.dpi
    assert (round(width), round(height)) == (GAP_DISPLAY_WIDTH, GAP_DISPLAY_HEIGHT)
    ax = fig.axes[0]
    left, right = ax.get_xlim()
    assert left > right  # sigma falls from left to right, as a sampler walks
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["largest: 0.11 at σ = 1.00"]  # the numbers of the first curve
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["native vs mapped", "vs exact"]
    fig.canvas.draw()
    assert len(path_gap_figure(curves[:1], "d", "t").axes[0].get_legend_handles_labels()[0]) == 1
    assert path_gap_figure(curves[:1], "d", "t").axes[0].get_legend() is None  # one curve: the title says it


@pytest.mark.parametrize("bad, words", [
    (dict(sigma=SIGMA, gap=SIGMA[:3]), "one distance per level"),
    (dict(sigma=SIGMA[:1], gap=SIGMA[:1]), "at least two levels"),
    (dict(sigma=SIGMA, gap=np.where(SIGMA > 0.5, np.nan, SIGMA)), "finite"),
    (dict(sigma=SIGMA, gap=SIGMA, spread=SIGMA[:2]), "one value per level"),
])
def test_bad_curves_are_refused_in_words(bad, words):
    with pytest.raises(ValueError, match=words):
        GapCurve("x", **bad)


def test_too_many_or_no_curves_are_refused():
    with pytest.raises(ValueError, match="1 to 6 curves"):
        path_gap_figure((), "d", "t")
