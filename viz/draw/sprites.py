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
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.cbook import is_math_text
from matplotlib.colors import to_rgb
from matplotlib.font_manager import FontProperties
from matplotlib.transforms import Bbox

from viz.draw.style import DPI

_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 2048  # labels, words and multi-line notes (a few kB each)
_LOCK = threading.RLock()
PAD = 2  # px of transparent margin around a rendered text


_RENDERERS: dict = {}


def _renderer(dpi: int, big: bool = False) -> RendererAgg:
    """An offscreen Agg renderer per dpi (a small one for words, a big one for long lines), reused
    for every label: cheaper than a Figure per label, and clearing a small one is cheap."""
    key = (dpi, big)
    if key not in _RENDERERS:
        _RENDERERS[key] = RendererAgg(2400, 240, dpi) if big else RendererAgg(480, 90, dpi)
    return _RENDERERS[key]


def text_pixels(text: str, size: float, color: str = "#111111", weight: str = "normal", dpi: int = DPI) -> np.ndarray:
    """RGBA uint8 pixels (H, W, 4) of ``text`` (mathtext allowed) at ``size`` points and ``dpi``, on a
    transparent ground, rendered once and cached (the same text, size and colour give the same array).
    Every single-line label is as high as matplotlib lays out a line ("lp" at least), so labels of one
    size share a baseline."""
    key = (text, float(size), color, weight, int(dpi))
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
        lines = text.split("\n")
        if len(lines) > 1:
            parts = [text_pixels(line, size, color, weight, dpi) for line in lines]
        else:
            parts = None
        pixels = None
    if parts is None and " " in text.strip() and not is_math_text(text):
        return _compose_words(text, size, color, weight, dpi)  # not cached: its words are
    if parts is not None:
        w = max(p.shape[1] for p in parts)
        pixels = np.zeros((sum(p.shape[0] for p in parts), w, 4), np.uint8)
        y = 0
        for p in parts:
            pixels[y:y + p.shape[0], :p.shape[1]] = p
            y += p.shape[0]
    if parts is None and pixels is None:
        pixels = _render_line(text, size, color, weight, dpi)
    with _LOCK:
        _CACHE[key] = pixels
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return pixels


_SPACES: dict = {}


def _compose_words(text: str, size: float, color: str, weight: str, dpi: int) -> np.ndarray:
    """A plain line laid out from its words, each rendered once and cached: a frame's title
    ("step 13/25 · t = 519 · γ = 3") then renders only its new numbers, not every glyph again."""
    key = (float(size), weight, int(dpi))
    if key not in _SPACES:
        r = _renderer(dpi)
        prop = FontProperties(size=size, weight=weight)
        with _LOCK:
            _SPACES[key] = r.get_text_width_height_descent("a a", prop, False)[0] - \
                r.get_text_width_height_descent("aa", prop, False)[0]
    space = _SPACES[key]
    words = text.split(" ")
    tiles = [text_pixels(w, size, color, weight, dpi) if w else None for w in words]
    height = max(t.shape[0] for t in tiles if t is not None)
    x, spots = 0.0, []
    for i, t in enumerate(tiles):
        if t is not None:
            spots.append((int(round(x)), t))
            x += t.shape[1] - 2 * PAD
        if i < len(tiles) - 1:
            x += space
    width = max(sx + t.shape[1] for sx, t in spots)
    out = np.zeros((height, width, 4), np.uint8)
    for sx, t in spots:
        region = out[height - t.shape[0]:, sx:sx + t.shape[1]]
        np.maximum(region, t, out=region)  # words overlap only in their transparent margins
    return out


def _render_line(text: str, size: float, color: str, weight: str, dpi: int) -> np.ndarray:
    """One line of text drawn by Agg on a transparent ground, cropped to its layout box plus ``PAD``."""
    r = _renderer(dpi)
    prop = FontProperties(size=size, weight=weight)
    ismath = is_math_text(text)
    with _LOCK:
        w, h, d = r.get_text_width_height_descent(text, prop, ismath)
        if w + 2 * PAD + 2 > r.width or h + 2 * PAD + 2 > r.height:
            r = _renderer(dpi, big=True)
        _, lh, ld = r.get_text_width_height_descent("lp", prop, False)
        h, d = max(h - d, lh - ld) + max(d, ld), max(d, ld)  # as Text lays a line out: at least as high and deep as "lp"
        W, H = int(np.ceil(w)) + 2 * PAD, int(np.ceil(h)) + 2 * PAD
        if W > r.width or H > r.height:
            raise ValueError(f"label too large to draw as a sprite: {text!r}")
        r.clear()
        gc = r.new_gc()
        gc.set_foreground(color)
        gc.set_antialiased(True)
        r.draw_text(gc, PAD, r.height - PAD - d, text, prop, 0.0, ismath)
        gc.restore()
        return np.asarray(r.buffer_rgba())[r.height - H:, :W].copy()


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

    def get_window_extent(self, renderer=None) -> Bbox:
        """What the sprite covers where it was last placed, in display px (a matplotlib ``Artist`` hook):
        its pixels that are not transparent (a text's ink, not its margin); an empty box without any."""
        if self.pixels is None or not self.pixels.size:
            return Bbox.null()
        ink = self.pixels[..., 3] > 0
        rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
        if not len(rows):
            return Bbox.null()
        x, y = self.xy
        h = self.pixels.shape[0]  # row 0 is the top row
        return Bbox([[x + cols[0], y + h - 1 - rows[-1]], [x + cols[-1] + 1, y + h - rows[0]]])

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
