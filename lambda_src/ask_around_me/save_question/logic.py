"""Turn a queued question message into a Questions table item. Pure: no boto3."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Mapping

import pygeohash

QUESTION_TYPES = ("star", "geo")
MAX_TEXT_LENGTH = 280
# Stored geohash precision (about 4.8 m x 4.8 m); its first 5 characters name
# the question's real-time topic, its first 4 the index cell.
STORED_PRECISION = 9
CELL_PRECISION = 4
# Same polar cap as list_questions.logic.POLAR_CAP_LATITUDE (kept in step by a test).
POLAR_CAP_LATITUDE = 80.0
_CREATED = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


class InvalidMessage(ValueError):
    """The message can never be stored; the record fails (and ends in the DLQ)."""


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
    if not isinstance(body, Mapping):
        raise InvalidMessage("message body must be a JSON object")
    try:
        question_id = str(uuid.UUID(str(body["questionId"])))
        question_type = body["type"]
        text = body["text"]
        lat, lng = body["lat"], body["lng"]
        author, created = body["author"], body["created"]
    except (KeyError, ValueError) as error:
        raise InvalidMessage(f"missing or malformed field: {error}") from None
    if question_type not in QUESTION_TYPES:
        raise InvalidMessage(f"unknown question type {question_type!r}")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT_LENGTH:
        raise InvalidMessage("text must be a non-empty string of at most 280 characters")
    for name, value, limit in (("lat", lat, 90.0), ("lng", lng, 180.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or abs(value) > limit:
            raise InvalidMessage(f"{name} out of range: {value!r}")
    if not isinstance(author, str) or not author:
        raise InvalidMessage("author is required")
    if not isinstance(created, str) or not _CREATED.match(created):
        raise InvalidMessage(f"created must be an ISO-8601 UTC timestamp, got {created!r}")
    return Question(question_id, question_type, text, float(lat), float(lng), author, created)


def index_cell(lat: float, lng: float) -> str:
    """Partition key of the cell index: precision-4 geohash, or a polar partition."""
    if lat >= POLAR_CAP_LATITUDE:
        return "polar-north"
    if lat <= -POLAR_CAP_LATITUDE:
        return "polar-south"
    return pygeohash.encode(lat, lng, precision=CELL_PRECISION)


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
