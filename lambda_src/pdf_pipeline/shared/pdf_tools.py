"""The PDF library edge (``pdf_pipeline.core``) as one injectable object.

Logic functions take a ``PdfTools`` instead of importing core themselves, so a test can
hand them a stand-in and the failsafe worker shares the Lambda functions' logic unchanged.
``pdf_tools()`` is the real one (pypdfium2 behind core), imported on first use.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class PdfTools:
    rejected: type[Exception]               # core.pdf.Rejected: .reason (RejectReason), .detail
    count_pages: Callable[..., int]
    classify: Callable[..., Any]
    needs_page_count: Callable[..., bool]
    split_into_chunks: Callable[..., Any]
    split_into_pages: Callable[..., Any]
    render_page: Callable[..., Any]


def _render_page(*args: Any, **kwargs: Any) -> Any:
    # Rendering needs numpy and ISA-L (the PNG encoder): imported only by what renders, so
    # classify and split_small bundle and load pypdfium2 alone.
    from ..core.render import render_page

    return render_page(*args, **kwargs)


@functools.cache
def pdf_tools() -> PdfTools:
    from ..core import pdf, split

    return PdfTools(rejected=pdf.Rejected, count_pages=pdf.count_pages, classify=pdf.classify,
                    needs_page_count=pdf.needs_page_count, split_into_chunks=split.split_into_chunks,
                    split_into_pages=split.split_into_pages, render_page=_render_page)
