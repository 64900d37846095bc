"""Validation of POST /answers and the answer queue messages. Pure: no boto3."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from ..shared.http import BadRequest, NotFound, canonical_uuid, coordinate, shown
from ..shared.model import MAX_LATITUDE, MAX_LONGITUDE, MAX_RATING, MIN_RATING, QUESTION_TYPES
from ..shared.timestamps import iso


@dataclass(frozen=True)
class NewAnswer:
    question_id: str
    type: str
    rating: int | None = None
    lat: float | None = None
    lng: float | None = None


def _question_id(value: Any) -> str:
    question_id = canonical_uuid(value)
    if question_id is None:
        raise BadRequest(f"'questionId' must be a question id (UUID), got {shown(value)}")
    return question_id


def parse_new_answer(body: Mapping[str, Any]) -> NewAnswer:
    question_id = _question_id(body.get("questionId"))
    answer_type = body.get("type")
    if answer_type == "star":
        rating = body.get("rating")
        if isinstance(rating, bool) or not isinstance(rating, int):
            raise BadRequest(f"'rating' must be an integer from {MIN_RATING} to {MAX_RATING}, got {shown(rating)}")
        if not MIN_RATING <= rating <= MAX_RATING:
            raise BadRequest(f"'rating' must be from {MIN_RATING} to {MAX_RATING}, got {shown(rating)}")
        return NewAnswer(question_id, "star", rating=rating)
    if answer_type == "geo":
        return NewAnswer(question_id, "geo", lat=coordinate(body, "lat", MAX_LATITUDE, required_for="a geo answer"),
                         lng=coordinate(body, "lng", MAX_LONGITUDE, required_for="a geo answer"))
    raise BadRequest(f"'type' must be one of {', '.join(QUESTION_TYPES)}, got {shown(answer_type)}")


def check_question(answer: NewAnswer, question: Mapping[str, Any] | None) -> None:
    """The question must exist (404) and be of the answer's type (400)."""
    if question is None:
        raise NotFound(f"question {answer.question_id} not found")
    if question.get("type") != answer.type:
        raise BadRequest(f"question {answer.question_id} takes {question.get('type')} answers, not {answer.type}")


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
