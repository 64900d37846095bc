"""Documents uploaded under the auto-ingest prefix, ingested as they arrive.

A document joins the batch of the UTC hour S3 created it in: batch id ``b-auto-YYYYMMDDHH``
(``b-auto-2026013114`` holds everything uploaded from 14:00:00 to 14:59:59 UTC on 31 January
2026), so ``status b-auto-2026013114`` follows one hour of uploads. The document id comes
from (batch, bucket, key, version id or ETag), so a redelivered S3 event is the same document.
"""
from __future__ import annotations

from datetime import datetime, timezone

from ..list_objects.logic import listed_event
from ..messages import DocumentMessage, Stage, Status, document_id
from ..shared.audit import AuditTrail
from ..shared.s3_events import ObjectCreated
from ..shared.work import Destination, Step

AUTO_BATCH_PREFIX = "b-auto-"


def auto_batch_id(moment: datetime) -> str:
    return f"{AUTO_BATCH_PREFIX}{moment.astimezone(timezone.utc):%Y%m%d%H}"


def ingest_created(created: ObjectCreated, *, trail: AuditTrail) -> Step:
    if created.key.endswith("/"):   # a console "folder", not a document
        return Step()
    batch_id = auto_batch_id(created.event_time)
    document = DocumentMessage(
        batch_id=batch_id, bucket=created.bucket, key=created.key, version_id=created.version_id,
        size_bytes=created.size,
        document_id=document_id(batch_id, created.bucket, created.key, created.version_id or created.etag))
    # The hour's batch record comes with each of its documents; the writer keeps the first.
    opened = trail.event(batch_id=batch_id, stage=Stage.BATCH, status=Status.SUCCEEDED,
                         detail={"bucket": created.bucket, "prefixes": [], "requested_by": None, "trigger": "auto"})
    return Step(outputs=[(Destination.INGEST, document)],
                events=[opened, listed_event(trail, document, etag=created.etag, trigger="auto")])
