"""The paths view keeps every path in sight when a few predictions are thrown far out."""

import numpy as np
import pytest

from models.engine.data import load_dataset
from models.engine.pipeline import SampleSpec, run
from viz.views.kinds import make_animation


def _view(guidance: str, data: str = "gmm2d"):
    traj = run(SampleSpec(data=data, model="neural", guidance=guidance, gamma=3.0, label=1, steps=25, batch=8, seed=0),
               device="cpu")
    return traj, make_animation("paths", traj, "pca_data", background=load_dataset(data).x)


def _inside(points, view):
    (x0, x1), (y0, y1) = view.ax.get_xlim(), view.ax.get_ylim()
    p = points.reshape(-1, 2)
    return (p[:, 0] >= x0) & (p[:, 0] <= x1) & (p[:, 1] >= y0) & (p[:, 1] <= y1)


def test_far_predictions_do_not_shrink_the_paths():
    """Classifier guidance at high noise throws early predictions ~50 away from paths a few units wide."""
    traj, view = _view("classifier")
    assert np.abs(traj.x0_hat[0]).max() > 10 * np.ptp(traj.x.reshape(-1, 2), axis=0).max()  # the case is real
    assert _inside(view.xs, view).all()  # every path in view
    beyond = (~_inside(view.x0s, view)).reshape(view.x0s.shape[:2]).sum(1)
    assert list(beyond) == view.beyond and beyond[0] > 0 and beyond[-1] == 0
    view.update(0)
    assert f"{beyond[0]} predictions beyond the view" in view.step_text.get_text()
    view.update(len(beyond) - 1)
    assert "beyond" not in view.step_text.get_text()
    width = np.diff(view.ax.get_xlim())[0]
    assert width < 4 * np.ptp(view.xs[..., 0])  # zoomed on the paths, not on the outliers


@pytest.mark.parametrize("data", ["gmm2d", "digits"])
def test_without_outliers_everything_is_in_view(data):
    _, view = _view("cfg", data)
    assert _inside(view.xs, view).all()
    assert sum(view.beyond) <= 1  # at most a stray prediction of one step
