"""One basis and one scale for several runs (the side-by-side page's columns): whether a projection is
shared, the basis fitted to the reference runs, and the view of each kind drawn in a given basis.

``make_animation`` (``viz.views.kinds``) takes a projection's name and fits it to its own run; two
columns that must be compared are drawn in one basis passed in here, and filmed by one camera
(``viz.views.construction.shared_camera``, ``viz.views.paths.shared_path_limits``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Optional, Sequence

import numpy as np

from models.engine.trajectory import Trajectory
from viz.draw.projection import Projection, identity_projection, pca_projection
from viz.methods import views as method_views
from viz.views.guidance import CFGDiagram, ClassifierGuidanceDiagram
from viz.views.paths import PathAnimation
from viz.views.step import StepDiagram

#: the projections that differ from run to run (the run's PCA, each step's exact plane): two columns
#: drawn in them share one basis instead; the data set's PCA and the seeded random projection already do
SHARED_PROJECTIONS = ("pca", "plane")

Limits = tuple[tuple[float, float], tuple[float, float]]


def shares_a_basis(projection: str) -> bool:
    """Whether two columns drawn in ``projection`` need one basis fitted for both."""
    return projection in SHARED_PROJECTIONS


def shared_run_basis(trajs: Sequence[Trajectory]) -> Projection:
    """The basis of the reference runs ``trajs``: the PCA of all their points (x_t and x̂0 of every
    step); with no runs (2-D data) the plane itself."""
    if not trajs:
        return identity_projection()
    dim = trajs[0].x.shape[-1]
    return replace(pca_projection(np.concatenate([np.concatenate([t.x.reshape(-1, dim), t.x0_hat.reshape(-1, dim)])
                                                  for t in trajs])),
                   note="One PCA basis for both panels (of runs at γ = 0 and 1 from this noise); what lies off it "
                        "is flattened")


def view_in(kind: str, traj: Trajectory, proj: Projection, sample: int, background: np.ndarray,
            limits: Optional[Limits] = None, size: Optional[tuple[int, int]] = None):
    """View ``kind`` of ``traj`` drawn in the basis ``proj``, the paths inside ``limits`` if given,
    ``size`` CSS px (width, height) if given."""
    if kind == "paths":
        title = f"{traj.meta.get('data', '')} · {str(traj.meta.get('sampler', '')).upper()} · paths of every sample"
        return PathAnimation(traj, proj, background, title, limits=limits, width=size)
    if kind == "step":
        return StepDiagram(traj, proj, sample, width=size)
    views = {"classifier": ClassifierGuidanceDiagram, "cfg": CFGDiagram, **method_views()}
    if kind not in views:
        raise ValueError(f"the view {kind!r} cannot be drawn in a shared basis")
    return views[kind](traj, sample, proj, width=size)


__all__ = ["Limits", "SHARED_PROJECTIONS", "shared_run_basis", "shares_a_basis", "view_in"]
