"""A large document -> chunks of at most ``chunk_pages`` pages in the work bucket.

The document is streamed to task storage (boto3's download_file: never whole in memory),
split by the PDF library into chunk files one at a time, and each chunk is uploaded to its
deterministic key (``Keys.chunk``) and deleted locally before the next, so storage holds the
document plus one chunk. Each chunk is one ``Step`` (its ChunkMessage for the small queue and
its ``split_large`` audit event), yielded once the chunk is durable in S3.

Redoing a document (a redelivered message, a task stopped half-way) rewrites the same chunk
keys and repeats the same audit facts, which the writer keeps once: no chunk counts twice.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable, Iterator

from ..messages import ChunkMessage, DocumentMessage, Keys, Stage, Status
from ..shared.audit import AuditTrail, chunk_unit
from ..shared.pdf_tools import PdfTools
from ..shared.store import ObjectStore
from ..shared.work import Destination, Step
from .host import Stopped

PDF = "application/pdf"
STORAGE_HEADROOM = 64 * 1024 * 1024   # room for one chunk and the file system's own needs


class InsufficientStorage(RuntimeError):
    """The document does not fit on this task's storage (size the ephemeral storage up)."""


def split_large_document(document: DocumentMessage, *, store: ObjectStore, tools: PdfTools, work_bucket: str,
                         chunk_pages: int, trail: AuditTrail, work_dir: Path,
                         should_stop: Callable[[], bool] = lambda: False) -> Iterator[Step]:
    started = trail.clock.monotonic()
    free = shutil.disk_usage(work_dir).free
    if document.size_bytes + STORAGE_HEADROOM > free:
        raise InsufficientStorage(f"document of {document.size_bytes} bytes, {free} bytes free in {work_dir}")
    source = work_dir / f"{document.document_id}.pdf"
    chunks_dir = work_dir / f"{document.document_id}.chunks"

    def on_progress(_bytes: int) -> None:
        if should_stop():
            raise Stopped("stopping during the download")

    try:
        store.download(document.bucket, document.key, source, document.version_id, on_progress=on_progress)
        if should_stop():
            raise Stopped("stopping after the download")
        chunks_dir.mkdir(exist_ok=True)
        try:
            page_count = tools.count_pages(source)
            chunks = tools.split_into_chunks(source, chunk_pages=chunk_pages, out_dir=chunks_dir)
            for chunk in chunks:
                chunk_started = trail.clock.monotonic()
                key = Keys.chunk(document.batch_id, document.document_id, chunk.first_page, chunk.last_page)
                size = chunk.path.stat().st_size
                store.upload(work_bucket, key, chunk.path, content_type=PDF,
                             metadata={"batch-id": document.batch_id, "document-id": document.document_id,
                                       "first-page": str(chunk.first_page), "last-page": str(chunk.last_page)})
                chunk.path.unlink()
                yield Step(
                    outputs=[(Destination.SMALL, ChunkMessage(
                        batch_id=document.batch_id, document_id=document.document_id, bucket=work_bucket, key=key,
                        first_page=chunk.first_page, last_page=chunk.last_page))],
                    events=[trail.event(
                        batch_id=document.batch_id, stage=Stage.SPLIT_LARGE, status=Status.SUCCEEDED,
                        document_id=document.document_id, unit=chunk_unit(chunk.first_page, chunk.last_page),
                        started=chunk_started, detail={"page_count": page_count, "key": key, "bytes": size})])
                if should_stop():
                    raise Stopped("stopping between chunks")
        except tools.rejected as rejection:
            yield Step(events=[trail.event(
                batch_id=document.batch_id, stage=Stage.SPLIT_LARGE, status=Status.REJECTED,
                document_id=document.document_id, started=started,
                detail={"reason": rejection.reason.value, "detail": rejection.detail,
                        "size_bytes": document.size_bytes})])
    finally:
        source.unlink(missing_ok=True)
        shutil.rmtree(chunks_dir, ignore_errors=True)
