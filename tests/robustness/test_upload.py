"""Uploads for the noising figure: every bad file gives a clear message on the page, which keeps
working; every odd-but-valid image is shown; a seeded fuzz of damaged files only ever raises
``ValueError``; the upload limit and the other classroom settings are in ``.streamlit/config.toml``.
(The server's own refusal of a file over the limit is tested in ``test_load.py``, on a real server.)
"""

from __future__ import annotations

import re
import tomllib

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.images import header_only_png, image_bytes
from tests.robustness.conftest import ROOT
from viz.figures.noising import MAX_UPLOAD_MB, UPLOAD_TYPES, image_from_upload

RNG = np.random.default_rng(0)
PHOTO = Image.fromarray(RNG.integers(0, 255, (90, 120, 3), dtype=np.uint8))


def _bomb() -> bytes:
    return image_bytes(Image.new("1", (20_000, 20_000)))  # 400 megapixels in a few kB


def _bad_crc() -> bytes:
    data = bytearray(image_bytes(PHOTO))
    data[40] ^= 0xFF  # inside the first IDAT chunk: its checksum no longer matches
    return bytes(data)


def _animated_gif() -> bytes:
    frames = [Image.new("RGB", (40, 30), c) for c in ("red", "green", "blue")]
    return image_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def _exif_rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees
    return image_bytes(PHOTO, "JPEG", exif=exif)


def _float_tiff(value: float) -> bytes:
    return image_bytes(Image.fromarray(np.full((20, 30), value, np.float32), mode="F"), "TIFF")


# (file name, bytes, what the page must say: a phrase of the error, or None for a picture)
BAD = [
    ("empty.png", b"", "empty"),
    ("notes.png", b"this is a text file, not a picture\n" * 20, "not an image"),
    ("page.html", b"<!doctype html><html><body>hi</body></html>", "not an image"),
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "not an image"),
    ("archive.png", b"PK\x03\x04" + bytes(200), "not an image"),
    ("document.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", "not an image"),
    ("truncated.jpg", image_bytes(PHOTO, "JPEG")[:700], "truncated or corrupt"),
    ("truncated.png", image_bytes(PHOTO)[:300], "truncated or corrupt"),
    ("bad-checksum.png", _bad_crc(), "truncated or corrupt|not an image"),
    ("bomb.png", _bomb(), "too large"),
    ("declares-20000x20000.png", header_only_png(20_000, 20_000), "too large|megapixels"),
    ("declares-7000x7000.png", header_only_png(7_000, 7_000), "megapixels"),
    ("nan.tiff", _float_tiff(float("nan")), "non-finite"),
    ("strip-1x3000.png", image_bytes(Image.new("RGB", (3000, 1), "teal")), "longer than it is wide"),
    ("strip-30000x1.png", image_bytes(Image.new("RGB", (30000, 1), "teal")), "longer than it is wide"),
    ("six-megabytes.bmp", image_bytes(Image.fromarray(RNG.integers(0, 255, (1200, 1800, 3), dtype=np.uint8)), "BMP"),
     "limit is 5 MB"),
]
GOOD = [
    ("cmyk.jpg", image_bytes(PHOTO.convert("CMYK"), "JPEG")),
    ("sixteen-bit.png", image_bytes(Image.fromarray(np.linspace(0, 65535, 40 * 50).reshape(40, 50).astype(np.uint16)))),
    ("alpha.png", image_bytes(PHOTO.convert("RGBA"))),
    ("grey-alpha.png", image_bytes(PHOTO.convert("LA"))),
    ("palette-transparent.png", image_bytes(PHOTO.convert("P", palette=Image.Palette.ADAPTIVE), transparency=0)),
    ("animated.gif", _animated_gif()),
    ("photo.webp", image_bytes(PHOTO, "WEBP")),
    ("photo.bmp", image_bytes(PHOTO, "BMP")),
    ("photo.tiff", image_bytes(PHOTO, "TIFF")),
    ("rotated.jpg", _exif_rotated_jpeg()),
    ("one-pixel.png", image_bytes(Image.new("RGB", (1, 1), "orange"))),
    ("strip-20x1.png", image_bytes(Image.new("RGB", (20, 1), "teal"))),
    ("float.tiff", _float_tiff(0.25)),
    ("photo.txt", image_bytes(PHOTO)),  # a PNG with the wrong extension: the content decides
]


