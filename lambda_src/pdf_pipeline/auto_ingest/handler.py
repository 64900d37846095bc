"""Auto-ingest queue consumer: S3 ObjectCreated events under the staging bucket's auto-ingest
prefix (the notification's filter) -> the ingest queue, with the ``listed`` audit event.

Environment: INGEST_QUEUE_URL, AUDIT_QUEUE_URL.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..messages import Stage
from ..settings import INGEST_QUEUE_URL, Settings
from ..shared.lambda_host import commit, count, logger, sqs_consumer, trail
from ..shared.s3_events import objects_created
from ..shared.work import Destination, Step
from .logic import ingest_created

QUEUES = {Destination.INGEST: INGEST_QUEUE_URL}


def ingest_record(record: SQSRecord, lambda_context: Any) -> None:
    step = Step()
    for created in objects_created(record.body):
        step.add(ingest_created(created, trail=trail("auto_ingest")))
    commit(step, Settings.from_environ(), QUEUES)
    count("DocumentsListed", len(step.outputs))
    for _, document in step.outputs:
        logger.info("document ingested", extra={"batch_id": document.batch_id, "document_id": document.document_id})


handler = sqs_consumer(ingest_record, stage=Stage.LISTED, function="auto_ingest")
