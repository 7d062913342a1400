"""Small pictures drawn at a pixel position: labels rasterized once and reused, and the 8x8 images
beside the points, enlarged with numpy. Drawing one is a single image blit.

Agg re-renders every glyph of a text each time it is drawn (about 2 ms for a label of a few
characters at projector sizes, more with mathtext), and an 8x8 ``imshow`` is resampled through the
axes' transform each frame (about 3 ms). A view redraws a dozen labels and five images per frame,
so both become sprites: a label is rendered once per (text, size, colour) and kept in a shared
cache; an image is enlarged by repeating its pixels (nearest neighbour, as ``interpolation="nearest"``).

A sprite is placed in display pixels of the figure it belongs to (the figure's own dpi): a figure
holding sprites is meant to be drawn at that dpi (its frames, or ``savefig`` with the default dpi).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Optional

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.transforms import IdentityTransform

from viz.style import DPI

_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 4096
_LOCK = threading.Lock()
PAD = 2  # px of transparent margin around a rendered text


def text_pixels(text: str, size: float, color: str = "#111111", weight: str = "normal", dpi: int = DPI) -> np.ndarray:
    """RGBA uint8 pixels (H, W, 4) of ``text`` (mathtext allowed) at ``size`` points and ``dpi``, on a
    transparent ground, rendered once and cached (the same text, size and colour give the same array)."""
    key = (text, float(size), color, weight, int(dpi))
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    fig = Figure(figsize=(1, 1), dpi=dpi, facecolor="none")
    canvas = FigureCanvasAgg(fig)
    t = fig.text(PAD, PAD, text, fontsize=size, color=color, weight=weight, ha="left", va="bottom",
                 transform=IdentityTransform())
    box = t.get_window_extent(canvas.get_renderer())
    w, h = int(np.ceil(box.width)) + 2 * PAD, int(np.ceil(box.height)) + 2 * PAD
    fig.set_size_inches(max(w, 1) / dpi, max(h, 1) / dpi)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[:h, :w].copy()
    with _LOCK:
        _CACHE[key] = pixels
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return pixels


def image_pixels(values: np.ndarray, shape: tuple[int, int], scale: int, border: Optional[str] = None,
                 border_px: int = 3) -> np.ndarray:
    """RGBA uint8 pixels of an image (values in [-1, 1], -1 white paper, 1 black ink, as ``gray_r``;
    clipped beyond), each pixel ``scale`` x ``scale``, framed ``border_px`` wide in ``border``."""
    v = np.clip(np.asarray(values, np.float64).reshape(shape), -1.0, 1.0)
    ink = np.round(255 * (1 - v) / 2).astype(np.uint8)
    big = np.repeat(np.repeat(ink, scale, axis=0), scale, axis=1)
    h, w = big.shape
    b = border_px if border is not None else 0
    out = np.empty((h + 2 * b, w + 2 * b, 4), np.uint8)
    if b:
        out[..., :3] = np.round(255 * np.array(to_rgb(border))).astype(np.uint8)
    out[..., 3] = 255
    out[b:b + h, b:b + w, :3] = big[..., None]
    return out


class Sprite(Artist):
    """An RGBA picture drawn at a pixel position (its lower-left corner, display px), unclipped."""

    def __init__(self, pixels: Optional[np.ndarray] = None, zorder: float = 6, gid: Optional[str] = None) -> None:
        super().__init__()
        self.pixels = pixels
        self.xy = (0.0, 0.0)
        self.set_zorder(zorder)
        self.set_gid(gid)

    @property
    def size(self) -> tuple[int, int]:
        """Width and height in px (0, 0 without pixels)."""
        return (0, 0) if self.pixels is None else (int(self.pixels.shape[1]), int(self.pixels.shape[0]))

    def set_pixels(self, pixels: Optional[np.ndarray]) -> None:
        """Show ``pixels`` (H, W, 4) uint8 from now on."""
        self.pixels = pixels
        self.stale = True

    def place(self, x: float, y: float, ha: str = "left", va: str = "bottom") -> None:
        """Put the sprite's ``ha``/``va`` corner or centre at display px (x, y), on whole pixels."""
        w, h = self.size
        x -= {"left": 0.0, "center": w / 2, "right": float(w)}[ha]
        y -= {"bottom": 0.0, "center": h / 2, "top": float(h)}[va]
        self.xy = (float(np.round(x)), float(np.round(y)))
        self.stale = True

    def box(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) in display px."""
        w, h = self.size
        return self.xy[0], self.xy[1], self.xy[0] + w, self.xy[1] + h

    def draw(self, renderer) -> None:
        """Blit the pixels (a matplotlib ``Artist`` hook)."""
        if not self.get_visible() or self.pixels is None or not self.pixels.size:
            return
        gc = renderer.new_gc()
        gc.set_alpha(1.0)
        renderer.draw_image(gc, self.xy[0], self.xy[1], self.pixels[::-1])  # Agg's rows run bottom-up
        gc.restore()
        self.stale = False


class TextSprite(Sprite):
    """A text drawn as a cached picture (``text_pixels``): ``set_text`` then ``place``."""

    def __init__(self, size: float, color: str = "#111111", weight: str = "normal", zorder: float = 6,
                 gid: Optional[str] = None, dpi: int = DPI) -> None:
        super().__init__(None, zorder, gid)
        self.text, self.font = "", (size, color, weight, dpi)

    def set_text(self, text: str) -> None:
        """Show ``text`` (rendered once per text, size and colour)."""
        if text != self.text:
            self.text = text
            size, color, weight, dpi = self.font
            self.set_pixels(text_pixels(text, size, color, weight, dpi) if text else None)

    def get_text(self) -> str:
        """The text shown."""
        return self.text


__all__ = ["Sprite", "TextSprite", "image_pixels", "text_pixels"]