def test_every_bad_file_says_why_and_the_page_keeps_working():
    """One student uploads every file in turn, then clears the upload and moves on."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.selectbox(key="model").set_value("exact")
    at.slider(key="steps").set_value(6)
    at.run()
    default = at.get("image")[0].proto.imgs[0].url
    failures = []
    assert at.file_uploader(key="upload").proto.type == [f".{k}" for k in UPLOAD_TYPES]  # the picker offers these only
    for name, data, expected in BAD + [(n, d, None) for n, d in GOOD]:
        if name.rsplit(".", 1)[-1] not in UPLOAD_TYPES:  # the picker never offers it: the decoder alone is tested
            try:
                image_from_upload(data)
                assert expected is None, f"{name} was decoded"
            except ValueError as e:
                assert expected is not None and re.search(expected, str(e)), f"{name}: {e}"
            continue
        at.file_uploader(key="upload").set_value((name, data, "application/octet-stream")).run()
        errors = [e.value for e in at.error]
        shown = [im.proto.imgs[0].url for im in at.get("image")]
        if at.exception:
            failures.append(f"{name}: exception {at.exception}")
        elif len(shown) < 3:
            failures.append(f"{name}: only {len(shown)} pictures")
        elif expected is None and (errors or shown[0] == default):
            failures.append(f"{name}: not shown ({errors})")
        elif expected is not None:
            message = " ".join(errors)
            if not (message.startswith("That file cannot be used: ") and re.search(expected, message)):
                failures.append(f"{name}: {message!r} does not say {expected!r}")
            elif shown[0] != default or re.search(r"[^.]\.\.(?!\.)", message) or re.search(r" at 0x[0-9a-f]+", message):
                failures.append(f"{name}: unclear message or picture {message!r}")
    at.file_uploader(key="upload").clear().run()  # back to the bundled photograph
    assert not at.exception and not at.error and at.get("image")[0].proto.imgs[0].url == default
    at.slider(key="step").set_value(2).run()  # and the rest of the page still works
    assert not at.exception and not at.error
    print(f"\nupload: {len(BAD)} bad and {len(GOOD)} odd-but-valid files through the sampling page")
    assert not failures, "\n".join(failures)


FORMATS = {"PNG": {}, "JPEG": {}, "GIF": {}, "WEBP": {}, "BMP": {}, "TIFF": {}, "TIFF-deflate": {"compression": "tiff_deflate"},
           "ICO": {}, "PPM": {}, "TGA": {}}
FUZZ_PER_FORMAT = 120


@pytest.mark.filterwarnings("ignore::UserWarning")  # PIL warns about the damage it skips over
def test_damaged_files_only_ever_raise_value_error():
    """Seeded damage (flipped bytes, cut-off ends, overwritten runs) to ten formats: each file either
    decodes to finite pixels in [-1, 1] or raises ValueError; no other exception escapes."""
    rng = np.random.default_rng(1)
    small = PHOTO.resize((48, 36))
    escaped, counts = [], {"decoded": 0, "refused": 0}
    for fmt, kw in FORMATS.items():
        seed = image_bytes(small, fmt.split("-")[0], **kw)
        for i in range(FUZZ_PER_FORMAT):
            data = bytearray(seed)
            if i % 3 == 0:
                for _ in range(int(rng.integers(1, 8))):
                    data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
            elif i % 3 == 1:
                data = data[: int(rng.integers(1, len(data)))]
            else:
                at = int(rng.integers(0, len(data)))
                data[at:at + 4] = rng.integers(0, 256, 4).astype(np.uint8).tobytes()
            try:
                pixels = image_from_upload(bytes(data))
                assert np.isfinite(pixels).all() and pixels.min() >= -1 and pixels.max() <= 1
                counts["decoded"] += 1
            except ValueError:
                counts["refused"] += 1
            except Exception as e:  # noqa: BLE001 - the point of the test
                escaped.append(f"{fmt} #{i}: {type(e).__name__}: {e}")
    print(f"\nupload fuzz: {len(FORMATS) * FUZZ_PER_FORMAT} damaged files, {counts}")
    assert not escaped, "\n".join(escaped[:20])


def test_the_server_settings_for_a_classroom():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] == 25 > MAX_UPLOAD_MB  # MB: a file over the app's limit still arrives, to be refused in words
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == "none"  # no tracebacks for users
    assert config["runner"]["postScriptGC"] is False  # see test_load.py
