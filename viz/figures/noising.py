"""Forward noising of a real photograph: ``x_t = a_t x_0 + s_t eps`` (VP form, arXiv 2006.11239),
with ``a_t = sqrt(abar_t)``, ``s_t = sqrt(1 - abar_t)`` and the signal-to-noise ratio
``SNR(t) = a_t^2 / s_t^2 = abar_t / (1 - abar_t)`` (arXiv 2107.00630).

The photographs are the two bundled with scikit-learn (nothing is downloaded); an uploaded
image goes through ``image_from_upload``, which refuses anything it cannot decode safely.
"""

from __future__ import annotations

import io
import re
import textwrap
import warnings
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure
from PIL import Image, ImageOps, UnidentifiedImageError

from models.engine.schedule import Schedule
from models.flow.path import FlowSchedule, path_of
from viz.views.paths import Animated
from viz.draw.drawing import freeze_layout
from viz.draw.style import COLORS, display_size, new_figure, text_pt

PHOTOS = ("china", "flower")
MAX_UPLOAD_PIXELS = 40_000_000  # refused before decoding: a small file can declare a huge image
MAX_UPLOAD_MB = 5  # a photograph for a 160-px figure needs no more; refused with the file's size
MAX_ASPECT = 20  # longer side : shorter side; a 3000 x 1 strip would be drawn as a line one pixel high
#: the kinds the decoder reads (the uploader offers only these)
UPLOAD_TYPES = ("png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff")
DEFAULT_TIMESTEPS = (0, 50, 150, 300, 600, 999)
NOISING_NOTE = "The same noise ε in every panel; SNR = aₜ² / sₜ². Values beyond [-1, 1] are clipped for display."
FORMULA = "Forward noising:  $x_t = a_t\\, x_0 + s_t\\, \\varepsilon$"


# ----------------------------------------------------------------------------- images in

def _to_unit_rgb(image: Image.Image, max_side: int) -> np.ndarray:
    """An RGB image downsampled (aspect kept) so its longer side is at most ``max_side``, as floats in [-1, 1]."""
    image = image.copy()
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return np.asarray(image, np.float64) / 127.5 - 1.0  # (H, W, 3)


def _check_max_side(max_side: int) -> int:
    if isinstance(max_side, bool) or not isinstance(max_side, (int, np.integer)) or not 8 <= max_side <= 2048:
        raise ValueError(f"max_side must be an integer in 8..2048, got {max_side!r}")
    return int(max_side)


def load_photo(name: str = "china", max_side: int = 160) -> np.ndarray:
    """One of scikit-learn's sample photographs (``"china"`` or ``"flower"``) as (H, W, 3) floats in [-1, 1]."""
    from models.engine.data import sklearn_file

    if name not in PHOTOS:
        raise ValueError(f"unknown photo {name!r}; valid: {', '.join(PHOTOS)}")
    path = sklearn_file("datasets", "images", f"{name}.jpg")
    if path is not None:  # the file sklearn.datasets.load_sample_image decodes, without importing scikit-learn
        with Image.open(path) as image:
            pixels = np.asarray(image)
    else:
        from sklearn.datasets import load_sample_image

        pixels = load_sample_image(f"{name}.jpg")
    return _to_unit_rgb(Image.fromarray(pixels), _check_max_side(max_side))


def _as_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode as 8-bit RGB: high-bit-depth grey is rescaled, transparency is laid on white."""
    mode = image.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        arr = np.asarray(image, np.float64)
        if not np.isfinite(arr).all():
            raise ValueError("the image has non-finite pixel values")
        if mode.startswith("I;16") or (mode == "I" and arr.min() >= 0 and arr.max() <= 65535):
            arr = arr / 65535.0
        else:
            lo, hi = arr.min(), arr.max()
            arr = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
        return Image.fromarray(np.round(arr * 255).astype(np.uint8), "L").convert("RGB")
    if "A" in mode or "a" in mode or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    try:
        return image.convert("RGB")
    except ValueError as e:
        raise ValueError(f"cannot convert an image in colour mode {mode} to RGB") from e


def _reason(error: BaseException) -> str:
    """A decoder's error as a short phrase for users: one line, no object addresses, no final stop."""
    text = re.sub(r"<[^<>]* at 0x[0-9a-fA-F]+>", "the file", " ".join(str(error).split()))
    return (text[:160].rstrip(". ") or type(error).__name__)


