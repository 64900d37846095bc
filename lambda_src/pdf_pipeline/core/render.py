"""Render one page to a PNG at a DPI, within a pixel cap.

The page is rendered by pdfium straight into an RGB buffer (no PIL round trip) whose size
is the page's displayed size (its /Rotate applied, as a viewer shows it) times DPI / 72,
rounded to whole pixels, and encoded by ``png.encode_png``.

Pixel cap: a page whose render at ``dpi`` would exceed ``max_pixels`` is rendered at the
highest whole DPI that fits, and ``RenderedPage.dpi`` says which; a page that does not fit
even at 1 DPI is ``Rejected(page_too_large)``. Memory is bounded by the cap: about 7 bytes a
pixel at the peak (the RGB render, its filtered copy and the compressed PNG).

Colour: pages are rendered in RGB, which is what image models take; ``grayscale=True``
renders a one-channel greyscale PNG (a third of the pixels to encode and store) for a
model that needs no colour.
"""
from __future__ import annotations

import ctypes
import math
from dataclasses import dataclass

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..messages import RejectReason
from .pdf import Rejected, Source, open_pdf
from .png import Scratch, encode_png

POINTS_PER_INCH = 72


@dataclass(frozen=True)
class RenderedPage:
    png: bytes
    width: int
    height: int
    dpi: float


def pixel_size(width_points: float, height_points: float, dpi: float) -> tuple[int, int]:
    """(width, height) in pixels of a page of that many points at ``dpi``."""
    return (max(1, round(width_points * dpi / POINTS_PER_INCH)),
            max(1, round(height_points * dpi / POINTS_PER_INCH)))


def fitting_dpi(width_points: float, height_points: float, *, dpi: int, max_pixels: int) -> int:
    """``dpi``, or the highest whole DPI below it at which the page fits in ``max_pixels``;
    Rejected(page_too_large) when not even 1 DPI fits."""
    if dpi < 1 or max_pixels < 1:
        raise ValueError(f"dpi and max_pixels must be at least 1, got dpi {dpi}, max_pixels {max_pixels}")
    area = max(width_points, 1e-9) * max(height_points, 1e-9)
    fitting = min(dpi, math.floor(POINTS_PER_INCH * math.sqrt(max_pixels / area)))
    # rounding to whole pixels may still overshoot by a row or a column: step down
    while fitting >= 1 and math.prod(pixel_size(width_points, height_points, fitting)) > max_pixels:
        fitting -= 1
    if fitting < 1:
        width, height = pixel_size(width_points, height_points, 1)
        raise Rejected(RejectReason.PAGE_TOO_LARGE,
                       f"a {width_points:.0f} x {height_points:.0f} point page is {width} x {height} pixels "
                       f"even at 1 DPI, over the cap of {max_pixels} pixels")
    return fitting


def render_into(pixels: np.ndarray, page: pdfium.PdfPage, *, formenv: pdfium.PdfFormEnv | None = None) -> None:
    """Render ``page`` to fill ``pixels``, a C-contiguous (h, w, 3) RGB or (h, w) greyscale
    uint8 array: on white, annotations and form fields drawn."""
    if pixels.dtype != np.uint8 or not pixels.flags.c_contiguous or pixels.shape[2:] not in ((), (3,)):
        raise ValueError(f"expected C-contiguous (h, w) or (h, w, 3) uint8 pixels, got {pixels.shape} {pixels.dtype}")
    height, width = pixels.shape[:2]
    grayscale = pixels.ndim == 2
    pixels.fill(255)   # white paper; numpy's memset is ten times pdfium's 24-bit FillRect
    buffer = (ctypes.c_ubyte * pixels.size).from_buffer(pixels)
    bitmap = pdfium_c.FPDFBitmap_CreateEx(width, height, pdfium_c.FPDFBitmap_Gray if grayscale
                                          else pdfium_c.FPDFBitmap_BGR, buffer, pixels.strides[0])
    if not bitmap:
        raise MemoryError(f"pdfium cannot create a {width} x {height} bitmap")
    try:
        # REVERSE_BYTE_ORDER: RGB, the PNG order, instead of pdfium's native BGR
        flags = pdfium_c.FPDF_ANNOT | (pdfium_c.FPDF_GRAYSCALE if grayscale else pdfium_c.FPDF_REVERSE_BYTE_ORDER)
        # rotate=0: pdfium applies the page's own /Rotate; the size is already the rotated one
        pdfium_c.FPDF_RenderPageBitmap(bitmap, page, 0, 0, width, height, 0, flags)
        if formenv is not None:
            pdfium_c.FPDF_FFLDraw(formenv, bitmap, page, 0, 0, width, height, 0, flags)
    finally:
        pdfium_c.FPDFBitmap_Destroy(bitmap)   # the buffer is ours: pdfium frees only its handle


def _shape(page: pdfium.PdfPage, dpi: float, grayscale: bool) -> tuple[int, ...]:
    width, height = pixel_size(*page.get_size(), dpi)
    return (height, width) if grayscale else (height, width, 3)


def render_pixels(page: pdfium.PdfPage, *, dpi: float, grayscale: bool = False,
                  formenv: pdfium.PdfFormEnv | None = None) -> np.ndarray:
    """The page rendered at ``dpi`` into a new array (``render_into``)."""
    pixels = np.empty(_shape(page, dpi, grayscale), np.uint8)
    render_into(pixels, page, formenv=formenv)
    return pixels


_PIXELS = Scratch()


def render_page(source: Source, *, dpi: int, max_pixels: int, page_index: int = 0,
                grayscale: bool = False) -> RenderedPage:
    """Page ``page_index`` (from 0) of ``source`` as a PNG; Rejected when the document
    cannot be processed (pdf.open_pdf) or the page is too large (``fitting_dpi``)."""
    with open_pdf(source) as document:
        if not 0 <= page_index < len(document):
            raise IndexError(f"page index {page_index} is outside the document's {len(document)} pages")
        document.init_forms()   # a no-op without forms; must precede loading the page
        try:
            page = document[page_index]
        except pdfium.PdfiumError as error:
            raise Rejected(RejectReason.CORRUPT, f"pdfium cannot load page {page_index + 1}: {error}") from None
        try:
            used_dpi = fitting_dpi(*page.get_size(), dpi=dpi, max_pixels=max_pixels)
            pixels = _PIXELS.array(_shape(page, used_dpi, grayscale))
            render_into(pixels, page, formenv=document.formenv)
        finally:
            page.close()
    return RenderedPage(png=encode_png(pixels), width=pixels.shape[1], height=pixels.shape[0], dpi=float(used_dpi))
