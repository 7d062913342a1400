"""Image files made in memory, for the tests of uploads."""

import io
import struct
import zlib

from PIL import Image


def image_bytes(image: Image.Image, fmt: str = "PNG", **kw) -> bytes:
    """``image`` saved as ``fmt`` (PIL's save options in ``kw``)."""
    buf = io.BytesIO()
    image.save(buf, format=fmt, **kw)
    return buf.getvalue()


def header_only_png(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares ``width x height`` pixels and that holds almost no data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 10)) + chunk(b"IEND", b"")
