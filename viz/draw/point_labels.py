"""Each point of a construction labelled where it is, and on digits its 8x8 image beside it, as in the
post ("different positions correspond to different images"): x_t, the predictions and x_{t-1}
show what they look like, frame by frame.

The artists are made once (one small image, a frame, a label and a leader line per point) and moved
every frame (``set_data`` / ``set_extent``); ``viz.draw.placement`` finds a free spot beside each point.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from viz.draw.placement import leader, place
from viz.draw.sprites import Sprite, TextSprite, image_pixels
from viz.draw.style import text_pt

SCALE = 7  # px per image pixel: an 8x8 image is 56 px, framed 62 px (CSS px at the figure's display width)
BORDER = 3
LABEL_GAP = 2  # px between an image and its label


class PointLabels:
    """Labels for the points ``names`` of the axes ``ax`` (their colours ``colors``); the points in
    ``with_images`` also get an image of ``image_shape`` (None: labels only). Labels and images are
    sprites (``viz.draw.sprites``): a frame blits them instead of rendering glyphs and resampling."""

    def __init__(self, ax: Axes, names: Sequence[str], colors: Mapping[str, str],
                 image_shape: Optional[tuple[int, int]] = None, with_images: Sequence[str] = ()) -> None:
        self.ax, self.names = ax, list(names)
        self.image_shape = image_shape
        self.colors = dict(colors)
        ax.set_autoscale_on(False)
        self.texts, self.images, self.leaders = {}, {}, {}
        for name in self.names:
            self.texts[name] = ax.add_artist(TextSprite(text_pt("label"), zorder=6, gid=f"label:{name}"))
            self.leaders[name] = ax.add_line(Line2D([], [], color=self.colors[name], lw=1.2, alpha=0.8, zorder=3.6,
                                                   solid_capstyle="round"))
            if image_shape is not None and name in with_images:
                self.images[name] = ax.add_artist(Sprite(zorder=5, gid=f"image:{name}"))
        self.boxes: dict[str, np.ndarray] = {}  # each shown label's box (px): x0, y0, x1, y1

    def update(self, points: Mapping[str, np.ndarray], texts: Mapping[str, str],
               images: Optional[Mapping[str, np.ndarray]] = None, obstacles: np.ndarray = np.empty((0, 2)),
               others: np.ndarray = np.empty((0, 2))) -> None:
        """Label the points ``points`` (name -> 2-D data position; the rest are hidden) with ``texts``,
        and show ``images`` (name -> (D,) pixels) beside them. ``obstacles`` are px points along the
        arrows and ``others`` px positions of unlabelled markers, both kept clear. Call after the axes
        limits of the frame are set."""
        images = images or {}
        shown = [n for n in self.names if n in points]
        anchors = self.ax.transData.transform(np.stack([points[n] for n in shown])) if shown else np.empty((0, 2))
        sizes = []
        for name in shown:
            text = self.texts[name]
            text.set_text(texts[name])
            w, h = text.size
            if name in self.images and name in images:
                pic = image_pixels(images[name], self.image_shape, SCALE, self.colors[name], BORDER)
                self.images[name].set_pixels(pic)
                w, h = max(w, pic.shape[1]), pic.shape[0] + LABEL_GAP + h
            sizes.append((w, h))
        x0, y0, x1, y1 = self.ax.bbox.extents
        boxes = np.empty((0, 4))
        if shown:
            every = np.concatenate([anchors, others]) if len(others) else anchors
            every_size = np.concatenate([sizes, np.zeros((len(others), 2))]) if len(others) else np.array(sizes)
            boxes = place(every, every_size, (x0 + 2, y0 + 2, x1 - 2, y1 - 2), obstacles)[:len(shown)]
        back = self.ax.transData.inverted().transform
        self.boxes = {}
        for name in self.names:
            on = name in points
            self.texts[name].set_visible(on)
            self.leaders[name].set_visible(on)
            if name in self.images:
                self.images[name].set_visible(on and name in images)
        for i, name in enumerate(shown):
            box = boxes[i]
            self.boxes[name] = box
            cx = (box[0] + box[2]) / 2
            if name in self.images and name in images:
                # the image on the side of the box nearest its point (a long label must not push it away)
                x, ha = (box[2], "right") if box[2] <= anchors[i][0] else (box[0], "left") if box[0] >= anchors[i][0] \
                    else (cx, "center")
                self.images[name].place(x, box[3], ha=ha, va="top")
                self.texts[name].place(x, box[3] - self.images[name].size[1] - LABEL_GAP, ha=ha, va="top")
            else:
                self.texts[name].place(cx, (box[1] + box[3]) / 2, ha="center", va="center")
            a, b = leader(anchors[i], box)
            if np.linalg.norm(b - a) > 16:
                (ax_, ay_), (bx_, by_) = back([a, b])
                self.leaders[name].set_data([ax_, bx_], [ay_, by_])
            else:  # no leader: hidden, so a frame does not draw an empty line
                self.leaders[name].set_data([], [])
                self.leaders[name].set_visible(False)


__all__ = ["PointLabels"]
