"""A steady camera for the animated views: one scale that changes smoothly from frame to frame, and
a centre that moves only when the picture would otherwise leave the view (numpy only).

Each frame asks for a box (the points it must show, in its own 2-D coordinates). The camera gives
every frame a view of one aspect ratio that holds its box, such that

* the width (the scale) moves in each direction at most once over the frames: it zooms in, or out,
  or out then in, or in then out, never back and forth (a scale that rose and fell from step to step
  read as the picture jumping, issue 17);
* consecutive frames' widths differ by at most ``ratio`` (the viewer sees the points move, not the
  axes; the scale bar changes by a step, not by a jump of 100x), and of all such widths these are
  the smallest (each frame as close as the neighbours allow);
* the centre drifts toward the picture's centre, a share of the way each frame, and moves further
  only where the box would otherwise stick out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

MAX_RATIO = 1.2  # consecutive shown frames: widths within this factor (the classroom bound is 1.25)
FOLLOW = 0.35  # the share of the way the camera's centre drifts toward the picture's centre each frame


def smooth_widths(desired: np.ndarray, ratio: float = MAX_RATIO) -> np.ndarray:
    """The smallest widths ``w >= desired`` (N,) with ``1 / ratio <= w[k+1] / w[k] <= ratio``:
    ``w[k] = max_j desired[j] / ratio**|k - j|`` (a forward and a backward pass in log space)."""
    d = np.asarray(desired, np.float64)
    if d.ndim != 1 or not len(d):
        raise ValueError("give the desired widths of at least one frame as a 1-D array")
    if not (np.isfinite(d).all() and (d > 0).all()):
        raise ValueError("every desired width must be finite and positive")
    if not ratio > 1:
        raise ValueError(f"ratio must be above 1, got {ratio}")
    out = d.copy()  # in linear units: equal widths stay exactly equal (no hair-thin moves from log and exp)
    for k in range(1, len(out)):
        out[k] = max(out[k], out[k - 1] / ratio)
    for k in range(len(out) - 2, -1, -1):
        out[k] = max(out[k], out[k + 1] / ratio)
    return out


def hill(desired: np.ndarray) -> np.ndarray:
    """The smallest widths ``>= desired`` (N,) that rise, then fall (either part may be empty):
    ``min(max(desired[:k+1]), max(desired[k:]))``."""
    d = np.asarray(desired, np.float64)
    return np.minimum(np.maximum.accumulate(d), np.maximum.accumulate(d[::-1])[::-1])


def valley(desired: np.ndarray) -> np.ndarray:
    """The widths ``>= desired`` (N,) that fall, then rise, with the least sum of logs: for a lowest
    frame m, ``max(desired[k..m])`` before it and ``max(desired[m..k])`` after it; the first best m."""
    d = np.asarray(desired, np.float64)
    best, out = np.inf, d
    for m in range(len(d)):
        w = np.concatenate([np.maximum.accumulate(d[m::-1])[::-1], np.maximum.accumulate(d[m:])[1:]])
        cost = float(np.log(w).sum())
        if cost < best:
            best, out = cost, w
    return out


def steady_widths(desired: np.ndarray, ratio: float = MAX_RATIO) -> np.ndarray:
    """Widths ``w >= desired`` (N,) with consecutive ones within ``ratio`` that move in each direction
    at most once: the smooth envelope (``smooth_widths``) of the ``hill`` or the ``valley`` over
    ``desired``, whichever is smaller (by the sum of logs; the hill on a tie). Smoothing keeps either
    shape: every width is the largest of cones ``desired[j] / ratio**|k - j|`` centred on a rise or a fall."""
    d = np.asarray(desired, np.float64)
    if d.ndim != 1 or not len(d):
        raise ValueError("give the desired widths of at least one frame as a 1-D array")
    if not (np.isfinite(d).all() and (d > 0).all()):
        raise ValueError("every desired width must be finite and positive")
    up_down, down_up = smooth_widths(hill(d), ratio), smooth_widths(valley(d), ratio)
    return down_up if np.log(down_up).sum() < np.log(up_down).sum() else up_down


def lazy_centres(lo: np.ndarray, hi: np.ndarray, spans: np.ndarray, follow: float = FOLLOW) -> np.ndarray:
    """Centres (N,) along one axis: frame k's view ``[c - spans[k]/2, c + spans[k]/2]`` holds
    ``[lo[k], hi[k]]``. The centre starts on frame 0's box, then drifts a share ``follow`` of the way
    toward each frame's box centre, and moves further only as far as the box needs."""
    lo, hi, spans = (np.asarray(a, np.float64) for a in (lo, hi, spans))
    out = np.empty(len(lo))
    c = (lo[0] + hi[0]) / 2
    for k in range(len(lo)):
        a, b = hi[k] - spans[k] / 2, lo[k] + spans[k] / 2  # the centres that hold the box
        mid = (lo[k] + hi[k]) / 2
        c = mid if a > b else min(max(c + follow * (mid - c), a), b)
        out[k] = c
    return out


