"""The two container services, wired: their queues, their message handlers, their settings.

Environment (beyond settings.py's names, all optional with the defaults shown):
WORK_DIR (the temporary directory, TMPDIR: the task storage /scratch in the image),
POLL_WAIT_SECONDS (20),
VISIBILITY_TIMEOUT (300), HEARTBEAT_SECONDS (60), FAILURE_DELAY_SECONDS (30),
PROTECTION_MINUTES (60: scale-in protection, renewed at half-time while a message runs),
FAILSAFE_MAX_RECEIVES (10: a dead-lettered message the failsafe itself has failed on that
many times, a crash or a hang, is quarantined without another attempt), and ECS_AGENT_URI
(set by ECS).
"""
from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from ..classify.logic import classify_document
from ..convert_page.logic import convert
from ..messages import DocumentMessage, QuarantineMessage, Stage
from ..settings import (
    AUDIT_QUEUE_URL,
    CHUNK_PAGES,
    DEAD_LETTER_QUEUE_URLS,
    DPI,
    IMAGES_BUCKET,
    LARGE_BYTES,
    LARGE_PAGES,
    LARGE_QUEUE_URL,
    MAX_PIXELS,
    QUARANTINE_QUEUE_URL,
    SMALL_QUEUE_URL,
    WORK_BUCKET,
    Settings,
)
from ..shared.audit import AuditTrail
from ..shared.pdf_tools import PdfTools
from ..shared.queues import QueueSender
from ..shared.store import S3Store
from ..shared.work import Step, failed_event, subject_of
from ..split_small.logic import split_chunk
from .failsafe import ORIGIN_KINDS, Failsafe, Stages
from .host import LoopSettings, Received, Stopped, TaskProtection, logger, run
from .large import split_large_document

MODES = ("large", "failsafe")
FLUSH_CHUNKS = 10      # chunk messages sent per SendMessageBatch while a document is split


def _number(environ: dict[str, str], name: str, default: int, kind: type = int):
    text = environ.get(name, "")
    try:
        return kind(text) if text else default
    except ValueError:
        raise RuntimeError(f"environment variable {name} must be a number ({kind.__name__}), got {text!r}") from None


def loop_settings(environ: dict[str, str]) -> LoopSettings:
    return LoopSettings(wait_seconds=_number(environ, "POLL_WAIT_SECONDS", 20),
                        visibility_timeout=_number(environ, "VISIBILITY_TIMEOUT", 300),
                        heartbeat_seconds=_number(environ, "HEARTBEAT_SECONDS", 60.0, float),
                        failure_delay=_number(environ, "FAILURE_DELAY_SECONDS", 30))


def work_directory(settings: Settings) -> Path:
    return Path(settings.environ.get("WORK_DIR") or tempfile.gettempdir())


# What each mode reads, checked when the worker starts: a missing variable stops the task at
# once with its name, instead of failing (or quarantining) every message later.
REQUIRED = {
    "large": (LARGE_QUEUE_URL, SMALL_QUEUE_URL, WORK_BUCKET, CHUNK_PAGES, AUDIT_QUEUE_URL),
    "failsafe": (DEAD_LETTER_QUEUE_URLS, QUARANTINE_QUEUE_URL, WORK_BUCKET, IMAGES_BUCKET, DPI, MAX_PIXELS,
                 LARGE_BYTES, LARGE_PAGES, CHUNK_PAGES, AUDIT_QUEUE_URL),
}


def check_settings(mode: str, settings: Settings) -> None:
    missing = [name for name in REQUIRED[mode] if not settings.environ.get(name)]
    if missing:
        raise RuntimeError(f"the {mode} worker needs environment variable(s) {', '.join(missing)}")


@dataclass
class Worker:
    queue_urls: list[str]
    handle: Callable[[Received], None]


class _Outputs:
    """Sends a step's messages and events (the queue URLs by destination)."""

    def __init__(self, sender: QueueSender, settings: Settings, metrics: Metrics) -> None:
        self.sender, self.settings, self.metrics = sender, settings, metrics

    def events(self, step: Step) -> None:
        if step.events:
            self.sender.send(self.settings.text(AUDIT_QUEUE_URL), [event.to_json() for event in step.events])

    def count(self, name: str, value: int = 1) -> None:
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def large_worker(settings: Settings, *, sqs: Any, s3: Any, tools: PdfTools, stop: threading.Event,
                 metrics: Metrics) -> Worker:
    store, trail = S3Store(s3), AuditTrail("fargate:large")
    outputs = _Outputs(QueueSender(sqs), settings, metrics)
    work_dir = work_directory(settings)

    def flush(pending: list[Step]) -> None:
        chunks = [message.to_json() for step in pending for _, message in step.outputs]
        outputs.sender.send(settings.text(SMALL_QUEUE_URL), chunks)
        for step in pending:
            outputs.events(step)
        outputs.count("ChunksWritten", len(chunks))
        pending.clear()

    def handle(received: Received) -> None:
        document = DocumentMessage.from_json(received.body)
        try:
            split(document)
        except Stopped:
            raise
        except Exception as error:
            outputs.events(Step(events=[failed_event(trail, stage=Stage.SPLIT_LARGE, subject=subject_of(document),
                                                     error=error, attempt=received.receive_count)]))
            raise
        metrics.flush_metrics()

    def split(document: DocumentMessage) -> None:
        with logger.append_context_keys(batch_id=document.batch_id, document_id=document.document_id):
            pending: list[Step] = []
            steps = split_large_document(document, store=store, tools=tools, work_bucket=settings.text(WORK_BUCKET),
                                         chunk_pages=settings.integer(CHUNK_PAGES), trail=trail, work_dir=work_dir,
                                         should_stop=stop.is_set)
            # Steps not yet flushed when the worker stops are dropped: the redelivered message
            # redoes them, and what was flushed is repeated harmlessly.
            for step in steps:
                pending.append(step)
                if len(pending) >= FLUSH_CHUNKS:
                    flush(pending)
            flush(pending)
            logger.info("document split", extra={"size_bytes": document.size_bytes})

    return Worker(queue_urls=[settings.text(LARGE_QUEUE_URL)], handle=handle)


