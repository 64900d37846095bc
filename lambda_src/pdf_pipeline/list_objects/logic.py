"""One listing page: the documents it holds and, when there are more, the next page's request.

A listing never has to finish in one invocation: each ListRequest lists one ListObjectsV2
page (``LIST_PAGE_SIZE`` keys) and hands the continuation token on in a new ListRequest, so a
prefix of tens of millions of objects is as many small messages.

Document ids come from (batch, bucket, key, ETag), so listing the same page again (a
redelivered message) yields the same documents: the ingest messages are repeats that
downstream steps overwrite, and the audit events are repeats the writer ignores.
"""
from __future__ import annotations

from ..messages import DocumentMessage, ListRequest, Stage, Status, document_id
from ..shared.audit import AuditTrail
from ..shared.queues import Outgoing, deduplication_id
from ..shared.store import ListedObject, ObjectStore
from ..shared.work import Destination, Step


def list_group_id(batch_id: str, prefix: str) -> str:
    """One FIFO message group per batch and prefix: a prefix's pages are listed in order, one
    at a time, while the prefixes of a batch (and other batches) list in parallel."""
    return f"{batch_id}-{deduplication_id(prefix)[:32]}"


def list_message(request: ListRequest) -> Outgoing:
    """A listing request for the FIFO list queue. The deduplication id is the page's identity
    (batch, bucket, prefix, continuation token), so a page redelivered to the lister cannot
    enqueue its next page twice."""
    return Outgoing(body=request.to_json(), group_id=list_group_id(request.batch_id, request.prefix),
                    deduplication_id=deduplication_id(request.batch_id, request.bucket, request.prefix,
                                                      request.continuation_token))


def is_folder_marker(item: ListedObject) -> bool:
    """The zero-byte ``name/`` objects the S3 console creates for folders: not documents.
    Any other zero-byte object is a document (classify records it as rejected, empty)."""
    return item.key.endswith("/")


def document_of(request: ListRequest, item: ListedObject) -> DocumentMessage:
    return DocumentMessage(batch_id=request.batch_id, bucket=request.bucket, key=item.key, version_id=None,
                           size_bytes=item.size,
                           document_id=document_id(request.batch_id, request.bucket, item.key, item.etag))


def listed_event(trail: AuditTrail, document: DocumentMessage, *, etag: str, trigger: str):
    return trail.event(batch_id=document.batch_id, stage=Stage.LISTED, status=Status.SUCCEEDED,
                       document_id=document.document_id,
                       detail={"bucket": document.bucket, "key": document.key, "version_id": document.version_id,
                               "etag": etag, "size_bytes": document.size_bytes, "trigger": trigger})


def list_page(request: ListRequest, *, store: ObjectStore, page_size: int, trail: AuditTrail) -> Step:
    page = store.list_page(request.bucket, request.prefix, request.continuation_token, max_keys=page_size)
    step = Step()
    for item in page.objects:
        if is_folder_marker(item):
            continue
        document = document_of(request, item)
        step.outputs.append((Destination.INGEST, document))
        step.events.append(listed_event(trail, document, etag=item.etag, trigger="list"))
    if page.next_token is not None:
        step.outputs.append((Destination.LIST, ListRequest(
            batch_id=request.batch_id, bucket=request.bucket, prefix=request.prefix,
            continuation_token=page.next_token, page_number=request.page_number + 1)))
    return step
