"""viz.views.basis: one basis and one scale for several runs. The projections that differ from run to
run are shared, the shared basis is the PCA of the reference runs' points (the plane itself without
runs), and each kind of view is drawn in the basis it is given, at the size and limits asked."""

import numpy as np
import pytest

from models.engine.pipeline import SampleSpec, run
from viz.draw.projection import pca_projection
from viz.methods import views as method_views
from viz.views.basis import SHARED_PROJECTIONS, shared_run_basis, shares_a_basis, view_in
from viz.views.guidance import CFGDiagram, ClassifierGuidanceDiagram
from viz.views.paths import PathAnimation
from viz.views.step import StepDiagram


@pytest.fixture(scope="module")
def runs():
    """Two digits runs from the same noise (gamma 0 and 1), a zoo run and a classifier-guided run."""
    spec = dict(data="digits", model="exact", steps=4, batch=2, label=3, seed=2)
    return run(SampleSpec(gamma=0.0, **spec)), run(SampleSpec(gamma=1.0, **spec)), \
        run(SampleSpec(guidance="apg", **spec)), run(SampleSpec(guidance="classifier", **spec))


def test_only_the_projections_of_each_runs_own_share_a_basis():
    assert SHARED_PROJECTIONS == ("pca", "plane")
    assert shares_a_basis("pca") and shares_a_basis("plane")
    assert not shares_a_basis("pca_data") and not shares_a_basis("random")  # the same for every run already


def test_the_shared_basis_is_the_pca_of_every_point_of_the_reference_runs(runs):
    plain, conditional, *_ = runs
    basis = shared_run_basis([plain, conditional])
    points = np.concatenate([np.concatenate([t.x.reshape(-1, 64), t.x0_hat.reshape(-1, 64)])
                             for t in (plain, conditional)])
    own = pca_projection(points)
    assert basis.kind == "pca" and not basis.exact
    np.testing.assert_allclose(np.abs(basis.basis @ own.basis.T), np.eye(2), atol=1e-8)
    assert "γ = 0 and 1" in basis.note and "flattened" in basis.note  # the figure says which basis it is
    alone = shared_run_basis([plain])
    assert np.abs(np.abs(alone.basis @ basis.basis.T) - np.eye(2)).max() > 1e-6  # another run, another basis
    flat = shared_run_basis([])
    assert flat.exact and np.allclose(flat(np.array([[1.5, -2.0]])), [[1.5, -2.0]])  # 2-D data: the plane


def test_each_view_is_drawn_in_the_given_basis(runs):
    plain, conditional, apg, classifier = runs
    basis = shared_run_basis([plain, conditional])
    step = view_in("step", conditional, basis, 1, None)
    cfg = view_in("cfg", conditional, basis, 0, None, size=(730, 500))
    assert isinstance(step, StepDiagram) and step.fixed is basis and step.sample == 1
    assert isinstance(cfg, CFGDiagram) and cfg.fixed is basis
    assert (cfg.fig.get_figwidth() * cfg.fig.dpi, cfg.fig.get_figheight() * cfg.fig.dpi) == (730, 500)
    zoo = view_in("apg", apg, basis, 0, None)
    assert isinstance(zoo, method_views()["apg"]) and zoo.fixed is basis
    paths = view_in("paths", conditional, basis, 0, None, limits=((-1.0, 1.0), (-2.0, 2.0)))
    assert isinstance(paths, PathAnimation) and paths.projection is basis
    assert paths.ax.get_xlim() == (-1.0, 1.0) and paths.ax.get_ylim() == (-2.0, 2.0)
    with pytest.raises(ValueError, match="cannot be drawn in a shared basis"):
        view_in("trajectory", conditional, basis, 0, None)
    with pytest.raises(ValueError, match="classifier"):
        view_in("classifier", conditional, basis, 0, None)  # a CFG run has no classifier parts
    assert isinstance(view_in("classifier", classifier, basis, 0, None), ClassifierGuidanceDiagram)
