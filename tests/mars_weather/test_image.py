"""Photo -> BMP for the PyPortal: size, palette, file size, and a header OnDiskBitmap accepts.

The header is parsed here byte by byte (not with Pillow), against what CircuitPython's
``shared-module/displayio/OnDiskBitmap.c`` reads: "BM"; the data offset (uint16 there);
a 12/40/108/124-byte DIB header; width and height read as unsigned (so no top-down
negative height) with rows indexed from the bottom; bits per pixel; compression 0 or 3;
the colour count at offset 46 (0 means 2^bpp); the palette as 4-byte BGRX entries at
``14 + header size``; at least 138 bytes in the file (older releases read that many).
"""
from __future__ import annotations

import ast
import io
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from lambda_src.mars_weather.display_data import image
from lambda_src.mars_weather.display_data.image import MAX_BMP_BYTES, ImageConversionError, to_display_bmp

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


def pixel(data: bytes, x: int, y: int) -> tuple[int, int, int]:
    """The RGB colour at ``(x, y)`` (top-down, as on screen), read from the BMP's bytes."""
    header = parse_bmp(data)
    stride = (header["width"] + 3) // 4 * 4
    row = header["height"] - 1 - y  # rows are stored bottom-up
    index = data[header["data_offset"] + row * stride + x]
    blue, green, red, _ = header["palette"][index]
    return red, green, blue


def encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


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


def test_a_uniform_photo_still_gets_a_full_256_entry_palette():
    data = to_display_bmp(photo(1600, 1200, (200, 80, 40)))

    header = parse_bmp(data)
    assert header["colours_used"] == 256
    assert header["data_offset"] == 14 + 40 + 256 * 4
    assert len(header["palette"]) == 256
    assert max(data[header["data_offset"]:]) < 256
    red, green, blue = pixel(data, 160, 120)
    assert abs(red - 200) <= 2 and abs(green - 80) <= 2 and abs(blue - 40) <= 2


def test_unused_palette_entries_are_black_padding():
    data = to_display_bmp(photo(1600, 1200, (10, 200, 30)))

    used = set(data[parse_bmp(data)["data_offset"]:])
    unused = [entry for index, entry in enumerate(parse_bmp(data)["palette"]) if index not in used]
    assert unused and all(entry == (0, 0, 0, 0) for entry in unused)


def grey_gradient(mode: str, top: float) -> Image.Image:
    """256x64, black on the left to ``top`` (full scale of ``mode``) on the right."""
    gradient = Image.new(mode, (256, 64))
    gradient.putdata([x * top / 255 if mode == "F" else round(x * top / 255) for _ in range(64) for x in range(256)])
    return gradient


@pytest.mark.parametrize("mode, top, fmt", [("I;16", 65535, "PNG"), ("I", 65535, "TIFF"), ("F", 1.0, "TIFF")],
                         ids=["16-bit PNG", "32-bit int TIFF of 16-bit samples", "float TIFF 0-1"])
def test_a_deep_grey_gradient_keeps_its_gradient_instead_of_turning_white(mode, top, fmt):
    data = to_display_bmp(encoded(grey_gradient(mode, top), fmt))

    # 256x64 letterboxes to 320x80, rows 80-159; sample its middle row left to right.
    levels = [pixel(data, x, 120)[0] for x in (2, 80, 160, 240, 317)]
    assert levels[0] <= 8 and levels[-1] >= 247
    assert abs(levels[2] - 128) <= 12
    assert levels == sorted(levels)
    assert all(red == green == blue for red, green, blue in (pixel(data, x, 120) for x in (2, 160, 317)))


def half_transparent(mode: str) -> Image.Image:
    """Left half fully transparent red, right half opaque green, in ``mode``."""
    rgba = Image.new("RGBA", (200, 150), (0, 200, 0, 255))
    rgba.paste((255, 0, 0, 0), (0, 0, 100, 150))
    if mode == "P":
        paletted = rgba.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=2)
        red_index = paletted.getpixel((10, 10))
        paletted.info["transparency"] = red_index
        return paletted
    if mode == "LA":
        return rgba.convert("LA")
    return rgba


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparent_pixels_become_the_black_background(mode):
    data = to_display_bmp(encoded(half_transparent(mode), "PNG"))

    assert pixel(data, 60, 120) == (0, 0, 0)
    red, green, blue = pixel(data, 260, 120)
    assert green > 100 and (mode == "LA" or (red < 40 and blue < 40))


def test_a_cmyk_jpeg_converts_to_its_rgb_colours():
    cyan = Image.new("CMYK", (400, 300), (255, 0, 0, 0))

    red, green, blue = pixel(to_display_bmp(encoded(cyan, "JPEG")), 160, 120)

    assert red < 40 and green > 215 and blue > 215


def test_bytes_that_are_not_an_image_are_rejected_with_a_reason():
    with pytest.raises(ImageConversionError, match="could not be decoded"):
        to_display_bmp(b"<html><body>Service Unavailable</body></html>")


def test_a_truncated_jpeg_is_rejected_with_a_reason():
    with pytest.raises(ImageConversionError, match="could not be decoded"):
        to_display_bmp(jpeg_bytes(640, 480)[:300])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(width=st.integers(min_value=1, max_value=1400), height=st.integers(min_value=1, max_value=1400))
@example(width=640, height=1)  # a strip: scaling must not round its height to zero
@example(width=1, height=480)
def test_any_photo_shape_becomes_a_bounded_320_by_240_palette_bmp(width, height):
    data = to_display_bmp(photo(width, height))

    header = parse_bmp(data)
    assert (header["width"], header["height"], header["bits_per_pixel"]) == (320, 240, 8)
    assert header["colours_used"] == 256
    assert len(data) == MAX_BMP_BYTES == 77_878


# --- what the device accepts -----------------------------------------------------------------

DEVICE_CODE = Path(__file__).resolve().parents[2] / "device" / "pyportal" / "code.py"


_ARITHMETIC = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
               ast.FloorDiv: lambda a, b: a // b}


def _whole_number(node: ast.expr, known: dict[str, int]) -> int | None:
    """The value of integer arithmetic on literals and ``known`` names, else ``None``."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.Name):
        return known.get(node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        left, right = _whole_number(node.left, known), _whole_number(node.right, known)
        return None if left is None or right is None else _ARITHMETIC[type(node.op)](left, right)
    return None


def device_constants() -> dict[str, int]:
    """The whole-number constants code.py defines at its top level (it imports hardware
    modules, so it is read, not imported)."""
    constants: dict[str, int] = {}
    for node in ast.parse(DEVICE_CODE.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = _whole_number(node.value, constants)
            if value is not None:
                constants[node.targets[0].id] = value
    return constants


def test_the_device_accepts_every_bmp_the_function_can_write():
    device = device_constants()

    assert (image.WIDTH, image.HEIGHT) == (device["WIDTH"], device["HEIGHT"])
    assert image.bmp_size(device["WIDTH"], device["HEIGHT"]) == MAX_BMP_BYTES <= device["MAX_IMAGE_BYTES"]
    assert image.MAX_COLOURS <= device["PALETTE_COLOURS"]
    assert image.FILE_HEADER_BYTES + image.INFO_HEADER_BYTES == device["BMP_HEADER_BYTES"]