def image_from_upload(data: bytes, max_side: int = 160) -> np.ndarray:
    """Decode uploaded image bytes to (H, W, 3) floats in [-1, 1], longer side at most ``max_side``.

    Any mode PIL reads is accepted (RGBA, CMYK, 16-bit grey, palette, the first frame of an
    animation). Raises ``ValueError`` with a clear message for empty, non-image, truncated or
    corrupt data, and for images over 40 megapixels, which are refused from their header,
    before any pixel is decoded (a tiny file can declare a huge image: a decompression bomb).
    """
    max_side = _check_max_side(max_side)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(f"expected the uploaded file's bytes, got {type(data).__name__}")
    if len(data) == 0:
        raise ValueError("the uploaded file is empty")
    if len(data) > MAX_UPLOAD_MB * 2**20:
        raise ValueError(f"the file is {len(data) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_MB} MB (save it smaller, "
                         "or as JPEG)")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(bytes(data)))  # lazy: reads the header only
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ValueError(f"the image is too large to open safely: its header declares far more than "
                             f"{MAX_UPLOAD_PIXELS // 1_000_000} megapixels (a decompression bomb?)") from None
        except UnidentifiedImageError:
            raise ValueError("the file is not an image this app can read (PNG, JPEG, GIF, WebP, TIFF, BMP ...)") from None
        except (OSError, SyntaxError, ValueError, EOFError) as e:
            raise ValueError(f"the file is not an image this app can read ({_reason(e)})") from None
        with image:
            width, height = image.size
            if width * height > MAX_UPLOAD_PIXELS:
                raise ValueError(f"the image is {width} x {height} = {width * height / 1e6:.0f} megapixels; "
                                 f"the limit is {MAX_UPLOAD_PIXELS // 1_000_000} megapixels")
            if width < 1 or height < 1:
                raise ValueError(f"the image has no pixels ({width} x {height})")
            if max(width, height) > MAX_ASPECT * min(width, height):
                raise ValueError(f"the image is {width} x {height} pixels, more than {MAX_ASPECT} times longer than it "
                                 "is wide: the figure would show a thin strip; crop it closer to a square")
            try:
                image.seek(0)  # the first frame of an animation
                if image.format == "JPEG":
                    image.draft("RGB", (max_side, max_side))  # decode at a reduced scale: faster, less memory
                image.load()
                image = ImageOps.exif_transpose(image) or image  # phone photos: upright
                rgb = _as_rgb(image)
            except (Image.DecompressionBombError, Image.DecompressionBombWarning):
                raise ValueError(f"the image is too large to decode safely (over {MAX_UPLOAD_PIXELS // 1_000_000} "
                                 f"megapixels)") from None
            except (OSError, SyntaxError, EOFError, IndexError, TypeError, ValueError, MemoryError) as e:
                if isinstance(e, ValueError) and str(e).startswith(("cannot convert", "the image has")):
                    raise
                raise ValueError(f"the image could not be decoded, the file is truncated or corrupt ({_reason(e)})") from None
    return _to_unit_rgb(rgb, max_side)


# ----------------------------------------------------------------------------- noising

def _alphas_cumprod(schedule: Schedule | np.ndarray) -> np.ndarray:
    """``abar`` (T,) of a ``Schedule`` or an array, checked to be finite and in (0, 1]."""
    abar = np.asarray(schedule.alphas_cumprod if isinstance(schedule, Schedule) else schedule, np.float64)
    if abar.ndim != 1 or len(abar) == 0 or not np.isfinite(abar).all() or abar.min() <= 0 or abar.max() > 1:
        raise ValueError("the schedule must be a Schedule or a 1-D array of alphas_cumprod in (0, 1]")
    return abar


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, np.float64)
    if image.ndim != 3 or image.shape[2] != 3 or min(image.shape[:2]) < 1:
        raise ValueError(f"the image must be (H, W, 3), got shape {image.shape}")
    if not np.isfinite(image).all():
        raise ValueError("the image has non-finite values (NaN or inf)")
    return image


def noisy_image(image: np.ndarray, abar: float, eps: np.ndarray) -> np.ndarray:
    """``x_t = sqrt(abar) x_0 + sqrt(1 - abar) eps`` (arXiv 2006.11239, eq. 4)."""
    return np.sqrt(abar) * image + np.sqrt(1.0 - abar) * eps


def snr(abar: float) -> float:
    """Signal-to-noise ratio ``abar / (1 - abar)`` (arXiv 2107.00630)."""
    return float(abar / (1.0 - abar))


