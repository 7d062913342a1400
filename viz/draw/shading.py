"""The 2-D mixture's noisy density under a view, coloured by class: each spot takes the colour of the
class with most mass there (``viz.draw.style.class_color``), in three bands of density; the guided class
darker, the others paler, so one sees whether a path heads for the class asked for.

``p_t(x) = sum_k w_k N(x; a mu_k, (a^2 r_k^2 + s^2) I)`` with ``a = sqrt(abar)``, ``s = sqrt(1 - abar)``
(VP form, arXiv 2006.11239); abar = 1 is the data. Any other Gaussian path (the flow path's
``a = 1 - sigma``, ``s = sigma``) passes its ``scales = (a, s)``.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb

from models.engine.data import GaussianMixture2D
from viz.draw.sprites import Sprite
from viz.draw.style import class_color

Limits = tuple[tuple[float, float], tuple[float, float]]


def class_densities(gmm: GaussianMixture2D, xx: np.ndarray, yy: np.ndarray, abar: float = 1.0,
                    scales: Optional[tuple[float, float]] = None) -> np.ndarray:
    """The noisy density of each class (C, *xx.shape) at noise level ``abar`` (VP) or at the path's
    ``scales = (a, s)``: its components' sum."""
    a2, s2 = (abar, 1.0 - abar) if scales is None else (scales[0] ** 2, scales[1] ** 2)
    var = a2 * gmm.stds**2 + s2  # (K,)
    mu = (np.sqrt(a2) if scales is None else scales[0]) * gmm.means  # (K, 2)
    out = np.zeros((gmm.num_classes, *xx.shape))
    for k in range(len(gmm.weights)):
        d2 = (xx - mu[k, 0]) ** 2 + (yy - mu[k, 1]) ** 2
        out[gmm.comp_class[k]] += gmm.weights[k] * np.exp(-d2 / (2 * var[k])) / (2 * np.pi * var[k])
    return out


#: shading bands: where p_t / its peak passes each threshold, the class's colour mixed with white
#: (weights of white: the class asked for darker, the others paler). These exact colours are in the GIF
#: palette (``viz.gif``), so the page and the GIF show the same bands.
SHADE_THRESHOLDS = (0.08, 0.3, 0.6)
SHADE_WHITE = {True: (0.75, 0.6, 0.45), False: (0.9, 0.82, 0.75)}


def shade_color(c: int, level: int, guided: bool) -> np.ndarray:
    """RGB uint8 of band ``level`` (0, 1, 2) of class ``c`` (the guided class darker)."""
    w = SHADE_WHITE[guided][level]
    rgb = np.array(to_rgb(class_color(c))) * 255.0
    return np.round(rgb + w * (255.0 - rgb)).astype(np.uint8)


def class_rgba(dens: np.ndarray, peak: float, highlight: Optional[int]) -> np.ndarray:
    """RGBA uint8 pixels (*grid, 4) of class densities ``dens`` (C, *grid): each pixel in the colour of
    the class with most mass there, in one of three bands by its density (opaque; transparent where
    the density is below the first band); the ``highlight`` class darker, the others paler."""
    total = dens.sum(0) / peak
    level = np.searchsorted(np.asarray(SHADE_THRESHOLDS), total, side="right") - 1  # -1: no band
    top = dens.argmax(0)
    out = np.zeros((*total.shape, 4), np.uint8)
    for c in range(len(dens)):
        guided = highlight is None or c == highlight
        for lv in range(len(SHADE_THRESHOLDS)):
            at = (top == c) & (level == lv)
            out[at, :3] = shade_color(c, lv, guided)
            out[at, 3] = 255
    return out


class ClassDensity:
    """The shading under a zooming view, redrawn for each frame's limits and noise level: computed
    on a grid of ``block`` x ``block`` px cells over the axes and blitted as one sprite (an
    ``imshow`` resampled through the axes' transform cost 30 ms a frame at projector sizes)."""

    def __init__(self, ax: Axes, gmm: GaussianMixture2D, highlight: Optional[int] = None, block: int = 3) -> None:
        self.ax, self.gmm, self.highlight, self.block = ax, gmm, highlight, block
        self.sprite = ax.add_artist(Sprite(zorder=0, gid="density"))

    def update(self, limits: Limits, abar: float, scales: Optional[tuple[float, float]] = None) -> None:
        """Shade ``p_t`` over ``limits`` at noise level ``abar`` (VP), or at the path's ``scales = (a, s)``."""
        (x0, x1), (y0, y1) = limits
        bx0, by0, bx1, by1 = self.ax.bbox.extents
        w, h = int(round(bx1 - bx0)), int(round(by1 - by0))
        nx, ny = -(-w // self.block), -(-h // self.block)
        xs = x0 + (np.arange(nx) + 0.5) * self.block / w * (x1 - x0)
        ys = y1 - (np.arange(ny) + 0.5) * self.block / h * (y1 - y0)  # rows from the top
        xx, yy = np.meshgrid(xs, ys)
        a = np.sqrt(abar) if scales is None else scales[0]
        mx, my = self.gmm.means[:, 0] * a, self.gmm.means[:, 1] * a
        peak = class_densities(self.gmm, mx, my, abar, scales).sum(0).max()
        rgba = class_rgba(class_densities(self.gmm, xx, yy, abar, scales), peak, self.highlight)
        self.sprite.set_pixels(np.repeat(np.repeat(rgba, self.block, axis=0), self.block, axis=1)[:h, :w])
        self.sprite.place(bx0, by0)


def class_cloud(ax: Axes, points: np.ndarray, labels: Optional[np.ndarray], highlight: Optional[int] = None,
                zorder: float = 0) -> None:
    """The data set's points (N, 2) under a view, each in its class's colour; the ``highlight``
    class (the one guided toward) larger and opaque, the others small and faint. Without labels: grey."""
    p = np.asarray(points, np.float64).reshape(-1, 2)
    if labels is None:
        ax.scatter(p[:, 0], p[:, 1], s=5, c="#BBBBBB", lw=0, zorder=zorder)
        return
    labels = np.asarray(labels)
    colors = np.array([to_rgb(class_color(int(c))) for c in labels])
    if highlight is None:
        ax.scatter(p[:, 0], p[:, 1], s=6, c=colors, alpha=0.45, lw=0, zorder=zorder)
        return
    mine = labels == highlight
    ax.scatter(p[~mine, 0], p[~mine, 1], s=5, c=colors[~mine], alpha=0.25, lw=0, zorder=zorder)
    ax.scatter(p[mine, 0], p[mine, 1], s=12, c=colors[mine], alpha=0.85, lw=0, zorder=zorder + 0.01)


__all__ = ["ClassDensity", "class_cloud", "class_densities", "class_rgba"]
