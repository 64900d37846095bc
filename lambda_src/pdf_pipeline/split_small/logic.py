"""A chunk (pages first..last of a document, as one PDF) -> one-page PDFs in the work bucket.

The chunk is either a small document itself (pages 1..n) or one of the large splitter's
chunks. Each page goes to ``Keys.page_pdf`` (numbered in the original document), so redoing
a chunk overwrites the same objects, and becomes a PageMessage for the single-page queue.
"""
from __future__ import annotations

from pathlib import Path

from ..messages import ChunkMessage, Keys, PageMessage, Stage, Status
from ..shared.audit import AuditTrail, chunk_unit, page_unit
from ..shared.pdf_tools import PdfTools
from ..shared.store import ObjectStore
from ..shared.work import Destination, Step

PDF = "application/pdf"


class ChunkMismatch(ValueError):
    """A chunk's PDF does not hold the pages its message says."""


def ids_metadata(batch_id: str, document_id: str, page: int) -> dict[str, str]:
    return {"batch-id": batch_id, "document-id": document_id, "page": str(page)}


def split_chunk(chunk: ChunkMessage, *, store: ObjectStore, tools: PdfTools, work_bucket: str, trail: AuditTrail,
                scratch: Path) -> Step:
    """``scratch`` is an empty directory for the chunk's download."""
    started = trail.clock.monotonic()
    unit = chunk_unit(chunk.first_page, chunk.last_page)
    source = scratch / "chunk.pdf"
    store.download(chunk.bucket, chunk.key, source)
    step = Step()
    try:
        for number, page_pdf in tools.split_into_pages(source, first_page=chunk.first_page):
            page_started = trail.clock.monotonic()
            key = Keys.page_pdf(chunk.batch_id, chunk.document_id, number)
            store.put(work_bucket, key, page_pdf, content_type=PDF,
                      metadata=ids_metadata(chunk.batch_id, chunk.document_id, number))
            step.outputs.append((Destination.SINGLE_PAGE, PageMessage(
                batch_id=chunk.batch_id, document_id=chunk.document_id, bucket=work_bucket, key=key, page=number)))
            step.events.append(trail.event(
                batch_id=chunk.batch_id, stage=Stage.SPLIT_SMALL, status=Status.SUCCEEDED,
                document_id=chunk.document_id, unit=page_unit(number), started=page_started,
                detail={"chunk": unit, "bytes": len(page_pdf), "key": key}))
    except tools.rejected as rejection:
        # The document's rejection (unit ""): its pages in this chunk can never be produced.
        return Step(events=[trail.event(
            batch_id=chunk.batch_id, stage=Stage.SPLIT_SMALL, status=Status.REJECTED, document_id=chunk.document_id,
            started=started, detail={"reason": rejection.reason.value, "detail": rejection.detail, "chunk": unit})])
    finally:
        source.unlink(missing_ok=True)
    expected = list(range(chunk.first_page, chunk.last_page + 1))
    produced = [message.page for _, message in step.outputs]
    if produced != expected:
        raise ChunkMismatch(f"chunk s3://{chunk.bucket}/{chunk.key} ({unit}) split into pages "
                            f"{produced[:3]}...{produced[-3:]} ({len(produced)}), expected {len(expected)}")
    return step
