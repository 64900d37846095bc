"""S3 event notifications as they arrive in an SQS message body (S3 -> SQS directly).

The body is ``{"Records": [...]}`` (event structure 2.x, ``eventSource`` ``aws:s3``), or, once,
when the notification is configured, ``{"Service": "Amazon S3", "Event": "s3:TestEvent", ...}``.
Object keys arrive URL-encoded the way HTML forms are (``red flower.jpg`` is
``red+flower.jpg``, a literal ``+`` is ``%2B``), so they are decoded with ``unquote_plus``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote_plus

from ..messages import InvalidMessage

TEST_EVENT = "s3:TestEvent"
CREATED_PREFIX = "ObjectCreated:"


@dataclass(frozen=True)
class ObjectCreated:
    bucket: str
    key: str                 # decoded
    size: int
    etag: str
    version_id: str | None
    event_name: str          # ObjectCreated:Put, ...:CompleteMultipartUpload, ...
    event_time: datetime     # UTC


def _text(record: dict[str, Any], *path: str) -> str:
    value: Any = record
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    if not isinstance(value, str) or not value:
        raise InvalidMessage(f"S3 event record without {'.'.join(path)}")
    return value


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidMessage(f"S3 event record with eventTime {text!r}") from None
    return moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def objects_created(body: str) -> list[ObjectCreated]:
    """The ObjectCreated records of one message; [] for the test event and other event types.
    ``InvalidMessage`` when the body is not an S3 notification at all."""
    try:
        notification = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidMessage("not an S3 event notification: not JSON") from None
    if not isinstance(notification, dict):
        raise InvalidMessage("not an S3 event notification: not an object")
    if notification.get("Event") == TEST_EVENT:
        return []
    records = notification.get("Records")
    if not isinstance(records, list):
        raise InvalidMessage("not an S3 event notification: no Records")
    created = []
    for record in records:
        if not isinstance(record, dict) or record.get("eventSource") != "aws:s3":
            raise InvalidMessage("not an S3 event record")
        name = _text(record, "eventName")
        if not name.startswith(CREATED_PREFIX):
            continue
        obj = record.get("s3", {}).get("object", {}) if isinstance(record.get("s3"), dict) else {}
        size = obj.get("size", 0)
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidMessage(f"S3 event record with object size {size!r}")
        version = obj.get("versionId")
        created.append(ObjectCreated(
            bucket=_text(record, "s3", "bucket", "name"), key=unquote_plus(_text(record, "s3", "object", "key")),
            size=size, etag=str(obj.get("eTag") or "").strip('"'),
            version_id=version if isinstance(version, str) and version else None,
            event_name=name, event_time=_time(_text(record, "eventTime"))))
    return created
