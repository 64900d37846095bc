"""Single-page queue consumer: render each page to PNG in the images bucket.

Environment: IMAGES_BUCKET, DPI, MAX_PIXELS, AUDIT_QUEUE_URL.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..messages import PageMessage, Stage, Status
from ..settings import DPI, IMAGES_BUCKET, MAX_PIXELS, Settings
from ..shared import aws
from ..shared.lambda_host import commit, count, logger, sqs_consumer, trail
from ..shared.pdf_tools import pdf_tools
from ..shared.work import subject_parser
from .logic import convert


def convert_record(record: SQSRecord, lambda_context: Any) -> None:
    page = PageMessage.from_json(record.body)
    settings = Settings.from_environ()
    step = convert(page, store=aws.store(), tools=pdf_tools(), images_bucket=settings.text(IMAGES_BUCKET),
                   dpi=settings.integer(DPI), max_pixels=settings.integer(MAX_PIXELS), trail=trail("convert_page"))
    commit(step, settings, {})
    outcome = step.events[0]
    if outcome.status is Status.REJECTED:
        count("Rejected")
        logger.warning("page rejected", extra={"page": page.page, "reason": outcome.detail["reason"]})
    else:
        count("PagesProcessed")
        logger.info("page converted", extra={"page": page.page, "dpi": outcome.detail["dpi"]})


handler = sqs_consumer(convert_record, stage=Stage.CONVERTED, function="convert_page",
                       subject=subject_parser(PageMessage))
