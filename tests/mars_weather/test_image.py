"""Photo -> BMP for the PyPortal: size, palette, file size, and a header OnDiskBitmap accepts.

The header is parsed here byte by byte (not with Pillow), against what CircuitPython's
``shared-module/displayio/OnDiskBitmap.c`` reads: "BM"; the data offset (uint16 there);
a 12/40/108/124-byte DIB header; width and height read as unsigned (so no top-down
negative height) with rows indexed from the bottom; bits per pixel; compression 0 or 3;
the colour count at offset 46 (0 means 2^bpp); the palette as 4-byte BGRX entries at
``14 + header size``; at least 138 bytes in the file (older releases read that many).
"""
from __future__ import annotations

import io
import struct

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from lambda_src.mars_weather.display_data.image import ImageConversionError, to_display_bmp

from .conftest import jpeg_bytes


def parse_bmp(data: bytes) -> dict:
    magic, file_size, _reserved1, _reserved2, data_offset = struct.unpack_from("<2sIHHI", data, 0)
    (header_size, width, height, planes, bits_per_pixel, compression, image_size, _xppm, _yppm,
     colours_used, _important) = struct.unpack_from("<IiiHHIIiiII", data, 14)
    palette_start = 14 + header_size
    colours = colours_used or 2 ** bits_per_pixel
    palette = [struct.unpack_from("<BBBB", data, palette_start + 4 * i) for i in range(colours)]
    return {"magic": magic, "file_size": file_size, "data_offset": data_offset, "header_size": header_size,
            "width": width, "height": height, "planes": planes, "bits_per_pixel": bits_per_pixel,
            "compression": compression, "image_size": image_size, "colours_used": colours_used,
            "palette_start": palette_start, "palette": palette}


def photo(width: int, height: int, colour=(200, 80, 40), mode: str = "RGB", fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), colour if mode == "RGB" else 128).save(buffer, format=fmt)
    return buffer.getvalue()


def test_the_bmp_is_320_by_240_pixels():
    result = Image.open(io.BytesIO(to_display_bmp(jpeg_bytes(1600, 1200))))

    assert result.size == (320, 240)


def test_the_bmp_uses_an_indexed_palette_of_at_most_256_colours():
    result = Image.open(io.BytesIO(to_display_bmp(jpeg_bytes(1024, 1024))))

    assert result.mode == "P"
    assert len(result.getcolors(maxcolors=256) or []) <= 256
    assert 1 <= len(result.getpalette()) // 3 <= 256


def test_the_bmp_is_no_larger_than_an_8_bit_320_by_240_bitmap():
    data = to_display_bmp(jpeg_bytes(1648, 1200))

    assert len(data) <= 14 + 40 + 256 * 4 + 320 * 240  # 77,878 bytes


def test_the_bmp_header_is_one_circuitpython_ondiskbitmap_accepts():
    data = to_display_bmp(jpeg_bytes(1600, 1200))

    header = parse_bmp(data)

    assert header["magic"] == b"BM"
    assert header["file_size"] == len(data) >= 138
    assert header["header_size"] in (12, 40, 108, 124)
    assert header["header_size"] == 40
    assert (header["width"], header["height"]) == (320, 240)  # positive height: bottom-up rows
    assert header["planes"] == 1
    assert header["bits_per_pixel"] == 8
    assert header["compression"] == 0  # BI_RGB, uncompressed
    assert 1 <= header["colours_used"] <= 256
    # The palette sits right after the DIB header and the pixels right after the palette.
    assert header["data_offset"] == header["palette_start"] + 4 * header["colours_used"]
    assert header["data_offset"] < 2 ** 16  # OnDiskBitmap keeps the offset in a uint16
    assert all(reserved == 0 for *_bgr, reserved in header["palette"])
    stride = (320 + 3) // 4 * 4
    assert len(data) == header["data_offset"] + stride * 240


def test_the_pixel_indices_point_into_the_palette():
    data = to_display_bmp(jpeg_bytes(800, 600))
    header = parse_bmp(data)

    pixels = data[header["data_offset"]:]

    assert max(pixels) < header["colours_used"]


def test_a_square_photo_is_letterboxed_with_black_bars_left_and_right():
    result = Image.open(io.BytesIO(to_display_bmp(photo(1024, 1024, (220, 40, 30))))).convert("RGB")

    assert result.getpixel((5, 120)) == (0, 0, 0)
    assert result.getpixel((314, 120)) == (0, 0, 0)
    red, green, blue = result.getpixel((160, 120))
    assert red > 180 and green < 80 and blue < 80


def test_a_wide_photo_is_letterboxed_with_black_bars_top_and_bottom():
    result = Image.open(io.BytesIO(to_display_bmp(photo(1600, 600, (30, 200, 60))))).convert("RGB")

    assert result.getpixel((160, 5)) == (0, 0, 0)
    assert result.getpixel((160, 234)) == (0, 0, 0)
    assert result.getpixel((160, 120))[1] > 150


def test_a_photo_of_the_display_shape_fills_the_screen_without_bars():
    result = Image.open(io.BytesIO(to_display_bmp(photo(1600, 1200, (90, 90, 200))))).convert("RGB")

    assert result.getpixel((0, 0)) != (0, 0, 0)
    assert result.getpixel((319, 239)) != (0, 0, 0)


def test_a_greyscale_navigation_camera_frame_converts_too():
    result = Image.open(io.BytesIO(to_display_bmp(photo(1024, 1024, mode="L"))))

    assert (result.size, result.mode) == ((320, 240), "P")


def test_bytes_that_are_not_an_image_are_rejected_with_a_reason():
    with pytest.raises(ImageConversionError, match="could not be decoded"):
        to_display_bmp(b"<html><body>Service Unavailable</body></html>")


def test_a_truncated_jpeg_is_rejected_with_a_reason():
    with pytest.raises(ImageConversionError):
        to_display_bmp(jpeg_bytes(640, 480)[:300])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(width=st.integers(min_value=1, max_value=1400), height=st.integers(min_value=1, max_value=1400))
@example(width=640, height=1)  # a strip: scaling must not round its height to zero
@example(width=1, height=480)
def test_any_photo_shape_becomes_a_bounded_320_by_240_palette_bmp(width, height):
    data = to_display_bmp(photo(width, height))

    header = parse_bmp(data)
    assert (header["width"], header["height"], header["bits_per_pixel"]) == (320, 240, 8)
    assert header["colours_used"] <= 256
    assert len(data) <= 77_878
