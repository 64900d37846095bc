"""The audit queue's batch, parsed: each record's event, or why it is not one. Pure.

The handler writes every valid event of the batch in one transaction; only when the database
refuses that transaction (a server error) does it write record by record, so that a record
the database refuses fails alone. A record whose body is not a valid AuditEvent fails alone
from the start (SQS retries it, then its DLQ keeps it for a person to look at).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import pg8000.native

from ..db.audit import InvalidEvent, Record, parse_event

MAX_BODY_BYTES = 256 * 1024  # an SQS message's limit; the event's detail is bounded far below it


def parse_records(records: Sequence[Mapping[str, Any]]) -> dict[str, Record | InvalidEvent]:
    """messageId -> the record's event, or the InvalidEvent that says why it is none."""
    parsed: dict[str, Record | InvalidEvent] = {}
    for record in records:
        message_id = record.get("messageId")
        if not isinstance(message_id, str):
            continue  # the processor reports it; nothing to key it by here
        body = record.get("body")
        if not isinstance(body, str):
            parsed[message_id] = InvalidEvent("the SQS record has no text body")
        elif len(body) > MAX_BODY_BYTES:
            parsed[message_id] = InvalidEvent(f"the body is over {MAX_BODY_BYTES} characters")
        else:
            try:
                parsed[message_id] = parse_event(body)
            except InvalidEvent as error:
                parsed[message_id] = error
    return parsed


def valid(parsed: Mapping[str, Record | InvalidEvent]) -> dict[str, Record]:
    return {message_id: outcome for message_id, outcome in parsed.items() if isinstance(outcome, Record)}


def worth_retrying_alone(error: BaseException) -> bool:
    """A server error may come from one record (isolate it); a broken connection fails them all."""
    return isinstance(error, pg8000.native.DatabaseError) and not isinstance(error, pg8000.native.InterfaceError)
