"""Classification: which queue a document goes to, from its size and (when small enough) its
page count; or rejected, with the reason, when it cannot be processed at all.

The size comes from HeadObject. A document over ``large_bytes`` is large without being
downloaded; otherwise it is read (at most ``large_bytes``) and its pages are counted with
the PDF library. Large -> the large queue (the Fargate splitter); 2..``large_pages`` pages
-> the small queue as one chunk (the original object, pages 1..n); one page -> the single
page queue (the original object, page 1). A rejected document (empty, not a PDF, encrypted,
corrupt, no pages) is a terminal audit record, and its message succeeds: retrying cannot help.

The ingest queue is also where operators redrive quarantined work; a chunk or page message
found there goes straight back to its own stage.
"""
from __future__ import annotations

import dataclasses

from ..messages import ChunkMessage, DocumentMessage, PageMessage, SizeClass, Stage, Status
from ..shared.audit import AuditTrail
from ..shared.pdf_tools import PdfTools
from ..shared.store import ObjectStore
from ..shared.work import Destination, Step, unit_of

INGEST_KINDS = (DocumentMessage, ChunkMessage, PageMessage)


def rejected_event(trail: AuditTrail, *, stage: Stage, batch_id: str, document_id: str, unit: str,
                   rejection: Exception, started: float, **detail):
    return trail.event(batch_id=batch_id, stage=stage, status=Status.REJECTED, document_id=document_id, unit=unit,
                       started=started, detail={"reason": rejection.reason.value, "detail": rejection.detail, **detail})


def classify_document(document: DocumentMessage, *, store: ObjectStore, tools: PdfTools, large_bytes: int,
                      large_pages: int, trail: AuditTrail) -> Step:
    started = trail.clock.monotonic()
    head = store.head(document.bucket, document.key, document.version_id)
    version_id = document.version_id or head.version_id
    pages = None
    if tools.needs_page_count(head.size, large_bytes=large_bytes):
        data = store.read(document.bucket, document.key, version_id, max_bytes=large_bytes)
        try:
            pages = tools.count_pages(data)
        except tools.rejected as rejection:
            return Step(events=[rejected_event(trail, stage=Stage.CLASSIFIED, batch_id=document.batch_id,
                                               document_id=document.document_id, unit="", rejection=rejection,
                                               started=started, size_bytes=head.size)])
    size_class = SizeClass(tools.classify(head.size, pages, large_bytes=large_bytes, large_pages=large_pages))
    if size_class is SizeClass.LARGE:
        output = (Destination.LARGE, dataclasses.replace(
            document, version_id=version_id, size_bytes=head.size, size_class=size_class, page_count=pages))
    elif size_class is SizeClass.SMALL:
        output = (Destination.SMALL, ChunkMessage(batch_id=document.batch_id, document_id=document.document_id,
                                                  bucket=document.bucket, key=document.key,
                                                  first_page=1, last_page=pages))
    else:
        output = (Destination.SINGLE_PAGE, PageMessage(batch_id=document.batch_id, document_id=document.document_id,
                                                       bucket=document.bucket, key=document.key, page=1,
                                                       page_count=1))
    event = trail.event(batch_id=document.batch_id, stage=Stage.CLASSIFIED, status=Status.SUCCEEDED,
                        document_id=document.document_id, started=started,
                        detail={"size_class": size_class.value, "size_bytes": head.size, "version_id": version_id,
                                # unknown over the size threshold: the large splitter reports it
                                **({"page_count": pages} if pages is not None else {})})
    return Step(outputs=[output], events=[event])


def route_redriven(message: ChunkMessage | PageMessage) -> Step:
    """A redriven chunk or page goes back to the stage that processes it."""
    destination = Destination.SMALL if isinstance(message, ChunkMessage) else Destination.SINGLE_PAGE
    return Step(outputs=[(destination, message)])


def describe(message) -> str:
    return f"{message.KIND} {unit_of(message) or message.document_id}"
