"""GET /questions/{id}/heatmap: the per-geohash answer counts of a geo question."""

from __future__ import annotations

from typing import Any

from ..shared import aws
from ..shared.handlers import count, http_handler
from ..shared.http import NotFound, json_response, question_id_of
from .logic import heatmap_view


@http_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    question_id = question_id_of(event.get("pathParameters"), "id")
    question = aws.question(question_id, "type", "answerCount", "heatmap")
    if question is None:
        raise NotFound(f"question {question_id} not found")
    view = heatmap_view(question)
    count("HeatmapsServed")
    return json_response(200, view)
