"""core.render and core.png: size from page size x DPI, real content, rotation, the pixel
cap and its rejection, and PNGs that decode to exactly the rendered pixels."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from lambda_src.pdf_pipeline.core.pdf import Rejected
from lambda_src.pdf_pipeline.core.png import Scratch, encode_png
from lambda_src.pdf_pipeline.core.render import fitting_dpi, render_page, render_pixels
from lambda_src.pdf_pipeline.messages import RejectReason
from tests.pdf_pipeline.corpus import LETTER, POSTER, form_field_ink

CAP = 40_000_000


def decoded(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    image.load()
    return np.asarray(image)


def block_means(pixels: np.ndarray, block: int = 5) -> np.ndarray:
    """Pixels averaged over blocks: text rasterised at another angle differs in its
    anti-aliasing, not in where the ink is."""
    height, width = pixels.shape[0] // block * block, pixels.shape[1] // block * block
    return pixels[:height, :width].reshape(height // block, block, width // block, block, -1).mean(axis=(1, 3))


@pytest.mark.parametrize("dpi", [72, 150, 300])
def test_a_letter_page_renders_to_its_size_in_inches_times_the_dpi(pdf_corpus, dpi):
    page = render_page(pdf_corpus.path("text_page"), dpi=dpi, max_pixels=CAP)
    assert (page.width, page.height, page.dpi) == (round(8.5 * dpi), round(11 * dpi), dpi)


def test_the_png_has_the_reported_dimensions(pdf_corpus):
    page = render_page(pdf_corpus.path("vector_page"), dpi=150, max_pixels=CAP)
    assert Image.open(io.BytesIO(page.png)).size == (page.width, page.height) == (1275, 1650)


def test_an_odd_page_size_is_within_a_pixel_of_size_times_dpi(pdf_corpus):
    page = render_page(pdf_corpus.path("poster_page"), dpi=7, max_pixels=CAP)
    assert abs(page.width - POSTER[0] * 7 / 72) <= 1 and abs(page.height - POSTER[1] * 7 / 72) <= 1


@pytest.mark.parametrize("name", ["text_page", "vector_page", "photo_page"])
def test_every_kind_of_page_renders_with_content_on_it(pdf_corpus, name):
    pixels = decoded(render_page(pdf_corpus.path(name), dpi=50, max_pixels=CAP).png)
    inked = (pixels < 200).any(axis=2).mean()
    assert inked > 0.01, f"only {inked:.2%} of the pixels are not white"


def test_a_photo_page_renders_in_colour(pdf_corpus):
    pixels = decoded(render_page(pdf_corpus.path("photo_page"), dpi=50, max_pixels=CAP).png).astype(int)
    assert pixels.shape[2] == 3
    assert np.abs(pixels[..., 0] - pixels[..., 2]).mean() > 10


def test_a_filled_in_form_field_shows_its_value(pdf_corpus):
    assert form_field_ink(render_page(pdf_corpus.path("form_page"), dpi=72, max_pixels=CAP).png) > 0.02


def test_a_page_rotated_90_degrees_renders_landscape(pdf_corpus):
    page = render_page(pdf_corpus.path("rotated_page"), dpi=150, max_pixels=CAP)
    assert (page.width, page.height) == (1650, 1275)


def test_a_rotated_page_shows_its_content_turned_clockwise(pdf_corpus):
    """rotated_page is text_page (same seed) with /Rotate 90."""
    upright = decoded(render_page(pdf_corpus.path("text_page"), dpi=50, max_pixels=CAP).png).astype(float)
    rotated = decoded(render_page(pdf_corpus.path("rotated_page"), dpi=50, max_pixels=CAP).png).astype(float)
    clockwise = np.abs(block_means(np.rot90(upright, k=-1)) - block_means(rotated)).mean()
    counter_clockwise = np.abs(block_means(np.rot90(upright, k=1)) - block_means(rotated)).mean()
    assert clockwise < 6 < counter_clockwise


@pytest.mark.parametrize(("index", "size"), [(0, (425, 550)), (1, (550, 425)), (2, (425, 550)), (3, (550, 425))])
def test_each_page_rotation_gives_the_displayed_orientation(pdf_corpus, index, size):
    page = render_page(pdf_corpus.path("rotated_pages"), dpi=50, max_pixels=CAP, page_index=index)
    assert (page.width, page.height) == size


def test_a_poster_page_is_rendered_at_the_highest_dpi_within_the_pixel_cap(pdf_corpus):
    page = render_page(pdf_corpus.path("poster_page"), dpi=150, max_pixels=CAP)
    assert page.dpi == 31     # 200 in x 31 = 6,200 px a side: 38.4 M pixels; 32 DPI would be 41 M
    assert (page.width, page.height) == (6200, 6200)
    assert page.width * page.height <= CAP


def test_a_page_that_just_fits_the_cap_keeps_its_dpi():
    assert fitting_dpi(*LETTER, dpi=150, max_pixels=1275 * 1650) == 150


def test_a_page_one_pixel_over_the_cap_is_rendered_one_dpi_lower():
    assert fitting_dpi(*LETTER, dpi=150, max_pixels=1275 * 1650 - 1) == 149


def test_a_page_that_fits_only_at_one_dpi_is_rendered_at_one_dpi(pdf_corpus):
    page = render_page(pdf_corpus.path("poster_page"), dpi=150, max_pixels=200 * 200)
    assert (page.width, page.height, page.dpi) == (200, 200, 1)


def test_a_page_that_does_not_fit_even_at_one_dpi_is_rejected_as_too_large(pdf_corpus):
    with pytest.raises(Rejected, match="200 x 200 pixels even at 1 DPI, over the cap of 39999") as raised:
        render_page(pdf_corpus.path("poster_page"), dpi=150, max_pixels=200 * 200 - 1)
    assert raised.value.reason is RejectReason.PAGE_TOO_LARGE


def test_a_dpi_below_one_is_refused():
    with pytest.raises(ValueError, match="dpi and max_pixels must be at least 1"):
        fitting_dpi(*LETTER, dpi=0, max_pixels=CAP)


def test_a_page_index_outside_the_document_is_refused(pdf_corpus):
    with pytest.raises(IndexError, match="page index 2 is outside the document's 2 pages"):
        render_page(pdf_corpus.path("pages_2"), dpi=50, max_pixels=CAP, page_index=2)


def test_a_page_that_pdfium_cannot_load_is_rejected_as_corrupt(pdf_corpus):
    with pytest.raises(Rejected, match="cannot load page 2") as raised:
        render_page(pdf_corpus.bytes("missing_page"), dpi=50, max_pixels=CAP, page_index=1)
    assert raised.value.reason is RejectReason.CORRUPT


def test_an_encrypted_document_is_rejected_when_rendered(pdf_corpus):
    with pytest.raises(Rejected, match="password") as raised:
        render_page(pdf_corpus.bytes("encrypted"), dpi=50, max_pixels=CAP)
    assert raised.value.reason is RejectReason.ENCRYPTED


@pytest.mark.parametrize("name", ["text_page", "vector_page", "photo_page", "rotated_page"])
def test_the_png_decodes_to_exactly_the_rendered_pixels(pdf_corpus, name):
    document = pdfium.PdfDocument(pdf_corpus.path(name))
    try:
        rendered = render_pixels(document[0], dpi=150)
    finally:
        document.close()
    png = render_page(pdf_corpus.path(name), dpi=150, max_pixels=CAP).png
    assert np.array_equal(decoded(png), rendered)


@pytest.mark.parametrize("name", ["text_page", "vector_page", "photo_page"])
def test_the_png_is_at_most_one_and_a_half_times_pillows_default(pdf_corpus, name):
    page = render_page(pdf_corpus.path(name), dpi=150, max_pixels=CAP)
    buffer = io.BytesIO()
    Image.open(io.BytesIO(page.png)).save(buffer, "PNG")   # Pillow's default: level 6, adaptive filters
    assert len(page.png) <= 1.5 * len(buffer.getvalue())


def test_a_greyscale_render_is_a_one_channel_png_of_the_same_size(pdf_corpus):
    page = render_page(pdf_corpus.path("photo_page"), dpi=50, max_pixels=CAP, grayscale=True)
    image = Image.open(io.BytesIO(page.png))
    assert (image.mode, image.size) == ("L", (425, 550))


@pytest.mark.parametrize("shape", [(1, 1, 3), (7, 5, 3), (64, 33, 3), (1, 1), (9, 17)])
def test_any_image_encodes_losslessly(shape):
    pixels = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    assert np.array_equal(decoded(encode_png(pixels)), pixels)


def test_a_strided_view_encodes_as_its_pixels():
    pixels = np.random.default_rng(3).integers(0, 256, (40, 60, 3), dtype=np.uint8)[::2, 5:50]
    assert np.array_equal(decoded(encode_png(pixels)), pixels)


def test_pixels_that_are_not_8_bit_rgb_or_grey_are_refused():
    with pytest.raises(ValueError, match=r"expected \(h, w\) or \(h, w, 3\) uint8 pixels"):
        encode_png(np.zeros((4, 4, 4), np.uint8))


def test_the_png_is_signature_ihdr_idat_iend_with_valid_crcs():
    png = encode_png(np.full((3, 2, 3), 200, np.uint8))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, offset = [], 8
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset:offset + 4])
        kind, data = png[offset + 4:offset + 8], png[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length:offset + 12 + length])
        assert crc == zlib.crc32(kind + data), kind
        chunks.append((kind, data))
        offset += 12 + length
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    assert struct.unpack(">IIBBBBB", chunks[0][1]) == (2, 3, 8, 2, 0, 0, 0)   # 8-bit RGB, deflate, no interlace
    assert zlib.decompress(chunks[1][1]) == bytes([2, 200, 200, 200, 200, 200, 200] + [2] + [0] * 6 + [2] + [0] * 6)


def test_consecutive_renders_of_different_sizes_each_hold_only_their_own_page(pdf_corpus):
    """render_page reuses its pixel buffer from page to page."""
    render_page(pdf_corpus.path("photo_page"), dpi=150, max_pixels=CAP)
    smaller = render_page(pdf_corpus.path("text_page"), dpi=72, max_pixels=CAP)
    document = pdfium.PdfDocument(pdf_corpus.path("text_page"))
    try:
        assert np.array_equal(decoded(smaller.png), render_pixels(document[0], dpi=72))
    finally:
        document.close()


def test_scratch_buffers_over_the_limit_are_not_kept():
    scratch = Scratch(keep_bytes=100)
    kept = scratch.array((10, 10))
    assert np.shares_memory(kept, scratch.array((5, 5)))
    assert not np.shares_memory(scratch.array((20, 20)), scratch.array((5, 5)))
