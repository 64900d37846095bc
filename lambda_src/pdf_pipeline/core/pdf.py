"""Open PDFs with pdfium, say why one cannot be processed, and classify documents by size.

Every stage opens documents through ``open_pdf``, so a document that cannot be processed is
refused the same way everywhere, as ``Rejected`` with a ``RejectReason``:

- ``empty``: zero bytes.
- ``not_pdf``: no ``%PDF-`` header within the first 1024 bytes (where readers look for it,
  PDF 32000-1 annex H.3 note 3; pdfium does the same), e.g. a PNG or an HTML error page
  saved as .pdf.
- ``encrypted``: pdfium needs a password (FPDF_ERR_PASSWORD) or does not support the
  security handler (FPDF_ERR_SECURITY). A document encrypted with an empty user password
  (owner password only: print/copy restrictions) opens like any other and is processed.
- ``corrupt``: a PDF header, but pdfium cannot load it (truncated, broken xref that it
  cannot rebuild, ...).
- ``no_pages``: loads, but its page tree is empty.

Sizes: thresholds are bytes; the pipeline's "10 MB" is 10 MiB = 10,485,760 bytes.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..messages import RejectReason, SizeClass

HEADER = b"%PDF-"
HEADER_WINDOW = 1024

_PDFIUM_ERRORS = {
    pdfium_c.FPDF_ERR_UNKNOWN: "unknown error",
    pdfium_c.FPDF_ERR_FILE: "file not found or could not be opened",
    pdfium_c.FPDF_ERR_FORMAT: "not in PDF format or corrupted",
    pdfium_c.FPDF_ERR_PASSWORD: "password required or incorrect password",
    pdfium_c.FPDF_ERR_SECURITY: "unsupported security scheme",
    pdfium_c.FPDF_ERR_PAGE: "page not found or content error",
}


class Rejected(Exception):
    """A document (or page) that the pipeline cannot process, and why: terminal, not retried."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


Source = bytes | Path


def _leading_bytes(source: Source) -> tuple[int, bytes]:
    if isinstance(source, Path):
        with source.open("rb") as file:
            return os.fstat(file.fileno()).st_size, file.read(HEADER_WINDOW)
    return len(source), bytes(source[:HEADER_WINDOW])


def check_header(source: Source) -> None:
    """Rejected (empty, not_pdf) unless the source starts like a PDF: cheap, before pdfium."""
    size, leading = _leading_bytes(source)
    if size == 0:
        raise Rejected(RejectReason.EMPTY, "the object has zero bytes")
    if HEADER not in leading:
        raise Rejected(RejectReason.NOT_PDF, f"no {HEADER.decode()} header in the first {HEADER_WINDOW} bytes")


@contextmanager
def open_pdf(source: Source) -> Iterator[pdfium.PdfDocument]:
    """The document, opened by pdfium without a password; Rejected when it cannot be processed.

    A path is opened lazily (pdfium reads objects from the file as they are needed, so a
    document of gigabytes is never held in memory); bytes are used in place, not copied,
    and kept alive until the document is closed (``source`` is a local of this generator).
    """
    check_header(source)
    if isinstance(source, Path):
        handle = pdfium_c.FPDF_LoadDocument(os.fsencode(source) + b"\x00", None)
    else:
        handle = pdfium_c.FPDF_LoadMemDocument64(source, len(source), None)
    if not handle:
        error = pdfium_c.FPDF_GetLastError()
        reason = (RejectReason.ENCRYPTED if error in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY)
                  else RejectReason.CORRUPT)
        raise Rejected(reason, f"pdfium cannot load it: {_PDFIUM_ERRORS.get(error, f'error {error}')}")
    # PdfDocument takes the handle over (and closes it); pypdfium2's own loader would raise
    # for a zero-page document and leave that handle open.
    document = pdfium.PdfDocument(handle)
    try:
        if len(document) < 1:
            raise Rejected(RejectReason.NO_PAGES, "the document has no pages")
        yield document
    finally:
        document.close()


def count_pages(source: Source) -> int:
    """The document's page count; Rejected (empty, not_pdf, encrypted, corrupt, no_pages)."""
    with open_pdf(source) as document:
        return len(document)


def needs_page_count(size_bytes: int, *, large_bytes: int) -> bool:
    """Whether classifying needs the page count: not over the size threshold, where the size
    alone makes a document large and it is never downloaded to be counted."""
    return size_bytes <= large_bytes


def classify(size_bytes: int, page_count: int | None, *, large_bytes: int, large_pages: int) -> SizeClass:
    """large: over ``large_bytes`` or over ``large_pages`` pages; single page: exactly one
    page; small: 2..``large_pages`` pages. ``page_count`` may be None only over the size
    threshold (``needs_page_count``)."""
    if size_bytes < 0 or large_bytes < 0 or large_pages < 1:
        raise ValueError(f"sizes and thresholds must be positive: size {size_bytes}, "
                         f"large_bytes {large_bytes}, large_pages {large_pages}")
    if size_bytes > large_bytes:
        return SizeClass.LARGE
    if page_count is None:
        raise ValueError(f"a {size_bytes}-byte document (at most {large_bytes}) needs its page count to be classified")
    if page_count < 1:
        raise ValueError(f"a document with {page_count} pages cannot be classified (count_pages rejects it)")
    if page_count > large_pages:
        return SizeClass.LARGE
    return SizeClass.SINGLE_PAGE if page_count == 1 else SizeClass.SMALL