def format_snr(value: float) -> str:
    """``9,999`` / ``3.21`` / ``4.0e-05``: readable at every noise level."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 0.01:
        return f"{value:.2f}"
    return f"{value:.1e}"


def _display(x: np.ndarray) -> np.ndarray:
    """[-1, 1] floats to [0, 1] for ``imshow`` (values beyond are clipped)."""
    return np.clip((x + 1.0) / 2.0, 0.0, 1.0)


def _noise(image: np.ndarray, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(image.shape)


def noising_figure(image: np.ndarray, schedule: Schedule | np.ndarray, timesteps: Sequence[int] = DEFAULT_TIMESTEPS,
                   seed: int = 0, width: int | None = None) -> Figure:
    """The photograph noised to several levels ``x_t = a_t x_0 + s_t eps`` (one ``eps`` from
    ``seed`` for every panel), each panel titled with t and its signal-to-noise ratio; one row of up to
    six panels, drawn ``width`` CSS px wide (default ``DISPLAY_WIDTH["noising_strip"]``)."""
    image, abar = _check_image(image), _alphas_cumprod(schedule)
    ts = [int(t) for t in timesteps]
    if not ts or any(not 0 <= t < len(abar) for t in ts):
        raise ValueError(f"timesteps must be a non-empty list in 0..{len(abar) - 1}, got {list(timesteps)}")
    eps = _noise(image, seed)
    cols = min(6, len(ts))
    rows = -(-len(ts) // cols)
    w_in, h_in = display_size("noising_strip", width)
    fig = new_figure((w_in, h_in * (0.25 + 0.75 * rows)))
    fig.suptitle(FORMULA, fontsize=text_pt("headline"), x=0.01, ha="left")
    for i, t in enumerate(ts):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(_display(noisy_image(image, abar[t], eps)), interpolation="nearest")
        ax.set_axis_off()
        ax.set_xticks([])  # never drawn (axis off), but a titled axes would lay out its ticks on every draw
        ax.set_yticks([])
        ax.set_title(f"t = {t}\nSNR = {format_snr(snr(abar[t]))}", fontsize=text_pt("label"))
    fig.supxlabel(NOISING_NOTE, fontsize=text_pt("small"), color="#444444", x=0.01, ha="left")
    freeze_layout(fig)  # laid out here: saving it is then one draw, not a layout pass and a draw
    return fig


class NoisingAnimation(Animated):
    """The photograph noised from t = 0 to t = T-1 with one fixed ``eps``, beside the curves of
    the signal scale a_t and the noise scale s_t with the current t marked.

    Noise does not compress, so the picture is shown at exactly twice the size of an image of at
    most ``display_side`` pixels and ``display_area`` pixels in all (each pixel a crisp 2 x 2
    block): a 100-frame GIF stays near 4 MB whatever the image's shape.
    """

    def __init__(self, image: np.ndarray, schedule: Schedule | FlowSchedule | np.ndarray, seed: int = 0, frames: int = 100,
                 display_side: int = 110, display_area: int = 110 * 74) -> None:
        self.flow = path_of(schedule) == "flow"  # the flow path: a = 1 - sigma, s = sigma at level t = sigma T
        flow_abar = (1.0 - np.arange(schedule.T) / schedule.T) ** 2 if self.flow else None  # a^2, only for checks
        image, self.abar = _check_image(image), _alphas_cumprod(flow_abar if self.flow else schedule)
        if isinstance(frames, bool) or not isinstance(frames, (int, np.integer)) or not 2 <= frames <= 1000:
            raise ValueError(f"frames must be an integer in 2..1000, got {frames!r}")
        h, w = image.shape[:2]
        shrink = min(1.0, display_side / max(h, w), float(np.sqrt(display_area / (h * w))))
        if shrink < 1:
            small = Image.fromarray(np.round(_display(image) * 255).astype(np.uint8))
            size = (max(1, round(w * shrink)), max(1, round(h * shrink)))
            image = np.asarray(small.resize(size, Image.Resampling.LANCZOS), np.float64) / 127.5 - 1.0
        self.image = image
        T = len(self.abar)
        self.ts = np.unique(np.round(np.linspace(0, T - 1, frames)).astype(int))
        self.eps = _noise(self.image, seed)
        self.fig = fig = new_figure(display_size("noising"))
        fig.suptitle(FORMULA, fontsize=text_pt("headline"), x=0.01, ha="left")
        grid = fig.add_gridspec(1, 2, width_ratios=[1.15, 1])
        ax_img = self.ax_img = fig.add_subplot(grid[0, 0])
        ax_img.set_axis_off()
        ax_img.set_xticks([])  # never drawn (axis off)
        ax_img.set_yticks([])
        self.picture = ax_img.imshow(_display(self.image), interpolation="nearest", aspect="auto", animated=True)
        ax = self.ax = fig.add_subplot(grid[0, 1])
        t_all = np.arange(T)
        a_all, s_all = self._scales(t_all)
        ax.plot(t_all, a_all, color=COLORS["x0"], lw=2.5, label="$a_t$ (signal)")
        ax.plot(t_all, s_all, color=COLORS["noise"], lw=2.5, ls="--", label="$s_t$ (noise)")
        ax.set_xlim(0, T - 1)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("t = 1000 σ" if self.flow else "t", fontsize=text_pt("label"))
        ax.tick_params(labelsize=text_pt("small"))
        ax.grid(True, color="#eeeeee")
        ax.legend(fontsize=text_pt("key"), loc="center right", frameon=False)
        self.cursor = ax.axvline(0, color=COLORS["x_t"], lw=1.5, animated=True)
        self.marks = ax.plot([], [], ls="", marker="o", ms=8, color=COLORS["x_t"], animated=True)[0]
        fig.supxlabel(textwrap.fill(NOISING_NOTE.replace("panel", "frame"), 95), fontsize=text_pt("small"),
                      color="#444444", x=0.01, ha="left")
        freeze_layout(fig)
        self._pixel_exact(ax_img, scale=2)
        self.title = ax_img.set_title("t = 0", fontsize=text_pt("title"), animated=True)
        self.values = ax_img.text(0.0, -0.06, "", va="top", ha="left", fontsize=text_pt("label"), family="monospace",
                                  transform=ax_img.transAxes, animated=True)
        self.moving = [self.picture, self.cursor, self.marks, self.title, self.values]
        self.gif_palette = "adaptive"  # a photograph: each frame its own palette
        self.update(0)
        self._cache_background()

    def _pixel_exact(self, ax, scale: int) -> None:
        """Put ``ax`` on whole pixels, ``scale`` screen pixels per image pixel, centred in its cell."""
        fig = self.fig
        W, H = fig.bbox.width, fig.bbox.height
        box = ax.get_position()
        h, w = self.image.shape[0] * scale, self.image.shape[1] * scale
        x0 = round(box.x0 * W + (box.width * W - w) / 2)
        y0 = round(box.y0 * H + (box.height * H - h) / 2)
        ax.set_position([x0 / W, y0 / H, w / W, h / H])

    @property
    def num_frames(self) -> int:
        """One frame per noise level shown."""
        return len(self.ts)

    def _scales(self, t):
        """``(a, s)`` at level(s) ``t``: ``sqrt(abar), sqrt(1 - abar)`` on VP, ``1 - t / T, t / T`` on flow."""
        if self.flow:
            sigma = np.asarray(t, np.float64) / len(self.abar)
            return 1.0 - sigma, sigma
        return np.sqrt(self.abar[t]), np.sqrt(1 - self.abar[t])

    def update(self, k: int) -> None:
        """Show noise level number ``k`` (0 = the clean photograph)."""
        t = int(self.ts[int(np.clip(k, 0, self.num_frames - 1))])
        if self.flow:
            self._update_flow(t)
            return
        abar = self.abar[t]
        self.picture.set_data(_display(noisy_image(self.image, abar, self.eps)))
        self.title.set_text(f"t = {t}")
        self.values.set_text(f"aₜ = {np.sqrt(abar):.3f}\nsₜ = {np.sqrt(1 - abar):.3f}\nSNR = {format_snr(snr(abar))}")
        self.cursor.set_xdata([t, t])
        self.marks.set_data([t, t], [np.sqrt(abar), np.sqrt(1 - abar)])

    def _update_flow(self, t: int) -> None:
        """The flow path's level ``t = 1000 σ``: ``x_t = (1 - σ) x_0 + σ ε``."""
        a, s = self._scales(t)
        self.picture.set_data(_display(a * self.image + s * self.eps))
        self.title.set_text(f"σ = {t / len(self.abar):.3g}")
        ratio = a * a / (s * s) if s > 0 else np.inf
        self.values.set_text(f"aₜ = {a:.3f}\nsₜ = {s:.3f}\nSNR = {'∞' if np.isinf(ratio) else format_snr(ratio)}")
        self.cursor.set_xdata([t, t])
        self.marks.set_data([t, t], [a, s])
