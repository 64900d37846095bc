"""Turn a queued answer message into an Answers table item. Pure: no boto3."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pygeohash

from ..shared.model import MAX_LATITUDE, MAX_LONGITUDE, MAX_RATING, MIN_RATING
from ..shared.records import PoisonRecord, coordinate_in_range, message_fields
from ..shared.timestamps import is_iso

HEATMAP_PRECISION = 6  # about 1.2 km x 0.6 km: the heat-map cell of a geo answer

@dataclass(frozen=True)
class Answer:
    question_id: str
    user_id: str
    type: str
    answered_at: str
    rating: int | None = None
    lat: float | None = None
    lng: float | None = None


def parse_answer_message(body: Any) -> Answer:
    question_id, user_id, answer_type, answered_at = message_fields(
        body, "questionId", "userId", "type", "answeredAt")
    if not isinstance(user_id, str) or not user_id:
        raise PoisonRecord("userId is required")
    if not is_iso(answered_at):
        raise PoisonRecord(f"answeredAt must be an ISO-8601 UTC timestamp, got {answered_at!r}")
    if answer_type == "star":
        rating = body.get("rating")
        if isinstance(rating, bool) or not isinstance(rating, int) or not MIN_RATING <= rating <= MAX_RATING:
            raise PoisonRecord(f"rating must be an integer from {MIN_RATING} to {MAX_RATING}, got {rating!r}")
        return Answer(question_id, user_id, "star", answered_at, rating=rating)
    if answer_type == "geo":
        return Answer(question_id, user_id, "geo", answered_at,
                      lat=coordinate_in_range(body.get("lat"), "lat", MAX_LATITUDE),
                      lng=coordinate_in_range(body.get("lng"), "lng", MAX_LONGITUDE))
    raise PoisonRecord(f"unknown answer type {answer_type!r}")


def check_question_type(answer: Answer, question_type: str) -> None:
    if question_type != answer.type:
        raise PoisonRecord(f"question {answer.question_id} takes {question_type} answers, not {answer.type}")


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
