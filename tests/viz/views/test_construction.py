"""viz.views.construction: views side by side share one steady camera (``shared_camera``); a frame's title
says the step, t and γ; a scale bar's length is round."""

import numpy as np
import pytest

from viz.draw.projection import identity_projection, pca_projection
from viz.views.construction import round_length, shared_camera, step_title
from viz.views.guidance import CFGDiagram
from viz.views.kinds import make_animation
from viz.views.paths import frame_indices

from tests.viz.projector import check_camera_and_step, sample


@pytest.mark.parametrize("data, steps", [("gmm2d", 10), ("gmm2d", 200), ("digits", 25)])
def test_views_side_by_side_share_one_steady_camera(data, steps):
    """Two runs from the same noise at γ 1 and 10, one view each in one basis: the shared camera gives
    both the same shot at every frame (every step, and the GIF's frames), holds both runs' points,
    keeps the camera steady, and the step of the calmer run, now seen from farther, stays visible
    (magnified where it is short)."""
    calm, wild = sample(data, "cfg", 1.0, "ddpm", steps), sample(data, "cfg", 10.0, "ddpm", steps)
    proj = identity_projection() if data == "gmm2d" else pca_projection(np.concatenate([calm.x, wild.x]).reshape(-1, 64))
    views = [make_animation("cfg", calm, "pca"), make_animation("cfg", wild, "pca")] if data == "gmm2d" else \
        [CFGDiagram(calm, 0, proj), CFGDiagram(wild, 0, proj)]
    for idx in (None, frame_indices(steps, 100)):
        cams = shared_camera(views, idx)
        assert all(cams[0][k] == cams[1][k] for k in cams[0])
        for view, cam in zip(views, cams):
            own = dict(view.shots)
            with view.camera(cam):
                assert view.shots == {**own, **cam}
                if idx is None:
                    check_camera_and_step(view)
                else:  # the GIF's frames only
                    w = np.array([cam[k].width for k in idx])
                    assert (np.maximum(w[1:] / w[:-1], w[:-1] / w[1:]) <= 1.25 + 1e-9).all()
                for k in cam:
                    _, pts, _, far = view._positions[k]
                    (x0, x1), (y0, y1) = cam[k].xlim, cam[k].ylim
                    assert (pts[~far][:, 0] >= x0).all() and (pts[~far][:, 0] <= x1).all()
                    assert (pts[~far][:, 1] >= y0).all() and (pts[~far][:, 1] <= y1).all()
            assert view.shots == own  # its own camera is back
    with pytest.raises(ValueError, match="different numbers of steps"):
        shared_camera([views[0], make_animation("cfg", sample(data, "cfg", 1.0, "ddpm", 7), "pca")])


def test_frame_titles_and_scale_bar_lengths():
    traj = sample("gmm2d", "cfg", 3.0, "ddpm", 10)
    assert step_title(traj, 0, 3.0) == f"step 1/10  ·  t = {int(traj.timesteps[0])}  ·  γ = 3"
    assert step_title(traj, 9, None) == f"step 10/10  ·  t = {int(traj.timesteps[9])}"  # unguided: no γ
    for target, length in ((7.3, 5.0), (2.0, 2.0), (0.99, 0.5), (0.3, 0.2), (1234.0, 1000.0), (1e-3, 1e-3)):
        assert round_length(target) == pytest.approx(length)  # the largest 1, 2 or 5 x 10^n not above it
