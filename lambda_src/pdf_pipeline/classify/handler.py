"""Ingest queue consumer: classify each document and send it to its size class's queue.

Environment: LARGE_BYTES, LARGE_PAGES, LARGE_QUEUE_URL, SMALL_QUEUE_URL, SINGLE_PAGE_QUEUE_URL,
AUDIT_QUEUE_URL.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..messages import DocumentMessage, Stage, Status
from ..settings import LARGE_BYTES, LARGE_PAGES, LARGE_QUEUE_URL, SINGLE_PAGE_QUEUE_URL, SMALL_QUEUE_URL, Settings
from ..shared import aws
from ..shared.lambda_host import commit, count, logger, sqs_consumer, trail
from ..shared.pdf_tools import pdf_tools
from ..shared.work import Destination, parse_message, subject_parser
from .logic import INGEST_KINDS, classify_document, describe, route_redriven

QUEUES = {Destination.LARGE: LARGE_QUEUE_URL, Destination.SMALL: SMALL_QUEUE_URL,
          Destination.SINGLE_PAGE: SINGLE_PAGE_QUEUE_URL}


def classify_record(record: SQSRecord, lambda_context: Any) -> None:
    message = parse_message(record.body, INGEST_KINDS)
    settings = Settings.from_environ()
    if not isinstance(message, DocumentMessage):
        commit(route_redriven(message), settings, QUEUES)
        count("Redriven")
        logger.info("redriven message sent back to its stage", extra={"message": describe(message)})
        return
    step = classify_document(message, store=aws.store(), tools=pdf_tools(), large_bytes=settings.integer(LARGE_BYTES),
                             large_pages=settings.integer(LARGE_PAGES), trail=trail("classify"))
    commit(step, settings, QUEUES)
    outcome = step.events[0]
    if outcome.status is Status.REJECTED:
        count("Rejected")
        logger.warning("document rejected", extra={"reason": outcome.detail["reason"]})
    else:
        count("DocumentsClassified")
        logger.info("document classified", extra={"size_class": outcome.detail["size_class"]})


handler = sqs_consumer(classify_record, stage=Stage.CLASSIFIED, function="classify",
                       subject=subject_parser(*INGEST_KINDS))
