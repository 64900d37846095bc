"""Turn a queued question message into a Questions table item. Pure: no boto3."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pygeohash

from ..shared.cells import index_cell
from ..shared.model import MAX_LATITUDE, MAX_LONGITUDE, MAX_TEXT_LENGTH, QUESTION_TYPES
from ..shared.records import PoisonRecord, coordinate_in_range, message_fields
from ..shared.timestamps import is_iso

# Stored geohash precision (about 4.8 m x 4.8 m); its first 5 characters name
# the question's real-time topic, its first 4 the index cell.
STORED_PRECISION = 9


@dataclass(frozen=True)
class Question:
    question_id: str
    type: str
    text: str
    lat: float
    lng: float
    author: str
    created: str


def parse_question_message(body: Any) -> Question:
    question_id, question_type, text, lat, lng, author, created = message_fields(
        body, "questionId", "type", "text", "lat", "lng", "author", "created")
    if question_type not in QUESTION_TYPES:
        raise PoisonRecord(f"unknown question type {question_type!r}")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_LENGTH:
        raise PoisonRecord(f"text must be a non-empty string of at most {MAX_TEXT_LENGTH} characters")
    lat, lng = coordinate_in_range(lat, "lat", MAX_LATITUDE), coordinate_in_range(lng, "lng", MAX_LONGITUDE)
    if not isinstance(author, str) or not author:
        raise PoisonRecord("author is required")
    if not is_iso(created):
        raise PoisonRecord(f"created must be an ISO-8601 UTC timestamp, got {created!r}")
    return Question(question_id, question_type, text, lat, lng, author, created)


def question_item(question: Question) -> dict[str, Any]:
    """The Questions table item, with zeroed summaries for the aggregation to ADD to."""
    item: dict[str, Any] = {
        "questionId": question.question_id,
        "type": question.type,
        "text": question.text,
        "lat": Decimal(repr(question.lat)),
        "lng": Decimal(repr(question.lng)),
        "author": question.author,
        "created": question.created,
        "state": "open",
        "geohash": pygeohash.encode(question.lat, question.lng, precision=STORED_PRECISION),
        "cell": index_cell(question.lat, question.lng),
        "answerCount": 0,
    }
    if question.type == "star":
        item["totalScore"] = 0
    else:
        item["heatmap"] = {}
    return item
