"""viz.draw.magnifier: a segment clipped to the inset's box."""

import numpy as np

from viz.draw.magnifier import clip_segment


def test_clip_segment_keeps_the_part_inside():
    box = ((0.0, 1.0), (0.0, 1.0))
    a, b = clip_segment(np.array([0.5, 0.5]), np.array([10.5, 0.5]), box, margin=0.0)
    np.testing.assert_allclose([a, b], [[0.5, 0.5], [1.0, 0.5]])
    a, b = clip_segment(np.array([-1.0, -1.0]), np.array([2.0, 2.0]), box, margin=0.0)
    np.testing.assert_allclose([a, b], [[0.0, 0.0], [1.0, 1.0]])
    a, b = clip_segment(np.array([2.0, 2.0]), np.array([3.0, 5.0]), box)
    assert np.array_equal(a, b)  # misses the box: nothing to draw
