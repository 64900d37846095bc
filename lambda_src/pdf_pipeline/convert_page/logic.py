"""One page -> a PNG in the images bucket (``Keys.page_png``), rendered at ``dpi``, or lower when
that would exceed ``max_pixels`` (the DPI used is recorded); a page that cannot fit even at
1 DPI is rejected ``page_too_large``. The PNG's S3 metadata carries the ids, page, DPI and size.
"""
from __future__ import annotations

from ..messages import Keys, PageMessage, Stage, Status
from ..shared.audit import AuditTrail, page_unit
from ..shared.pdf_tools import PdfTools
from ..shared.store import ObjectStore
from ..shared.work import Step

PNG = "image/png"
# A one-page PDF larger than this is refused rather than read into memory (the failsafe
# quarantines it with ObjectTooLarge as the reason).
MAX_PAGE_PDF_BYTES = 64 * 1024 * 1024


def convert(page: PageMessage, *, store: ObjectStore, tools: PdfTools, images_bucket: str, dpi: int,
            max_pixels: int, trail: AuditTrail) -> Step:
    started = trail.clock.monotonic()
    unit = page_unit(page.page)
    source = store.read(page.bucket, page.key, max_bytes=MAX_PAGE_PDF_BYTES)
    try:
        rendered = tools.render_page(source, dpi=dpi, max_pixels=max_pixels, page_index=0)
    except tools.rejected as rejection:
        return Step(events=[trail.event(
            batch_id=page.batch_id, stage=Stage.CONVERTED, status=Status.REJECTED, document_id=page.document_id,
            unit=unit, started=started, detail={"reason": rejection.reason.value, "detail": rejection.detail})])
    key = Keys.page_png(page.batch_id, page.document_id, page.page)
    store.put(images_bucket, key, rendered.png, content_type=PNG, metadata={
        "batch-id": page.batch_id, "document-id": page.document_id, "page": str(page.page),
        "dpi": f"{rendered.dpi:g}", "width": str(rendered.width), "height": str(rendered.height)})
    return Step(events=[trail.event(
        batch_id=page.batch_id, stage=Stage.CONVERTED, status=Status.SUCCEEDED, document_id=page.document_id,
        unit=unit, started=started,
        detail={"key": key, "width": rendered.width, "height": rendered.height, "dpi": rendered.dpi,
                "requested_dpi": dpi, "png_bytes": len(rendered.png)})])
