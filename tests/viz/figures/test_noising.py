"""viz.figures.noising: the noising panels say t and the SNR, the animation stays within its GIF budget, and
uploads of any image mode are read while bad, truncated, huge and bomb files are refused before decoding."""

import io

import numpy as np
import pytest
from PIL import Image

from models.engine.schedule import make_schedule
from viz.figures.noising import NoisingAnimation, image_from_upload, load_photo, noising_figure

from tests.images import header_only_png, image_bytes


def test_noising_gif_budget_holds_for_any_aspect():
    """Noise does not compress: the picture is bounded by area, ~43 kB a frame (5 MB / 100 frames)."""
    square = np.random.default_rng(0).uniform(-1, 1, (160, 160, 3))
    anim = NoisingAnimation(square, make_schedule(), frames=10)
    assert anim.image.shape[0] * anim.image.shape[1] <= 110 * 74
    assert len(anim.gif(max_frames=10)) < 10 * 50_000


# ----------------------------------------------------------------------------- noising

def test_noising_panels_say_t_and_snr():
    schedule = make_schedule()
    image = load_photo("china", max_side=48)
    assert image.shape == (32, 48, 3) and image.min() >= -1 and image.max() <= 1
    fig = noising_figure(image, schedule, timesteps=(0, 300, 999))
    titles = [ax.get_title() for ax in fig.axes]
    abar = schedule.alphas_cumprod[300]
    assert titles[1] == f"t = 300\nSNR = {abar / (1 - abar):.2f}"  # SNR = abar / (1 - abar)
    assert len(titles) == 3
    anim = NoisingAnimation(image, schedule, frames=10)
    assert anim.num_frames == 10
    assert not np.array_equal(anim.frame(0), anim.frame(9))


# ----------------------------------------------------------------------------- uploads

def _rgb_ok(arr: np.ndarray, max_side: int = 160) -> None:
    assert arr.ndim == 3 and arr.shape[2] == 3 and max(arr.shape[:2]) <= max_side
    assert arr.dtype == np.float64 and arr.min() >= -1 and arr.max() <= 1


def test_upload_accepts_any_mode():
    gradient = np.linspace(0, 255, 300 * 200).reshape(200, 300).astype(np.uint8)
    rgb = Image.fromarray(np.dstack([gradient, gradient[::-1], np.full_like(gradient, 90)]))
    _rgb_ok(image_from_upload(image_bytes(rgb)))
    _rgb_ok(image_from_upload(image_bytes(rgb, "JPEG")))
    rgba = rgb.convert("RGBA")
    rgba.putalpha(0)  # fully transparent: laid on white
    assert image_from_upload(image_bytes(rgba)).min() == pytest.approx(1.0)
    _rgb_ok(image_from_upload(image_bytes(rgb.convert("CMYK"), "JPEG")))
    sixteen = Image.fromarray((np.linspace(0, 65535, 40 * 50).reshape(40, 50)).astype(np.uint16))
    data = image_bytes(sixteen)
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    out = image_from_upload(data)
    _rgb_ok(out)
    assert out.max() > 0.9 and out.min() < -0.9  # 16-bit range kept, not clipped to 255
    palette = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    _rgb_ok(image_from_upload(image_bytes(palette)))
    frames = [Image.new("RGB", (30, 20), c) for c in ("red", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    first = image_from_upload(buf.getvalue())
    assert first.shape == (20, 30, 3) and first[0, 0, 0] > 0.9 and first[0, 0, 2] < -0.9  # red: frame 0
    assert image_from_upload(image_bytes(rgb), max_side=64).shape == (43, 64, 3)


@pytest.mark.parametrize("data, match", [
    (b"", "empty"),
    (b"this is not an image at all", "not an image"),
    (header_only_png(20_000, 20_000), "too large|megapixels"),
    (header_only_png(7_000, 7_000), "megapixels"),
])
def test_upload_refuses_bad_or_huge_files(data, match):
    with pytest.raises(ValueError, match=match):
        image_from_upload(data)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_upload_refuses_truncated_files(fmt):
    noise = Image.fromarray(np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8))
    data = image_bytes(noise, fmt)
    with pytest.raises(ValueError, match="decoded|not an image"):
        image_from_upload(data[: len(data) // 2])


def test_upload_bomb_made_by_pil_is_refused_before_decoding():
    buf = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buf, format="PNG")  # 400 megapixels in a few kB
    assert len(buf.getvalue()) < 200_000
    with pytest.raises(ValueError, match="too large|megapixels"):
        image_from_upload(buf.getvalue())
