"""viz.draw.camera: the smooth envelope of the frames' widths, shots planned and shared across views of
other sizes, and over many runs (every sampler, 10 and 200 steps, gamma 0, 3, 10) a steady camera with the
step and the noise visible in every frame (or magnified in a labelled inset)."""

import numpy as np
import pytest

from models.engine.samplers import SAMPLER_NAMES
from models.guidance import ZOO_GUIDANCE
from viz.draw.camera import plan_shots, shared_shots, smooth_widths
from viz.views.paths import frame_indices

from tests.viz.projector import build, check_camera_and_step, data_sets, run_for, sample


# ----------------------------------------------------------------------------- the camera and the step

def test_smooth_widths_is_the_tightest_smooth_envelope():
    d = np.array([100.0, 1.0, 1.0, 1.0, 50.0, 1.0])
    w = smooth_widths(d, 1.25)
    assert (w >= d).all()
    ratios = w[1:] / w[:-1]
    assert (ratios <= 1.25 + 1e-12).all() and (ratios >= 1 / 1.25 - 1e-12).all()
    brute = np.array([max(d[j] / 1.25 ** abs(k - j) for j in range(len(d))) for k in range(len(d))])
    np.testing.assert_allclose(w, brute, rtol=1e-12)
    shots = plan_shots(np.array([[[0, 0], [1, 1]], [[5, 5], [5.5, 5.5]]]), 1.5, (0.1, 0.1), 1.25)
    (x0, x1), (y0, y1) = shots[1].xlim, shots[1].ylim
    assert x0 <= 5 and x1 >= 5.5 and y0 <= 5 and y1 >= 5.5  # each frame holds its box
    assert (x1 - x0) / (y1 - y0) == pytest.approx(1.5)


CAMERA_RUNS = [(s, n, g) for s in SAMPLER_NAMES for n in (10, 200) for g in (0.0, 3.0, 10.0)]


@pytest.mark.parametrize("sampler, steps, gamma", CAMERA_RUNS, ids=[f"{s}-{n}-{g:g}" for s, n, g in CAMERA_RUNS])
def test_steady_camera_and_visible_step_over_runs(sampler, steps, gamma):
    traj = sample("gmm2d", "cfg", gamma, sampler, steps)
    for kind in ("step", "cfg"):
        check_camera_and_step(build(kind, traj))


@pytest.mark.parametrize("sampler", SAMPLER_NAMES)
def test_steady_camera_and_visible_step_on_digits(sampler):
    for steps, gamma in ((10, 3.0), (200, 10.0)):
        traj = sample("digits", "cfg", gamma, sampler, steps)
        check_camera_and_step(build("cfg", traj))
        check_camera_and_step(build("step", traj, "pca"))
    check_camera_and_step(build("classifier", sample("digits", "classifier", 3.0, sampler, 10)))


@pytest.mark.parametrize("kind", ["classifier", "classifier_x0", *ZOO_GUIDANCE])
def test_steady_camera_and_visible_step_in_the_guidance_views(kind):
    for steps in (10, 200):
        check_camera_and_step(build(kind, run_for(kind, data_sets(kind)[-1], steps=steps)))


def test_a_gif_of_few_frames_keeps_a_smooth_camera():
    view = build("cfg", sample("gmm2d", "cfg", 3.0, "euler", 200))
    idx = frame_indices(view.num_frames, 12)
    shots = view.plan_camera(idx, 1.2)
    w = np.array([shots[k].width for k in idx])
    assert (np.maximum(w[1:] / w[:-1], w[:-1] / w[1:]) <= 1.25).all()


def test_shared_shots_keep_units_per_pixel_across_view_sizes():
    boxes = [np.array([[[0, 0], [1, 1]], [[0, 0], [2, 1]]]), np.array([[[-1, 0], [0, 3]], [[0, 0], [1, 1]]])]
    a, b = shared_shots(boxes, [(400, 200), (800, 200)], (0.1, 0.1), 1.25)
    for sa, sb in zip(a, b):
        assert sb.width == pytest.approx(2 * sa.width)  # twice the pixels: twice the data width, same scale
        assert (sb.ylim[1] - sb.ylim[0]) == pytest.approx(sa.ylim[1] - sa.ylim[0])
        assert sum(sa.xlim) == pytest.approx(sum(sb.xlim)) and sum(sa.ylim) == pytest.approx(sum(sb.ylim))
    assert a[0].xlim[0] <= -1 and a[0].xlim[1] >= 1 and a[0].ylim[1] >= 3  # the union of both views' boxes
    with pytest.raises(ValueError):
        shared_shots(boxes[:1], [(400, 200), (800, 200)])
