"""Frames to GIF bytes, deterministically: same frames, same bytes.

Two palettes:

* ``"figure"`` (the diagrams): one fixed palette of 256 colours made from the figures' own colours
  (``viz.draw.style``), their blends with white (antialiased edges, pale bands, shading), a grey ramp that
  holds every ink level of the 8x8 digits, and a coarse colour cube for the rest. Each pixel is
  mapped through a 32x32x32 lookup table built once, in a few milliseconds a frame: the named
  colours come out exact, and the same colour has the same index in every frame.
* ``"adaptive"`` (photographs): each frame gets its own fast-octree palette of ``MAX_COLORS``
  colours without dithering (PIL's quantizer is deterministic).
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Callable, Iterable, Iterator, Optional

import numpy as np
from matplotlib.colors import to_rgb
from PIL import Image

from viz.draw.style import CLASS_COLORS, COLORS

MAX_COLORS = 128
PALETTES = ("figure", "adaptive")
_BITS = 5  # lookup-table resolution per channel
_ON_FRAME: ContextVar[Optional[Callable[[], None]]] = ContextVar("on_frame", default=None)


@contextmanager
def on_frame(callback: Callable[[], None]) -> Iterator[None]:
    """Call ``callback()`` after every frame ``encode_gif`` takes in inside the ``with`` block (the
    command lines' progress bars). A context variable: another thread (an app session) is not affected."""
    token = _ON_FRAME.set(callback)
    try:
        yield
    finally:
        _ON_FRAME.reset(token)


def _counted(frames: Iterable[np.ndarray], callback: Callable[[], None]) -> Iterator[np.ndarray]:
    """``frames``, calling ``callback()`` once each has been used (when the next one is asked for)."""
    for frame in frames:
        yield frame
        callback()


@lru_cache(maxsize=1)
def _named() -> frozenset:
    """The figures' named colours as RGB tuples (they keep their exact value in the GIF)."""
    return frozenset(tuple(float(v) for v in np.round(255 * np.array(to_rgb(c)))) for c in (*COLORS.values(), *CLASS_COLORS))


@lru_cache(maxsize=1)
def figure_palette() -> np.ndarray:
    """The 256 RGB colours (256, 3) uint8 of the ``"figure"`` palette (see the module docstring)."""
    named = sorted({tuple(np.round(255 * np.array(to_rgb(c))).astype(int)) for c in (*COLORS.values(), *CLASS_COLORS,
                                                                                       "#222222", "#333333", "#444444",
                                                                                       "#7A3B00", "#cccccc", "#eeeeee")})
    colors = [np.array(c, np.float64) for c in named]
    greys = sorted({int(round(255 - p * 255 / 16)) for p in range(17)} | {int(v) for v in np.linspace(0, 255, 18)})
    out = [np.array([g, g, g], np.float64) for g in greys]
    for c in colors:  # each named colour over white, from faint to nearly full
        for w in (0.15, 0.3, 0.45, 0.6, 0.75):
            out.append(c + w * (255.0 - c))
    out += colors
    for c in CLASS_COLORS[:3]:  # the 2-D mixture's paler shading bands (viz.draw.shading.SHADE_WHITE)
        c = np.round(255 * np.array(to_rgb(c)))
        out += [c + w * (255.0 - c) for w in (0.82, 0.9)]
    cube = np.linspace(0, 255, 3)
    out += [np.array([r, g, b]) for r in cube for g in cube for b in cube]
    pal = np.unique(np.round(np.array(out)).clip(0, 255).astype(np.uint8), axis=0)
    if len(pal) > 256:
        raise ValueError(f"the figure palette has {len(pal)} colours; a GIF holds 256")
    return np.concatenate([pal, np.repeat(pal[:1], 256 - len(pal), axis=0)])


@lru_cache(maxsize=1)
def _lookup() -> np.ndarray:
    """Index (32768,) uint8 of the nearest palette colour for each 5-bit-per-channel RGB cell."""
    pal = figure_palette().astype(np.float64)
    levels = np.linspace(0.0, 255.0, 2**_BITS)  # a cell's colour: its ends are pure black and pure white
    r, g, b = np.meshgrid(levels, levels, levels, indexing="ij")
    cells = np.stack([r.ravel(), g.ravel(), b.ravel()], axis=1)  # (32768, 3)
    w = np.array([0.3, 0.59, 0.11]) ** 0.5  # errors weighted roughly by luminance
    c, p = (cells * w).astype(np.float32), (pal * w).astype(np.float32)
    p2 = (p**2).sum(1)
    best = np.empty(len(c), np.uint8)
    for i in range(0, len(c), 2048):  # |c - p|^2 less the |c|^2 a row shares; small chunks, no BLAS threads
        d = np.broadcast_to(p2, (len(c[i:i + 2048]), len(p))).copy()
        for ch in range(3):
            d -= 2.0 * c[i:i + 2048, ch:ch + 1] * p[None, :, ch]
        best[i:i + 2048] = d.argmin(1)
    # Each palette colour's own cell maps to it exactly (named colours last: they win a shared cell).
    shift = 8 - _BITS
    order = sorted(range(len(pal)), key=lambda j: tuple(pal[j]) in _named())
    for j in order:
        r, g, b = (int(v) >> shift for v in pal[j])
        best[(r << (2 * _BITS)) | (g << _BITS) | b] = j
    return best


def figure_indices(frame: np.ndarray) -> np.ndarray:
    """Palette indices (H, W) uint8 of an RGB(A) uint8 frame in the ``"figure"`` palette."""
    shift = 8 - _BITS
    f = frame[..., :3]
    key = ((f[..., 0] >> shift).astype(np.uint16) << (2 * _BITS)) | ((f[..., 1] >> shift).astype(np.uint16) << _BITS) \
        | (f[..., 2] >> shift).astype(np.uint16)
    return _lookup()[key]


def _paletted(frame: np.ndarray, palette: str) -> Image.Image:
    if palette == "figure":
        im = Image.fromarray(figure_indices(frame), mode="P")
        im.putpalette(figure_palette().ravel().tolist())
        return im
    return Image.fromarray(np.ascontiguousarray(frame[..., :3])).quantize(
        colors=MAX_COLORS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)


def encode_gif(frames: Iterable[np.ndarray], fps: float = 10.0, last_hold: float = 1.0, palette: str = "figure") -> bytes:
    """Encode RGB(A) uint8 frames (H, W, 3|4) as a looping GIF; the last frame is held ``last_hold`` s.
    ``palette`` is ``"figure"`` (diagrams) or ``"adaptive"`` (photographs), see the module docstring."""
    if palette not in PALETTES:
        raise ValueError(f"unknown palette {palette!r}; valid: {', '.join(PALETTES)}")
    callback = _ON_FRAME.get()
    if callback is not None:
        frames = _counted(frames, callback)
    # A frame may be a drawing buffer that its producer draws on again two frames later
    # (``ConstructionView.frames``): each is paletted before the next one after it is drawn.
    if palette == "figure":
        # A lookup per pixel, ~3 ms a frame: done in turn. On a second thread it fought the drawing
        # for the GIL and the 100-frame CFG GIF took 5 % longer (1.50 s against 1.43 s, median of 10).
        images = [_paletted(f, palette) for f in frames]
    else:
        # A photograph's own palette (PIL's quantizer, which releases the GIL) on a second thread while
        # the next frame is drawn, in order: the same frames give the same bytes.
        with ThreadPoolExecutor(max_workers=1) as pool:
            jobs = []
            for f in frames:
                jobs.append(pool.submit(_paletted, f, palette))
                if len(jobs) >= 2:
                    jobs[-2].result()
            images = [job.result() for job in jobs]
    if not images:
        raise ValueError("no frames to encode")
    step_ms = int(round(1000 / fps))
    durations = [step_ms] * len(images)
    durations[-1] = max(step_ms, int(round(1000 * last_hold)))
    buf = io.BytesIO()
    images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=durations,
                   loop=0, optimize=False, disposal=1)
    return buf.getvalue()


def gif_frame_count(data: bytes) -> int:
    """Number of frames in GIF bytes."""
    with Image.open(io.BytesIO(data)) as im:
        return int(getattr(im, "n_frames", 1))