def failsafe_worker(settings: Settings, *, sqs: Any, s3: Any, tools: PdfTools, stop: threading.Event,
                    metrics: Metrics) -> Worker:
    store, trail = S3Store(s3), AuditTrail("fargate:failsafe")
    sender = QueueSender(sqs)
    outputs = _Outputs(sender, settings, metrics)
    work_dir = work_directory(settings)
    origins = {url: origin for origin, url in settings.mapping(DEAD_LETTER_QUEUE_URLS).items()}
    unknown = sorted(set(origins.values()) - set(ORIGIN_KINDS))
    if unknown:
        raise RuntimeError(f"{DEAD_LETTER_QUEUE_URLS} names unknown origin(s) {unknown}; "
                           f"known: {', '.join(ORIGIN_KINDS)}")
    max_receives = _number(dict(settings.environ), "FAILSAFE_MAX_RECEIVES", 10)

    def split_small(chunk):
        with tempfile.TemporaryDirectory(dir=work_dir) as scratch:
            return split_chunk(chunk, store=store, tools=tools, work_bucket=settings.text(WORK_BUCKET), trail=trail,
                               scratch=Path(scratch))

    stages = Stages(
        classify=lambda document: classify_document(
            document, store=store, tools=tools, large_bytes=settings.integer(LARGE_BYTES),
            large_pages=settings.integer(LARGE_PAGES), trail=trail),
        split_large=lambda document: split_large_document(
            document, store=store, tools=tools, work_bucket=settings.text(WORK_BUCKET),
            chunk_pages=settings.integer(CHUNK_PAGES), trail=trail, work_dir=work_dir, should_stop=stop.is_set),
        split_small=split_small,
        convert=lambda page: convert(page, store=store, tools=tools, images_bucket=settings.text(IMAGES_BUCKET),
                                     dpi=settings.integer(DPI), max_pixels=settings.integer(MAX_PIXELS), trail=trail))

    def quarantine(message: QuarantineMessage) -> None:
        sender.send(settings.text(QUARANTINE_QUEUE_URL), [message.to_json()])
        outputs.count("Quarantined")
        logger.error("quarantined", extra={"batch_id": message.batch_id, "document_id": message.document_id,
                                           "reason": message.reason})

    failsafe = Failsafe(stages, trail=trail, emit=outputs.events, quarantine=quarantine)

    def handle(received: Received) -> None:
        origin = origins[received.queue_url]
        if received.receive_count > max_receives:
            failsafe.give_up(origin, received.body,
                             f"the failsafe did not finish it in {received.receive_count - 1} attempts "
                             "(the task crashed or was stopped each time)")
        else:
            outcome = failsafe.process(origin, received.body)
            outputs.count("DeadLettersProcessed")
            logger.info("dead-lettered message processed",
                        extra={"origin": origin, "units": outcome.units, "quarantined": len(outcome.quarantined)})
        metrics.flush_metrics()

    return Worker(queue_urls=list(origins), handle=handle)


BUILDERS = {"large": large_worker, "failsafe": failsafe_worker}


def run_worker(mode: str, settings: Settings, *, sqs: Any, s3: Any, tools: PdfTools, stop: threading.Event,
               idle: Callable[[], None] = lambda: None) -> dict[str, int]:
    check_settings(mode, settings)
    environ = dict(settings.environ)
    metrics = Metrics(namespace=environ.get("POWERTOOLS_METRICS_NAMESPACE") or "PdfPipeline",
                      service=f"worker-{mode}")
    worker = BUILDERS[mode](settings, sqs=sqs, s3=s3, tools=tools, stop=stop, metrics=metrics)
    loop = loop_settings(environ)
    protection = TaskProtection(environ.get("ECS_AGENT_URI"), minutes=_number(environ, "PROTECTION_MINUTES", 60))
    logger.info("worker started", extra={"mode": mode, "queues": len(worker.queue_urls)})
    outcomes = run(sqs, worker.queue_urls, worker.handle, stop=stop, settings=loop, protection=protection, idle=idle)
    logger.info("worker stopped", extra={"mode": mode, **outcomes})
    return outcomes


def environ_settings() -> Settings:
    return Settings.from_environ(os.environ)
