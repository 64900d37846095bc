"""What one unit of work produced, for its host to make durable.

A logic function writes its objects to S3 itself (they must exist before anyone is told
about them) and returns a ``Step``: the messages for the next stages and the audit events.
The Lambda host sends the messages, then the events, then lets its message succeed; the
failsafe worker instead runs the next stages' logic on the messages in-process. The order
(objects, messages, events, delete) means a crash anywhere leaves the input message to be
redelivered, and redoing the step overwrites the same keys and repeats the same audit facts.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from ..messages import (
    AuditEvent,
    ChunkMessage,
    DocumentMessage,
    InvalidMessage,
    ListRequest,
    PageMessage,
    Stage,
    Status,
)
from .audit import AuditTrail, chunk_unit, page_unit

MAX_REASON = 1000

Message = ListRequest | DocumentMessage | ChunkMessage | PageMessage


class Destination(str, Enum):
    """The queue a produced message goes to (the host maps it to a queue URL)."""
    LIST = "list"
    INGEST = "ingest"
    LARGE = "large"
    SMALL = "small"
    SINGLE_PAGE = "single_page"


@dataclass
class Step:
    outputs: list[tuple[Destination, Message]] = field(default_factory=list)
    events: list[AuditEvent] = field(default_factory=list)

    def add(self, other: "Step") -> "Step":
        self.outputs.extend(other.outputs)
        self.events.extend(other.events)
        return self


def parse_message(body: str, kinds: tuple[type, ...]):
    """The message of one of ``kinds`` (by its ``kind`` field) or ``InvalidMessage``."""
    try:
        kind = json.loads(body).get("kind")
    except (ValueError, RecursionError, AttributeError):
        kind = None
    for message_type in kinds:
        if message_type.KIND == kind:
            return message_type.from_json(body)
    raise InvalidMessage(f"expected a message of kind {', '.join(k.KIND for k in kinds)}, got {kind!r}")


def unit_of(message: Message) -> str:
    """The audit unit a message stands for: the document itself, a chunk or a page."""
    if isinstance(message, ChunkMessage):
        return chunk_unit(message.first_page, message.last_page)
    if isinstance(message, PageMessage):
        return page_unit(message.page)
    return ""


# (batch_id, document_id, unit): what a message is about (no document for a listing request)
Subject = tuple[str, str | None, str]


def subject_of(message: Message) -> Subject:
    return message.batch_id, getattr(message, "document_id", None), unit_of(message)


def subject_parser(*kinds: type) -> Callable[[str], Subject | None]:
    """``body -> Subject`` for messages of ``kinds``; None for anything else (a poison message
    is about no document we can name)."""
    def parse(body: str) -> Subject | None:
        try:
            return subject_of(parse_message(body, kinds))
        except InvalidMessage:
            return None

    return parse


def reason_of(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:MAX_REASON]


def failed_event(trail: AuditTrail, *, stage: Stage, subject: Subject, error: BaseException,
                 attempt: int) -> AuditEvent:
    """A failed attempt, for the reports (``failed`` never hides the success that may follow:
    the writer keys events by status too); the message itself is retried through SQS."""
    batch_id, document_id, unit = subject
    return trail.event(batch_id=batch_id, stage=stage, status=Status.FAILED, document_id=document_id, unit=unit,
                       detail={"reason": reason_of(error), "attempt": attempt})
