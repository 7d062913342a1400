"""What a construction view shows, read off its artists: shared by the figure tests."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import FancyArrowPatch


def arrows(view) -> dict:
    """gid -> FancyArrowPatch of the main axes (separate solid heads left out)."""
    return {p.get_gid(): p for p in view.ax.patches if isinstance(p, FancyArrowPatch) and ":" not in str(p.get_gid())}


def drawn(view, name: str) -> np.ndarray:
    """The 2-D position of the marker of point ``name`` in the main axes."""
    x, y = view.points[name].get_data()
    return np.array([x[0], y[0]], np.float64)


def key_labels(view) -> list[str]:
    """Every label the view's key can show (``viz.draw.key.FrameKey``)."""
    return view.key.labels()


def point_texts(view) -> list[str]:
    """The labels written beside the points of the current frame."""
    return [t.get_text() for t in view.labels.texts.values() if t.get_visible()]