@dataclass(frozen=True)
class Shot:
    """One frame's view: ``xlim`` and ``ylim`` (equal units on both axes for the box's aspect)."""

    xlim: tuple[float, float]
    ylim: tuple[float, float]

    @property
    def width(self) -> float:
        """The data width of the view (its scale)."""
        return self.xlim[1] - self.xlim[0]


def plan_shots(boxes: np.ndarray, aspect: float, margin: tuple[float, float] = (0.1, 0.1),
               ratio: float = MAX_RATIO) -> list[Shot]:
    """A steady camera over frames: ``boxes`` (N, 2, 2) holds each frame's ``[[xmin, ymin], [xmax, ymax]]``,
    ``aspect`` the view's width / height, ``margin`` the share of the view's width and height kept free
    on each side (room for labels and images beside the points)."""
    b = np.asarray(boxes, np.float64).reshape(-1, 2, 2)
    if not len(b):
        raise ValueError("no frames to plan")
    mx, my = margin
    if not (0 <= mx < 0.5 and 0 <= my < 0.5):
        raise ValueError(f"margins must be in [0, 0.5), got {margin}")
    span = b[:, 1] - b[:, 0]  # (N, 2)
    scale = np.maximum(np.abs(b).reshape(len(b), -1).max(1), 1.0)
    need_w = np.maximum(span[:, 0] / (1 - 2 * mx), aspect * span[:, 1] / (1 - 2 * my))
    need_w = np.maximum(need_w, 1e-9 * scale)  # a frame whose points coincide still gets a view
    widths = steady_widths(need_w, ratio)
    heights = widths / aspect
    cx = lazy_centres(b[:, 0, 0], b[:, 1, 0], widths * (1 - 2 * mx))
    cy = lazy_centres(b[:, 0, 1], b[:, 1, 1], heights * (1 - 2 * my))
    return [Shot((float(x - w / 2), float(x + w / 2)), (float(y - h / 2), float(y + h / 2)))
            for x, y, w, h in zip(cx, cy, widths, heights)]


def shared_shots(boxes: Sequence[np.ndarray], px: Sequence[tuple[float, float]], margin: tuple[float, float] = (0.1, 0.1),
                 ratio: float = MAX_RATIO) -> list[list[Shot]]:
    """One camera for several views of the same frames (the side-by-side page's two panels): every
    view gets the same scale (data units per pixel) and the same centre at each frame, planned over
    the union of their boxes, so equal lengths are equally long in every view.

    ``boxes[i]`` (N, 2, 2) holds view ``i``'s frame boxes (as ``plan_shots``); ``px[i]`` its main
    area's (width, height) in pixels. The camera is planned in the first view's shape; a view of
    another size sees the same units per pixel around the same centre."""
    if not len(boxes) or len(boxes) != len(px):
        raise ValueError("give each view's boxes and its size in pixels")
    b = [np.asarray(v, np.float64).reshape(-1, 2, 2) for v in boxes]
    if len({len(v) for v in b}) != 1:
        raise ValueError(f"the views have different numbers of frames: {[len(v) for v in b]}")
    stacked = np.stack(b)  # (V, N, 2, 2)
    union = np.stack([stacked[:, :, 0].min(0), stacked[:, :, 1].max(0)], 1)  # (N, 2, 2)
    w0, h0 = px[0]
    # each frame's centre and data units per pixel, then each view's shot of its own size around them
    frames = [((s.xlim[0] + s.xlim[1]) / 2, (s.ylim[0] + s.ylim[1]) / 2, s.width / w0)
              for s in plan_shots(union, w0 / h0, margin, ratio)]
    return [[Shot((cx - u * w / 2, cx + u * w / 2), (cy - u * h / 2, cy + u * h / 2)) for cx, cy, u in frames]
            for w, h in px]


def max_gap(indices) -> int:
    """The largest jump between consecutive frame indices (1 for every frame)."""
    idx = np.asarray(list(indices), np.int64)
    return int(np.diff(idx).max()) if len(idx) > 1 else 1


__all__ = ["MAX_RATIO", "Shot", "hill", "lazy_centres", "max_gap", "plan_shots", "shared_shots", "smooth_widths",
           "steady_widths", "valley"]
