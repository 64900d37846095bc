"""Rover photo -> 320x240 indexed-colour BMP that CircuitPython's ``displayio.OnDiskBitmap`` loads.

Fit: **letterbox**. The whole frame is scaled to fit inside 320x240 keeping its aspect
ratio and centred on black; nothing of the scene is cut off. Rover frames are often
square (navigation and hazard cameras: 1024x1024) or tall subframes, where cropping to
4:3 would throw away a quarter or more of the picture; the black bars blend with the
device's dark label boxes.

Format: Windows BMP, ``BITMAPINFOHEADER`` (40 bytes), 8 bits per pixel, ``BI_RGB``
(uncompressed), a palette of at most 256 BGRX entries right after the header, rows
bottom-up (positive height). That is exactly what ``OnDiskBitmap`` reads: it accepts
header sizes 12/40/108/124, compression 0 or 3, takes the palette from offset
``14 + header size`` and indexes rows from the bottom. Size: 14 + 40 + 4 x colours +
320 x 240 <= 77,878 bytes.
"""
from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

WIDTH = 320
HEIGHT = 240
MAX_COLOURS = 256
FIT = "letterbox"
BACKGROUND = (0, 0, 0)
# 14-byte file header + 40-byte info header + full palette + one byte per pixel.
MAX_BMP_BYTES = 14 + 40 + 4 * MAX_COLOURS + WIDTH * HEIGHT
# Largest photo decoded; raw frames are at most a few megapixels.
MAX_SOURCE_PIXELS = 50_000_000
CONTENT_TYPE = "image/bmp"


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
    buffer = io.BytesIO()
    indexed.save(buffer, format="BMP")
    bmp = buffer.getvalue()
    if len(bmp) > 14 + 40 + 4 * colours + _row_bytes(width) * height:
        raise ImageConversionError(f"converted photo unexpectedly large ({len(bmp)} bytes)")
    return bmp


def letterbox(photo: Image.Image, width: int, height: int) -> Image.Image:
    """``photo`` scaled to fit ``width`` x ``height`` (aspect kept), centred on black."""
    scale = min(width / photo.width, height / photo.height)
    # At least one pixel each way: a 1600x1 strip must not become 320x0.
    size = (max(1, min(width, round(photo.width * scale))), max(1, min(height, round(photo.height * scale))))
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    canvas.paste(photo.resize(size, Image.Resampling.LANCZOS), ((width - size[0]) // 2, (height - size[1]) // 2))
    return canvas


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
            return photo.convert("RGB")
    except ImageConversionError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            OSError, ValueError, SyntaxError):
        raise ImageConversionError("the downloaded photo could not be decoded") from None


def _row_bytes(width: int) -> int:
    return (width + 3) // 4 * 4
