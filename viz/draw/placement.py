"""Where to put a label (or a small image with its label) beside its point: a greedy search over a
few positions around each point, in display pixels, that keeps clear of the other labels, the
markers, the arrows and the edges of the axes (numpy only, well under a millisecond a frame).

The choice depends only on the frame's geometry (never on the frame drawn before), so the same
frame always looks the same, whichever order frames are drawn in.
"""

from __future__ import annotations

import numpy as np

# Directions tried around a point, in order of preference (right, up-right, up, ... , then the eight
# between them); ties go to the first.
DIRECTIONS = np.array([(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1),
                       (1, 0.5), (0.5, 1), (-0.5, 1), (-1, 0.5), (-1, -0.5), (-0.5, -1), (0.5, -1), (1, -0.5)], np.float64)
GAPS = (10.0, 34.0, 58.0, 82.0, 120.0, 160.0)  # px between a point and the nearest edge of its label
NEAR = 4  # the first NEAR gaps are beside the point; the farther ones are for crowded frames (with a leader line)
#: what a candidate spot costs: the share of its area over a label (or image) placed before it, over
#: a marker (of the marker's square), each sample of an arrow under it, each px from its point, lying
#: at a far gap, and lying nearer another point than its own. A label under another is never worth a
#: clear spot: the first weighs more than every other cost together can.
COST = {"overlap": 400.0, "marker": 12.0, "arrow": 0.3, "distance": 0.02, "far": 6.0, "nearer": 4.0}


def segment_samples(segments: np.ndarray, spacing: float = 6.0) -> np.ndarray:
    """Points (P, 2) every ``spacing`` px along segments (L, 2, 2) given in px."""
    segs = np.asarray(segments, np.float64).reshape(-1, 2, 2)
    out = []
    for a, b in segs:
        n = int(min(200, max(2, np.linalg.norm(b - a) / spacing)))
        t = np.linspace(0.0, 1.0, n)[:, None]
        out.append(a + t * (b - a))
    return np.concatenate(out) if out else np.empty((0, 2))


