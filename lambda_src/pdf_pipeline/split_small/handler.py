"""Small queue consumer: split each chunk into one-page PDFs and send them to the single-page queue.

Environment: WORK_BUCKET, SINGLE_PAGE_QUEUE_URL, AUDIT_QUEUE_URL.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..messages import ChunkMessage, Stage, Status
from ..settings import SINGLE_PAGE_QUEUE_URL, WORK_BUCKET, Settings
from ..shared import aws
from ..shared.lambda_host import commit, count, logger, sqs_consumer, trail
from ..shared.pdf_tools import pdf_tools
from ..shared.work import Destination, subject_parser
from .logic import split_chunk

QUEUES = {Destination.SINGLE_PAGE: SINGLE_PAGE_QUEUE_URL}


def split_record(record: SQSRecord, lambda_context: Any) -> None:
    chunk = ChunkMessage.from_json(record.body)
    settings = Settings.from_environ()
    with tempfile.TemporaryDirectory() as scratch:
        step = split_chunk(chunk, store=aws.store(), tools=pdf_tools(), work_bucket=settings.text(WORK_BUCKET),
                           trail=trail("split_small"), scratch=Path(scratch))
    commit(step, settings, QUEUES)
    if step.events and step.events[0].status is Status.REJECTED:
        count("Rejected")
        logger.warning("chunk rejected", extra={"reason": step.events[0].detail["reason"]})
    else:
        count("PagesProcessed", len(step.outputs))
        logger.info("chunk split", extra={"pages": len(step.outputs), "first_page": chunk.first_page})


handler = sqs_consumer(split_record, stage=Stage.SPLIT_SMALL, function="split_small",
                       subject=subject_parser(ChunkMessage))
