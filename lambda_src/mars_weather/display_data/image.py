"""Rover photo -> 320x240 indexed-colour BMP that CircuitPython's ``displayio.OnDiskBitmap`` loads.

Fit: **letterbox**. The whole frame is scaled to fit inside 320x240 keeping its aspect
ratio and centred on black; nothing of the scene is cut off. Rover frames are often
square (navigation and hazard cameras: 1024x1024) or tall subframes, where cropping to
4:3 would throw away a quarter or more of the picture; the black bars blend with the
device's dark label boxes.

Colour: any mode Pillow decodes becomes 8-bit RGB first. 16-bit and 32-bit greyscale
(``I;16*``, ``I``, ``F``) are scaled to 0-255 by their bit depth (or their range, when
the values fit no depth), not clipped; transparent pixels (``LA``, ``RGBA``, ``PA``, a
palette or greyscale with a transparency key) are composited onto the black background.

Format: written here, not by Pillow, so every field is the one ``OnDiskBitmap`` needs:
Windows BMP, ``BITMAPINFOHEADER`` (40 bytes), 8 bits per pixel, ``BI_RGB``
(uncompressed), always a **full 256-entry palette** of BGRX entries right after the
header (unused entries black; ``OnDiskBitmap`` sizes its palette from the colour count,
and a shorter palette than the indices expect shows black), colour count 256, rows
bottom-up (positive height), each row padded to 4 bytes. Size: exactly
:data:`MAX_BMP_BYTES` = 14 + 40 + 4 x 256 + 320 x 240 = 77,878 bytes.
"""
from __future__ import annotations

import io
import struct
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

WIDTH = 320
HEIGHT = 240
MAX_COLOURS = 256
FIT = "letterbox"
BACKGROUND = (0, 0, 0)
FILE_HEADER_BYTES = 14
INFO_HEADER_BYTES = 40
PALETTE_BYTES = 4 * MAX_COLOURS


def _row_bytes(width: int) -> int:
    return (width + 3) // 4 * 4


def bmp_size(width: int, height: int) -> int:
    """The size of the BMP :func:`to_display_bmp` writes for ``width`` x ``height``."""
    return FILE_HEADER_BYTES + INFO_HEADER_BYTES + PALETTE_BYTES + _row_bytes(width) * height


# What the device must accept (device/pyportal/code.py MAX_IMAGE_BYTES; a test ties them).
MAX_BMP_BYTES = bmp_size(WIDTH, HEIGHT)
# Largest photo decoded; raw frames are at most a few megapixels.
MAX_SOURCE_PIXELS = 50_000_000
CONTENT_TYPE = "image/bmp"
_PIXELS_PER_METRE = 2835  # 72 dpi, what image tools write by default
_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
_TRANSPARENT_MODES = ("LA", "La", "RGBA", "RGBa", "PA")


class ImageConversionError(Exception):
    """The downloaded bytes are not a photo we can convert; ``reason`` is fit for the response."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def to_display_bmp(data: bytes, *, width: int = WIDTH, height: int = HEIGHT, colours: int = MAX_COLOURS) -> bytes:
    """Letterbox ``data`` (any format Pillow decodes) into an 8-bit palette BMP."""
    if not 2 <= colours <= MAX_COLOURS:
        raise ValueError(f"colours must be between 2 and {MAX_COLOURS}, got {colours}")
    fitted = letterbox(_decode(data, width, height), width, height)
    indexed = fitted.quantize(colors=colours, method=Image.Quantize.MEDIANCUT,
                              dither=Image.Dither.FLOYDSTEINBERG)
    return indexed_bmp(indexed)


def indexed_bmp(indexed: Image.Image) -> bytes:
    """A ``P`` image as an 8-bit bottom-up BMP with a full 256-entry palette."""
    if indexed.mode != "P":
        raise ValueError(f"an indexed (P) image is needed, got {indexed.mode}")
    width, height = indexed.size
    rgb = (indexed.getpalette("RGB") or [])[:3 * MAX_COLOURS]
    rgb += [0] * (3 * MAX_COLOURS - len(rgb))
    palette = b"".join(bytes((rgb[i + 2], rgb[i + 1], rgb[i], 0)) for i in range(0, len(rgb), 3))
    stride = _row_bytes(width)
    pixels = indexed.tobytes()
    padding = b"\0" * (stride - width)
    rows = b"".join(pixels[y * width:(y + 1) * width] + padding for y in range(height - 1, -1, -1))
    data_offset = FILE_HEADER_BYTES + INFO_HEADER_BYTES + PALETTE_BYTES
    file_header = struct.pack("<2sIHHI", b"BM", data_offset + len(rows), 0, 0, data_offset)
    info_header = struct.pack("<IiiHHIIiiII", INFO_HEADER_BYTES, width, height, 1, 8, 0, len(rows),
                              _PIXELS_PER_METRE, _PIXELS_PER_METRE, MAX_COLOURS, 0)
    return file_header + info_header + palette + rows


def letterbox(photo: Image.Image, width: int, height: int) -> Image.Image:
    """``photo`` scaled to fit ``width`` x ``height`` (aspect kept), centred on black."""
    scale = min(width / photo.width, height / photo.height)
    # At least one pixel each way: a 1600x1 strip must not become 320x0.
    size = (max(1, min(width, round(photo.width * scale))), max(1, min(height, round(photo.height * scale))))
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    canvas.paste(photo.resize(size, Image.Resampling.LANCZOS), ((width - size[0]) // 2, (height - size[1]) // 2))
    return canvas


def to_rgb(photo: Image.Image) -> Image.Image:
    """``photo`` as 8-bit RGB, whatever its mode: deep greyscale scaled, transparency on black."""
    if photo.mode in _SIXTEEN_BIT_MODES or photo.mode in ("I", "F"):
        return _deep_grey_to_8_bit(photo).convert("RGB")
    if photo.mode in _TRANSPARENT_MODES or "transparency" in photo.info:
        rgba = photo.convert("RGBA")
        background = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return photo.convert("RGB")


def _deep_grey_to_8_bit(photo: Image.Image) -> Image.Image:
    # Pillow's own conversion clips every value above 255 to white.
    deep = photo if photo.mode == "F" else photo.convert("I")
    low, high = deep.getextrema()
    if photo.mode in _SIXTEEN_BIT_MODES:
        low, top = 0, 65535
    elif photo.mode == "F" and 0 <= low and high <= 1:
        low, top = 0, 1.0
    elif 0 <= low and high <= 255:
        low, top = 0, 255
    elif 0 <= low and high <= 65535:
        low, top = 0, 65535  # 16-bit samples held in a 32-bit image
    else:
        top = high if high > low else low + 1  # no known depth: stretch the range
    scale = 255 / (top - low)
    offset = -low * scale
    if deep.mode == "I":
        return deep.point(lambda value: value * scale + offset, "L")
    return deep.point(lambda value: value * scale + offset).convert("L")


def _decode(data: bytes, width: int, height: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            photo = Image.open(io.BytesIO(data))
            if photo.width * photo.height > MAX_SOURCE_PIXELS:
                raise ImageConversionError(f"photo too large to convert ({photo.width}x{photo.height})")
            # JPEG only: decode at a reduced scale that is still at least twice the target.
            photo.draft("RGB", (width * 2, height * 2))
            photo = ImageOps.exif_transpose(photo)
            return to_rgb(photo)
    except ImageConversionError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            OSError, ValueError, SyntaxError):
        raise ImageConversionError("the downloaded photo could not be decoded") from None

