"""Rows of 8x8 digit images as one picture, drawn with numpy alone (no figure: a few milliseconds).

Pixels in [-1, 1] map to ink as in every digits view of the app (``gray_r``: -1 white paper, 1
black ink); values beyond the data's range are clipped for display (the pages warn about them).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

GAP_COLOR = (200, 200, 200)
OUTSIDE_COLOR = (213, 94, 0)  # viz.draw.style's "outside" vermilion: a sample that left the data's range


def digit_rows(rows: list[np.ndarray], scale: int = 12, gap: int = 4, outside: list[np.ndarray] | None = None) -> np.ndarray:
    """RGB uint8 picture (H, W, 3) of ``rows``, each (B, 64) of 8x8 images in [-1, 1], side by side,
    ``scale`` pixels per image pixel, ``gap`` pixels between images. ``outside`` (same layout,
    booleans (B,)) frames the images that left the data's range in vermilion."""
    if not rows:
        raise ValueError("give at least one row of images")
    width = max(len(r) for r in rows)
    cell = 8 * scale
    out = np.empty((len(rows) * (cell + gap) + gap, width * (cell + gap) + gap, 3), np.uint8)
    out[:] = GAP_COLOR
    for i, row in enumerate(rows):
        row = np.asarray(row, np.float64)
        if row.ndim != 2 or row.shape[1] != 64:
            raise ValueError(f"each row must be (B, 64) 8x8 images, got shape {row.shape}")
        if not np.isfinite(row).all():
            raise ValueError("the images have non-finite values (NaN or inf)")
        ink = np.round(255 * (1 - np.clip(row, -1, 1)) / 2).astype(np.uint8).reshape(-1, 8, 8)
        big = np.kron(ink, np.ones((scale, scale), np.uint8))  # (B, cell, cell)
        top = gap + i * (cell + gap)
        for j, img in enumerate(big):
            left = gap + j * (cell + gap)
            if outside is not None and outside[i][j]:
                out[top - gap // 2: top + cell + gap // 2, left - gap // 2: left + cell + gap // 2] = OUTSIDE_COLOR
            out[top: top + cell, left: left + cell] = img[..., None]
    return out


def png(pixels: np.ndarray) -> bytes:
    """PNG bytes of an RGB uint8 picture (same pixels, same bytes)."""
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", compress_level=6)
    return buf.getvalue()
