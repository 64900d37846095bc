"""Validation of POST /answers and the answer queue messages. Pure: no boto3."""

from __future__ import annotations

import base64
import binascii
import json
import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

ANSWER_TYPES = ("star", "geo")
MIN_RATING, MAX_RATING = 0, 5


class BadRequest(ValueError):
    """Input the API rejects with 400; the message is shown to the caller."""


@dataclass(frozen=True)
class NewAnswer:
    question_id: str
    type: str
    rating: int | None = None
    lat: float | None = None
    lng: float | None = None


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


def question_id_of(value: Any) -> str:
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            pass
    raise BadRequest(f"'questionId' must be a question id (UUID), got {value!r}")


def _coordinate(body: Mapping[str, Any], name: str, limit: float) -> float:
    value = body.get(name)
    if value is None:
        raise BadRequest(f"'{name}' is required for a geo answer")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequest(f"'{name}' must be a number")
    if not -limit <= value <= limit:
        raise BadRequest(f"'{name}' must be between {-limit:g} and {limit:g}, got {value}")
    return float(value)


def parse_new_answer(body: Mapping[str, Any]) -> NewAnswer:
    question_id = question_id_of(body.get("questionId"))
    answer_type = body.get("type")
    if answer_type == "star":
        rating = body.get("rating")
        if isinstance(rating, bool) or not isinstance(rating, int):
            raise BadRequest(f"'rating' must be an integer from {MIN_RATING} to {MAX_RATING}, got {rating!r}")
        if not MIN_RATING <= rating <= MAX_RATING:
            raise BadRequest(f"'rating' must be from {MIN_RATING} to {MAX_RATING}, got {rating}")
        return NewAnswer(question_id, "star", rating=rating)
    if answer_type == "geo":
        return NewAnswer(question_id, "geo", lat=_coordinate(body, "lat", 90.0), lng=_coordinate(body, "lng", 180.0))
    raise BadRequest(f"'type' must be one of {', '.join(ANSWER_TYPES)}, got {answer_type!r}")


def check_question(answer: NewAnswer, question: Mapping[str, Any] | None) -> None:
    """The question must exist (404) and be of the answer's type (400)."""
    if question is None:
        raise LookupError(f"question {answer.question_id} not found")
    if question.get("type") != answer.type:
        raise BadRequest(f"question {answer.question_id} takes {question.get('type')} answers, not {answer.type}")


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def answer_message(answer: NewAnswer, *, user_id: str, answered_at: datetime) -> dict[str, Any]:
    """Body of the message on the StarAnswers or GeoAnswers queue (read by save_answer)."""
    message: dict[str, Any] = {
        "questionId": answer.question_id,
        "userId": user_id,
        "type": answer.type,
        "answeredAt": iso(answered_at),
    }
    if answer.type == "star":
        message["rating"] = answer.rating
    else:
        message["lat"], message["lng"] = answer.lat, answer.lng
    return message


def queue_env_var(answer_type: str) -> str:
    return {"star": "STAR_ANSWERS_QUEUE_URL", "geo": "GEO_ANSWERS_QUEUE_URL"}[answer_type]
