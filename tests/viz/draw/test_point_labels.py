"""viz.draw.point_labels: on the digits each point's 8x8 image sits beside its marker and follows the
animation's frames; on the 2-D mixture the points get text labels instead."""

import numpy as np
import pytest

from tests.viz.projector import NO_GMM2D_RUN, STEP_KINDS, build, run_for


# ----------------------------------------------------------------------------- images at the points

@pytest.mark.parametrize("kind", STEP_KINDS)
def test_images_beside_the_points_on_digits_only(kind):
    view = build(kind, run_for(kind, "digits"))
    view.update(3)
    shown = {n for n, s in view.labels.images.items() if s.get_visible()}
    assert "x_t" in shown and "x_next" in shown and len(shown) >= 3
    for name, sprite in view.labels.images.items():  # each image is its point's, enlarged, beside its marker
        if not sprite.get_visible():
            continue
        marker = view.ax.transData.transform(np.array(view.points[name].get_data()).T)[0]
        x0, y0, x1, y1 = sprite.box()
        gap = np.hypot(max(x0 - marker[0], 0, marker[0] - x1), max(y0 - marker[1], 0, marker[1] - y1))
        assert gap < 120, (name, gap)
    if kind in NO_GMM2D_RUN:
        return  # no gmm2d run to check (NO_GMM2D_RUN)
    gmm = build(kind, run_for(kind, "gmm2d"))
    gmm.update(3)
    assert not gmm.labels.images
    assert all(t.get_visible() for n, t in gmm.labels.texts.items() if n in gmm.positions(3))  # labels instead


def test_images_follow_the_frames_of_an_animation():
    view = build("cfg", run_for("cfg", "digits"))
    view.frame(1)
    first = view.labels.images["x_t"].pixels.copy()
    view.frame(6)
    assert not np.array_equal(first, view.labels.images["x_t"].pixels)  # x_t's image is the new canvas
    ink = view.labels.images["x_t"].pixels[3:-3:7, 3:-3:7, 0]
    want = np.round(255 * (1 - np.clip(view.traj.x[6, 0], -1, 1)) / 2).reshape(8, 8)
    np.testing.assert_array_equal(ink, want)
