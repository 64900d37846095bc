"""Split documents into chunks (files, for large documents) and single pages (bytes).

A chunk or a single page is a new document into which pdfium imports the pages
(FPDF_ImportPagesByIndex): each page keeps its content stream, resources, inherited
attributes (MediaBox, CropBox, Rotate, Resources) and annotations, so it renders exactly as
it did in the original. Form fields are flattened into the page first (they would not be
drawn without the original's AcroForm). Page numbers are the original document's, from 1.

Memory: the source is opened from its path, which pdfium reads lazily, and each chunk is
written to disk and closed before the next one is built. pdfium keeps every object it has
parsed for as long as a document is open (so the pages' content would pile up: a 300 MB
document would cost 300 MB), so the source is reopened once the chunks written since it was
opened reach ``reopen_after_bytes``. What stays is pdfium's page index, the page
dictionaries up to the page it reads (about 2 KB a page, a few MB for thousands of pages),
never the content (benchmarks/pdf_conversion.py measures 1,000 and 5,000 pages).
"""
from __future__ import annotations

import io
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..messages import RejectReason
from .pdf import Rejected, Source, open_pdf

REOPEN_AFTER_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class Chunk:
    first_page: int   # numbers in the original document, from 1
    last_page: int
    path: Path


def chunk_file_name(first_page: int, last_page: int) -> str:
    return f"{first_page:06d}-{last_page:06d}.pdf"


@contextmanager
def _open_for_copy(source: Source) -> Iterator[pdfium.PdfDocument]:
    with open_pdf(source) as document:
        document.init_forms()   # before any page is loaded; a no-op without forms
        yield document


def _flatten_form_fields(document: pdfium.PdfDocument, indexes: list[int]) -> None:
    """Form fields into page content: a copied page keeps its widget annotations but not the
    document's AcroForm, and pdfium draws widgets only through a document's form, so the
    fields' values would vanish from the copy. Flattened (with the form loaded, which builds
    missing appearances), they are drawn as page content. Other annotations draw as before."""
    if document.formenv is None:
        return
    for index in indexes:
        page = document[index]
        try:
            if pdfium_c.FPDFPage_GetAnnotCount(page) > 0:
                pdfium_c.FPDFPage_Flatten(page, pdfium_c.FLAT_NORMALDISPLAY)
        finally:
            page.close()


def _extract(source: pdfium.PdfDocument, indexes: list[int]) -> pdfium.PdfDocument:
    """A new document of the pages at ``indexes``; Rejected(corrupt) when pdfium cannot copy
    them (a page object that the file's cross-reference table points at but does not hold)."""
    _flatten_form_fields(source, indexes)
    target = pdfium.PdfDocument.new()
    try:
        target.import_pages(source, indexes)
    except pdfium.PdfiumError:
        target.close()
        raise Rejected(RejectReason.CORRUPT,
                       f"pdfium cannot copy pages {indexes[0] + 1}-{indexes[-1] + 1}") from None
    return target


def split_into_chunks(source: Path, *, chunk_pages: int, out_dir: Path,
                      reopen_after_bytes: int = REOPEN_AFTER_BYTES) -> Iterator[Chunk]:
    """Chunks of at most ``chunk_pages`` pages, each written to ``out_dir`` and then yielded
    (the caller uploads and deletes it before asking for the next: disk holds one chunk).
    Rejected (pdf.open_pdf) when the document cannot be processed."""
    if chunk_pages < 1:
        raise ValueError(f"chunk_pages must be at least 1, got {chunk_pages}")
    first = 0
    page_count = None
    while page_count is None or first < page_count:
        with _open_for_copy(source) as document:
            page_count = len(document)
            written = 0
            while first < page_count and written < reopen_after_bytes:
                last = min(first + chunk_pages, page_count)
                path = out_dir / chunk_file_name(first + 1, last)
                chunk = _extract(document, list(range(first, last)))
                try:
                    chunk.save(path)
                finally:
                    chunk.close()
                written += path.stat().st_size
                yield Chunk(first + 1, last, path)
                first = last


def split_into_pages(source: Source, *, first_page: int = 1) -> Iterator[tuple[int, bytes]]:
    """(page number, one-page PDF) for every page of ``source``, a chunk whose first page is
    page ``first_page`` of the original document."""
    if first_page < 1:
        raise ValueError(f"first_page must be at least 1, got {first_page}")
    with _open_for_copy(source) as document:
        for index in range(len(document)):
            page = _extract(document, [index])
            buffer = io.BytesIO()
            try:
                page.save(buffer)
            finally:
                page.close()
            yield first_page + index, buffer.getvalue()
