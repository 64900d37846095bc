"""The Lambda host of every pipeline function: Powertools logging, tracing and metrics, the
batch processor with partial batch failures, and sending what a step produced.

One Logger, Tracer and Metrics per process. Every log record written while a message is
processed carries its ``batch_id`` and ``document_id`` (``correlated``); every record that
fails is counted in the ``Failures`` metric of its stage and fails alone (the event source
has ReportBatchItemFailures on), so SQS redelivers only that message.
"""
from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..messages import Stage
from ..settings import AUDIT_QUEUE_URL, Settings
from . import aws
from .audit import AuditTrail
from .work import Destination, Step, Subject, failed_event

logger = Logger()
tracer = Tracer()
metrics = Metrics()

LambdaHandler = Callable[[dict[str, Any], Any], Any]
RecordHandler = Callable[[SQSRecord, Any], None]


def count(name: str, value: int = 1) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


@contextmanager
def correlated(batch_id: str | None, document_id: str | None = None) -> Iterator[None]:
    """Every log record inside carries the batch and document of the message at hand."""
    with logger.append_context_keys(batch_id=batch_id, document_id=document_id):
        yield


def trail(function: str) -> AuditTrail:
    return AuditTrail(f"lambda:{function}")


def commit(step: Step, settings: Settings, queues: Mapping[Destination, str]) -> None:
    """Send a step's messages (grouped per destination, in order), then its audit events."""
    sender = aws.sender()
    by_destination: dict[Destination, list[str]] = {}
    for destination, message in step.outputs:
        by_destination.setdefault(destination, []).append(message.to_json())
    for destination, bodies in by_destination.items():
        sender.send(settings.text(queues[destination]), bodies)
    if step.events:
        sender.send(settings.text(AUDIT_QUEUE_URL), [event.to_json() for event in step.events])


def _report_failure(record: SQSRecord, error: Exception, *, stage: Stage, function: str, about: Subject) -> None:
    """A failed attempt as a ``failed`` audit event of ``stage`` (best effort: the record fails
    and is redelivered whether or not the report gets out)."""
    attempt = int(record.attributes.approximate_receive_count or 1)
    event = failed_event(trail(function), stage=stage, subject=about, error=error, attempt=attempt)
    try:
        aws.sender().send(Settings.from_environ().text(AUDIT_QUEUE_URL), [event.to_json()])
    except Exception:
        logger.warning("the failed attempt could not be reported", exc_info=True)


def sqs_consumer(record_handler: RecordHandler, *, stage: Stage, function: str,
                 subject: Callable[[str], Subject | None] | None = None, fifo: bool = False) -> LambdaHandler:
    """The Lambda handler of a queue consumer: ``record_handler(record, lambda_context)`` per
    record; what it raises fails that record alone (for a FIFO queue, that record and the rest
    of its message group, which must keep their order).

    ``subject(body)`` says which batch, document and unit a message is about (None when it
    cannot tell): every log record written while it is processed carries them, and a failed
    attempt on a document is reported as a ``failed`` audit event of ``stage``.
    """
    if fifo:
        processor: BatchProcessor = SqsFifoPartialProcessor(skip_group_on_error=True)
    else:
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    # A batch whose every record failed is answered like any other partial failure (each
    # record listed), not raised: raising would count as a function error and retry it all.
    processor.raise_on_entire_batch_failure = False

    @tracer.capture_method
    def each(record: SQSRecord, lambda_context: Any = None) -> None:
        about = subject(record.body) if subject else None
        batch_id, document_id, _unit = about or (None, None, "")
        with correlated(batch_id, document_id):
            try:
                record_handler(record, lambda_context)
            except Exception as error:
                count("Failures")
                logger.exception("message failed; SQS redelivers it", extra={"message_id": record.message_id})
                if about is not None and document_id is not None:
                    _report_failure(record, error, stage=stage, function=function, about=about)
                raise

    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    @functools.wraps(record_handler)
    def handler(event: dict[str, Any], context: Any) -> Any:
        metrics.add_dimension(name="stage", value=stage.value)
        return process_partial_response(event=event, record_handler=each, processor=processor, context=context)

    return handler
