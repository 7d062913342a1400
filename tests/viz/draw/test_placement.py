"""viz.draw.placement: labels placed beside their points do not overlap one another, stay inside the
axes, keep off every marker and off the arrows where there is room, each nearer its own point than any
other; the choice depends only on the frame's geometry (same input, same boxes)."""

import numpy as np
import pytest

from viz.draw.placement import DIRECTIONS, GAPS, candidates, leader, place, segment_samples, shift_inside

BOUNDS = (0.0, 0.0, 800.0, 600.0)


def overlap(a, b) -> float:
    """Overlap area of two boxes (x0, y0, x1, y1)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(w, 0.0) * max(h, 0.0)


def distance(box, p) -> float:
    dx = max(box[0] - p[0], 0.0, p[0] - box[2])
    dy = max(box[1] - p[1], 0.0, p[1] - box[3])
    return float(np.hypot(dx, dy))


CLUSTERS = {
    "a row": np.array([[300, 300], [340, 300], [380, 300], [420, 300], [460, 300]], float),
    "a ring": np.array([[400 + 60 * np.cos(a), 300 + 60 * np.sin(a)] for a in np.linspace(0, 2 * np.pi, 7)[:-1]]),
    "near a corner": np.array([[20, 20], [120, 40], [40, 140], [780, 580]], float),
    "in every corner": np.array([[15, 585], [785, 15], [790, 590], [10, 10]], float),
}


@pytest.mark.parametrize("name", CLUSTERS)
def test_labels_do_not_overlap_and_keep_off_the_markers_and_inside(name):
    anchors = CLUSTERS[name]
    sizes = np.tile([70.0, 22.0], (len(anchors), 1))
    boxes = place(anchors, sizes, BOUNDS, marker_radius=9.0)
    assert boxes.shape == (len(anchors), 4)
    np.testing.assert_allclose(boxes[:, 2:] - boxes[:, :2], sizes)  # placed, never resized
    for i, box in enumerate(boxes):
        assert BOUNDS[0] <= box[0] and box[2] <= BOUNDS[2] and BOUNDS[1] <= box[1] and box[3] <= BOUNDS[3]
        for j, other in enumerate(boxes):
            if j != i:
                assert overlap(box, other) == 0, (name, i, j)
        for a in anchors:  # no label covers a marker (9 px around each point)
            assert overlap(box, (*(a - 9), *(a + 9))) == 0, (name, i, a)
        own = distance(box, anchors[i])
        assert all(own < distance(box, a) for j, a in enumerate(anchors) if j != i), (name, i)  # reads as its own


def test_a_label_keeps_off_an_arrow_where_there_is_room():
    anchor = np.array([[400.0, 300.0]])
    alone = place(anchor, [[80.0, 20.0]], BOUNDS)[0]
    assert alone[0] > 400  # first choice: to the right
    arrow = segment_samples(np.array([[[400.0, 300.0], [600.0, 300.0]], [[400.0, 300.0], [600.0, 420.0]]]))
    box = place(anchor, [[80.0, 20.0]], BOUNDS, obstacles=arrow)[0]
    inside = (arrow[:, 0] >= box[0]) & (arrow[:, 0] <= box[2]) & (arrow[:, 1] >= box[1]) & (arrow[:, 1] <= box[3])
    assert not inside.any() and not np.array_equal(box, alone)


def test_the_same_frame_gives_the_same_boxes():
    anchors, sizes = CLUSTERS["a ring"], np.tile([60.0, 20.0], (6, 1))
    obstacles = segment_samples(np.array([[[300.0, 250.0], [500.0, 350.0]]]))
    first = place(anchors, sizes, BOUNDS, obstacles)
    np.testing.assert_array_equal(place(anchors.copy(), sizes.copy(), BOUNDS, obstacles.copy()), first)


def test_candidates_surround_the_point_at_each_gap():
    boxes = candidates(np.array([100.0, 50.0]), np.array([40.0, 10.0]))
    assert boxes.shape == (len(GAPS) * len(DIRECTIONS), 4)
    np.testing.assert_allclose(boxes[:, 2:] - boxes[:, :2], np.tile([40.0, 10.0], (len(boxes), 1)))
    np.testing.assert_allclose(boxes[0], [110.0, 45.0, 150.0, 55.0])  # right of the point, 10 px away
    gaps = [distance(b, (100.0, 50.0)) for b in boxes[:len(DIRECTIONS)]]
    assert min(gaps) == pytest.approx(GAPS[0]) and max(gaps) == pytest.approx(GAPS[0] * np.sqrt(2))


def test_shift_inside_moves_without_resizing_and_left_and_top_win():
    np.testing.assert_allclose(shift_inside(np.array([780.0, 10.0, 840.0, 30.0]), BOUNDS), [740, 10, 800, 30])
    np.testing.assert_allclose(shift_inside(np.array([-5.0, -8.0, 15.0, 2.0]), BOUNDS), [0, 0, 20, 10])
    wide = shift_inside(np.array([-100.0, 590.0, 900.0, 620.0]), BOUNDS)  # wider than the bounds
    assert wide[0] == 0.0 and wide[2] - wide[0] == 1000.0 and wide[3] == 600.0
    tall = shift_inside(np.array([10.0, -50.0, 20.0, 700.0]), BOUNDS)  # taller: its top edge (y1) stays in
    assert tall[3] == 600.0 and tall[3] - tall[1] == 750.0


def test_segment_samples_and_leaders():
    pts = segment_samples(np.array([[[0.0, 0.0], [60.0, 0.0]]]), spacing=6.0)
    np.testing.assert_allclose(pts[[0, -1]], [[0, 0], [60, 0]])
    assert (np.diff(pts[:, 0]) <= 6.0 * 1.2).all() and (pts[:, 1] == 0).all()  # about every 6 px
    assert len(segment_samples(np.array([[[0.0, 0.0], [1e6, 0.0]]]))) == 200  # capped
    assert segment_samples(np.empty((0, 2, 2))).shape == (0, 2)
    a, b = leader(np.array([0.0, 0.0]), np.array([10.0, -5.0, 30.0, 5.0]))
    np.testing.assert_allclose([a, b], [[0, 0], [10, 0]])  # to the nearest point of the box
    a, b = leader(np.array([15.0, 0.0]), np.array([10.0, -5.0, 30.0, 5.0]))
    np.testing.assert_allclose(b, a)  # inside the box: no line
