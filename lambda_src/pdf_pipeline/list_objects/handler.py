"""List queue (FIFO) consumer: one ListObjectsV2 page per message.

Sends the page's documents to the ingest queue and their ``listed`` audit events, and only
then the next page's ListRequest (with a deduplication id of the page's identity, so a
redelivered page does not enqueue its next page twice within SQS's 5-minute window: the
list queue's visibility timeout must stay well under it).

Environment: LIST_QUEUE_URL, INGEST_QUEUE_URL, AUDIT_QUEUE_URL, LIST_PAGE_SIZE.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..messages import ListRequest, Stage
from ..settings import AUDIT_QUEUE_URL, INGEST_QUEUE_URL, LIST_PAGE_SIZE, LIST_QUEUE_URL, Settings
from ..shared import aws
from ..shared.lambda_host import count, logger, sqs_consumer, trail
from ..shared.work import Destination, subject_parser
from .logic import list_message, list_page


def list_one_page(record: SQSRecord, lambda_context: Any) -> None:
    request = ListRequest.from_json(record.body)
    settings = Settings.from_environ()
    step = list_page(request, store=aws.store(), page_size=settings.integer(LIST_PAGE_SIZE),
                     trail=trail("list_objects"))
    documents = [message.to_json() for destination, message in step.outputs if destination is Destination.INGEST]
    following = [message for destination, message in step.outputs if destination is Destination.LIST]
    sender = aws.sender()
    sender.send(settings.text(INGEST_QUEUE_URL), documents)
    sender.send(settings.text(AUDIT_QUEUE_URL), [event.to_json() for event in step.events])
    sender.send(settings.text(LIST_QUEUE_URL), [list_message(next_request) for next_request in following])
    count("DocumentsListed", len(documents))
    logger.info("listing page done", extra={"prefix": request.prefix, "page": request.page_number,
                                            "documents": len(documents), "more": bool(following)})


handler = sqs_consumer(list_one_page, stage=Stage.LISTED, function="list_objects", fifo=True,
                       subject=subject_parser(ListRequest))
