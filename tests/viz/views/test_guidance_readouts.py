"""The classifier view's words match what it draws (issue 17): the page's readouts are the arrows'
lengths as drawn, and the small print on the picture is at most two lines (the page says the rest)."""

import numpy as np
import pytest
from matplotlib.patches import FancyArrowPatch

from models.engine.pipeline import SampleSpec, run
from viz.views.guidance import ARROWS_IN_FULL, CLASSIFIER_ARROWS, drawn_lengths
from viz.views.kinds import make_animation


@pytest.fixture(scope="module")
def traj():
    return run(SampleSpec(data="digits", model="exact", guidance="classifier", gamma=10.0, label=8, steps=6, seed=4242,
                          batch=2))


def _length(view, gid: str) -> float:
    """The length of arrow ``gid`` in the main axes' data units (the exact plane keeps true lengths)."""
    patch = next(p for p in view.ax.patches if isinstance(p, FancyArrowPatch) and p.get_gid() == gid)
    (x0, y0), (x1, y1) = patch._posA_posB
    return float(np.hypot(x1 - x0, y1 - y0))


@pytest.mark.parametrize("k", [0, 3, 5])
def test_the_readouts_are_the_arrows_as_drawn(traj, k):
    view = make_animation("classifier", traj, "plane")
    view.frame(k)
    drawn = drawn_lengths(traj, k)
    assert drawn["model"] == pytest.approx(_length(view, "model"), rel=1e-4)
    assert drawn["classifier"] == pytest.approx(_length(view, "cls_scaled"), rel=1e-4)
    assert drawn["sum"] == pytest.approx(_length(view, "sum"), rel=1e-4)
    # the 64-D shift itself is a times longer than its arrow: the old readout was off by 1/a at t = 999
    a = np.sqrt(traj.alphas_cumprod[int(traj.timesteps[k])])
    assert drawn["classifier"] == pytest.approx(10.0 * a * np.linalg.norm(traj.classifier_shift[k, 0]), rel=1e-5)


def test_the_small_print_is_two_lines_and_the_page_has_the_rest(traj):
    view = make_animation("classifier", traj, "plane")
    assert view.layout.note_lines <= 2, view.note
    assert CLASSIFIER_ARROWS in view.note and "a'/a" in ARROWS_IN_FULL and "nabla" in ARROWS_IN_FULL