def _overlap(boxes: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Overlap areas (C,) of candidate boxes (C, 4: x0, y0, x1, y1) with a box list (M, 4), summed."""
    if not len(other):
        return np.zeros(len(boxes))
    w = np.minimum(boxes[:, None, 2], other[None, :, 2]) - np.maximum(boxes[:, None, 0], other[None, :, 0])
    h = np.minimum(boxes[:, None, 3], other[None, :, 3]) - np.maximum(boxes[:, None, 1], other[None, :, 1])
    return (np.clip(w, 0, None) * np.clip(h, 0, None)).sum(1)


def candidates(anchor: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Boxes (C, 4) of ``size`` (w, h) around ``anchor``: each direction at each gap."""
    w, h = size
    out = []
    for gap in GAPS:
        for dx, dy in DIRECTIONS:
            cx = anchor[0] + dx * (w / 2 + gap)
            cy = anchor[1] + dy * (h / 2 + gap)
            out.append((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    return np.array(out)


def place(anchors: np.ndarray, sizes: np.ndarray, bounds: tuple[float, float, float, float],
          obstacles: np.ndarray = np.empty((0, 2)), marker_radius: float = 9.0) -> np.ndarray:
    """Boxes (N, 4: x0, y0, x1, y1) in px for labels of ``sizes`` (N, 2) beside ``anchors`` (N, 2),
    placed one after the other (earlier ones first choice) inside ``bounds`` (x0, y0, x1, y1),
    clear of each other, of every anchor (a marker of ``marker_radius``) and of the ``obstacles``
    (P, 2: points sampled along the arrows, ``segment_samples``) where they can be (``COST``). Each
    spot is judged where it will be drawn: moved inside the bounds first (``shift_inside``)."""
    anchors = np.asarray(anchors, np.float64).reshape(-1, 2)
    sizes = np.asarray(sizes, np.float64).reshape(-1, 2)
    obstacles = np.asarray(obstacles, np.float64).reshape(-1, 2)
    r = marker_radius
    markers = np.concatenate([anchors - r, anchors + r], axis=1)  # (N, 4)
    placed = np.empty((0, 4))
    out = np.empty((len(anchors), 4))
    for i, (anchor, size) in enumerate(zip(anchors, sizes)):
        boxes = _shift_all_inside(candidates(anchor, size), bounds)
        area = max(size[0] * size[1], 1.0)
        own = _box_distance(boxes, anchor)
        cost = (COST["overlap"] * _overlap(boxes, placed) / area + COST["marker"] * _overlap(boxes, markers) / (4 * r * r)
                + COST["distance"] * own + COST["far"] * (np.arange(len(boxes)) >= NEAR * len(DIRECTIONS)))
        if len(obstacles):
            hits = ((obstacles[None, :, 0] > boxes[:, None, 0] - 2) & (obstacles[None, :, 0] < boxes[:, None, 2] + 2) &
                    (obstacles[None, :, 1] > boxes[:, None, 1] - 2) & (obstacles[None, :, 1] < boxes[:, None, 3] + 2))
            cost = cost + COST["arrow"] * hits.sum(1)
        if len(anchors) > 1:  # a label nearer another point than its own reads as that point's
            other = np.min([_box_distance(boxes, a) for j, a in enumerate(anchors) if j != i], axis=0)
            cost = cost + COST["nearer"] * np.clip((own - other + 8.0) / 16.0, 0.0, 1.0)
        best = boxes[int(np.argmin(cost))]
        out[i] = best
        placed = np.concatenate([placed, best[None]])
    return out


def shift_inside(box: np.ndarray, bounds: tuple[float, float, float, float]) -> np.ndarray:
    """``box`` (x0, y0, x1, y1) moved, not resized, to lie inside ``bounds`` (its left and top edges
    win where it is larger than they are)."""
    x0, y0, x1, y1 = box
    bx0, by0, bx1, by1 = bounds
    dx = bx1 - x1 if x1 > bx1 else 0.0
    dx = bx0 - x0 if x0 + dx < bx0 else dx
    dy = by0 - y0 if y0 < by0 else 0.0
    dy = by1 - y1 if y1 + dy > by1 else dy
    return np.array([x0 + dx, y0 + dy, x1 + dx, y1 + dy])


def _shift_all_inside(boxes: np.ndarray, bounds: tuple[float, float, float, float]) -> np.ndarray:
    """``shift_inside`` of each box (C, 4) at once."""
    x0, y0, x1, y1 = boxes.T
    bx0, by0, bx1, by1 = bounds
    dx = np.where(x1 > bx1, bx1 - x1, 0.0)
    dx = np.where(x0 + dx < bx0, bx0 - x0, dx)
    dy = np.where(y0 < by0, by0 - y0, 0.0)
    dy = np.where(y1 + dy > by1, by1 - y1, dy)
    return np.stack([x0 + dx, y0 + dy, x1 + dx, y1 + dy], 1)


def _box_distance(boxes: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Distance (C,) from point ``p`` to each box (C, 4)."""
    dx = np.maximum(np.maximum(boxes[:, 0] - p[0], 0.0), p[0] - boxes[:, 2])
    dy = np.maximum(np.maximum(boxes[:, 1] - p[1], 0.0), p[1] - boxes[:, 3])
    return np.hypot(dx, dy)


def leader(anchor: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A short line from ``anchor`` to the nearest point of ``box`` (x0, y0, x1, y1), both in px."""
    a = np.asarray(anchor, np.float64)
    near = np.array([np.clip(a[0], box[0], box[2]), np.clip(a[1], box[1], box[3])])
    return a, near


__all__ = ["COST", "DIRECTIONS", "GAPS", "NEAR", "candidates", "leader", "place", "segment_samples", "shift_inside"]
