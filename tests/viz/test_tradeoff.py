"""The trade-off figures (viz.tradeoff): the curves figure's lines and the tilted-density panels.
The numbers they draw are tested in tests/models/test_tilt.py and test_tradeoff.py."""

import numpy as np
import pytest

from models.metrics import METRIC_NAMES
from models.tilt import CLEAN, tilt_view
from tests.models.test_tilt import exact_class_samples
from tests.models.test_tradeoff import rows
from viz.tradeoff import curves_figure, tilted_figure


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
