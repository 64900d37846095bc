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
from dataclasses import dataclass, field
from enum import Enum

from ..messages import AuditEvent, ChunkMessage, DocumentMessage, InvalidMessage, ListRequest, PageMessage
from .audit import chunk_unit, page_unit

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
