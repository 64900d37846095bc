"""Validation of POST /questions and the Questions queue message. Pure: no boto3."""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

QUESTION_TYPES = ("star", "geo")
MAX_TEXT_LENGTH = 280


class BadRequest(ValueError):
    """Input the API rejects with 400; the message is shown to the caller."""


@dataclass(frozen=True)
class NewQuestion:
    text: str
    type: str
    lat: float
    lng: float


def caller_id(event: Mapping[str, Any]) -> str | None:
    """The user id: the ``sub`` claim the JWT authorizer verified (never the body)."""
    try:
        sub = event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]
    except (KeyError, TypeError):
        return None
    return sub if isinstance(sub, str) and sub else None


def read_json_object(body: str | None, is_base64: bool = False) -> dict[str, Any]:
    if body is None or body == "":
        raise BadRequest("request body is required")
    try:
        text = base64.b64decode(body, validate=True).decode("utf-8") if is_base64 else body
        parsed = json.loads(text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadRequest("request body must be valid JSON") from None
    if not isinstance(parsed, dict):
        raise BadRequest("request body must be a JSON object")
    return parsed


def coordinate(body: Mapping[str, Any], name: str, limit: float) -> float:
    value = body.get(name)
    if value is None:
        raise BadRequest(f"'{name}' is required")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequest(f"'{name}' must be a number")
    if not -limit <= value <= limit:
        raise BadRequest(f"'{name}' must be between {-limit:g} and {limit:g}, got {value}")
    return float(value)


def parse_new_question(body: Mapping[str, Any]) -> NewQuestion:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("'text' must be a non-empty string")
    text = text.strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise BadRequest(f"'text' must be at most {MAX_TEXT_LENGTH} characters, got {len(text)}")
    question_type = body.get("type")
    if question_type not in QUESTION_TYPES:
        raise BadRequest(f"'type' must be one of {', '.join(QUESTION_TYPES)}, got {question_type!r}")
    return NewQuestion(text=text, type=question_type, lat=coordinate(body, "lat", 90.0),
                       lng=coordinate(body, "lng", 180.0))


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
