"""The APG view's key lists only what it draws (issue 17): at η = 0 there is no parallel part."""

import pytest

from models.engine.pipeline import SampleSpec, run
from tests.viz.artists import arrows, key_labels
from viz.views.kinds import make_animation


@pytest.mark.parametrize("eta, shown", [(0.0, False), (0.5, True)])
def test_the_parallel_part_is_listed_only_where_it_is_drawn(eta, shown):
    traj = run(SampleSpec(data="gmm2d", model="exact", guidance="apg", apg_eta=eta, gamma=5.0, label=1, steps=6, batch=2))
    view = make_animation("apg", traj, "plane")
    view.frame(3)
    assert any("parallel" in label for label in key_labels(view)) == shown
    assert ("apg_par" in arrows(view)) == shown
