"""What the queue and stream consumers share: refusing a record for good. Pure: no boto3."""

from __future__ import annotations

import uuid
from typing import Any, Mapping

from .model import is_coordinate


class PoisonRecord(ValueError):
    """A queue message or stream record that can never be processed: it fails alone (partial
    batch failure) and ends in the DLQ or the on-failure destination."""


def message_fields(body: Any, *names: str) -> tuple[Any, ...]:
    """The values of ``names`` in a message body, which must be a JSON object holding them
    all, with ``questionId`` (if named) as a canonical UUID; otherwise PoisonRecord."""
    if not isinstance(body, Mapping):
        raise PoisonRecord("message body must be a JSON object")
    try:
        return tuple(str(uuid.UUID(str(body[name]))) if name == "questionId" else body[name] for name in names)
    except (KeyError, ValueError) as error:
        raise PoisonRecord(f"missing or malformed field: {error}") from None


def coordinate_in_range(value: Any, name: str, limit: float) -> float:
    """A finite number within +/- ``limit`` (latitude 90, longitude 180), or PoisonRecord."""
    if not is_coordinate(value, limit):
        raise PoisonRecord(f"{name} out of range: {value!r:.40}")
    return float(value)
