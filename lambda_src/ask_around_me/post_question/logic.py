"""Validation of POST /questions and the Questions queue message. Pure: no boto3."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from ..shared.http import BadRequest, coordinate, shown
from ..shared.model import MAX_LATITUDE, MAX_LONGITUDE, MAX_TEXT_LENGTH, QUESTION_TYPES
from ..shared.timestamps import iso


@dataclass(frozen=True)
class NewQuestion:
    text: str
    type: str
    lat: float
    lng: float


def parse_new_question(body: Mapping[str, Any]) -> NewQuestion:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("'text' must be a non-empty string")
    text = text.strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise BadRequest(f"'text' must be at most {MAX_TEXT_LENGTH} characters, got {len(text)}")
    question_type = body.get("type")
    if question_type not in QUESTION_TYPES:
        raise BadRequest(f"'type' must be one of {', '.join(QUESTION_TYPES)}, got {shown(question_type)}")
    return NewQuestion(text=text, type=question_type, lat=coordinate(body, "lat", MAX_LATITUDE),
                       lng=coordinate(body, "lng", MAX_LONGITUDE))


def question_message(question: NewQuestion, *, question_id: str, author: str, created: datetime) -> dict[str, Any]:
    """Body of the message on the Questions queue (read by save_question)."""
    return {
        "questionId": question_id,
        "type": question.type,
        "text": question.text,
        "lat": question.lat,
        "lng": question.lng,
        "author": author,
        "created": iso(created),
    }
