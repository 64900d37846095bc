"""JSON shapes of stored items, shared by the API responses and the real-time messages. Pure: no boto3."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping


def number(value: Any) -> int | float:
    """A DynamoDB number (Decimal) as JSON can carry it: int when integral, else float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def average_score(question: Mapping[str, Any]) -> float:
    """Mean star rating to two decimals; 0 with no answers and for geo questions."""
    answers = int(question.get("answerCount", 0))
    if question.get("type") != "star" or answers <= 0:
        return 0
    return round(int(question.get("totalScore", 0)) / answers, 2)


def question_view(question: Mapping[str, Any]) -> dict[str, Any]:
    """A question as clients see it: what was asked, where, by whom, and its summary."""
    return {
        "questionId": question["questionId"],
        "type": question["type"],
        "text": question["text"],
        "author": question["author"],
        "created": question["created"],
        "lat": number(question["lat"]),
        "lng": number(question["lng"]),
        "answerCount": int(question.get("answerCount", 0)),
        "avgScore": average_score(question),
    }
