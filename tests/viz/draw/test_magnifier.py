"""viz.draw.magnifier: a segment clipped to the inset's box, and a length at float rounding told from a
step (the magnifiers of the views as drawn: tests/viz/methods, tests/viz/draw/test_camera.py)."""

import numpy as np

from viz.draw.magnifier import FLOAT_FLOOR, clip_segment, is_rounding


def test_clip_segment_keeps_the_part_inside():
    box = ((0.0, 1.0), (0.0, 1.0))
    a, b = clip_segment(np.array([0.5, 0.5]), np.array([10.5, 0.5]), box, margin=0.0)
    np.testing.assert_allclose([a, b], [[0.5, 0.5], [1.0, 0.5]])
    a, b = clip_segment(np.array([-1.0, -1.0]), np.array([2.0, 2.0]), box, margin=0.0)
    np.testing.assert_allclose([a, b], [[0.0, 0.0], [1.0, 1.0]])
    a, b = clip_segment(np.array([2.0, 2.0]), np.array([3.0, 5.0]), box)
    assert np.array_equal(a, b)  # misses the box: nothing to draw


def test_a_segment_at_float_rounding_is_no_step():
    pos = {"x_t": np.array([3.0, -4.0]), "guided": np.array([1e3, 0.0])}
    assert is_rounding(0.0, pos) and is_rounding(FLOAT_FLOOR * 1e3, pos)  # relative to the largest coordinate
    assert not is_rounding(FLOAT_FLOOR * 1e3 * 2, pos)
    assert is_rounding(1e-3, pos) and not is_rounding(1e-3, {"x_t": np.array([1.0, 0.5])})  # small beside 1000 only
    assert is_rounding(FLOAT_FLOOR, {"x_t": np.zeros(2)}) and not is_rounding(2 * FLOAT_FLOOR, {"x_t": np.zeros(2)})
