"""Turn a queued answer message into an Answers table item. Pure: no boto3."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

import pygeohash

HEATMAP_PRECISION = 6  # about 1.2 km x 0.6 km: the heat-map cell of a geo answer
_ANSWERED_AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


class InvalidMessage(ValueError):
    """The message can never be stored; the record fails (and ends in the DLQ)."""


@dataclass(frozen=True)
class Answer:
    question_id: str
    user_id: str
    type: str
    answered_at: str
    rating: int | None = None
    lat: float | None = None
    lng: float | None = None


def _finite(value: Any, limit: float, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or abs(value) > limit:
        raise InvalidMessage(f"{name} out of range: {value!r}")
    return float(value)


def parse_answer_message(body: Any) -> Answer:
    if not isinstance(body, Mapping):
        raise InvalidMessage("message body must be a JSON object")
    try:
        question_id = str(uuid.UUID(str(body["questionId"])))
        user_id, answer_type, answered_at = body["userId"], body["type"], body["answeredAt"]
    except (KeyError, ValueError) as error:
        raise InvalidMessage(f"missing or malformed field: {error}") from None
    if not isinstance(user_id, str) or not user_id:
        raise InvalidMessage("userId is required")
    if not isinstance(answered_at, str) or not _ANSWERED_AT.match(answered_at):
        raise InvalidMessage(f"answeredAt must be an ISO-8601 UTC timestamp, got {answered_at!r}")
    if answer_type == "star":
        rating = body.get("rating")
        if isinstance(rating, bool) or not isinstance(rating, int) or not 0 <= rating <= 5:
            raise InvalidMessage(f"rating must be an integer from 0 to 5, got {rating!r}")
        return Answer(question_id, user_id, "star", answered_at, rating=rating)
    if answer_type == "geo":
        return Answer(question_id, user_id, "geo", answered_at,
                      lat=_finite(body.get("lat"), 90.0, "lat"), lng=_finite(body.get("lng"), 180.0, "lng"))
    raise InvalidMessage(f"unknown answer type {answer_type!r}")


def check_question_type(answer: Answer, question_type: str) -> None:
    if question_type != answer.type:
        raise InvalidMessage(f"question {answer.question_id} takes {question_type} answers, not {answer.type}")


def answer_item(answer: Answer) -> dict[str, Any]:
    """One item per (question, user): a re-answer replaces it."""
    item: dict[str, Any] = {
        "questionId": answer.question_id,
        "userId": answer.user_id,
        "type": answer.type,
        "answeredAt": answer.answered_at,
    }
    if answer.type == "star":
        item["rating"] = answer.rating
    else:
        assert answer.lat is not None and answer.lng is not None
        item["lat"] = Decimal(repr(answer.lat))
        item["lng"] = Decimal(repr(answer.lng))
        item["cell"] = pygeohash.encode(answer.lat, answer.lng, precision=HEATMAP_PRECISION)
    return item
