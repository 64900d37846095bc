"""Consumer of the audit queue (in the VPC, through RDS Proxy as the dedicated user): writes each
queue batch of AuditEvents in one transaction, idempotently (db/audit.py), and answers SQS
with the records that failed (ReportBatchItemFailures).

- an invalid event fails alone (its record is reported; the rest is written);
- when the batch's transaction is refused by the database, each record is written in its own
  transaction, so only the records the database refuses are reported;
- when the connection fails, every record is reported (SQS redelivers them all; a redelivery
  is a no-op for what was written);
- no database call starts with less than ANSWER_RESERVE_S left, so the function always answers.
"""
from __future__ import annotations

import time

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..db.audit import InvalidEvent, Record, write_events
from ..db.connection import DatabaseUnavailable, Reused, timeout_for
from ..settings import Settings
from . import logic

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
database = Reused(Settings.from_environ)
ANSWER_RESERVE_S = 2.0


class OutOfTime(RuntimeError):
    """Too little time left to write this record; SQS redelivers it."""


def _count(name: str, value: int) -> None:
    if value:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


class _Writer:
    """One invocation's writes: the whole batch first, then record by record if need be."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.broken: BaseException | None = None  # set once the connection failed: the rest fails fast

    def write(self, events) -> None:
        if self.broken is not None:
            raise self.broken
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise OutOfTime("no time left before the function's deadline")
        try:
            write_events(database.get(timeout_s=timeout_for(left, reserve_s=0)), events)
        except DatabaseUnavailable as error:
            if not logic.worth_retrying_alone(error):  # a server error leaves the connection usable
                database.discard()
                self.broken = error
            raise


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event, context):
    writer = _Writer(time.monotonic() + context.get_remaining_time_in_millis() / 1000 - ANSWER_RESERVE_S)
    records = event.get("Records") if isinstance(event, dict) else None
    metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(records or []))
    if not records:
        return {"batchItemFailures": []}  # Lambda sends none such; Powertools would refuse it
    parsed = logic.parse_records(records)
    valid = logic.valid(parsed)
    written: set[str] = set()
    if valid:
        try:
            writer.write(list(valid.values()))
            written.update(valid)
            _count("EventsWritten", len(valid))
        except (*DatabaseUnavailable, OutOfTime) as error:
            if writer.broken is None and not isinstance(error, OutOfTime):
                logger.warning("the batch's transaction was refused; writing record by record",
                               extra={"error": str(error)[:500]})
            else:
                logger.exception("the audit events could not be written")

    def record_handler(record: SQSRecord) -> None:
        outcome = parsed.get(record.message_id)
        if not isinstance(outcome, Record):
            _count("InvalidEvents", 1)
            logger.error("invalid audit event", extra={"message_id": record.message_id, "reason": str(outcome)})
            raise outcome if isinstance(outcome, InvalidEvent) else InvalidEvent("the record has no message id")
        if record.message_id not in written:
            writer.write([outcome])
            _count("EventsWritten", 1)

    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
